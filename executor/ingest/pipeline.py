"""Live ingest: subscriptions -> decode -> batched, transactional writes -> stream events, with gap
sweeps and transaction fetches under the RPC budget.

Completeness: a durable watermark per program (`ingest_state`, key `watermark:<program>`) marks the
newest signature up to which every signature of that program is known (stored in raw_logs, or queued
in fetch_queue). It only moves in a sweep: after every (re)subscribe and every RECONCILE_INTERVAL_S,
`getSignaturesForAddress(until=watermark)` pages back to it, every signature not yet stored is queued
for getTransaction in the same database transaction that moves the watermark (fail closed). Live
notifications need no RPC round trip; the fetch policy decides which of them also get the full
transaction.

Back-pressure: notifications wait on a bounded queue (INGEST_QUEUE_SIZE); while Postgres is slow or
down, the writer retries the same batch and the queue fills, which stops reading the WebSocket. Nothing
taken off the queue is forgotten before its transaction commits; what the node drops meanwhile, the
next sweep finds.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import heapq
import itertools
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Container, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import structlog

from executor.config import ExecutorSettings
from executor.decode import PUMP, PUMP_AMM
from executor.errors import StoreError
from executor.ingest import metrics
from executor.ingest.processor import Input, LogsInput, Processor, ProcessorConfig, logs_input, tx_input
from executor.risk import RiskRules
from executor.rpc import Priority, RpcError, RpcPool, endpoints_from_urls
from executor.rpc.subscription import LogsNotice, LogsSubscription
from executor.runtime import Running
from executor.store import translate_errors, writer_lock
from pumpflow.schema import Conn

log = structlog.get_logger("executor.ingest")

FetchPolicy = Literal["all", "smart", "none"]
PROGRAMS = (PUMP, PUMP_AMM)
SWEEP_PAGE = 1000
SLOW_BATCH_S = 0.5


@dataclass(frozen=True, slots=True)
class IngestConfig:
    programs: tuple[str, ...] = PROGRAMS
    commitment: str = "confirmed"
    fetch_policy: FetchPolicy = "smart"
    fetch_sample_bps: int = 100
    fetch_concurrency: int = 8
    fetch_max_attempts: int = 30
    fetch_failed: bool = False
    queue_size: int = 10_000
    batch_max: int = 1_000
    batch_wait_s: float = 0.002
    idle_flush_s: float = 1.0
    reconcile_interval_s: float = 30.0
    sweep_max_pages: int = 200
    initial_backfill: int = 0
    processor: ProcessorConfig = field(default_factory=ProcessorConfig)


def sampled(signature: str, bps: int) -> bool:
    """Deterministic sampling: the same signatures are picked on every run."""
    digest = hashlib.blake2b(signature.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "little") % 10_000 < bps


def fetch_reason(
    item: LogsInput, policy: FetchPolicy, sample_bps: int, pools_known: Container[str]
) -> str | None:
    """Why this notification's full transaction should be fetched, or None."""
    if policy == "none" or item.err is not None:
        return None
    if policy == "all":
        return "all"
    tx = item.decoded
    if tx is None:
        return "decode_error"
    if tx.truncated:
        return "truncated"
    for r in tx.records:
        if r.kind == "launch":
            return "create"
        if r.kind == "amm_trade" and getattr(r, "pool", None) not in pools_known:
            return "unknown_pool"
    if sampled(item.signature, sample_bps):
        return "sampled"
    return None


class RecentSignatures:
    """Signatures committed recently (bounded): cheap duplicate detection before the database."""

    def __init__(self, capacity: int = 200_000) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, signature: str) -> bool:
        return signature in self._seen

    def add(self, signature: str) -> None:
        self._seen[signature] = None
        if len(self._seen) > self.capacity:
            self._seen.popitem(last=False)


@dataclass(order=True, slots=True)
class FetchItem:
    due: float
    priority: int
    order: int
    signature: str = field(compare=False)
    slot: int = field(compare=False)
    reason: str = field(compare=False)
    attempts: int = field(compare=False, default=0)
    enqueued: float = field(compare=False, default=0.0)


