"""`LogsSubscription`: a logsSubscribe stream that survives drops, restarts, stalls and bad frames.

A *session* is one WebSocket connection: connect to the best endpoint, send one logsSubscribe
(`{"mentions": [program]}`) per program, wait for every ack, call `on_connect(label, first_slot)`,
then hand each logsNotification to `on_notice` (awaited, so a slow consumer slows the stream) until
the connection ends. Between sessions: jittered exponential backoff, reset after a session that
delivered a notification or stayed up `healthy_after_s`; the next endpoint is the one with the fewest
recent WebSocket failures, ties broken by the pool's health ranking.

Inside a session a reader task drains the socket into a bounded queue, so control frames (pings and
pongs, handled by websockets' keepalive) keep flowing while `on_notice` works; when the queue is full
the reader waits, and so eventually does the server (agave then drops us as a lagging client, which
is a reconnect plus the caller's gap fill). A watchdog reconnects when no notification arrived for
`stall_after_s` while `getSlot` says the chain moved on.

Bad input never ends the stream silently: frames that are not JSON, have the wrong shape, carry an
unknown subscription id or the all-ones ghost signature are logged (throttled) and counted in
`pumpflow_rpc_ws_malformed_frames_total`; an oversize frame makes websockets close the connection
(1009), which is counted and reconnected. Exceptions raised by the callbacks end `run()`, except an
`RpcError` from `on_connect` (a failed gap fill), which ends only the session: the caller gets a
fresh connection and another `on_connect`.

With `redundant=True` two sessions run on two different endpoints and their notifications are merged
(deduplicated by program and signature in a bounded window); `on_connect` is then called only when
a session comes up after a moment in which no session was subscribed, since only then can the merged
stream have a gap.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog
from prometheus_client import Counter
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.frames import CloseCode

from executor.rpc import metrics, wire
from executor.rpc.backoff import Backoff
from executor.rpc.endpoint import WS_LOGGER, Endpoint
from executor.rpc.errors import RpcError
from executor.rpc.log_throttle import LogThrottle
from executor.rpc.pool import RpcPool

log = structlog.get_logger("executor.rpc")

MiB = 1024 * 1024
UNKNOWN_IDS_BEFORE_RESUBSCRIBE = 50
HELD_FRAMES_MAX = 10_000


@dataclass(frozen=True, slots=True)
class LogsNotice:
    """One logsNotification: `program` is the subscription it came from, `endpoint` the node's label."""

    program: str
    signature: str
    slot: int
    err: Any
    logs: list[str]
    endpoint: str


OnConnect = Callable[[str, int | None], Awaitable[None]]
OnNotice = Callable[[LogsNotice], Awaitable[None]]


class DedupeWindow:
    """Remembers the last `size` keys; `seen(key)` says whether a key is among them (and adds it)."""

    def __init__(self, size: int) -> None:
        self._size = max(1, size)
        self._keys: dict[tuple[str, str], None] = {}

    def seen(self, key: tuple[str, str]) -> bool:
        if key in self._keys:
            return True
        self._keys[key] = None
        if len(self._keys) > self._size:
            del self._keys[next(iter(self._keys))]
        return False

    def __len__(self) -> int:
        return len(self._keys)


