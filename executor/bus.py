"""The event bus: gap-free sequence numbers, the durable outbox, and fan-out to stream subscribers.

Writers open `bus.transaction()`; every event added there gets the next seq and is written to the
`events` table in the same Postgres transaction as the rows it describes. Only after the commit does
the bus advance its head and offer the events to subscribers, so a subscriber never sees an event the
database does not hold. Seq allocation is serialised by one lock, so a rolled-back transaction leaves
no gap.

Slow-consumer policy: each subscriber has a bounded in-memory queue (SUBSCRIBER_QUEUE_SIZE events).
When it is full the queue is dropped and the subscriber catches up from the outbox at its own pace,
then rejoins the live queue. Memory stays bounded, nothing is lost; a subscriber that falls behind the
outbox retention gets OUT_OF_RANGE.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

import structlog

from executor import metrics
from executor.errors import OutOfRange
from executor.store import OutboxRow, Store, translate_errors
from pumpflow.schema import Conn
from pumpflow.v1 import executor_pb2 as pb

log = structlog.get_logger("executor.bus")

CATCHUP_BATCH = 500

# The oneof field name of Event.body -> the outbox `kind` (EventKind name without its prefix).
KIND_OF_FIELD = {
    "token_launched": "TOKEN_LAUNCHED",
    "trade_observed": "TRADE_OBSERVED",
    "curve_snapshot": "CURVE_SNAPSHOT",
    "amm_snapshot": "AMM_SNAPSHOT",
    "feature_bucket": "FEATURE_BUCKET",
    "risk_flag": "RISK_FLAG",
    "heartbeat": "HEARTBEAT",
    "curve_completed": "CURVE_COMPLETED",
    "token_migrated": "TOKEN_MIGRATED",
}
FIELD_OF_KIND = {kind: field for field, kind in KIND_OF_FIELD.items()}


def body_of(event: pb.Event) -> Any:
    """The message in the event's `body` oneof (None for an empty event)."""
    field = event.WhichOneof("body")
    return getattr(event, field) if field else None


def kind_of(event: pb.Event) -> str:
    field = event.WhichOneof("body")
    if field is None:
        raise ValueError("event has no body")
    return KIND_OF_FIELD[field]


def mint_of(body: Any) -> str | None:
    mint = getattr(body, "mint", None) or getattr(body, "base_mint", None)
    return str(mint) if mint else None


def chain_of(body: Any) -> pb.ChainRef | None:
    if body is None or "chain" not in body.DESCRIPTOR.fields_by_name or not body.HasField("chain"):
        return None
    chain: pb.ChainRef = body.chain
    return chain


def key_of(body: Any, chain: pb.ChainRef | None) -> str:
    """The event's identity within its kind: re-emissions of the same fact share a key."""
    if isinstance(body, pb.FeatureBucket):
        return f"{body.mint}:{body.minute_start}:{pb.Venue.Name(body.venue).removeprefix('VENUE_')}"
    if isinstance(body, pb.RiskFlagEvent):
        return f"{body.mint}:{body.flag}:{body.chain.slot}:{body.chain.signature}"
    if isinstance(body, (pb.TokenLaunched, pb.CurveCompleted, pb.TokenMigrated)):
        return str(body.mint)
    if chain is not None:
        return f"{chain.signature}:{chain.event_index}"
    return ""


@dataclass(frozen=True, slots=True)
class Published:
    seq: int
    kind: str
    mint: str | None
    event: pb.Event


class Outbox:
    """Collects the events of one bus transaction and numbers them."""

    def __init__(self, first_seq: int) -> None:
        self._next = first_seq
        self.published: list[Published] = []
        self.rows: list[OutboxRow] = []

    def add(self, event: pb.Event) -> int:
        """Assign the next seq to `event` (mutated in place) and queue it for the outbox."""
        seq = self._next
        self._next += 1
        event.seq = seq
        body = body_of(event)
        kind, mint, chain = kind_of(event), mint_of(body), chain_of(body)
        self.published.append(Published(seq, kind, mint, event))
        self.rows.append(
            OutboxRow(
                seq=seq,
                kind=kind,
                mint=mint,
                slot=chain.slot if chain is not None else (event.feature_bucket.last_slot or None),
                signature=chain.signature if chain is not None else None,
                key=key_of(body, chain),
                payload=event.SerializeToString(deterministic=True),
            )
        )
        return seq


