"""The strategy service: follows the executor's event stream, logs heartbeats, hands every other event
to the event handler, and stops cleanly on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable

import structlog
from prometheus_client import Counter, Gauge, disable_created_metrics, start_http_server

from pumpflow.v1 import executor_pb2 as pb
from strategy.client import ExecutorClient, ResumingStream
from strategy.config import StrategySettings
from strategy.live import LiveDriver
from strategy.runner import SignalRunner

log = structlog.get_logger("strategy")

EVENTS_SEEN = Counter("pumpflow_strategy_events_total", "Events received from the executor", ["kind"])
LAST_SEQ = Gauge("pumpflow_strategy_last_seq", "Seq of the last event received")
EXECUTOR_HEAD = Gauge("pumpflow_strategy_executor_head_seq", "Executor head seq from the last heartbeat")
HEARTBEAT_LAG = Gauge("pumpflow_strategy_ingest_lag_ms", "Executor ingest lag from the last heartbeat")

EventHandler = Callable[[pb.Event], Awaitable[None]]


def log_heartbeat(event: pb.Event) -> None:
    hb = event.heartbeat
    EXECUTOR_HEAD.set(hb.head_seq)
    HEARTBEAT_LAG.set(hb.ingest_lag_ms)
    log.info(
        "heartbeat",
        seq=event.seq,
        head_seq=hb.head_seq,
        last_slot=hb.last_slot_seen,
        ingest_lag_ms=hb.ingest_lag_ms,
        trading_disabled=hb.trading_disabled,
        executor_version=hb.executor_version,
    )


async def follow(
    settings: StrategySettings,
    client: ExecutorClient,
    handler: EventHandler | None,
    from_seq: int | None = None,
) -> None:
    """Consume the stream forever; the handler sees every non-heartbeat event once, in seq order."""
    stream = ResumingStream(
        client,
        from_seq=from_seq,
        min_backoff_s=settings.reconnect_min_s,
        max_backoff_s=settings.reconnect_max_s,
    )
    async for event in stream.events():
        kind = event.WhichOneof("body") or "unknown"
        EVENTS_SEEN.labels(kind=kind).inc()
        LAST_SEQ.set(event.seq)
        if kind == "heartbeat":
            log_heartbeat(event)
        elif handler is not None:
            await handler(event)


async def main(settings: StrategySettings, runner: SignalRunner | None = None) -> int:
    """Follow the stream until SIGINT/SIGTERM; with a runner, its intents go to the executor."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    disable_created_metrics()  # type: ignore[no-untyped-call]
    if settings.strategy_metrics_port:
        start_http_server(settings.strategy_metrics_port, addr=settings.metrics_host)
    from_seq = settings.strategy_from_seq or None
    log.info(
        "strategy starting",
        executor=settings.executor_grpc_addr,
        client_id=settings.strategy_client_id,
        from_seq=from_seq,
    )
    async with (
        ExecutorClient(settings.executor_grpc_addr, settings.strategy_client_id) as client,
        asyncio.TaskGroup() as group,
    ):
        handler = LiveDriver(runner, client, settings.intent_timeout_s).handle if runner is not None else None
        following = group.create_task(follow(settings, client, handler, from_seq))
        await stop.wait()
        following.cancel()
    log.info("strategy stopped")
    return 0
