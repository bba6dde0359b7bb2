"""Proto <-> SDK conversion: lossless round trips, and SDK intents that the executor's own
validator accepts as they are."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from executor.intents import IntentLimits, validate
from pumpflow.v1 import executor_pb2 as pb
from strategy.events import event_from_pb, event_to_pb, intent_from_pb, intent_to_pb
from strategy.sdk import CurveCompleted, Severity, TokenMigrated, TradeIntent
from strategy.sdk.testing import StreamBuilder, make_bucket, mint_address, run_signals
from strategy.signals import BUILTINS
from tests.strategy.streams import golden_stream


def every_kind() -> list[object]:
    s = StreamBuilder()
    s.launch("M")
    s.trade("M", at=3, sol="1.25", price="0.000000027958993855")
    s.curve("M", at=4, complete=True)
    s.risk_flag("M", "CREATOR_DUMP", Severity.MEDIUM, at=5)
    s.bucket("M", 0, net_inflow_sol="-0.75", uniq_buyers=4, price_close="0.000000031")
    chain = s.events[0].chain  # type: ignore[union-attr]
    s.add(CurveCompleted(seq=0, chain=chain, mint=mint_address("M"), bonding_curve="c", user="u"))
    s.add(
        TokenMigrated(
            seq=0,
            chain=chain,
            mint=mint_address("M"),
            pool="p",
            mint_amount=1,
            sol_amount=2,
            pool_migration_fee=3,
            bonding_curve="c",
            user="u",
        )
    )
    return list(s.events)


@pytest.mark.parametrize("event", every_kind(), ids=lambda e: type(e).__name__)
def test_every_stream_event_round_trips_through_the_wire_form(event: object) -> None:
    wire = event_to_pb(event)  # type: ignore[arg-type]
    assert event_from_pb(pb.Event.FromString(wire.SerializeToString())) == event


def test_heartbeats_amm_snapshots_and_empty_events_are_not_signal_events() -> None:
    assert event_from_pb(pb.Event(seq=3, heartbeat=pb.Heartbeat(head_seq=3))) is None
    assert event_from_pb(pb.Event(seq=4, amm_snapshot=pb.AmmSnapshot(pool="p"))) is None
    assert event_from_pb(pb.Event(seq=5)) is None


def test_malformed_values_raise_value_error() -> None:
    wire = event_to_pb(make_bucket("M", 0, seq=1))
    wire.feature_bucket.venue = 7  # type: ignore[assignment]
    with pytest.raises(ValueError, match="unknown venue"):
        event_from_pb(wire)


@pytest.fixture(name="intents", scope="module")
def _intents() -> tuple[TradeIntent, ...]:
    return run_signals({sid: cls() for sid, cls in BUILTINS.items()}, golden_stream()).intents


def test_builtin_intents_pass_the_executors_validator_unchanged(intents: tuple[TradeIntent, ...]) -> None:
    limits = IntentLimits(max_lamports=1_000_000_000_000, max_slippage_bps=5_000, max_ttl_ms=600_000)
    for intent in intents:
        record = validate(intent_to_pb(intent), limits)
        assert record.intent_id == intent.intent_id
        assert record.reasons == intent.reasons
        assert record.evidence == dict(intent.evidence)


def test_intents_round_trip_through_the_wire_form(intents: tuple[TradeIntent, ...]) -> None:
    for intent in intents:
        assert intent_from_pb(pb.TradeIntent.FromString(intent_to_pb(intent).SerializeToString())) == intent


def test_an_intent_without_id_cannot_be_sent(intents: tuple[TradeIntent, ...]) -> None:
    with pytest.raises(ValueError, match="no intent_id"):
        intent_to_pb(replace(intents[0], intent_id=""))


def test_wire_intent_carries_version_as_text_and_evidence_as_exact_strings(
    intents: tuple[TradeIntent, ...],
) -> None:
    wire = intent_to_pb(intents[0])
    assert wire.signal_version == str(intents[0].signal_version)
    assert all(Decimal(v) == Decimal(v) for v in wire.evidence.values())
    assert wire.venue == pb.VENUE_PUMP_CURVE and wire.side == pb.SIDE_BUY
