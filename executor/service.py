"""The executor service: wires settings, store, event bus, gRPC server, metrics and background tasks,
and shuts them down in order on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from importlib.metadata import version

import structlog
from grpc_health.v1 import health_pb2
from prometheus_client import disable_created_metrics, start_http_server

from executor import metrics
from executor.api import SERVICE_NAME, ExecutorServicer, build_server
from executor.bus import EventBus
from executor.config import ExecutorSettings
from executor.errors import ExecutorError, StoreError
from executor.intents import IntentLimits
from executor.runtime import IngestStatus, Running, TaskFactory
from executor.store import Store
from pumpflow.redact import redact_url
from pumpflow.schema import SchemaNotAtHead
from pumpflow.v1 import executor_pb2 as pb

log = structlog.get_logger("executor")

VERSION = version("pumpflow")
CONTRACT = "pumpflow.v1"


def heartbeat(settings: ExecutorSettings, status: IngestStatus, bus: EventBus, revision: str) -> pb.Heartbeat:
    now_ms = int(time.time() * 1000)
    lag_ms = now_ms - status.last_block_time * 1000 if status.last_block_time else 0
    return pb.Heartbeat(
        executor_time_ms=now_ms,
        last_slot_seen=status.last_slot_seen,
        ingest_lag_ms=max(lag_ms, 0),
        ingest_lag_slots=status.lag_slots,
        trading_disabled=settings.trading_disabled,
        executor_version=VERSION,
        contract_version=CONTRACT,
        schema_revision=revision,
        head_seq=bus.head,
        oldest_held_seq=bus.oldest,
    )


async def heartbeat_loop(
    settings: ExecutorSettings, status: IngestStatus, bus: EventBus, revision: str
) -> None:
    while True:
        await asyncio.sleep(settings.heartbeat_interval_s)
        bus.broadcast_heartbeat(heartbeat(settings, status, bus, revision))
        metrics.HEARTBEATS.inc()


async def retention_loop(settings: ExecutorSettings, store: Store, bus: EventBus) -> None:
    while settings.events_retention:
        await asyncio.sleep(30)
        try:
            deleted = await store.prune_events(settings.events_retention)
        except StoreError as exc:
            log.warning("outbox prune failed", error=str(exc))
            continue
        if deleted:
            bus.note_pruned(bus.head - settings.events_retention + 1)
            metrics.OUTBOX_PRUNED.inc(deleted)
            log.info("outbox pruned", deleted=deleted, oldest=bus.oldest)


async def serve(
    settings: ExecutorSettings,
    stop: asyncio.Event,
    tasks: tuple[TaskFactory, ...] = (),
    started: Callable[[Running], None] | None = None,
) -> None:
    """Run until `stop` is set; raises ExecutorError/SchemaNotAtHead when it cannot start."""
    if not settings.database_url:
        raise ExecutorError("DATABASE_URL is not set (make up sets it to the embedded Postgres)")
    log.info(
        "executor starting",
        version=VERSION,
        database=redact_url(settings.database_url),
        rpc=[redact_url(u) for u in settings.solana_rpc_http],
        grpc=settings.executor_grpc_addr,
        trading_disabled=settings.trading_disabled,
    )
    store, revision = await Store.open(settings.database_url, settings.db_pool_size)
    bus = EventBus(store, settings.subscriber_queue_size)
    status = IngestStatus()
    try:
        await bus.start()
        limits = IntentLimits(
            settings.intent_max_lamports, settings.intent_max_slippage_bps, settings.intent_max_ttl_ms
        )
        servicer = ExecutorServicer(bus, store, limits, settings.trading_disabled)
        server, health, port = await build_server(servicer, settings.executor_grpc_addr)
        await server.start()
        metrics.BUILD.info({"version": VERSION, "contract": CONTRACT, "schema": revision})
        metrics.TRADING_DISABLED.set(1 if settings.trading_disabled else 0)
        running = Running(settings, store, bus, status, revision, port)
        log.info("executor ready", grpc_port=port, head_seq=bus.head, schema=revision)
        if started is not None:
            started(running)
        try:
            async with asyncio.TaskGroup() as group:
                background = [
                    group.create_task(heartbeat_loop(settings, status, bus, revision)),
                    group.create_task(retention_loop(settings, store, bus)),
                    *(group.create_task(factory(running)) for factory in tasks),
                ]
                await stop.wait()
                log.info("executor stopping")
                await health.set(SERVICE_NAME, health_pb2.HealthCheckResponse.NOT_SERVING)
                for task in background:
                    task.cancel()
        finally:
            bus.close()
            await server.stop(settings.shutdown_grace_s)
    finally:
        await store.close()
        log.info("executor stopped")


def install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def main(settings: ExecutorSettings, tasks: tuple[TaskFactory, ...] = ()) -> int:
    stop = asyncio.Event()
    install_signal_handlers(stop)
    disable_created_metrics()  # type: ignore[no-untyped-call]
    if settings.executor_metrics_port:
        start_http_server(settings.executor_metrics_port, addr=settings.metrics_host)
    try:
        await serve(settings, stop, tasks)
    except SchemaNotAtHead as exc:
        log.error("refusing to start", reason=str(exc))
        return 2
    except ExecutorError as exc:
        log.error("executor cannot start", reason=str(exc))
        return 2
    return 0