class Fetcher:
    """getTransaction work: durable in `fetch_queue`, cached in a bounded in-memory heap."""

    def __init__(self, ingest: Ingest, memory: int = 20_000) -> None:
        self.ingest = ingest
        self.memory = memory
        self.heap: list[FetchItem] = []
        self.pending: dict[str, FetchItem] = {}
        self.wake = asyncio.Event()
        self.counter = itertools.count()

    def offer(self, signature: str, slot: int, reason: str, priority: int, attempts: int = 0) -> None:
        held = self.pending.get(signature)
        if held is not None:
            if held.reason == "backfill" and reason != "backfill":
                # A sweep queued it, then its logs arrived and the fetch policy wants the transaction:
                # the fetch worker must not drop it as a sweep fetch made moot by the stored logs.
                held.reason = reason
            return
        if len(self.pending) >= self.memory:
            return
        now = time.monotonic()
        item = FetchItem(now, priority, next(self.counter), signature, slot, reason, attempts, now)
        self.pending[signature] = item
        heapq.heappush(self.heap, item)
        self.wake.set()

    async def refill(self, conn: Conn) -> None:
        room = self.memory - len(self.pending)
        if room <= 0:
            return
        rows = await conn.fetch(
            "select signature, slot, reason, priority, attempts from fetch_queue "
            "where not (signature = any($1::text[])) order by priority, slot limit $2",
            list(self.pending),
            room,
        )
        for r in rows:
            self.offer(r["signature"], r["slot"], r["reason"], r["priority"], r["attempts"])

    async def next_due(self) -> FetchItem:
        while True:
            if self.heap:
                wait = self.heap[0].due - time.monotonic()
                if wait <= 0:
                    return heapq.heappop(self.heap)
            else:
                wait = 5.0
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(wait, 5.0)):
                    await self.wake.wait()

    def retry_later(self, item: FetchItem) -> bool:
        item.attempts += 1
        if item.attempts >= self.ingest.config.fetch_max_attempts:
            self.pending.pop(item.signature, None)
            return False
        item.due = time.monotonic() + min(0.2 * 2 ** min(item.attempts, 10), 10.0)
        item.order = next(self.counter)
        heapq.heappush(self.heap, item)
        self.wake.set()
        return True

    def done(self, item: FetchItem) -> None:
        self.pending.pop(item.signature, None)


