"""Pure parts of replay, verify, backfill and the progress helper: no database, no processes."""

from __future__ import annotations

import argparse
import io
from collections import deque

import pytest
import structlog

from executor.backfill import PAGE, Bound, cut, queue_rows
from executor.ingest.pipeline import Fetcher
from executor.progress import Progress, bar_line, eta_of, fields, fmt_duration, rate_of
from executor.replay.options import Cursor, ReplayOptions, lower_bound
from executor.rpc import Priority
from executor.verify import TableDigest, TableShape, differing, digest_query, header

# progress ----------------------------------------------------------------------------------------------


def test_durations_read_as_clock_time() -> None:
    assert fmt_duration(5) == "0:05"
    assert fmt_duration(65.4) == "1:05"
    assert fmt_duration(3 * 3600 + 62) == "3:01:02"
    assert fmt_duration(-3) == "0:00"


def test_rate_is_measured_over_the_sampled_window_and_eta_from_it() -> None:
    assert rate_of(deque([(0.0, 0)])) == 0.0
    assert rate_of(deque([(0.0, 100), (2.0, 300)])) == 100.0
    assert eta_of(300, 1000, 100.0) == 7.0
    assert eta_of(300, None, 100.0) is None
    assert eta_of(300, 1000, 0.0) is None


def test_bar_line_shows_share_counts_rate_and_eta() -> None:
    line = bar_line("replay", 250, 1000, 50.0, "rows", width=8)
    assert line == "replay [##------]  25.0% 250/1,000 rows  50 rows/s  ETA 0:15"
    assert bar_line("backfill", 12, None, 3.0, "slots") == "backfill 12 slots  3 slots/s"


def test_log_fields_carry_percent_and_eta_when_the_total_is_known() -> None:
    assert fields(50, 200, 10.0, 5.0) == {
        "done": 50,
        "rate_per_s": 10.0,
        "elapsed_s": 5.0,
        "total": 200,
        "pct": 25.0,
        "eta_s": 15,
    }
    assert "eta_s" not in fields(50, None, 10.0, 5.0)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_on_a_terminal_redraws_one_line_and_ends_it() -> None:
    clock, out = FakeClock(), io.StringIO()
    bar = Progress("replay", 100, stream=out, tty=True, clock=clock)
    clock.now += 1.0
    bar.update(40)
    clock.now += 1.0
    bar.update(60)
    bar.close()
    bar.close()  # idempotent
    text = out.getvalue()
    assert text.count("\r\x1b[2K") == 3 and text.endswith("\n") and text.count("\n") == 1
    assert "60/100 rows" in text.rsplit("\r", 1)[-1]
    assert "in 0:02" in text


def test_progress_elsewhere_logs_plain_lines_every_few_seconds() -> None:
    clock, out = FakeClock(), io.StringIO()
    with structlog.testing.capture_logs() as logged:
        bar = Progress("replay", 100, stream=out, tty=False, clock=clock, log_every_s=5.0)
        for _ in range(10):
            clock.now += 1.0
            bar.advance(10)
        bar.close()
    assert out.getvalue() == ""
    assert [e["event"] for e in logged] == ["replay progress", "replay progress", "replay done"]
    assert logged[-1]["done"] == 100 and logged[-1]["pct"] == 100.0


# replay options ----------------------------------------------------------------------------------------


def test_a_full_replay_builds_fresh_tables_and_a_partial_one_works_in_place() -> None:
    assert ReplayOptions().target == "fresh"
    assert ReplayOptions(from_slot=10).target == "in-place"
    assert ReplayOptions(mints=("m",), into="fresh").target == "fresh"


def test_options_that_cannot_work_are_named() -> None:
    assert ReplayOptions().problems() == []
    assert "full replay" in ReplayOptions(mints=("m",), events="rebuild").problems()[0]
    assert ReplayOptions(from_slot=9, to_slot=3).problems()
    assert ReplayOptions(chunk=0).problems()


def test_the_identity_ignores_how_the_work_is_spread() -> None:
    a = ReplayOptions(workers=1, mints=("b", "a"))
    b = ReplayOptions(workers=4, restart=True, mints=("a", "b"))
    assert a.identity() == b.identity()
    assert a.identity() != ReplayOptions(chunk=7).identity()