class EventBus:
    def __init__(self, store: Store, queue_size: int) -> None:
        self.store = store
        self.queue_size = queue_size
        self.head = 0
        self.oldest = 1
        self._lock = asyncio.Lock()
        self._resync = True
        self._subscribers: set[Subscription] = set()
        self._closed = False

    async def start(self) -> None:
        await self._load_bounds()

    async def _load_bounds(self) -> None:
        lo, hi = await self.store.outbox_bounds()
        self.head = hi
        self.oldest = lo if lo else hi + 1
        self._resync = False

    @contextlib.asynccontextmanager
    async def transaction(self, conn: Conn | None = None) -> AsyncIterator[tuple[Conn, Outbox]]:
        """A Postgres transaction whose events are appended to the outbox and streamed after commit.

        Runs on `conn` when given (a writer that keeps session state such as staging tables),
        otherwise on a pooled connection."""
        async with self._lock:
            if self._resync:
                await self._load_bounds()
            outbox = Outbox(self.head + 1)
            try:
                async with contextlib.AsyncExitStack() as stack:
                    await stack.enter_async_context(translate_errors("outbox transaction"))
                    if conn is None:
                        conn = await stack.enter_async_context(self.store.pool.acquire())
                    await stack.enter_async_context(conn.transaction())
                    yield conn, outbox
                    if outbox.rows:
                        await self.store.append_events(conn, outbox.rows)
            except BaseException:
                # A failed commit may still have landed; re-read the head before the next allocation.
                self._resync = True
                raise
            if outbox.published:
                self.head = outbox.published[-1].seq
                self.oldest = min(self.oldest, outbox.published[0].seq)
                self._fan_out(outbox.published)

    async def publish(self, events: Iterable[pb.Event]) -> list[int]:
        """Persist and stream events that have no table rows of their own."""
        async with self.transaction() as (_, outbox):
            return [outbox.add(e) for e in events]

    def _fan_out(self, published: list[Published]) -> None:
        for kind, count in Counter(item.kind for item in published).items():
            metrics.EVENTS_PUBLISHED.labels(kind=kind).inc(count)
        for sub in self._subscribers:
            sub.offer(published)

    def broadcast_heartbeat(self, heartbeat: pb.Heartbeat) -> None:
        for sub in self._subscribers:
            sub.offer_heartbeat(pb.Event(heartbeat=heartbeat))

    def subscribe(
        self, from_seq: int | None, kinds: Iterable[str], mints: Iterable[str], heartbeats: bool = True
    ) -> Subscription:
        if from_seq is None:
            start = self.head + 1
        elif from_seq < self.oldest or from_seq > self.head + 1:
            held = f"{self.oldest}..{self.head}" if self.head >= self.oldest else "none"
            raise OutOfRange(
                f"from_seq {from_seq} is outside the events this executor holds (held: {held}, "
                f"next: {self.head + 1}); resume from {self.oldest} or omit from_seq to start live"
            )
        else:
            start = from_seq
        sub = Subscription(self, start, frozenset(kinds), frozenset(mints), heartbeats)
        self._subscribers.add(sub)
        metrics.STREAM_SUBSCRIBERS.set(len(self._subscribers))
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)
        metrics.STREAM_SUBSCRIBERS.set(len(self._subscribers))

    def note_pruned(self, oldest: int) -> None:
        self.oldest = max(self.oldest, oldest)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._closed = True
        for sub in self._subscribers:
            sub.wake()


class Subscription:
    """One stream consumer: a bounded live queue plus catch-up reads from the outbox."""

    def __init__(
        self, bus: EventBus, next_seq: int, kinds: frozenset[str], mints: frozenset[str], heartbeats: bool
    ) -> None:
        self.bus = bus
        self.next_seq = next_seq
        self.kinds = kinds
        self.mints = mints
        self.heartbeats = heartbeats
        self._queue: deque[Published] = deque()
        self._heartbeat: pb.Event | None = None
        self._wake = asyncio.Event()
        self.overflows = 0

    @property
    def queued(self) -> int:
        return len(self._queue)

    def wake(self) -> None:
        self._wake.set()

    def offer(self, published: list[Published]) -> None:
        if len(self._queue) + len(published) > self.bus.queue_size:
            # Slow consumer: drop the live queue, it will catch up from the outbox.
            self._queue.clear()
            self.overflows += 1
            metrics.SUBSCRIBER_OVERFLOWS.inc()
        else:
            self._queue.extend(published)
        self._wake.set()

    def offer_heartbeat(self, event: pb.Event) -> None:
        if self.heartbeats:
            self._heartbeat = event
            self._wake.set()

    def _wanted(self, kind: str, mint: str | None) -> bool:
        return (not self.kinds or kind in self.kinds) and (
            not self.mints or mint is None or mint in self.mints
        )

    async def events(self) -> AsyncIterator[pb.Event]:
        """Yield events in seq order, gap-free, until the bus closes."""
        try:
            while not self.bus.closed:
                if self._heartbeat is not None:
                    event, self._heartbeat = self._heartbeat, None
                    event.seq = self.next_seq - 1
                    yield event
                    continue
                head = self.bus.head
                if self.next_seq <= head and (not self._queue or self._queue[0].seq > self.next_seq):
                    async for event in self._catch_up(head):
                        yield event
                    continue
                if self._queue:
                    item = self._queue.popleft()
                    if item.seq < self.next_seq:
                        continue
                    self.next_seq = item.seq + 1
                    if self._wanted(item.kind, item.mint):
                        metrics.EVENTS_STREAMED.inc()
                        yield item.event
                    continue
                self._wake.clear()
                await self._wake.wait()
        finally:
            self.bus.unsubscribe(self)

    async def _catch_up(self, head: int) -> AsyncIterator[pb.Event]:
        if self.next_seq < self.bus.oldest:
            raise OutOfRange(
                f"subscriber fell behind the outbox retention: needs seq {self.next_seq}, "
                f"oldest held is {self.bus.oldest}"
            )
        rows = await self.bus.store.read_events(
            self.next_seq, head, sorted(self.kinds), sorted(self.mints), CATCHUP_BATCH
        )
        metrics.CATCHUP_READS.inc()
        for seq, payload in rows:
            self.next_seq = seq + 1
            metrics.EVENTS_STREAMED.inc()
            yield pb.Event.FromString(payload)
        if len(rows) < CATCHUP_BATCH:
            self.next_seq = max(self.next_seq, head + 1)
