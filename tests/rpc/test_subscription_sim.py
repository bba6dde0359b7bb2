"""LogsSubscription against the simulator: drops, restarts, idle timeouts, stalls, bad frames, redundancy."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from solders.pubkey import Pubkey
from websockets.asyncio.server import ServerConnection, serve

import sim
from executor.decode import PUMP, PUMP_AMM
from executor.rpc import Endpoint, LogsNotice, LogsSubscription, Priority, RpcPool
from tests.rpc.conftest import endpoint_of, metric
from tests.support import needs_fixtures


def quick(target: RpcPool | list[Endpoint], programs: list[str], **options: Any) -> LogsSubscription:
    """A subscription that reconnects within ~50 ms and counts 0.3 s as a healthy session."""
    settings: dict[str, Any] = {
        "backoff_min_s": 0.05,
        "backoff_max_s": 0.5,
        "healthy_after_s": 0.3,
        **options,
    }
    return LogsSubscription(target, programs, **settings)


@dataclass
class Recorder:
    """on_connect / on_notice callbacks that keep what they saw, in order."""

    connects: list[tuple[str, int | None]] = field(default_factory=list)
    notices: list[LogsNotice] = field(default_factory=list)
    timeline: list[str] = field(default_factory=list)
    connect_delay_s: float = 0.0
    notice_delay_s: float = 0.0
    in_connect: bool = False
    notices_during_connect: int = 0

    async def on_connect(self, endpoint: str, first_slot: int | None) -> None:
        self.in_connect = True
        self.connects.append((endpoint, first_slot))
        self.timeline.append("connect")
        if self.connect_delay_s:
            await asyncio.sleep(self.connect_delay_s)
        self.in_connect = False

    async def on_notice(self, notice: LogsNotice) -> None:
        if self.in_connect:
            self.notices_during_connect += 1
        self.notices.append(notice)
        self.timeline.append("notice")
        if self.notice_delay_s:
            await asyncio.sleep(self.notice_delay_s)


@contextlib.asynccontextmanager
async def subscribed(sub: LogsSubscription, recorder: Recorder) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(sub.run(recorder.on_connect, recorder.on_notice))
    try:
        yield task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def until(predicate: Callable[[], bool], timeout_s: float) -> None:
    async with asyncio.timeout(timeout_s):
        while not predicate():
            await asyncio.sleep(0.02)


async def feed_done(node: sim.RunningSim, timeout_s: float = 20) -> None:
    """Wait until the simulator started and finished emitting, plus a moment for the last frames."""
    await until(lambda: node.node.started_at is not None and not node.node.emitting, timeout_s)
    await asyncio.sleep(0.3)


def sent(node: sim.RunningSim) -> int:
    """Notifications the simulator wrote to a subscribed, connected client."""
    return int(node.node.stats["notifications"])


def unique(notices: list[LogsNotice]) -> set[tuple[str, str]]:
    return {(n.program, n.signature) for n in notices}


@needs_fixtures
async def test_every_notification_sent_on_each_connection_arrives_across_forced_drops() -> None:
    async with sim.running(scenario="recorded", port=0, rate=12, faults="ws-drop:1s,dup:0.2") as node:
        endpoint = endpoint_of(node)
        recorder = Recorder()
        async with RpcPool([endpoint]) as pool:
            sub = quick(pool, [PUMP, PUMP_AMM])
            async with subscribed(sub, recorder):
                await feed_done(node)
    assert len(recorder.connects) >= 4  # start + one per drop while emitting
    assert all(label == endpoint.label for label, _ in recorder.connects)
    # every reconnect was followed by notifications on the new connection while traffic flowed
    connect_positions = [i for i, kind in enumerate(recorder.timeline) if kind == "connect"]
    for here, nxt in itertools.pairwise(connect_positions[:3]):
        assert "notice" in recorder.timeline[here:nxt]
    # nothing the node sent was lost or delivered twice (dup: frames were dropped as duplicates)
    assert len(recorder.notices) == len(unique(recorder.notices)) == sent(node)
    assert metric("pumpflow_rpc_ws_duplicates_total", endpoint=endpoint.label) >= 1
    assert metric("pumpflow_rpc_ws_reconnects_total", endpoint=endpoint.label, reason="dropped") >= 3
    manifest = {row["signature"] for row in node.manifest_rows()}
    assert {n.signature for n in recorder.notices} <= manifest


@needs_fixtures
async def test_a_node_restart_resets_ids_and_the_stream_resubscribes() -> None:
    async with sim.running(scenario="recorded", port=0, rate=12, faults="restart:1.5s") as node:
        recorder = Recorder()
        sub = quick([endpoint_of(node)], [PUMP, PUMP_AMM])
        async with subscribed(sub, recorder):
            await feed_done(node)
    assert len(recorder.connects) >= 3
    assert len(recorder.notices) == len(unique(recorder.notices)) == sent(node)
    assert {n.program for n in recorder.notices} <= {PUMP, PUMP_AMM}


@needs_fixtures
async def test_on_connect_runs_before_any_notification_of_its_connection_is_delivered() -> None:
    async with sim.running(scenario="recorded", port=0, rate=40) as node:
        recorder = Recorder(connect_delay_s=0.5)
        sub = quick([endpoint_of(node)], [PUMP, PUMP_AMM])
        async with subscribed(sub, recorder):
            await feed_done(node)
    assert recorder.timeline[0] == "connect"
    assert recorder.notices_during_connect == 0
    assert len(recorder.notices) == sent(node) > 0


def quiet_program() -> str:
    return str(Pubkey.new_unique())  # mentioned by no transaction: the connection stays silent


@needs_fixtures
async def test_client_pings_keep_an_idle_connection_open() -> None:
    async with sim.running(scenario="recorded", port=0, faults="idle-timeout:1s") as node:
        pinging = Recorder()
        sub = quick([endpoint_of(node)], [quiet_program()], ping_interval_s=0.3, stall_after_s=60)
        async with subscribed(sub, pinging):
            await asyncio.sleep(3.0)
            assert sub.connected == [endpoint_of(node).label]
        silent = Recorder()
        sub = quick([endpoint_of(node)], [quiet_program()], ping_interval_s=None, stall_after_s=60)
        async with subscribed(sub, silent):
            await asyncio.sleep(3.0)
    assert len(pinging.connects) == 1
    assert len(silent.connects) >= 2  # without pings the node closes the idle socket


@needs_fixtures
async def test_no_notifications_while_slots_advance_is_a_stall_and_reconnects() -> None:
    async with sim.running(scenario="recorded", port=0, speed=10) as node:
        endpoint = endpoint_of(node)
        recorder = Recorder()
        sub = quick([endpoint], [quiet_program()], stall_after_s=0.6, slot_check_interval_s=0.2)
        async with subscribed(sub, recorder):
            await until(lambda: len(recorder.connects) >= 2, 10)
    assert metric("pumpflow_rpc_ws_stall_reconnects_total", endpoint=endpoint.label) >= 1
    assert metric("pumpflow_rpc_ws_reconnects_total", endpoint=endpoint.label, reason="stall") >= 1


@needs_fixtures
async def test_malformed_ghost_and_oversize_frames_are_counted_and_never_end_the_stream() -> None:
    faults = "malformed:0.2,ghost:0.2,oversize:0.1:1500kb"
    async with sim.running(scenario="recorded", port=0, rate=20, seed=5, faults=faults) as node:
        endpoint = endpoint_of(node)
        recorder = Recorder()
        sub = quick([endpoint], [PUMP, PUMP_AMM], max_frame_bytes=1024 * 1024)
        async with subscribed(sub, recorder) as task:
            await feed_done(node)
            assert not task.done()
    for kind in ("json", "ghost", "oversize"):
        assert metric("pumpflow_rpc_ws_malformed_frames_total", endpoint=endpoint.label, kind=kind) >= 1, kind
    assert metric("pumpflow_rpc_ws_reconnects_total", endpoint=endpoint.label, reason="oversize") >= 1
    assert all(n.signature != "1" * 64 for n in recorder.notices)
    assert len(recorder.notices) >= sent(node) - metric(
        "pumpflow_rpc_ws_malformed_frames_total", endpoint=endpoint.label, kind="oversize"
    )


@needs_fixtures
async def test_a_slow_consumer_gets_everything_through_a_small_queue() -> None:
    async with sim.running(scenario="recorded", port=0, rate=60) as node:
        recorder = Recorder(notice_delay_s=0.02)
        sub = quick([endpoint_of(node)], [PUMP, PUMP_AMM], queue_size=4)
        async with subscribed(sub, recorder):
            await feed_done(node)
            await until(lambda: len(recorder.notices) >= sent(node), 10)
    assert len(recorder.connects) == 1
    assert len(recorder.notices) == sent(node)


@needs_fixtures
async def test_redundant_mode_merges_two_endpoints_and_survives_drops_on_one() -> None:
    async with (
        sim.running(scenario="recorded", port=0, rate=12, faults="ws-drop:1s") as flaky,
        sim.running(scenario="recorded", port=0, rate=12) as steady,
    ):
        recorder = Recorder()
        endpoints = [endpoint_of(flaky), endpoint_of(steady)]
        sub = quick(endpoints, [PUMP, PUMP_AMM], redundant=True)
        async with subscribed(sub, recorder):
            await until(lambda: len(sub.connected) == 2, 5)
            await feed_done(flaky)
            await feed_done(steady)
    assert len(recorder.connects) == 1  # the merged stream never had a gap
    assert len(recorder.notices) == len(unique(recorder.notices)) == sent(steady)
    assert (
        metric("pumpflow_rpc_ws_duplicates_total", endpoint=endpoints[0].label)
        + metric("pumpflow_rpc_ws_duplicates_total", endpoint=endpoints[1].label)
        >= sent(steady) // 2
    )


# --- a scripted PubSub server for what the simulator does not do --------------------------------


Script = Callable[[Any, dict[str, Any]], Awaitable[None]]


@contextlib.asynccontextmanager
async def pubsub_server(script: Script) -> AsyncIterator[Endpoint]:
    async def handler(ws: ServerConnection) -> None:
        async for raw in ws:
            await script(ws, orjson.loads(raw))

    async with serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield Endpoint(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}")


def logs_frame(subscription: int, signature: str) -> bytes:
    value: dict[str, Any] = {"signature": signature, "err": None, "logs": []}
    return orjson.dumps(
        {
            "jsonrpc": "2.0",
            "method": "logsNotification",
            "params": {"result": {"context": {"slot": 7}, "value": value}, "subscription": subscription},
        }
    )


SIGNATURE = "5h6xBEauJ3PK6SWCZ1PGjBvj8vDdWG3KpwATGy1ARAXFSDwt8GFXM7W5Ncn16wmqokgpiKRLuS83KUxyZyv2sUYv"


async def test_a_flood_of_unknown_subscription_ids_makes_the_stream_resubscribe() -> None:
    async def script(ws: Any, msg: dict[str, Any]) -> None:
        await ws.send(orjson.dumps({"jsonrpc": "2.0", "result": 3, "id": msg["id"]}).decode())
        await ws.send(logs_frame(3, SIGNATURE).decode())  # a good one first
        for _ in range(60):
            await ws.send(logs_frame(999, SIGNATURE).decode())

    async with pubsub_server(script) as endpoint:
        recorder = Recorder()
        sub = quick([endpoint], [PUMP], stall_after_s=60)
        async with subscribed(sub, recorder):
            await until(lambda: len(recorder.connects) >= 2, 10)
    assert (
        metric("pumpflow_rpc_ws_reconnects_total", endpoint=endpoint.label, reason="unknown_subscription")
        >= 1
    )
    assert (
        metric("pumpflow_rpc_ws_malformed_frames_total", endpoint=endpoint.label, kind="unknown_subscription")
        >= 50
    )
    assert [n.signature for n in recorder.notices] == [
        SIGNATURE
    ]  # delivered once; the reconnect's copy is a duplicate


async def test_notifications_racing_ahead_of_the_last_ack_are_held_and_delivered() -> None:
    async def script(ws: Any, msg: dict[str, Any]) -> None:
        sub_id = 10 + msg["id"]
        if msg["id"] == 2:  # the second program's notification arrives before its own ack
            await ws.send(logs_frame(sub_id, SIGNATURE).decode())
        await ws.send(orjson.dumps({"jsonrpc": "2.0", "result": sub_id, "id": msg["id"]}).decode())

    async with pubsub_server(script) as endpoint:
        recorder = Recorder()
        sub = quick([endpoint], [PUMP, PUMP_AMM], stall_after_s=60)
        async with subscribed(sub, recorder):
            await until(lambda: len(recorder.notices) >= 1, 5)
    assert recorder.connects == [(endpoint.label, 7)]  # first_slot is that notification's slot
    assert [(n.program, n.signature) for n in recorder.notices] == [(PUMP_AMM, SIGNATURE)]


async def test_a_refused_subscription_backs_off_and_retries() -> None:
    async def script(ws: Any, msg: dict[str, Any]) -> None:
        error = {"code": -32602, "message": "Invalid Request: Invalid mentions provided"}
        await ws.send(orjson.dumps({"jsonrpc": "2.0", "error": error, "id": msg["id"]}).decode())

    async with pubsub_server(script) as endpoint:
        recorder = Recorder()
        sub = LogsSubscription([endpoint], [PUMP], backoff_min_s=0.05, backoff_max_s=0.2)
        started = time.monotonic()
        async with subscribed(sub, recorder) as task:
            await until(
                lambda: (
                    metric(
                        "pumpflow_rpc_ws_reconnects_total", endpoint=endpoint.label, reason="subscribe_failed"
                    )
                    >= 3
                ),
                5,
            )
            assert not task.done()
    assert recorder.connects == []
    assert time.monotonic() - started >= 0.05 + 0.1  # backoff grew between attempts


async def test_subscribe_then_backfill_in_on_connect_closes_every_gap() -> None:
    """The pipeline's contract, end to end on generated traffic: page getSignaturesForAddress back to
    the newest signature seen before the drop inside on_connect, and the stream plus the backfill
    hold every transaction the node served, although drops lost notifications."""
    async with sim.running(port=0, rate=40, duration=5, faults="ws-drop:1.2s") as node:
        endpoint = endpoint_of(node)
        seen: dict[str, set[str]] = {PUMP: set(), PUMP_AMM: set()}
        newest: dict[str, str] = {}
        streamed = 0
        async with RpcPool([endpoint], requests_per_10s=1000, method_per_10s=1000) as pool:

            async def on_connect(label: str, first_slot: int | None) -> None:
                for program, until in list(newest.items()):
                    before: str | None = None
                    while True:
                        page = await pool.get_signatures_for_address(
                            program, until=until, before=before, limit=50, priority=Priority.BACKFILL
                        )
                        seen[program].update(item["signature"] for item in page)
                        if len(page) < 50:
                            break
                        before = page[-1]["signature"]

            async def on_notice(notice: LogsNotice) -> None:
                nonlocal streamed
                streamed += 1
                seen[notice.program].add(notice.signature)
                newest[notice.program] = notice.signature

            # reconnect 0.15-0.3 s after each drop, so every drop loses a few notifications
            sub = LogsSubscription(pool, [PUMP, PUMP_AMM], backoff_min_s=0.3, healthy_after_s=0.3)
            task = asyncio.create_task(sub.run(on_connect, on_notice))
            await feed_done(node)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            # the tail after the last reconnect is the pipeline's periodic sweep; do one here
            await on_connect(endpoint.label, None)
    served = {row["signature"] for row in node.manifest_rows()}
    assert metric("pumpflow_rpc_ws_reconnects_total", endpoint=endpoint.label, reason="dropped") >= 3
    assert streamed < len(served)  # the drops did lose notifications ...
    assert served <= seen[PUMP] | seen[PUMP_AMM]  # ... and the backfill found every one of them