def test_the_cursor_round_trips_and_sets_the_next_lower_bound() -> None:
    cursor = Cursor({"chunk": 5}, (42, "sig"), 10, 2)
    again = Cursor.from_row(42, "sig", cursor.value())
    assert again == cursor
    assert lower_bound(ReplayOptions(), again) == (42, "sig")
    assert lower_bound(ReplayOptions(from_slot=100), None) == (99, "")
    assert lower_bound(ReplayOptions(), Cursor.from_row(None, None, {"identity": {}})) == (-1, "")


# verify ------------------------------------------------------------------------------------------------


def test_the_digest_query_orders_by_key_with_byte_wise_text_and_keeps_only_derived_rows() -> None:
    shape = TableShape(
        "trades", ("signature", "event_index", "slot"), (("signature", True), ("event_index", False))
    )
    assert digest_query(shape, "origin <> 'account'") == (
        'select "signature", "event_index", "slot" from "trades" where origin <> \'account\' '
        'order by "signature" collate "C", "event_index"'
    )
    assert header(shape) == b"trades\tsignature\tevent_index\tslot\n"


def test_differing_names_changed_and_one_sided_tables() -> None:
    ours = [TableDigest("a", 1, "x"), TableDigest("b", 2, "y"), TableDigest("c", 0, "z")]
    theirs = [TableDigest("a", 1, "x"), TableDigest("b", 2, "Y"), TableDigest("d", 0, "z")]
    assert differing(ours, theirs) == ["b", "c", "d"]
    assert differing(ours, ours) == []


# backfill ----------------------------------------------------------------------------------------------


def entry(slot: int, n: int, block_time: int | None = None, err: object = None) -> dict[str, object]:
    return {"signature": f"s{slot}-{n}", "slot": slot, "blockTime": block_time, "err": err}


def test_bounds_parse_slots_and_times() -> None:
    assert Bound.parse("420000000") == Bound(slot=420_000_000)
    assert Bound.parse("2026-09-21T14:13:20Z") == Bound(time=1_790_000_000)
    assert Bound.parse("2026-09-21T14:13:20") == Bound(time=1_790_000_000)
    with pytest.raises(argparse.ArgumentTypeError):
        Bound.parse("yesterday")


def test_a_page_is_cut_to_the_bounds_and_stops_at_since() -> None:
    page = [entry(30, 0), entry(25, 0), entry(20, 0), entry(19, 0), entry(18, 0)]
    cutted = cut(page, Bound(slot=20), Bound(slot=25))
    assert [e["slot"] for e in cutted.wanted] == [25, 20]
    assert cutted.done and cutted.last == "s19-0"
    more = cut([entry(30, i) for i in range(PAGE)], Bound(slot=20), None)
    assert not more.done and len(more.wanted) == PAGE and more.last == f"s30-{PAGE - 1}"
    assert cut([entry(30, 0)], Bound(slot=20), None).done  # a short page is the start of history


def test_time_bounds_compare_block_times() -> None:
    page = [entry(3, 0, 1_000), entry(2, 0, None), entry(1, 0, 900)]
    cutted = cut(page, Bound(time=950), None)
    assert [e["slot"] for e in cutted.wanted] == [3, 2] and cutted.done


def test_queued_rows_match_what_a_gap_sweep_queues() -> None:
    rows = queue_rows([entry(5, 0), entry(6, 0, err={"InstructionError": [0, "x"]})], fetch_failed=False)
    assert rows == [
        ("s5-0", 5, "backfill", int(Priority.BACKFILL), None),
        ("s6-0", 6, "failed", int(Priority.BACKFILL), {"InstructionError": [0, "x"]}),
    ]
    assert queue_rows([entry(6, 0, err={"x": 1})], fetch_failed=True)[0][2] == "backfill"


# live ingest's fetcher ---------------------------------------------------------------------------------


def test_a_policy_fetch_supersedes_a_sweep_fetch_of_the_same_signature() -> None:
    """A sweep queues a signature ('backfill'); its logs then arrive and the fetch policy wants the
    transaction. The fetch worker drops 'backfill' work whose logs are stored, so the pending item
    must take the policy's reason, or the transaction is never fetched (live would then differ
    from a backfill of the same history)."""
    fetcher = Fetcher(None)  # type: ignore[arg-type]  # offer() does not use the ingest
    fetcher.offer("sig", 10, "backfill", int(Priority.LIVE))
    fetcher.offer("sig", 10, "all", int(Priority.LIVE))
    fetcher.offer("sig", 10, "backfill", int(Priority.LIVE))
    assert fetcher.pending["sig"].reason == "all"
    assert len(fetcher.heap) == 1