class _SessionEnded(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(eq=False)
class _Connection:
    endpoint: Endpoint
    ws: ClientConnection
    queue: asyncio.Queue[LogsNotice | None]  # None: the reader has stopped
    pending: dict[int, str]  # request id -> program, until acked
    subscribed: asyncio.Future[None]
    programs: dict[int, str] = field(default_factory=dict)  # subscription id -> program
    held: list[wire.LogsFrame] = field(default_factory=list)
    first_slot: int | None = None
    last_notice_at: float = 0.0
    ref_slot: int | None = None
    unknown: int = 0
    received: int = 0  # notifications routed to the queue
    reason: str | None = None  # why we ended it ourselves
    closed: ConnectionClosed | None = None
    closing: asyncio.Task[None] | None = None
    counters: dict[str, Counter] = field(default_factory=dict)  # program -> notifications counter child
    discard: bool = False  # the session is over: drain the socket, deliver nothing more


@dataclass(frozen=True, slots=True)
class _Outcome:
    reason: str
    healthy: bool


class LogsSubscription:
    """Keeps `programs` subscribed (logsSubscribe mentions, one per program) on the best endpoint."""

    def __init__(
        self,
        pool_or_endpoints: RpcPool | Sequence[Endpoint],
        programs: Sequence[str],
        *,
        commitment: str = "confirmed",
        ping_interval_s: float | None = 20.0,
        ping_timeout_s: float = 10.0,
        stall_after_s: float = 30.0,
        slot_check_interval_s: float = 5.0,
        backoff_min_s: float = 0.5,
        backoff_max_s: float = 30.0,
        healthy_after_s: float = 10.0,
        open_timeout_s: float = 10.0,
        subscribe_timeout_s: float = 10.0,
        queue_size: int = 10_000,
        max_frame_bytes: int = 16 * MiB,
        dedupe_window: int = 20_000,
        redundant: bool = False,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not programs:
            raise ValueError("LogsSubscription needs at least one program")
        if len(set(programs)) != len(programs):
            raise ValueError("programs must be distinct")
        if isinstance(pool_or_endpoints, RpcPool):
            self._pool: RpcPool | None = pool_or_endpoints
            self._endpoints = pool_or_endpoints.endpoints
        else:
            self._pool = None
            self._endpoints = list(pool_or_endpoints)
            if not self._endpoints:
                raise ValueError("LogsSubscription needs at least one endpoint")
        self._programs = list(programs)
        self._commitment = commitment
        self._ping_interval_s = ping_interval_s
        self._ping_timeout_s = ping_timeout_s
        self._stall_after_s = stall_after_s
        self._slot_check_interval_s = slot_check_interval_s
        self._backoff = Backoff(backoff_min_s, backoff_max_s, rng=rng or random.Random())
        self._healthy_after_s = healthy_after_s
        self._open_timeout_s = open_timeout_s
        self._subscribe_timeout_s = subscribe_timeout_s
        self._queue_size = queue_size
        self._max_frame_bytes = max_frame_bytes
        self._dedupe = DedupeWindow(dedupe_window)
        self._clock = clock
        self._lanes = 2 if redundant and len(self._endpoints) >= 2 else 1
        if redundant and self._lanes == 1:
            log.warning("redundant logs subscription needs two endpoints; running a single one")
        self._ws_failures = {e.label: 0 for e in self._endpoints}
        self._lane_endpoint: dict[int, str] = {}  # lane -> endpoint it uses or is connecting to
        self._subscribed: dict[int, str] = {}  # lane -> endpoint, while subscribed
        self._gap = True  # no session was subscribed at some moment since the last on_connect
        self._callbacks = asyncio.Lock()
        self._throttle = LogThrottle(5.0, clock)
        self._notices = 0

    @property
    def connected(self) -> list[str]:
        """Labels of the endpoints with a subscribed session right now."""
        return list(self._subscribed.values())

    @property
    def notices_delivered(self) -> int:
        return self._notices

    # --- lifecycle -----------------------------------------------------------------------------

    async def run(self, on_connect: OnConnect, on_notice: OnNotice) -> None:
        """Run until cancelled (or a callback raises)."""
        pool = self._pool or RpcPool(self._endpoints)
        try:
            if self._lanes == 1:
                await self._lane(0, pool, on_connect, on_notice)
            else:
                async with asyncio.TaskGroup() as group:
                    for lane in range(self._lanes):
                        group.create_task(
                            self._lane(lane, pool, on_connect, on_notice), name=f"logs-lane-{lane}"
                        )
        finally:
            if self._pool is None:
                await pool.aclose()

    async def _lane(self, lane: int, pool: RpcPool, on_connect: OnConnect, on_notice: OnNotice) -> None:
        failures = 0
        reason = "start"
        down_since = self._clock()
        while True:
            endpoint = self._pick(lane, pool)
            self._lane_endpoint[lane] = endpoint.label
            outcome = await self._session(
                lane, endpoint, pool, reason, down_since, failures, on_connect, on_notice
            )
            down_since = self._clock()
            reason = outcome.reason
            metrics.WS_RECONNECTS.labels(endpoint.label, reason).inc()
            if outcome.healthy:
                failures = 0
                self._ws_failures[endpoint.label] = 0
            else:
                failures += 1
                self._ws_failures[endpoint.label] += 1
            await asyncio.sleep(self._backoff.delay(failures))

    def _pick(self, lane: int, pool: RpcPool) -> Endpoint:
        """Fewest WebSocket failures since its last good session first, then the pool's ranking;
        in redundant mode never the endpoint the other lane uses."""
        rank = {label: i for i, label in enumerate(pool.ranked())}
        others = {label for other, label in self._lane_endpoint.items() if other != lane}
        choices = [e for e in self._endpoints if e.label not in others] or self._endpoints
        return min(choices, key=lambda e: (self._ws_failures[e.label], rank.get(e.label, len(rank))))

    # --- one connection ------------------------------------------------------------------------

    async def _session(
        self,
        lane: int,
        endpoint: Endpoint,
        pool: RpcPool,
        after: str,
        down_since: float,
        failures: int,
        on_connect: OnConnect,
        on_notice: OnNotice,
    ) -> _Outcome:
        label = endpoint.label
        try:
            ws = await connect(
                endpoint.ws_url,
                open_timeout=self._open_timeout_s,
                ping_interval=self._ping_interval_s,
                ping_timeout=self._ping_timeout_s,
                close_timeout=2.0,
                max_size=self._max_frame_bytes,
                logger=WS_LOGGER,
            )
        except (OSError, TimeoutError, WebSocketException) as exc:
            log.warning(
                "logs subscription connect failed",
                endpoint=label,
                error=f"{type(exc).__name__}: {endpoint.scrub(str(exc))}",
                attempt=failures + 1,
            )
            return _Outcome("connect_failed", healthy=False)
        loop = asyncio.get_running_loop()
        conn = _Connection(
            endpoint=endpoint,
            ws=ws,
            queue=asyncio.Queue(self._queue_size),
            pending={},
            subscribed=loop.create_future(),
        )
        reader = asyncio.create_task(self._read(conn), name=f"logs-reader-{label}")
        watchdog: asyncio.Task[None] | None = None
        subscribed_at: float | None = None
        try:
            try:
                await self._subscribe(conn, reader)
            except _SessionEnded as ended:
                return _Outcome(ended.reason, healthy=False)
            subscribed_at = self._clock()
            conn.last_notice_at = subscribed_at
            log.info(
                "logs subscription connected",
                endpoint=label,
                after=after,
                downtime_s=round(subscribed_at - down_since, 3),
                attempt=failures + 1,
                subscriptions={str(sub): program for sub, program in conn.programs.items()},
            )
            metrics.WS_CONNECTED.labels(label).set(1)
            self._subscribed[lane] = label
            try:
                await self._connected(label, conn.first_slot, on_connect)
            except RpcError as exc:
                log.warning(
                    "logs subscription on_connect failed; reconnecting", endpoint=label, error=str(exc)
                )
                return _Outcome("on_connect_failed", healthy=False)
            watchdog = asyncio.create_task(self._watch(conn, pool), name=f"logs-watchdog-{label}")
            await self._deliver_all(conn, reader, on_notice)
            reader.result()  # a bug in the reader surfaces here
            reason = conn.reason or _close_reason(conn.closed)
            # A session that carried traffic was working: whatever ended it, reconnect at once.
            healthy = conn.received > 0 or self._clock() - subscribed_at >= self._healthy_after_s
            return _Outcome(reason, healthy)
        finally:
            if subscribed_at is not None:
                del self._subscribed[lane]
                if not self._subscribed:
                    self._gap = True
                metrics.WS_CONNECTED.labels(label).set(0)
            await self._teardown(conn, reader, watchdog)

    async def _teardown(
        self, conn: _Connection, reader: asyncio.Task[None], watchdog: asyncio.Task[None] | None
    ) -> None:
        """Close the socket while the reader keeps draining it (so the close handshake is not stuck
        behind unread frames), then stop the helper tasks."""
        conn.discard = True
        while not conn.queue.empty():
            conn.queue.get_nowait()
        if watchdog is not None:
            watchdog.cancel()
        await conn.ws.close()
        tasks = [t for t in (watchdog, reader, conn.closing) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        metrics.WS_QUEUE_DEPTH.labels(conn.endpoint.label).set(0)

    def _recycle(self, conn: _Connection, reason: str) -> None:
        """End the connection for `reason`; the reader keeps draining until the close completes."""
        if conn.reason is None:
            conn.reason = reason
        if conn.closing is None:
            conn.closing = asyncio.create_task(conn.ws.close(reason=reason), name="logs-close")

    async def _subscribe(self, conn: _Connection, reader: asyncio.Task[None]) -> None:
        for request_id, program in enumerate(self._programs, start=1):
            conn.pending[request_id] = program
            request = {
                "jsonrpc": "2.0",
                "id": request_id,
                "method": "logsSubscribe",
                "params": [{"mentions": [program]}, {"commitment": self._commitment}],
            }
            try:
                await conn.ws.send(orjson.dumps(request).decode())
            except ConnectionClosed as exc:
                raise _SessionEnded(_close_reason(exc)) from None
        try:
            async with asyncio.timeout(self._subscribe_timeout_s):
                await asyncio.wait({conn.subscribed, reader}, return_when=asyncio.FIRST_COMPLETED)
        except TimeoutError:
            log.warning("logs subscription got no ack in time", endpoint=conn.endpoint.label)
            raise _SessionEnded("subscribe_timeout") from None
        if conn.subscribed.done():
            error = conn.subscribed.exception()
            if error is None:
                return
            log.error(
                "logs subscription refused",
                endpoint=conn.endpoint.label,
                error=conn.endpoint.scrub(str(error)),
            )
            raise _SessionEnded("subscribe_failed")
        reader.result()  # a bug in the reader surfaces here
        raise _SessionEnded(conn.reason or _close_reason(conn.closed))

    async def _connected(self, label: str, first_slot: int | None, on_connect: OnConnect) -> None:
        async with self._callbacks:
            if not self._gap:
                return
            await on_connect(label, first_slot)
            self._gap = False

    # --- reading -------------------------------------------------------------------------------

    async def _read(self, conn: _Connection) -> None:
        ws = conn.ws
        try:
            await self._read_frames(conn, ws)
        finally:
            if conn.queue.empty():  # wake a deliverer waiting on the queue; else it drains and stops
                conn.queue.put_nowait(None)

    async def _read_frames(self, conn: _Connection, ws: ClientConnection) -> None:
        try:
            while True:
                raw = await ws.recv(decode=False)
                frame = wire.parse_frame(raw)
                if isinstance(frame, wire.LogsFrame):
                    await self._route(conn, frame)
                elif isinstance(frame, wire.Reply):
                    self._ack(conn, frame)
                else:
                    self._reject(conn, frame.kind, frame.detail)
        except ConnectionClosed as exc:
            conn.closed = exc
            if exc.sent is not None and exc.sent.code == CloseCode.MESSAGE_TOO_BIG:
                self._reject(conn, "oversize", f"frame over max_size={self._max_frame_bytes} bytes")

    def _ack(self, conn: _Connection, reply: wire.Reply) -> None:
        program = conn.pending.pop(reply.id, None) if isinstance(reply.id, int) else None
        if program is None:
            self._reject(conn, "shape", f"reply to unknown request id {reply.id!r}")
            return
        if conn.subscribed.done():
            return
        if reply.error is not None:
            conn.subscribed.set_exception(reply.error)
            return
        if isinstance(reply.result, bool) or not isinstance(reply.result, int):
            conn.subscribed.set_exception(RpcError(f"subscription id is not an integer: {reply.result!r}"))
            return
        conn.programs[reply.result] = program
        if conn.pending:
            return
        conn.subscribed.set_result(None)
        held, conn.held = conn.held, []
        for frame in held:
            program = conn.programs.get(frame.subscription)
            if program is None:
                self._reject(conn, "unknown_subscription", f"subscription id {frame.subscription}")
            else:
                self._enqueue_nowait(conn, frame, program)

    async def _route(self, conn: _Connection, frame: wire.LogsFrame) -> None:
        program = conn.programs.get(frame.subscription)
        if program is None:
            if not conn.subscribed.done():
                if len(conn.held) < HELD_FRAMES_MAX:
                    conn.held.append(frame)
                else:
                    self._reject(conn, "unknown_subscription", "too many frames before the subscribe acks")
                return
            conn.unknown += 1
            self._reject(conn, "unknown_subscription", f"subscription id {frame.subscription}")
            if conn.unknown >= UNKNOWN_IDS_BEFORE_RESUBSCRIBE:
                self._recycle(conn, "unknown_subscription")
            return
        if conn.discard:
            return
        notice = self._notice(conn, frame, program)
        if conn.queue.full() and self._throttle.allow(("full", conn.endpoint.label)):
            log.warning(
                "logs consumer is slow; socket reading paused",
                endpoint=conn.endpoint.label,
                queue_size=self._queue_size,
                suppressed=self._throttle.take_suppressed(("full", conn.endpoint.label)),
            )
        await conn.queue.put(notice)

    def _enqueue_nowait(self, conn: _Connection, frame: wire.LogsFrame, program: str) -> None:
        notice = self._notice(conn, frame, program)
        try:
            conn.queue.put_nowait(notice)
        except asyncio.QueueFull:
            self._reject(conn, "queue_full", f"{notice.signature} held before the subscribe acks")

    def _notice(self, conn: _Connection, frame: wire.LogsFrame, program: str) -> LogsNotice:
        label = conn.endpoint.label
        counter = conn.counters.get(program)
        if counter is None:
            counter = conn.counters[program] = metrics.WS_NOTIFICATIONS.labels(label, program)
        counter.inc()
        conn.received += 1
        conn.last_notice_at = self._clock()
        conn.ref_slot = frame.slot
        if conn.first_slot is None:
            conn.first_slot = frame.slot
        return LogsNotice(program, frame.signature, frame.slot, frame.err, frame.logs, label)

    def _reject(self, conn: _Connection, kind: str, detail: str) -> None:
        label = conn.endpoint.label
        metrics.WS_MALFORMED.labels(label, kind).inc()
        if self._throttle.allow((kind, label)):
            log.warning(
                "logs frame not delivered",
                endpoint=label,
                kind=kind,
                detail=conn.endpoint.scrub(detail)[:300],
                suppressed=self._throttle.take_suppressed((kind, label)),
            )

    # --- delivering ----------------------------------------------------------------------------

    async def _deliver_all(self, conn: _Connection, reader: asyncio.Task[None], on_notice: OnNotice) -> None:
        """Hand queued notices to `on_notice` until the reader has stopped and the queue is empty."""
        queue = conn.queue
        depth = metrics.WS_QUEUE_DEPTH.labels(conn.endpoint.label)
        while not (queue.empty() and reader.done()):
            notice = await queue.get()
            if notice is None:  # the reader stopped while the queue was empty
                return
            depth.set(queue.qsize())
            await self._deliver(notice, on_notice)

    async def _deliver(self, notice: LogsNotice, on_notice: OnNotice) -> None:
        async with self._callbacks:
            if self._dedupe.seen((notice.program, notice.signature)):
                metrics.WS_DUPLICATES.labels(notice.endpoint).inc()
                return
            self._notices += 1
            await on_notice(notice)

    # --- stall detection -----------------------------------------------------------------------

    async def _watch(self, conn: _Connection, pool: RpcPool) -> None:
        """Close the connection when no notification came for `stall_after_s` while slots advanced."""
        label = conn.endpoint.label
        while True:
            await asyncio.sleep(self._slot_check_interval_s)
            quiet_s = self._clock() - conn.last_notice_at
            if quiet_s < self._stall_after_s:
                continue
            try:
                async with asyncio.timeout(max(self._slot_check_interval_s, 5.0)):
                    slot = await pool.get_slot(commitment=self._commitment)
            except (RpcError, TimeoutError) as exc:
                log.info("stall check could not read the slot", endpoint=label, error=str(exc))
                continue
            if self._clock() - conn.last_notice_at < self._stall_after_s:
                continue  # a notification arrived while we asked
            if conn.ref_slot is None:  # nothing received on this connection yet: start from here
                conn.ref_slot = slot
                continue
            if slot > conn.ref_slot:
                metrics.WS_STALLS.labels(label).inc()
                log.warning(
                    "logs subscription stalled; reconnecting",
                    endpoint=label,
                    quiet_s=round(quiet_s, 1),
                    last_notice_slot=conn.ref_slot,
                    slot=slot,
                )
                self._recycle(conn, "stall")
                return


def _close_reason(exc: ConnectionClosed | None) -> str:
    if exc is None:
        return "closed"
    sent, rcvd = exc.sent, exc.rcvd
    if sent is not None and sent.code == CloseCode.MESSAGE_TOO_BIG:
        return "oversize"
    if sent is not None and sent.code == CloseCode.INTERNAL_ERROR and "keepalive" in sent.reason:
        return "ping_timeout"
    if rcvd is not None:
        return "server_close"
    return "dropped"
