"""The replay driver: raw rows in canonical order -> the live `Processor` -> derived tables.

    lock -> cursor (resume or begin) -> prepare the processor -> chunks -> finish

It holds the writer advisory lock for its whole run (a live executor waits, a second replay is
refused). Each chunk is one transaction: the processor's writes, the rebuilt events if any, and the
cursor. The first transaction prepares the target (see target.py) and writes the cursor; the last
one writes the still-open feature buckets, recomputes the stale buckets of a partial replay, swaps
fresh tables in and deletes the cursor. Interrupted anywhere, the next run with the same options
resumes after the last committed chunk: the processor reloads its state (pool directory, watermark,
open buckets) from the target tables exactly as live ingest does after a restart, and the chunk
boundaries are the same as in an uninterrupted run, so the result is too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from executor.bus import EventBus, Outbox
from executor.errors import ExecutorError
from executor.features import Bucket
from executor.ingest.processor import Processor, ProcessorConfig, load_bucket, stored_feature, write_features
from executor.progress import Progress
from executor.replay.options import CURSOR_KEY, Cursor, ReplayOptions, lower_bound, mint_filter
from executor.replay.source import ChunkReader, plan
from executor.replay.target import Target, discard
from executor.store import Store, save_state, try_writer_lock
from pumpflow.schema import Conn

log = structlog.get_logger("executor.replay")


class ReplayBusy(ExecutorError):
    """Another session holds the writer lock (a live executor, a replay)."""


class ReplayConflict(ExecutorError):
    """An interrupted replay with other options is pending."""


@dataclass(slots=True)
class ReplayReport:
    options: ReplayOptions
    resumed_after_rows: int = 0
    rows: int = 0
    inputs_applied: int = 0
    chunks: int = 0
    trades_inserted: int = 0
    events: int = 0
    open_buckets: int = 0
    stale_buckets: int = 0
    seconds: float = 0.0
    finished: bool = False
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def rows_per_s(self) -> float:
        replayed = self.rows - self.resumed_after_rows
        return replayed / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "options": self.options.describe(),
            "rows": self.rows,
            "resumed_after_rows": self.resumed_after_rows,
            "inputs_applied": self.inputs_applied,
            "chunks": self.chunks,
            "trades_inserted": self.trades_inserted,
            "events": self.events,
            "open_buckets": self.open_buckets,
            "stale_buckets": self.stale_buckets,
            "seconds": round(self.seconds, 2),
            "rows_per_s": round(self.rows_per_s),
            "phases_s": {k: round(v, 2) for k, v in self.phases.items()},
        }


ProgressFactory = Callable[[int | None], Progress]


async def replay(
    url: str,
    options: ReplayOptions,
    config: ProcessorConfig,
    progress: ProgressFactory | None = None,
    *,
    stop_after_chunks: int | None = None,
) -> ReplayReport:
    """Run (or resume) a replay. `stop_after_chunks` ends the run early, as an interruption would."""
    report = ReplayReport(options)
    started = time.perf_counter()
    store, _ = await Store.open(url, 2)
    try:
        async with store.pool.acquire() as conn:
            if not await try_writer_lock(conn):
                raise ReplayBusy(
                    "another session holds the writer lock: a live executor (or a replay) is writing this "
                    "database; stop it first"
                )
            target = Target(str(await conn.fetchval("select current_schema()")), options)
            cursor = await start(conn, target)
            report.resumed_after_rows = report.rows = cursor.rows_done
            await target.enter(conn)
            processor = Processor(EventBus(store, 16), config, emit=options.events == "rebuild")
            await processor.prepare(conn)
            finished = await run_chunks(
                url, conn, store, target, processor, cursor, report, progress, stop_after_chunks
            )
            if finished:
                await finish(conn, target, processor, report)
                report.finished = True
    finally:
        await store.close()
    report.seconds = time.perf_counter() - started
    log.info("replay finished" if report.finished else "replay stopped early", **report.summary())
    return report


async def start(conn: Conn, target: Target) -> Cursor:
    """Resume the pending replay with the same options, or begin a new one (first transaction)."""
    options = target.options
    cursor = await load_cursor(conn)
    if cursor is not None and (options.restart or cursor.identity != options.identity()):
        if not options.restart:
            raise ReplayConflict(
                f"an interrupted replay with other options is pending ({cursor.identity}); run again with "
                "the same options to resume it, or add --restart to discard it"
            )
        async with conn.transaction():
            await discard(conn)
            await conn.execute("delete from ingest_state where key = $1", CURSOR_KEY)
        cursor = None
    if cursor is not None:
        log.info(
            "resuming replay", after=cursor.after, rows_done=cursor.rows_done, chunks_done=cursor.chunks_done
        )
        return cursor
    cursor = Cursor(options.identity(), None, 0, 0)
    async with conn.transaction():
        await target.begin(conn)
        await save_cursor(conn, cursor)
    log.info("replay started", options=options.describe())
    return cursor


async def run_chunks(
    url: str,
    conn: Conn,
    store: Store,
    target: Target,
    processor: Processor,
    cursor: Cursor,
    report: ReplayReport,
    progress: ProgressFactory | None,
    stop_after_chunks: int | None,
) -> bool:
    """Apply every remaining chunk; False when stopped early."""
    options = target.options
    lo = lower_bound(options, cursor)
    t0 = time.perf_counter()
    todo = await plan(conn, lo, options.to_slot, options.chunk)
    report.phases["plan"] = time.perf_counter() - t0
    bar = progress(cursor.rows_done + todo.rows) if progress is not None else None
    if bar is not None:
        bar.update(cursor.rows_done)
    wanted = mint_filter(options.mints, await target.pools_of(conn)) if options.mints else None
    next_seq = int(await conn.fetchval("select coalesce(max(seq), 0) + 1 from events"))
    applied = 0
    apply_s = 0.0
    reader = ChunkReader(url, conn, options.workers)
    try:
        async with reader:
            async for hi, inputs in reader.chunks(lo, todo.ends):
                rows = len(inputs)
                if wanted is not None:
                    inputs = [item for item in inputs if wanted.wants(item.decoded)]
                t1 = time.perf_counter()
                async with conn.transaction():
                    outbox = Outbox(next_seq)
                    result = await processor.apply(conn, outbox, inputs, persist_raw=False)
                    if outbox.rows:
                        await store.append_events(conn, outbox.rows)
                    cursor = Cursor(cursor.identity, hi, cursor.rows_done + rows, cursor.chunks_done + 1)
                    await save_cursor(conn, cursor)
                apply_s += time.perf_counter() - t1
                next_seq += len(outbox.rows)
                report.rows = cursor.rows_done
                report.chunks += 1
                report.inputs_applied += len(inputs)
                report.trades_inserted += result.trades_inserted
                report.events += len(outbox.rows)
                applied += 1
                if bar is not None:
                    bar.update(cursor.rows_done)
                if stop_after_chunks is not None and applied >= stop_after_chunks:
                    return False
    finally:
        report.phases["apply"] = apply_s
        report.phases.update(reader.stats.phases())
        if bar is not None:
            bar.close()
    return True


async def finish(conn: Conn, target: Target, processor: Processor, report: ReplayReport) -> None:
    """Last transaction: open buckets, stale buckets, swap, cursor gone."""
    t0 = time.perf_counter()
    async with conn.transaction():
        # Every open bucket gets its row, not only those touched since a resume re-loaded them.
        processor.dirty_open.update(processor.features.open)
        report.open_buckets = await processor.flush_open(conn, Outbox(0), force=True)
        report.stale_buckets = await refresh_stale(conn, processor, await target.stale_buckets(conn))
        await target.finish(conn)
        await conn.execute("delete from ingest_state where key = $1", CURSOR_KEY)
    await target.analyze(conn)
    report.phases["finish"] = time.perf_counter() - t0


async def refresh_stale(conn: Conn, processor: Processor, keys: list[tuple[str, int, str]]) -> int:
    """Feature buckets that lost trades to a partial replay's delete: an open one was just written;
    a closed one is recomputed from the trades table (the authority), or deleted when it is empty."""
    changed = 0
    for mint, minute, venue in keys:
        if (mint, minute, venue) in processor.features.open:
            continue
        bucket: Bucket | None = await load_bucket(conn, mint, minute, venue)
        if bucket is None:
            status = await conn.execute(
                "delete from features_1m where mint = $1 and minute = to_timestamp($2) and venue = $3",
                mint,
                minute,
                venue,
            )
            changed += int(status.rsplit(" ", 1)[-1])
            continue
        row = bucket.row(final=True)
        if await stored_feature(conn, row) != row:
            await write_features(conn, [row])
            changed += 1
    return changed


# Cursor ------------------------------------------------------------------------------------------------


async def load_cursor(conn: Conn) -> Cursor | None:
    row = await conn.fetchrow("select slot, signature, value from ingest_state where key = $1", CURSOR_KEY)
    if row is None:
        return None
    return Cursor.from_row(row["slot"], row["signature"], row["value"])


async def save_cursor(conn: Conn, cursor: Cursor) -> None:
    slot, signature = cursor.after if cursor.after is not None else (None, None)
    await save_state(conn, CURSOR_KEY, slot, signature, cursor.value())


async def slots_of_times(
    conn: Conn, since: datetime | None, until: datetime | None
) -> tuple[int | None, int | None]:
    """Slot bounds for chain-time bounds, from the stored block times (transactions) and event times
    (trades): the first slot at or after `since`, the last slot at or before `until`."""
    lo = hi = None
    if since is not None:
        lo = await conn.fetchval(
            "select least((select min(slot) from transactions where block_time >= $1), "
            "(select min(slot) from trades where event_time >= $1))",
            since,
        )
        if lo is None:
            raise ExecutorError(f"no stored transaction or trade at or after {since.isoformat()}")
    if until is not None:
        hi = await conn.fetchval(
            "select greatest((select max(slot) from transactions where block_time <= $1), "
            "(select max(slot) from trades where event_time <= $1))",
            until,
        )
        if hi is None:
            raise ExecutorError(f"no stored transaction or trade at or before {until.isoformat()}")
    return lo, hi
