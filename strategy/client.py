"""gRPC client of the executor: intent submission and an event stream that reconnects and resumes.

Resume rule: the stream remembers the seq of the last event it yielded (heartbeats included: theirs
is the position the stream has passed) and, after any disconnect, asks for `from_seq = last + 1`, so
nothing is skipped and nothing is delivered twice. Reconnects back off exponentially with full jitter.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Sequence

import grpc
import structlog
from prometheus_client import Counter

from pumpflow.v1 import executor_pb2 as pb
from pumpflow.v1 import executor_pb2_grpc as pb_grpc
from strategy.errors import IntentRefused, ResumeOutOfRange, StreamError

log = structlog.get_logger("strategy.client")

RECONNECTS = Counter("pumpflow_strategy_reconnects_total", "Stream reconnects to the executor", ["reason"])
RESUME_GAPS = Counter(
    "pumpflow_strategy_resume_gaps_total", "Resumes the executor refused (OUT_OF_RANGE); events were skipped"
)

_REFUSED = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.FAILED_PRECONDITION,
}


class ExecutorClient:
    def __init__(self, addr: str, client_id: str = "strategy") -> None:
        self.addr = addr
        self.client_id = client_id
        self.channel = grpc.aio.insecure_channel(addr)
        self.stub = pb_grpc.ExecutorStub(self.channel)

    async def close(self) -> None:
        await self.channel.close()

    async def __aenter__(self) -> ExecutorClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def submit(self, intent: pb.TradeIntent, timeout_s: float) -> pb.IntentAck:
        """Send one intent. Raises IntentRefused (no point retrying) or StreamError (retry later)."""
        try:
            ack: pb.IntentAck = await self.stub.SubmitIntent(intent, timeout=timeout_s)
        except grpc.aio.AioRpcError as exc:
            if exc.code() in _REFUSED:
                raise IntentRefused(f"{exc.code().name}: {exc.details()}") from exc
            raise StreamError(f"SubmitIntent failed: {exc.code().name}: {exc.details()}") from exc
        return ack

    async def stream_once(
        self, from_seq: int | None, kinds: Sequence[pb.EventKind.ValueType] = (), mints: Sequence[str] = ()
    ) -> AsyncIterator[pb.Event]:
        """One StreamEvents call; ends with StreamError/ResumeOutOfRange when the call fails."""
        request = pb.StreamRequest(kinds=kinds, mints=mints, client_id=self.client_id)
        if from_seq is not None:
            request.from_seq = from_seq
        call = self.stub.StreamEvents(request)
        try:
            async for event in call:
                yield event
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.OUT_OF_RANGE:
                raise ResumeOutOfRange(exc.details() or "OUT_OF_RANGE") from exc
            raise StreamError(f"{exc.code().name}: {exc.details()}") from exc
        finally:
            call.cancel()
        raise StreamError("executor ended the stream")


class ResumingStream:
    """Yields the executor's events forever, reconnecting with jittered backoff and resuming by seq."""

    def __init__(
        self,
        client: ExecutorClient,
        from_seq: int | None = None,
        kinds: Sequence[pb.EventKind.ValueType] = (),
        mints: Sequence[str] = (),
        min_backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
    ) -> None:
        self.client = client
        self.next_seq = from_seq
        self.kinds = kinds
        self.mints = mints
        self.min_backoff_s = min_backoff_s
        self.max_backoff_s = max_backoff_s
        self.connected = asyncio.Event()

    def backoff(self, attempt: int) -> float:
        return random.uniform(0, min(self.max_backoff_s, self.min_backoff_s * 2**attempt))

    async def events(self) -> AsyncIterator[pb.Event]:
        attempt = 0
        while True:
            try:
                async for event in self.client.stream_once(self.next_seq, self.kinds, self.mints):
                    if not self.connected.is_set():
                        self.connected.set()
                        log.info("stream connected", executor=self.client.addr, from_seq=self.next_seq)
                    attempt = 0
                    # A heartbeat's seq is the position the server-side stream has passed.
                    self.next_seq = event.seq + 1
                    yield event
            except ResumeOutOfRange as exc:
                RESUME_GAPS.inc()
                RECONNECTS.labels(reason="out_of_range").inc()
                log.error("resume refused, continuing live; events were skipped", error=str(exc))
                self.next_seq = None
            except StreamError as exc:
                reason = str(exc).split(":", 1)[0]
                RECONNECTS.labels(reason=reason).inc()
                delay = self.backoff(attempt)
                attempt += 1
                self.connected.clear()
                log.warning(
                    "stream lost, reconnecting", error=str(exc), retry_in_s=round(delay, 2), attempt=attempt
                )
                await asyncio.sleep(delay)