class Ingest:
    def __init__(
        self, running: Running, rpc: RpcPool, subscription: LogsSubscription, config: IngestConfig
    ) -> None:
        self.running = running
        self.rpc = rpc
        self.subscription = subscription
        self.config = config
        self.queue: asyncio.Queue[tuple[Input, float]] = asyncio.Queue(config.queue_size)
        self.processor = Processor(running.bus, config.processor)
        self.fetcher = Fetcher(self)
        self.recent = RecentSignatures()
        self.sweep_requests: asyncio.Queue[str] = asyncio.Queue()
        self.ready = asyncio.Event()
        # A batch whose transaction failed; retried before anything newer.
        self.carry: list[tuple[Input, float]] = []

    # Entry point -------------------------------------------------------------------------------------

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(supervised("writer", self.writer))
            await self.ready.wait()
            await self.record_start()
            group.create_task(supervised("sweeper", self.sweeper))
            for n in range(self.config.fetch_concurrency):
                group.create_task(supervised(f"fetcher-{n}", self.fetch_worker))
            group.create_task(
                supervised("subscription", lambda: self.subscription.run(self.on_connect, self.on_notice))
            )

    # Subscription callbacks ----------------------------------------------------------------------------

    async def on_connect(self, endpoint: str, first_slot: int | None) -> None:
        log.info("subscribed; sweeping the gap", endpoint=endpoint, first_slot=first_slot)
        self.sweep_requests.put_nowait("connect")

    async def on_notice(self, notice: LogsNotice) -> None:
        metrics.notifications(notice.program).inc()
        status = self.running.status
        status.last_slot_seen = max(status.last_slot_seen, notice.slot)
        metrics.LAST_SLOT.set(status.last_slot_seen)
        if notice.signature in self.recent:
            metrics.DUPLICATES.inc()
            return
        item = logs_input(notice.signature, notice.slot, notice.err, notice.logs, "ws", notice.endpoint)
        await self.queue.put((item, time.monotonic()))
        metrics.WORK_QUEUE_DEPTH.set(self.queue.qsize())

    # Writer ------------------------------------------------------------------------------------------

    async def take_batch(self) -> list[tuple[Input, float]] | None:
        if self.carry:
            batch, self.carry = self.carry, []
            return batch
        # asyncio.timeout, not wait_for: on 3.11 wait_for returns the item when a cancellation races
        # with its completion, and the swallowed cancellation left the writer running after stop.
        try:
            async with asyncio.timeout(self.config.idle_flush_s):
                first = await self.queue.get()
        except TimeoutError:
            return None
        batch = [first]
        deadline = time.monotonic() + self.config.batch_wait_s
        while len(batch) < self.config.batch_max:
            while len(batch) < self.config.batch_max and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            remaining = deadline - time.monotonic()
            if remaining <= 0 or len(batch) >= self.config.batch_max:
                break
            try:
                async with asyncio.timeout(remaining):
                    batch.append(await self.queue.get())
            except TimeoutError:
                break
        metrics.WORK_QUEUE_DEPTH.set(self.queue.qsize())
        return batch

    async def writer(self) -> None:
        store = self.running.store
        failures = 0
        while True:
            try:
                async with translate_errors("writer connection"), store.pool.acquire() as conn:
                    await writer_lock(conn, lambda: log.warning("a replay holds the writer lock; waiting"))
                    await self.processor.prepare(conn)
                    async with translate_errors("refill"):
                        await self.fetcher.refill(conn)
                    self.ready.set()
                    if failures:
                        log.info("database back; resuming writes", after_failures=failures)
                    failures = 0
                    await self.write_loop(conn)
            except StoreError as exc:
                failures += 1
                metrics.DB_RETRIES.labels(retriable=str(exc.retriable).lower()).inc()
                delay = min(0.2 * 2 ** min(failures, 5), 5.0)
                log.warning(
                    "database write failed; retrying", error=str(exc), attempt=failures, retry_in_s=delay
                )
                await asyncio.sleep(delay)

    async def write_loop(self, conn: Conn) -> None:
        pending: list[tuple[Input, float]] | None = None
        try:
            while True:
                pending = await self.take_batch()
                if pending is None:
                    await self.flush_idle(conn)
                    continue
                try:
                    await self.commit(conn, pending)
                except StoreError as exc:
                    if exc.retriable:
                        raise
                    log.error("batch refused by the database; retrying its inputs one by one", error=str(exc))
                    await self.isolate(conn, pending)
                except Exception:
                    log.exception("batch failed on an unexpected error; retrying its inputs one by one")
                    await self.isolate(conn, pending)
                pending = None
        except StoreError:
            if pending:
                # Keep the batch: it is retried first once the database is back.
                self.carry = pending
            raise
        except asyncio.CancelledError:
            await asyncio.shield(self.drain_on_stop(conn, pending or []))
            raise

    async def commit(self, conn: Conn, batch: list[tuple[Input, float]]) -> None:
        inputs = [item for item, _ in batch]
        metrics.BATCH_SIZE.observe(len(inputs))
        started = time.monotonic()
        try:
            async with self.running.bus.transaction(conn) as (tx_conn, outbox):
                await self.processor.apply(tx_conn, outbox, inputs, persist_raw=True)
                await self.queue_policy_fetches(tx_conn, inputs)
                await self.processor.flush_open(tx_conn, outbox)
        except BaseException:
            # The transaction rolled back: reload what the processor remembers from the database.
            with contextlib.suppress(Exception):
                await self.processor.prepare(conn)
            raise
        now = time.monotonic()
        for item, received in batch:
            self.recent.add(item.signature)
            if isinstance(item, LogsInput):
                metrics.NOTIFY_TO_EVENT.observe(now - received)
        self.running.status.last_block_time = self.processor.features.watermark
        if now - started > SLOW_BATCH_S:
            log.warning(
                "slow batch",
                seconds=round(now - started, 3),
                inputs=len(inputs),
                steps=self.processor.last_timings,
            )

    async def isolate(self, conn: Conn, batch: list[tuple[Input, float]]) -> None:
        """Commit inputs one at a time; one that still fails is recorded in decode_errors, not lost silently."""
        for entry in batch:
            try:
                await self.commit(conn, [entry])
            except StoreError as exc:
                if exc.retriable:
                    raise
                await self.record_poison(conn, entry[0], exc)
            except Exception as exc:  # noqa: BLE001 (isolated and recorded; must not stop ingest)
                await self.record_poison(conn, entry[0], exc)

    async def record_poison(self, conn: Conn, item: Input, exc: Exception) -> None:
        metrics.POISON_INPUTS.inc()
        log.error(
            "input cannot be processed; recorded in decode_errors",
            signature=item.signature,
            error=f"{type(exc).__name__}: {exc}",
            exc_info=not isinstance(exc, StoreError),
        )
        async with translate_errors("record poison input"), conn.transaction():
            await conn.execute(
                "insert into decode_errors (signature, ordinal, slot, stage, reason, detail) "
                "values ($1, 0, $2, 'process', $3, $4) on conflict do nothing",
                item.signature,
                item.slot,
                type(exc).__name__,
                str(exc)[:2000],
            )

    async def flush_idle(self, conn: Conn) -> None:
        async with self.running.bus.transaction(conn) as (tx_conn, outbox):
            await self.processor.flush_open(tx_conn, outbox, force=True)

    async def drain_on_stop(self, conn: Conn, pending: list[tuple[Input, float]]) -> None:
        """On shutdown: commit what is already queued, then write the open buckets."""
        with contextlib.suppress(Exception):
            async with asyncio.timeout(10):
                batch = list(pending)
                while not self.queue.empty():
                    batch.append(self.queue.get_nowait())
                for start in range(0, len(batch), self.config.batch_max):
                    await self.commit(conn, batch[start : start + self.config.batch_max])
                await self.flush_idle(conn)
                log.info("ingest drained", inputs=len(batch))

    async def queue_policy_fetches(self, conn: Conn, inputs: Sequence[Input]) -> None:
        rows = []
        known = self.processor.pools.pools  # the directory itself: no per-batch copy of every pool
        for item in inputs:
            if isinstance(item, LogsInput) and item.source == "ws":
                reason = fetch_reason(item, self.config.fetch_policy, self.config.fetch_sample_bps, known)
                if reason is not None:
                    rows.append((item.signature, item.slot, reason, int(Priority.LIVE)))
        if rows:
            rows.sort()
            await conn.executemany(
                "insert into fetch_queue (signature, slot, reason, priority) values ($1, $2, $3, $4) "
                "on conflict do nothing",
                rows,
            )
            for signature, slot, reason, priority in rows:
                self.fetcher.offer(signature, slot, reason, priority)

    # Fetching ----------------------------------------------------------------------------------------

    async def fetch_worker(self) -> None:
        while True:
            item = await self.fetcher.next_due()
            if item.reason == "failed":
                await self.record_failed(item)
                continue
            if item.reason == "backfill" and item.signature in self.recent:
                # The notification arrived and was committed after the sweep queued it.
                async with translate_errors("fetch_queue"), self.running.store.pool.acquire() as conn:
                    await conn.execute("delete from fetch_queue where signature = $1", item.signature)
                self.fetcher.done(item)
                metrics.FETCHES.labels(outcome="skipped", reason=item.reason).inc()
                continue
            priority = Priority.LIVE if item.priority == int(Priority.LIVE) else Priority.BACKFILL
            try:
                result = await self.rpc.get_transaction(
                    item.signature, priority=priority, commitment=self.config.commitment
                )
            except RpcError as exc:
                self.fetch_failed(
                    item, "error", "getTransaction keeps failing; left in fetch_queue", error=str(exc)
                )
                continue
            if result is None:
                self.fetch_failed(
                    item, "null", "transaction still null; left in fetch_queue", attempts=item.attempts
                )
                continue
            metrics.FETCHES.labels(outcome="ok", reason=item.reason).inc()
            metrics.FETCH_LATENCY.observe(time.monotonic() - item.enqueued)
            raw_source = "backfill" if item.reason == "backfill" else "transaction"
            await self.queue.put(
                (tx_input(result, "json", raw_source, None, item.signature), time.monotonic())
            )
            self.fetcher.done(item)

    def fetch_failed(self, item: FetchItem, outcome: str, message: str, **context: Any) -> None:
        """Count a fetch that brought nothing and retry it later; past the attempt limit, log `message`."""
        metrics.FETCHES.labels(outcome=outcome, reason=item.reason).inc()
        if not self.fetcher.retry_later(item):
            log.warning(message, signature=item.signature, **context)

    async def record_failed(self, item: FetchItem) -> None:
        """A failed transaction found by a sweep: store its signature and error, no getTransaction."""
        async with translate_errors("fetch_queue"), self.running.store.pool.acquire() as conn:
            err = await conn.fetchval("select err from fetch_queue where signature = $1", item.signature)
        entry = LogsInput(item.signature, item.slot, err or {"unknown": None}, [], "backfill", None, None)
        await self.queue.put((entry, time.monotonic()))
        self.fetcher.done(item)

    # Sweeps ------------------------------------------------------------------------------------------

    async def sweeper(self) -> None:
        failures = 0
        while True:
            try:
                async with asyncio.timeout(self.config.reconcile_interval_s):
                    trigger = await self.sweep_requests.get()
            except TimeoutError:
                trigger = "timer"
            while not self.sweep_requests.empty():
                self.sweep_requests.get_nowait()
            failed = False
            for program in self.config.programs:
                # Each program on its own: one failing does not hold the other's watermark back.
                try:
                    await self.sweep(program, trigger)
                except (RpcError, StoreError) as exc:
                    failed = True
                    log.warning(
                        "gap sweep failed; will retry", program=program, error=str(exc), attempt=failures + 1
                    )
            if failed:
                # The watermark did not move; retry with backoff (never slower than the reconcile timer).
                failures += 1
                await asyncio.sleep(min(0.5 * 2**failures, self.config.reconcile_interval_s))
                self.sweep_requests.put_nowait("retry")
                continue
            failures = 0
            with contextlib.suppress(StoreError, RpcError):
                tip = await self.rpc.get_slot(commitment=self.config.commitment)
                self.running.status.lag_slots = max(0, tip - self.running.status.last_slot_seen)
            with contextlib.suppress(StoreError):
                async with translate_errors("refill"), self.running.store.pool.acquire() as conn:
                    await self.fetcher.refill(conn)

    async def sweep(self, program: str, trigger: str) -> None:
        metrics.GAP_SWEEPS.labels(trigger=trigger).inc()
        async with translate_errors("watermark"), self.running.store.pool.acquire() as conn:
            mark = await conn.fetchrow(
                "select slot, signature from ingest_state where key = $1", f"watermark:{program}"
            )
            start = await conn.fetchval("select slot from ingest_state where key = $1", f"start:{program}")
        if mark is not None:
            until, floor, extra = mark["signature"], int(mark["slot"]), 0
        else:
            # First sweep: everything since ingest first started (and INGEST_INITIAL_BACKFILL older ones).
            until, floor, extra = None, int(start or 0), self.config.initial_backfill
        collected: list[dict[str, Any]] = []
        older = 0
        before: str | None = None
        for _ in range(self.config.sweep_max_pages):
            page = await self.rpc.get_signatures_for_address(
                program, until=until, before=before, limit=SWEEP_PAGE, priority=Priority.LIVE,
                commitment=self.config.commitment,
            )  # fmt: skip
            for s in page:
                if int(s.get("slot", 0)) >= floor:
                    collected.append(s)
                elif older < extra:
                    collected.append(s)
                    older += 1
            if len(page) < SWEEP_PAGE or (int(page[-1].get("slot", 0)) < floor and older >= extra):
                break
            before = page[-1]["signature"]
        else:
            log.error(
                "gap larger than the sweep limit; watermark held",
                program=program,
                pages=self.config.sweep_max_pages,
            )
            return
        await self.record_sweep(
            program, f"watermark:{program}", collected, trigger if mark is not None else "start"
        )

    async def record_start(self) -> None:
        """Before the first subscription: remember the slot ingest starts at, so the first sweep can
        close the gap between subscribing and its own run (a drop in between would otherwise be lost)."""
        failures = 0
        while True:
            try:
                async with translate_errors("start slot"), self.running.store.pool.acquire() as conn:
                    known = {
                        r["key"]
                        for r in await conn.fetch(
                            "select key from ingest_state where key like 'watermark:%' or key like 'start:%'"
                        )
                    }
                    missing = [
                        p for p in self.config.programs if not {f"watermark:{p}", f"start:{p}"} & known
                    ]
                    if missing:
                        slot = await self.rpc.get_slot(commitment=self.config.commitment)
                        await conn.executemany(
                            "insert into ingest_state (key, slot) values ($1, $2) on conflict (key) do nothing",
                            [(f"start:{program}", slot) for program in missing],
                        )
                        log.info(
                            "first start: completeness begins at the current slot",
                            slot=slot,
                            programs=missing,
                        )
                return
            except (RpcError, StoreError) as exc:
                failures += 1
                delay = min(0.5 * 2**failures, 30.0)
                log.warning("cannot read the start slot yet; retrying", error=str(exc), retry_in_s=delay)
                await asyncio.sleep(delay)

    async def record_sweep(
        self,
        program: str,
        key: str,
        collected: list[dict[str, Any]],
        trigger: str,
        tip: dict[str, Any] | None = None,
    ) -> None:
        tip = tip or (collected[0] if collected else None)
        async with (
            translate_errors("record sweep"),
            self.running.store.pool.acquire() as conn,
            conn.transaction(),
        ):
            queued = await queue_unknown(conn, collected, self.config.fetch_failed, Priority.LIVE)
            if tip is not None:
                await conn.execute(
                    "insert into ingest_state (key, slot, signature, updated_at) values ($1, $2, $3, now()) "
                    "on conflict (key) do update set slot = excluded.slot, signature = excluded.signature, updated_at = now()",
                    key,
                    int(tip["slot"]),
                    tip["signature"],
                )
        for signature, slot, reason, priority, _ in queued:
            self.fetcher.offer(signature, slot, reason, priority)
        metrics.GAP_SIZE.observe(len(queued))
        metrics.GAP_FILLED.inc(len(queued))
        if tip is not None:
            metrics.WATERMARK_SLOT.labels(program=program).set(int(tip["slot"]))
            metrics.WATERMARK_LAG.set(max(0, self.running.status.last_slot_seen - int(tip["slot"])))
        if queued or trigger != "timer":
            log.info(
                "gap sweep",
                program=program,
                trigger=trigger,
                listed=len(collected),
                missing=len(queued),
                failed=sum(1 for row in queued if row[2] == "failed"),
                watermark_slot=tip["slot"] if tip else None,
            )


