"""Live/replay parity on simulated pump.fun traffic: the simulator feeds a real executor (ingest,
features, risk flags), a live driver runs the default signals on the executor's stream and submits
every intent; the executor stores them REJECTED/TRADING_DISABLED; replaying the stored events
reproduces exactly the stored intents, no more and no fewer."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from pathlib import Path

import grpc
import pytest

from executor.ingest.pipeline import ingest_task
from pumpflow.v1 import executor_pb2 as pb
from pumpflow.v1 import executor_pb2_grpc as pb_grpc
from strategy.events import intent_to_pb
from strategy.replay import compare_with_stored, replay
from strategy.runner import SignalRunner
from strategy.sdk import TradeIntent, fingerprint
from strategy.signal_config import load_signals
from tests.strategy.dbkit import connect
from tests.support import executor_settings, fetch, running_executor, sim_process, wait_settled

pytestmark = pytest.mark.slow


async def live_driver(addr: str, runner: SignalRunner, out: list[tuple[TradeIntent, pb.IntentAck]]) -> None:
    """What `python -m strategy run` does: stream from the first event, feed, submit, never retry a REJECTED."""
    async with grpc.aio.insecure_channel(addr) as channel:
        stub = pb_grpc.ExecutorStub(channel)
        call = stub.StreamEvents(pb.StreamRequest(from_seq=1, client_id="strategy-parity"))
        try:
            async for event in call:
                step = runner.step_pb(event)
                assert step.faults == ()
                for intent in step.intents:
                    out.append((intent, await stub.SubmitIntent(intent_to_pb(intent), timeout=10)))
        finally:
            call.cancel()


async def test_live_intents_on_simulated_traffic_equal_the_replayed_ones(db_url: str, tmp_path: Path) -> None:
    sim_args = ("--seed", "11", "--rate", "60", "--speed", "30", "--duration", "30")
    runner = load_signals()
    submitted: list[tuple[TradeIntent, pb.IntentAck]] = []
    async with sim_process(tmp_path, *sim_args) as (http, ws, _manifest):
        settings = executor_settings(db_url, solana_rpc_http=(http,), solana_rpc_ws=(ws,))
        async with running_executor(settings, (ingest_task,)) as handle:
            live = asyncio.create_task(live_driver(handle.addr, runner, submitted))
            await asyncio.sleep(30)
            head = await wait_settled(
                db_url, "select coalesce(max(seq), 0) from events", quiet_s=5, timeout_s=120
            )
            async with asyncio.timeout(60):
                while (runner.last_seq or 0) < head:
                    assert not live.done(), live
                    await asyncio.sleep(0.2)
            live.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await live
    intents = [i for i, _ in submitted]
    assert len(intents) > 0, "the default signals must fire on simulated traffic"
    assert {(pb.IntentStatus.Name(a.status), a.reason) for _, a in submitted} == {
        ("INTENT_STATUS_REJECTED", "TRADING_DISABLED")
    }
    rows = await fetch(db_url, "select status, reject_reason, cardinality(reasons) as n from intents")
    assert len(rows) == len(intents)
    assert all(
        (r["status"], r["reject_reason"]) == ("REJECTED", "TRADING_DISABLED") and r["n"] > 0 for r in rows
    )
    async with connect(db_url) as conn:
        replay_runner = load_signals()
        report = await replay(conn, replay_runner)
        parity = await compare_with_stored(conn, report, replay_runner)
    assert parity.ok, parity
    assert (parity.stored, parity.matched, parity.extra) == (len(intents), len(intents), ())
    assert report.fingerprint == fingerprint(intents)
    assert report.last_seq == head
    # Every built-in that had a chance fired: at least the flow signals on this much traffic.
    assert {"inflow_accel", "price_trend"} <= set(Counter(i.signal_id for i in intents))
