"""SignalRunner: history semantics, warm-up, fault isolation, redelivery and the wire entry point."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, ClassVar

import pytest

from pumpflow.v1 import executor_pb2 as pb
from strategy.events import event_to_pb
from strategy.runner import DECODE_SIGNAL, SignalRunner
from strategy.sdk import (
    Ctx,
    CurveSnapshot,
    Emit,
    FeatureBucket,
    Params,
    Signal,
    TradeIntent,
    TradeObserved,
    derive_intent_id,
)
from strategy.sdk.testing import (
    T0,
    StreamBuilder,
    make_bucket,
    make_buckets_from_inflows,
    mint_address,
    resequence,
)


class NoParams(Params):
    pass


class EveryBucket(Signal[NoParams]):
    """Buys on every bucket; records nothing (the runner's behaviour is what is under test)."""

    id = "every_bucket"
    version = 1
    reasons = ("TICK",)

    def on_bucket(self, bucket: FeatureBucket, ctx: Ctx[NoParams]) -> Emit:
        return ctx.buy(bucket.mint, size_lamports=1, reason="TICK")


class HistorySpy(Signal[NoParams]):
    """Puts what the history looked like into the evidence of an intent on every bucket."""

    id = "history_spy"
    version = 1
    reasons = ("SEEN",)

    def on_bucket(self, bucket: FeatureBucket, ctx: Ctx[NoParams]) -> Emit:
        h = ctx.history(bucket.mint)
        last = h.last
        assert last is not None
        return ctx.buy(
            bucket.mint,
            size_lamports=1,
            reason="SEEN",
            evidence={
                "buckets": len(h),
                "newest_minute": last.minute_start,
                "newest_inflow": last.net_inflow_sol,
                "total_inflow": h.total("net_inflow_sol", 60),
            },
        )


class Exploding(Signal[NoParams]):
    """Raises on the mint named `bad`, buys elsewhere."""

    id = "exploding"
    version = 1
    reasons = ("OK",)
    bad: ClassVar[str] = mint_address("BAD")

    def on_bucket(self, bucket: FeatureBucket, ctx: Ctx[NoParams]) -> Emit:
        if bucket.mint == self.bad:
            raise ZeroDivisionError("boom")
        return ctx.buy(bucket.mint, size_lamports=1, reason="OK")


def run(signals: Any, events: list[Any], **kw: Any) -> tuple[SignalRunner, list[TradeIntent], list[Any]]:
    runner = SignalRunner(signals, **kw)
    intents: list[TradeIntent] = []
    faults: list[Any] = []
    for e in events:
        step = runner.step(e)
        intents.extend(step.intents)
        faults.extend(step.faults)
    return runner, intents, faults


def test_history_ends_at_the_current_bucket_and_never_contains_later_ones() -> None:
    events = make_buckets_from_inflows("M", ["1", "2", "3"])
    _, intents, _ = run([HistorySpy()], events)
    assert [i.evidence["buckets"] for i in intents] == ["1", "2", "3"]
    assert [int(i.evidence["newest_minute"]) for i in intents] == [e.minute_start for e in events]


def test_a_re_emitted_bucket_replaces_the_stored_minute_instead_of_appending() -> None:
    first = make_buckets_from_inflows("M", ["1", "2"])
    revision = make_bucket("M", first[1].minute_start, seq=3, net_inflow_sol="5", bucket_version=2)
    stale = make_bucket("M", first[1].minute_start, seq=4, net_inflow_sol="9", bucket_version=2)
    older = make_bucket("M", first[1].minute_start, seq=5, net_inflow_sol="9", bucket_version=1)
    runner, intents, _ = run([HistorySpy()], [*first, revision, stale, older])
    assert [i.evidence["buckets"] for i in intents] == ["1", "2", "2"]
    assert intents[-1].evidence["newest_inflow"] == str(5 * 10**9)
    assert intents[-1].evidence["total_inflow"] == str(6 * 10**9)
    assert runner.stats.stale_buckets == 2


def test_history_starts_at_the_first_bucket_seen_and_ignores_older_minutes_arriving_later() -> None:
    late_older = make_bucket("M", T0 - 600, seq=3, net_inflow_sol="9")
    runner, intents, _ = run([HistorySpy()], [*make_buckets_from_inflows("M", ["1", "2"]), late_older])
    assert len(intents) == 2
    assert runner.stats.stale_buckets == 1


def test_warmup_drops_intents_until_the_mint_has_enough_minutes() -> None:
    class Warm(EveryBucket):
        id = "warm"
        warmup_buckets = 3

    runner, intents, _ = run([Warm()], make_buckets_from_inflows("M", ["1"] * 5))
    assert [i.trigger for i in intents] == ["seq:3", "seq:4", "seq:5"]
    assert runner.stats.warmup_dropped["warm"] == 2


def test_a_hook_exception_is_isolated_to_its_signal_and_mint_and_never_stops_the_stream() -> None:
    s = StreamBuilder()
    for minute in range(4):
        s.bucket("BAD", minute)
        s.bucket("GOOD", minute)
    runner, intents, faults = run(
        {"a_exploding": Exploding(), "b_every": EveryBucket()}, s.events, fault_limit=3
    )
    assert len(faults) == 3  # the fourth BAD bucket is skipped: the pair is quarantined
    assert [f.quarantined for f in faults] == [False, False, True]
    assert {(f.signal, f.mint, f.hook, f.error_type) for f in faults} == {
        ("a_exploding", mint_address("BAD"), "on_bucket", "ZeroDivisionError")
    }
    by_signal = {(i.signal_id, i.mint) for i in intents}
    assert by_signal == {
        ("exploding", mint_address("GOOD")),
        ("every_bucket", mint_address("GOOD")),
        ("every_bucket", mint_address("BAD")),
    }
    assert runner.stats.faults[("a_exploding", "ZeroDivisionError")] == 3
    assert runner.last_seq == s.events[-1].seq


def test_returning_something_that_is_not_an_intent_of_this_event_is_a_fault() -> None:
    class Hoarder(Signal[NoParams]):
        id = "hoarder"
        version = 1
        reasons = ("GO",)

        def on_bucket(self, bucket: FeatureBucket, ctx: Ctx[NoParams]) -> Emit:
            intent = ctx.buy(bucket.mint, size_lamports=1, reason="GO")
            return [replace(intent, trigger="seq:1")] if bucket.seq == 2 else intent

    class Wrong(Signal[NoParams]):
        id = "wrong"
        version = 1
        reasons = ("GO",)

        def on_bucket(self, bucket: FeatureBucket, ctx: Ctx[NoParams]) -> Emit:
            return "buy!"  # type: ignore[return-value]

    _, intents, faults = run([Hoarder(), Wrong()], make_buckets_from_inflows("M", ["1", "1"]))
    assert [i.trigger for i in intents] == ["seq:1"]
    messages = sorted((f.signal, f.message) for f in faults)
    assert [m[0] for m in messages] == ["hoarder", "wrong", "wrong"]
    assert "did not build with this event's ctx" in messages[0][1]
    assert all("must return None, a TradeIntent or a list/tuple" in m for _, m in messages[1:])


def test_intent_ids_are_deterministic_and_distinct_per_ordinal() -> None:
    class Twice(Signal[NoParams]):
        id = "twice"
        version = 4
        reasons = ("GO",)

        def on_bucket(self, bucket: FeatureBucket, ctx: Ctx[NoParams]) -> Emit:
            return [ctx.buy(bucket.mint, size_lamports=1, reason="GO") for _ in range(2)]

    sig = Twice()
    _, intents, _ = run([sig], make_buckets_from_inflows("M", ["1"]))
    assert [i.intent_id for i in intents] == [
        derive_intent_id("twice", 4, sig.params_hash, "seq:1", 0),
        derive_intent_id("twice", 4, sig.params_hash, "seq:1", 1),
    ]
    assert len({i.intent_id for i in intents}) == 2


def test_redelivered_seqs_are_skipped_and_gaps_are_counted() -> None:
    events = make_buckets_from_inflows("M", ["1", "1", "1"])
    runner, intents, _ = run([EveryBucket()], [events[0], events[1], events[1], events[0]])
    assert len(intents) == 2
    assert runner.stats.redelivered == 2
    runner.step(replace(events[2], seq=10))
    assert (runner.stats.gaps, runner.stats.missing_seqs) == (1, 7)


def test_signals_run_in_name_order_and_the_same_signal_twice_is_refused() -> None:
    runner = SignalRunner({"z": EveryBucket(), "a": HistorySpy()})
    assert list(runner.signals) == ["a", "z"]
    with pytest.raises(ValueError, match="same signal with the same parameters"):
        SignalRunner({"x": EveryBucket(), "y": EveryBucket()})
    with pytest.raises(ValueError, match="two signals with id"):
        SignalRunner([EveryBucket(), EveryBucket()])


def test_declared_state_is_per_mint_and_typed() -> None:
    @dataclass
    class Counts:
        seen: int = 0

    class Counter(Signal[NoParams]):
        id = "counter"
        version = 1
        reasons = ("NTH",)
        State = Counts

        def on_bucket(self, bucket: FeatureBucket, ctx: Ctx[NoParams]) -> Emit:
            state = ctx.state(bucket.mint, Counts)
            state.seen += 1
            return ctx.buy(bucket.mint, size_lamports=state.seen, reason="NTH")

    s = StreamBuilder()
    for minute in range(2):
        s.bucket("A", minute)
        s.bucket("B", minute)
    _, intents, _ = run([Counter()], s.events)
    assert [i.size_lamports for i in intents] == [1, 1, 2, 2]


def test_trade_and_curve_hooks_see_their_events_and_context() -> None:
    class Watcher(Signal[NoParams]):
        id = "watcher"
        version = 1
        reasons = ("TRADE", "CURVE")

        def on_trade(self, trade: TradeObserved, ctx: Ctx[NoParams]) -> Emit:
            return ctx.buy(trade.mint, size_lamports=trade.sol_amount, reason="TRADE")

        def on_curve(self, snapshot: CurveSnapshot, ctx: Ctx[NoParams]) -> Emit:
            assert ctx.last_curve(snapshot.mint) == snapshot
            assert ctx.launch(snapshot.mint) is not None
            return ctx.buy(
                snapshot.mint,
                size_lamports=7,
                reason="CURVE",
                evidence={"flags": len(ctx.risk_flags(snapshot.mint))},
            )

    s = StreamBuilder()
    s.launch("M")
    s.trade("M", at=5, sol="0.5")
    s.risk_flag("M", "CREATOR_DUMP")
    s.curve("M", at=9)
    _, intents, faults = run([Watcher()], s.events)
    assert faults == []
    assert [(i.reasons, i.size_lamports, i.as_of) for i in intents] == [
        (("TRADE",), 500_000_000, T0 + 5),
        (("CURVE",), 7, T0 + 9),
    ]
    assert intents[1].evidence["flags"] == "1"


def test_ctx_log_notes_are_returned_with_the_signal_name() -> None:
    class Chatty(Signal[NoParams]):
        id = "chatty"
        version = 1
        reasons = ("GO",)

        def on_bucket(self, bucket: FeatureBucket, ctx: Ctx[NoParams]) -> Emit:
            ctx.log("looked", inflow=bucket.net_inflow_sol)
            return None

    runner = SignalRunner({"chat": Chatty()})
    step = runner.step(make_buckets_from_inflows("M", ["2"])[0])
    ((name, note),) = step.notes
    assert (name, note.message, dict(note.fields)) == ("chat", "looked", {"inflow": str(2 * 10**9)})


def test_wire_events_heartbeats_are_skipped_and_bad_payloads_become_decode_faults() -> None:
    runner = SignalRunner([EveryBucket()])
    assert runner.step_pb(pb.Event(seq=0, heartbeat=pb.Heartbeat(head_seq=5))).skipped
    good = event_to_pb(make_buckets_from_inflows("M", ["1"])[0])
    assert len(runner.feed_pb(good)) == 1
    bad = pb.Event()
    bad.CopyFrom(event_to_pb(make_bucket("M", T0 + 60, seq=2)))
    bad.feature_bucket.price_close = "not-a-number"
    step = runner.step_pb(bad)
    assert step.intents == ()
    assert [(f.signal, f.hook, f.seq) for f in step.faults] == [(DECODE_SIGNAL, "decode", 2)]
    assert runner.last_seq == 2


def test_idle_mints_are_evicted_by_event_time_with_their_signal_state() -> None:
    s = StreamBuilder()
    s.bucket("OLD", 0)
    s.bucket("NEW", 30)
    runner, _, _ = run([EveryBucket()], s.events, idle_evict_seconds=600)
    assert runner.tracked_mints == 1
    assert runner.stats.evicted_mints == 1


def test_a_stream_renumbered_with_resequence_runs_the_same() -> None:
    events = make_buckets_from_inflows("M", ["1", "2"], start_seq=100)
    a = run([HistorySpy()], events)[1]
    b = run([HistorySpy()], resequence(events))[1]
    assert [i.evidence for i in a] == [i.evidence for i in b]
    assert [i.trigger for i in b] == ["seq:1", "seq:2"]


def test_decimal_arithmetic_in_hooks_runs_under_the_sdk_context() -> None:
    class Divider(Signal[NoParams]):
        id = "divider"
        version = 1
        reasons = ("THIRD",)

        def on_bucket(self, bucket: FeatureBucket, ctx: Ctx[NoParams]) -> Emit:
            return ctx.buy(bucket.mint, size_lamports=1, reason="THIRD", evidence={"third": Decimal(1) / 3})

    (intent,) = run([Divider()], make_buckets_from_inflows("M", ["1"]))[1]
    assert intent.evidence["third"] == "0." + "3" * 34