def fetch_queue_rows(
    listed: Sequence[dict[str, Any]], fetch_failed: bool, priority: Priority
) -> list[tuple[str, int, str, int, Any]]:
    """fetch_queue rows (signature, slot, reason, priority, err) of getSignaturesForAddress entries.
    Failed transactions derive nothing: unless `fetch_failed`, they are queued as 'failed' (only their
    signature and error are kept, no getTransaction)."""
    return [
        (
            s["signature"],
            int(s["slot"]),
            "failed" if not fetch_failed and s.get("err") is not None else "backfill",
            int(priority),
            s.get("err"),
        )
        for s in listed
    ]


async def queue_unknown(
    conn: Conn, listed: Sequence[dict[str, Any]], fetch_failed: bool, priority: Priority
) -> list[tuple[str, int, str, int, Any]]:
    """Queue the listed signatures neither stored in raw_logs nor queued yet; returns the fetch_queue
    rows written, in signature order."""
    known = {
        r["signature"]
        for r in await conn.fetch(
            "select signature from raw_logs where signature = any($1::text[]) "
            "union all select signature from fetch_queue where signature = any($1::text[])",
            [s["signature"] for s in listed],
        )
    }
    missing = sorted((s for s in listed if s["signature"] not in known), key=lambda s: s["signature"])
    rows = fetch_queue_rows(missing, fetch_failed, priority)
    if rows:
        await conn.executemany(
            "insert into fetch_queue (signature, slot, reason, priority, err) values ($1, $2, $3, $4, $5) "
            "on conflict do nothing",
            rows,
        )
    return rows


