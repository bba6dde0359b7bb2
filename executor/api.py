"""The gRPC surface of the executor: the Executor servicer, health and reflection, and the one place
where executor errors become gRPC status codes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import structlog
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection

from executor import metrics
from executor.bus import FIELD_OF_KIND, EventBus
from executor.errors import ExecutorError, IntentConflict, IntentInvalid, OutOfRange, StoreUnavailable
from executor.intents import IntentLimits, decide, validate
from executor.store import Store
from pumpflow.v1 import executor_pb2 as pb
from pumpflow.v1 import executor_pb2_grpc as pb_grpc

log = structlog.get_logger("executor.api")

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["Executor"].full_name

_STATUS_OF: list[tuple[type[ExecutorError], grpc.StatusCode]] = [
    (IntentInvalid, grpc.StatusCode.INVALID_ARGUMENT),
    (IntentConflict, grpc.StatusCode.ALREADY_EXISTS),
    (OutOfRange, grpc.StatusCode.OUT_OF_RANGE),
    (StoreUnavailable, grpc.StatusCode.UNAVAILABLE),
]


def status_of(exc: ExecutorError) -> grpc.StatusCode:
    for cls, code in _STATUS_OF:
        if isinstance(exc, cls):
            return code
    return grpc.StatusCode.INTERNAL


async def abort(context: grpc.aio.ServicerContext, method: str, exc: ExecutorError) -> None:
    code = status_of(exc)
    metrics.GRPC_ERRORS.labels(method=method, code=code.name).inc()
    log.warning("grpc call failed", method=method, code=code.name, error=str(exc))
    await context.abort(code, str(exc))


def kinds_of(request: pb.StreamRequest) -> list[str]:
    names = []
    for value in request.kinds:
        name = pb.EventKind.Name(value).removeprefix("EVENT_KIND_")
        if name not in FIELD_OF_KIND:
            raise IntentInvalid(f"unknown event kind {value}")
        names.append(name)
    return names


class ExecutorServicer(pb_grpc.ExecutorServicer):
    def __init__(self, bus: EventBus, store: Store, limits: IntentLimits, trading_disabled: bool) -> None:
        self.bus = bus
        self.store = store
        self.limits = limits
        self.trading_disabled = trading_disabled

    async def StreamEvents(
        self, request: pb.StreamRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.Event]:
        try:
            kinds = kinds_of(request)
        except IntentInvalid as exc:
            await abort(context, "StreamEvents", exc)
            return
        from_seq = request.from_seq if request.HasField("from_seq") else None
        try:
            sub = self.bus.subscribe(
                from_seq, kinds, request.mints, heartbeats=not request.exclude_heartbeats
            )
        except OutOfRange as exc:
            await abort(context, "StreamEvents", exc)
            return
        log.info("stream opened", client=request.client_id[:64], from_seq=from_seq, start=sub.next_seq)
        try:
            async for event in sub.events():
                yield event
        except ExecutorError as exc:
            await abort(context, "StreamEvents", exc)
        finally:
            log.info(
                "stream closed", client=request.client_id[:64], next_seq=sub.next_seq, overflows=sub.overflows
            )

    async def SubmitIntent(self, request: pb.TradeIntent, context: grpc.aio.ServicerContext) -> pb.IntentAck:
        try:
            record = validate(request, self.limits)
            stored, duplicate = await self.store.record_intent(record, decide(self.trading_disabled))
            if duplicate and stored.request_sha256 != record.request_sha256:
                raise IntentConflict(
                    f"intent_id {record.intent_id!r} was already used for a different request; "
                    "use a new intent_id for a new intent"
                )
        except (IntentInvalid, IntentConflict) as exc:
            metrics.INTENTS_INVALID.labels(code=status_of(exc).name).inc()
            await abort(context, "SubmitIntent", exc)
            raise AssertionError("unreachable: abort raises") from exc
        except ExecutorError as exc:
            await abort(context, "SubmitIntent", exc)
            raise AssertionError("unreachable: abort raises") from exc
        metrics.INTENTS.labels(status=stored.status, reason=stored.reason).inc()
        log.info(
            "intent answered",
            intent_id=record.intent_id,
            mint=record.mint,
            status=stored.status,
            reason=stored.reason,
            duplicate=duplicate,
            signal=record.signal_id,
        )
        return pb.IntentAck(
            intent_id=record.intent_id,
            status=pb.IntentStatus.Value(f"INTENT_STATUS_{stored.status}"),
            reason=stored.reason,
            message=stored.message,
            duplicate=duplicate,
            received_at_ms=stored.received_at_ms,
        )

    async def CancelIntent(
        self, request: pb.CancelIntentRequest, context: grpc.aio.ServicerContext
    ) -> pb.CancelIntentAck:
        metrics.GRPC_ERRORS.labels(method="CancelIntent", code="UNIMPLEMENTED").inc()
        await context.abort(
            grpc.StatusCode.UNIMPLEMENTED,
            "CancelIntent is not implemented: this executor does not execute orders yet, so there is "
            "nothing to cancel (intents are stored and answered by SubmitIntent)",
        )
        raise AssertionError("unreachable: abort raises")


async def build_server(
    servicer: ExecutorServicer, addr: str
) -> tuple[grpc.aio.Server, health_aio.HealthServicer, int]:
    """A grpc.aio server with the Executor service, standard health and reflection; returns the bound port."""
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    pb_grpc.add_ExecutorServicer_to_server(servicer, server)
    health = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME),
        server,
    )
    port = server.add_insecure_port(addr)
    if port == 0:
        raise OSError(f"cannot bind gRPC on {addr}")
    await health.set(SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)
    await health.set("", health_pb2.HealthCheckResponse.SERVING)
    return server, health, port
