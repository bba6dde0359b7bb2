"""Replay driver against a real Postgres, and the live path end to end against a real executor:
intents reach the executor, are stored REJECTED/TRADING_DISABLED, and replaying the stored events
reproduces them byte for byte (live/replay parity)."""

from __future__ import annotations

import asyncio
import json

import grpc
import pytest

from pumpflow.v1 import executor_pb2 as pb
from pumpflow.v1 import executor_pb2_grpc as pb_grpc
from strategy.events import event_to_pb, intent_to_pb
from strategy.replay import ReplayError, compare_with_stored, main, replay, stored_events
from strategy.sdk import TradeIntent, fingerprint
from strategy.signal_config import load_signals
from tests.strategy.dbkit import connect, store_golden
from tests.strategy.streams import golden_stream
from tests.strategy.test_determinism import GOLDEN_FINGERPRINT
from tests.support import ExecutorHandle, executor_settings, running_executor


async def test_replay_of_the_stored_stream_reproduces_the_golden_fingerprint(db_url: str) -> None:
    events = await store_golden(db_url)
    async with connect(db_url) as conn:
        report = await replay(conn, load_signals(), batch_size=37)
    assert (report.events, report.first_seq, report.last_seq, report.gaps) == (len(events), 1, len(events), 0)
    assert report.fingerprint == GOLDEN_FINGERPRINT
    assert report.faults == []
    summary = report.summary()
    assert summary["intents"] == len(report.intents) and summary["fingerprint"] == GOLDEN_FINGERPRINT


async def test_replay_reports_only_from_the_requested_seq_but_feeds_everything_before(db_url: str) -> None:
    await store_golden(db_url)
    async with connect(db_url) as conn:
        full = await replay(conn, load_signals())
        windowed = await replay(conn, load_signals(), report_from_seq=400)
        bounded = await replay(conn, load_signals(), from_seq=100, to_seq=300)
    assert windowed.intents == [i for i in full.intents if int(i.trigger[4:]) >= 400]
    assert (bounded.first_seq, bounded.last_seq, bounded.events) == (100, 300, 201)


async def test_a_payload_whose_seq_disagrees_with_its_row_stops_the_replay(db_url: str) -> None:
    await store_golden(db_url)
    async with connect(db_url) as conn:
        wrong = event_to_pb(golden_stream()[0])
        wrong.seq = 99
        await conn.execute("update events set payload = $1 where seq = 1", wrong.SerializeToString())
        with pytest.raises(ReplayError, match="events row 1 holds a payload with seq 99"):
            async for _ in stored_events(conn):
                pass


async def follow_live(handle: ExecutorHandle, last_seq: int) -> tuple[list[TradeIntent], list[pb.IntentAck]]:
    """What the live driver does: stream from seq 1, feed the runner, submit every intent."""
    runner = load_signals()
    intents: list[TradeIntent] = []
    acks: list[pb.IntentAck] = []
    async with grpc.aio.insecure_channel(handle.addr) as channel:
        stub = pb_grpc.ExecutorStub(channel)
        call = stub.StreamEvents(pb.StreamRequest(from_seq=1, client_id="strategy-test"))
        async with asyncio.timeout(60):
            async for event in call:
                step = runner.step_pb(event)
                for intent in step.intents:
                    acks.append(await stub.SubmitIntent(intent_to_pb(intent), timeout=10))
                    intents.append(intent)
                if event.seq >= last_seq and event.WhichOneof("body") != "heartbeat":
                    break
        call.cancel()
    return intents, acks


@pytest.mark.slow
async def test_live_intents_are_stored_rejected_and_replay_reproduces_them_exactly(db_url: str) -> None:
    events = await store_golden(db_url)
    async with running_executor(executor_settings(db_url)) as handle:
        live, acks = await follow_live(handle, events[-1].seq)
        # Redelivery after a reconnect is harmless: the same intent id returns the stored answer.
        again = await _resubmit(handle, live[0])
    assert fingerprint(live) == GOLDEN_FINGERPRINT
    assert {(pb.IntentStatus.Name(a.status), a.reason, a.duplicate) for a in acks} == {
        ("INTENT_STATUS_REJECTED", "TRADING_DISABLED", False)
    }
    assert (again.duplicate, again.reason) == (True, "TRADING_DISABLED")
    async with connect(db_url) as conn:
        rows = await conn.fetch(
            "select intent_id, status, reject_reason, reasons, evidence::text as evidence from intents"
        )
        assert len(rows) == len(live)
        assert {(r["status"], r["reject_reason"]) for r in rows} == {("REJECTED", "TRADING_DISABLED")}
        assert all(len(r["reasons"]) > 0 for r in rows)
        by_id = {i.intent_id: i for i in live}
        assert all(json.loads(r["evidence"]) == dict(by_id[r["intent_id"]].evidence) for r in rows)
        runner = load_signals()
        report = await replay(conn, runner)
        parity = await compare_with_stored(conn, report, runner)
    assert parity.ok
    assert (parity.stored, parity.matched, parity.extra) == (len(live), len(live), ())


async def _resubmit(handle: ExecutorHandle, intent: TradeIntent) -> pb.IntentAck:
    async with grpc.aio.insecure_channel(handle.addr) as channel:
        ack: pb.IntentAck = await pb_grpc.ExecutorStub(channel).SubmitIntent(intent_to_pb(intent), timeout=10)
    return ack


@pytest.mark.slow
def test_the_replay_command_prints_a_summary_and_checks_parity(
    db_url: str, tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(store_golden(db_url))
    out = f"{tmp_path}/intents.jsonl"
    assert main(["--database-url", db_url, "--out", out, "--check-stored"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["fingerprint"] == GOLDEN_FINGERPRINT
    assert summary["parity"] == {
        "stored": 0,
        "matched": 0,
        "missing": [],
        "different": [],
        "extra_not_stored": summary["intents"],
        "ok": True,
    }
    with open(out, "rb") as fh:
        assert len(fh.read().splitlines()) == summary["intents"]
