"""SubmitIntent over a real gRPC socket: validation, persistence, idempotency, and the trading switch."""

from __future__ import annotations

import asyncpg
import grpc
import pytest

from executor.errors import IntentInvalid
from executor.intents import IntentLimits, validate
from pumpflow.v1 import executor_pb2 as pb
from pumpflow.v1 import executor_pb2_grpc as pb_grpc
from tests.support import ExecutorHandle, executor_settings, running_executor

MINT = "BRg3aMvmWjQKHetK9FQL62PnKBe9hPPSr6Z5yY7zkTVd"
LIMITS = IntentLimits(max_lamports=10**12, max_slippage_bps=5000, max_ttl_ms=600_000)


def intent(**overrides: object) -> pb.TradeIntent:
    values: dict[str, object] = {
        "intent_id": "sig:1:abc",
        "mint": MINT,
        "venue": pb.VENUE_PUMP_CURVE,
        "side": pb.SIDE_BUY,
        "size_lamports": 100_000_000,
        "max_slippage_bps": 150,
        "ttl_ms": 30_000,
        "reasons": ["INFLOW_ACCEL_UP"],
        "signal_id": "inflow_accel",
        "signal_version": "3",
        "params_hash": "ab12",
        "trigger": "seq:42",
        "as_of": 1_780_000_000,
    }
    values.update(overrides)
    return pb.TradeIntent(**values)  # type: ignore[arg-type]


async def submit(handle: ExecutorHandle, request: pb.TradeIntent) -> pb.IntentAck:
    async with grpc.aio.insecure_channel(handle.addr) as channel:
        ack: pb.IntentAck = await pb_grpc.ExecutorStub(channel).SubmitIntent(request, timeout=10)
        return ack


async def stored(db_url: str, intent_id: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(db_url)
    try:
        return list(await conn.fetch("select * from intents where intent_id = $1", intent_id))
    finally:
        await conn.close()


async def test_intent_is_rejected_with_trading_disabled_and_stored_with_that_status(
    executor: ExecutorHandle, db_url: str
) -> None:
    ack = await submit(executor, intent())
    assert ack.status == pb.INTENT_STATUS_REJECTED
    assert ack.reason == "TRADING_DISABLED"
    assert not ack.duplicate
    rows = await stored(db_url, "sig:1:abc")
    assert len(rows) == 1
    row = rows[0]
    assert (row["status"], row["reject_reason"]) == ("REJECTED", "TRADING_DISABLED")
    assert (row["venue"], row["side"], row["size_lamports"]) == ("PUMP_CURVE", "BUY", 100_000_000)
    assert row["reasons"] == ["INFLOW_ACCEL_UP"]
    assert (row["signal_id"], row["params_hash"], row["max_slippage_bps"]) == ("inflow_accel", "ab12", 150)


async def test_repeated_intent_id_returns_the_stored_answer_and_stores_nothing_new(
    executor: ExecutorHandle, db_url: str
) -> None:
    first = await submit(executor, intent())
    again = await submit(executor, intent())
    assert again.duplicate and not first.duplicate
    assert (again.status, again.reason, again.received_at_ms) == (
        first.status,
        first.reason,
        first.received_at_ms,
    )
    assert len(await stored(db_url, "sig:1:abc")) == 1


async def test_intent_id_reused_for_a_different_request_is_refused_with_already_exists(
    executor: ExecutorHandle,
) -> None:
    await submit(executor, intent())
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await submit(executor, intent(size_lamports=200_000_000))
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"mint": "not-a-key"}, "base58"),
        ({"size_lamports": 0}, "size_lamports must be positive"),
        ({"max_slippage_bps": 9_999}, "max_slippage_bps"),
        ({"max_slippage_bps": 0}, "max_slippage_bps"),
        ({"ttl_ms": 0}, "ttl_ms"),
        ({"ttl_ms": 86_400_000}, "ttl_ms"),
        ({"venue": pb.VENUE_UNSPECIFIED}, "venue"),
        ({"side": pb.SIDE_UNSPECIFIED}, "side"),
        ({"intent_id": ""}, "intent_id"),
        ({"reasons": ["not a code"]}, "reasons"),
    ],
)
async def test_invalid_intent_is_refused_with_invalid_argument_and_not_stored(
    executor: ExecutorHandle, db_url: str, overrides: dict[str, object], complaint: str
) -> None:
    request = intent(**overrides)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await submit(executor, request)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert complaint in (err.value.details() or "")
    assert await stored(db_url, request.intent_id) == []


async def test_an_enabled_executor_still_rejects_because_it_has_no_execution_backend(db_url: str) -> None:
    async with running_executor(executor_settings(db_url, trading_disabled=False)) as handle:
        ack = await submit(handle, intent())
    assert ack.status == pb.INTENT_STATUS_REJECTED
    assert ack.reason == "EXECUTION_NOT_AVAILABLE"


async def test_cancel_intent_answers_unimplemented_with_an_explanation(executor: ExecutorHandle) -> None:
    async with grpc.aio.insecure_channel(executor.addr) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await pb_grpc.ExecutorStub(channel).CancelIntent(pb.CancelIntentRequest(intent_id="x"), timeout=5)
    assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "does not execute orders" in (err.value.details() or "")


def test_validation_reports_every_problem_at_once() -> None:
    with pytest.raises(IntentInvalid) as err:
        validate(intent(mint="x", size_lamports=0, ttl_ms=0), LIMITS)
    message = str(err.value)
    assert "mint" in message and "size_lamports" in message and "ttl_ms" in message


def test_request_hash_ignores_map_order_but_not_content() -> None:
    a = validate(intent(evidence={"a": "1", "b": "2"}), LIMITS)
    b = validate(intent(evidence={"b": "2", "a": "1"}), LIMITS)
    c = validate(intent(evidence={"a": "1", "b": "3"}), LIMITS)
    assert a.request_sha256 == b.request_sha256 != c.request_sha256
