"""StreamEvents over a real gRPC socket: heartbeats, gap-free seq, filters, resume and OUT_OF_RANGE."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from pumpflow.schema import SCHEMA_HEAD
from pumpflow.v1 import executor_pb2 as pb
from pumpflow.v1 import executor_pb2_grpc as pb_grpc
from tests.support import ExecutorHandle, executor_settings, running_executor

MINTS = ("BRg3aMvmWjQKHetK9FQL62PnKBe9hPPSr6Z5yY7zkTVd", "7GNa61YKtEgVJDE2QaraxMHkvoh8fzXu2byDbwDpump")


def trade(n: int, mint: str = MINTS[0]) -> pb.Event:
    return pb.Event(
        trade_observed=pb.TradeObserved(
            chain=pb.ChainRef(
                slot=1000 + n, signature=f"sig{n}", block_time=1_780_000_000 + n, event_index=0
            ),
            venue=pb.VENUE_PUMP_CURVE,
            mint=mint,
            user="user",
            is_buy=n % 2 == 0,
            sol_amount=10_000_000 * (n + 1),
            token_amount=1_000_000 * (n + 1),
        )
    )


async def collect(
    handle: ExecutorHandle, request: pb.StreamRequest, count: int, timeout_s: float = 10
) -> list[pb.Event]:
    out: list[pb.Event] = []
    async with grpc.aio.insecure_channel(handle.addr) as channel:
        call = pb_grpc.ExecutorStub(channel).StreamEvents(request)
        async with asyncio.timeout(timeout_s):
            async for event in call:
                out.append(event)
                if len(out) == count:
                    break
        call.cancel()
    return out


def data_seqs(events: Sequence[pb.Event]) -> list[int]:
    return [e.seq for e in events if e.WhichOneof("body") != "heartbeat"]


async def test_heartbeat_arrives_with_versions_and_the_trading_flag(executor: ExecutorHandle) -> None:
    [event] = await collect(executor, pb.StreamRequest(client_id="t"), 1)
    hb = event.heartbeat
    assert event.WhichOneof("body") == "heartbeat"
    assert hb.trading_disabled is True
    assert hb.executor_version and hb.contract_version == "pumpflow.v1" and hb.schema_revision == SCHEMA_HEAD
    assert hb.executor_time_ms > 0


async def test_published_events_get_gap_free_seqs_and_arrive_in_order(executor: ExecutorHandle) -> None:
    request = pb.StreamRequest(exclude_heartbeats=True)
    reader = asyncio.create_task(collect(executor, request, 20))
    await asyncio.sleep(0.3)
    for chunk in range(4):
        await executor.running.bus.publish(trade(chunk * 5 + i) for i in range(5))
    events = await reader
    assert [e.seq for e in events] == list(range(1, 21))
    assert [e.trade_observed.chain.signature for e in events] == [f"sig{n}" for n in range(20)]


async def test_resume_from_seq_resends_held_events_then_continues_live(executor: ExecutorHandle) -> None:
    await executor.running.bus.publish(trade(n) for n in range(10))
    reader = asyncio.create_task(collect(executor, pb.StreamRequest(from_seq=4, exclude_heartbeats=True), 9))
    await asyncio.sleep(0.3)
    await executor.running.bus.publish([trade(10), trade(11)])
    assert [e.seq for e in await reader] == list(range(4, 13))


async def test_seq_survives_an_executor_restart(db_url: str) -> None:
    settings = executor_settings(db_url)
    async with running_executor(settings) as first:
        await first.running.bus.publish(trade(n) for n in range(3))
    async with running_executor(settings) as second:
        assert second.running.bus.head == 3
        await second.running.bus.publish([trade(3)])
        events = await collect(second, pb.StreamRequest(from_seq=1, exclude_heartbeats=True), 4)
    assert [e.seq for e in events] == [1, 2, 3, 4]


async def test_filters_by_kind_and_mint_still_resume_exactly(executor: ExecutorHandle) -> None:
    await executor.running.bus.publish(trade(n, MINTS[n % 2]) for n in range(10))
    await executor.running.bus.publish([pb.Event(token_launched=pb.TokenLaunched(mint=MINTS[0]))])
    request = pb.StreamRequest(from_seq=1, mints=[MINTS[1]], kinds=[pb.EVENT_KIND_TRADE_OBSERVED])
    events = await collect(executor, request, 6)
    assert data_seqs(events) == [2, 4, 6, 8, 10]
    assert all(e.trade_observed.mint == MINTS[1] for e in events if e.HasField("trade_observed"))
    # The heartbeat after the catch-up says how far the stream has passed, filtered events included.
    assert events[-1].WhichOneof("body") == "heartbeat" and events[-1].seq == 11


@pytest.mark.parametrize("from_seq", [0, 99])
async def test_resume_outside_the_held_range_fails_with_out_of_range(
    executor: ExecutorHandle, from_seq: int
) -> None:
    await executor.running.bus.publish(trade(n) for n in range(3))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await collect(executor, pb.StreamRequest(from_seq=from_seq), 1)
    assert err.value.code() == grpc.StatusCode.OUT_OF_RANGE
    assert "held: 1..3" in (err.value.details() or "")


async def test_resume_before_the_retention_window_fails_with_out_of_range(db_url: str) -> None:
    async with running_executor(executor_settings(db_url, events_retention=5)) as handle:
        await handle.running.bus.publish(trade(n) for n in range(12))
        deleted = await handle.running.store.prune_events(5)
        handle.running.bus.note_pruned(handle.running.bus.head - 5 + 1)
        assert deleted == 7
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await collect(handle, pb.StreamRequest(from_seq=3), 1)
        assert err.value.code() == grpc.StatusCode.OUT_OF_RANGE
        events = await collect(handle, pb.StreamRequest(from_seq=8, exclude_heartbeats=True), 5)
    assert [e.seq for e in events] == [8, 9, 10, 11, 12]


async def test_health_reports_serving_and_reflection_lists_the_executor(executor: ExecutorHandle) -> None:
    async with grpc.aio.insecure_channel(executor.addr) as channel:
        health = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="pumpflow.v1.Executor"), timeout=5
        )
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        call = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")])
        )
        async for answer in call:
            names = {s.name for s in answer.list_services_response.service}
            break
    assert {"pumpflow.v1.Executor", "grpc.health.v1.Health"} <= names