async def supervised(name: str, task: Callable[[], Awaitable[None]]) -> None:
    """Run a long-lived task forever: an unexpected exception is logged, counted and the task restarts."""
    failures = 0
    while True:
        started = time.monotonic()
        try:
            await task()
            log.warning("ingest task returned; restarting", task=name)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("ingest task crashed; restarting", task=name)
            metrics.TASK_CRASHES.labels(task=name).inc()
        failures = 0 if time.monotonic() - started > 60 else failures + 1
        await asyncio.sleep(min(0.5 * 2**failures, 30.0))


PUBLIC_HOSTS = ("api.mainnet-beta.solana.com",)
UNLIMITED_PER_10S = 1_000_000


def rate_limits(settings: ExecutorSettings) -> tuple[int, int]:
    """Per-endpoint budgets: explicit settings, else public mainnet limits when that host is used."""
    public = any(host in url for url in settings.solana_rpc_http for host in PUBLIC_HOSTS)
    requests = settings.rpc_requests_per_10s or (100 if public else UNLIMITED_PER_10S)
    method = settings.rpc_method_per_10s or (40 if public else UNLIMITED_PER_10S)
    return requests, method


def ingest_config(settings: ExecutorSettings) -> IngestConfig:
    return IngestConfig(
        commitment=settings.ingest_commitment,
        fetch_policy=settings.fetch_policy,
        fetch_sample_bps=settings.fetch_sample_bps,
        fetch_concurrency=settings.fetch_concurrency,
        fetch_failed=settings.fetch_failed,
        queue_size=settings.ingest_queue_size,
        batch_max=settings.ingest_batch_max,
        batch_wait_s=settings.ingest_batch_wait_ms / 1000,
        reconcile_interval_s=settings.reconcile_interval_s,
        initial_backfill=settings.ingest_initial_backfill,
        processor=ProcessorConfig(
            lateness_s=settings.features_lateness_s,
            risk=RiskRules(
                creator_dump_min_tokens=settings.risk_creator_dump_min_tokens,
                serial_launch_count=settings.risk_serial_launch_count,
                serial_launch_window_s=settings.risk_serial_launch_window_s,
            ),
        ),
    )


async def ingest_task(running: Running) -> None:
    """The executor's ingest: RPC pool + subscription + pipeline, for the service's task list."""
    settings = running.settings
    endpoints = endpoints_from_urls(settings.solana_rpc_http, settings.solana_rpc_ws)
    requests, per_method = rate_limits(settings)
    config = ingest_config(settings)
    async with RpcPool(
        endpoints,
        requests_per_10s=requests,
        method_per_10s=per_method,
        timeout_s=settings.rpc_timeout_s,
        max_attempts=settings.rpc_max_attempts,
        max_in_flight=settings.rpc_max_in_flight,
    ) as rpc:
        subscription = LogsSubscription(
            rpc,
            config.programs,
            commitment=config.commitment,
            ping_interval_s=settings.ws_ping_interval_s or None,
            stall_after_s=settings.ws_stall_after_s,
            backoff_min_s=settings.ws_reconnect_min_s,
            backoff_max_s=settings.ws_reconnect_max_s,
            redundant=settings.ws_redundant,
        )
        log.info(
            "ingest starting",
            endpoints=[e.label for e in endpoints],
            fetch_policy=config.fetch_policy,
            requests_per_10s=requests,
            method_per_10s=per_method,
        )
        await Ingest(running, rpc, subscription, config).run()
