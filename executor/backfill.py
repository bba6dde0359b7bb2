"""`python -m executor backfill --since <slot|time> [--until <slot|time>] [--mint MINT ...]`: fill the
database with history through live ingest's own fetch path.

Design: the events outbox has one writer (its gap-free seq is allocated in that writer's process,
under the writer advisory lock), and live ingest should keep running while history comes in. So this
command writes no derived row and no event. It walks `getSignaturesForAddress` backwards (the pump
and PumpSwap programs, or each `--mint` address) from the tip down to `--since`, and queues every
signature that is neither stored nor queued into `fetch_queue` with priority BACKFILL, exactly as a
gap sweep queues what it finds (`reason` 'backfill', or 'failed' for failed transactions unless
FETCH_FAILED). The running executor's fetchers take that work after their live work, fetch the
transactions through its RPC pool with `Priority.BACKFILL` (the governor serves LIVE first), and
its writer stores and derives them with the one processor: the rows are those live ingest writes
for a signature found by a sweep. The walk itself costs one request per 1,000 signatures; it runs in
this process under a quarter of the configured per-method budget.

Resumable: per address, `ingest_state` key `backfill:<address>` holds the bounds and the oldest
signature walked; each page's queue rows and that cursor commit in one transaction. Run the same
command again to continue; `--restart` walks again from the tip. With `--wait` (the default when
an executor holds the writer lock) it then follows the queue until the fetches are done.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import orjson
import structlog

from executor.config import ExecutorSettings, settings_for_command
from executor.decode import PUMP, PUMP_AMM
from executor.errors import ExecutorError
from executor.ingest.pipeline import fetch_queue_rows, queue_unknown, rate_limits
from executor.progress import Progress
from executor.replay.cli import parse_time
from executor.rpc import Priority, RpcError, RpcPool, endpoints_from_urls
from executor.store import WRITER_LOCK, Store, save_state, try_writer_lock
from pumpflow import logs
from pumpflow.schema import Conn, SchemaNotAtHead

log = structlog.get_logger("executor.backfill")

PAGE = 1000
WALK_SHARE = 4  # the walk uses 1/WALK_SHARE of the per-endpoint budgets


# Pure --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bound:
    """A point in chain history: a slot, or a unix time compared with the signature's blockTime."""

    slot: int | None = None
    time: int | None = None

    @classmethod
    def parse(cls, text: str) -> Bound:
        if text.strip().isdigit():
            return cls(slot=int(text))
        try:
            when = parse_time(text)
        except argparse.ArgumentTypeError as exc:
            raise argparse.ArgumentTypeError(
                f"expected a slot number or an ISO 8601 time, got {text!r}"
            ) from exc
        return cls(time=int(when.timestamp()))

    def value(self) -> dict[str, int | None]:
        return {"slot": self.slot, "time": self.time}

    def before(self, entry: dict[str, Any]) -> bool:
        """The signature entry is older than this bound."""
        if self.slot is not None:
            return int(entry["slot"]) < self.slot
        block_time = entry.get("blockTime")
        return self.time is not None and block_time is not None and int(block_time) < self.time

    def after(self, entry: dict[str, Any]) -> bool:
        """The signature entry is newer than this bound."""
        if self.slot is not None:
            return int(entry["slot"]) > self.slot
        block_time = entry.get("blockTime")
        return self.time is not None and block_time is not None and int(block_time) > self.time

    def position(self, entry: dict[str, Any]) -> float | None:
        """Where the entry is on this bound's axis (for progress)."""
        if self.slot is not None:
            return float(entry["slot"])
        block_time = entry.get("blockTime")
        return float(block_time) if block_time is not None else None


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a backwards walk, cut to the bounds."""

    wanted: list[dict[str, Any]]  # within [since, until]
    last: str | None  # the oldest signature of the page: the next page starts before it
    done: bool  # reached `since` (or the start of history)


def cut(entries: list[dict[str, Any]], since: Bound, until: Bound | None) -> Page:
    wanted: list[dict[str, Any]] = []
    for entry in entries:
        if since.before(entry):
            return Page(wanted, entry["signature"], True)
        if until is None or not until.after(entry):
            wanted.append(entry)
    return Page(wanted, entries[-1]["signature"] if entries else None, len(entries) < PAGE)


def queue_rows(entries: Sequence[dict[str, Any]], fetch_failed: bool) -> list[tuple[str, int, str, int, Any]]:
    """fetch_queue rows, as a gap sweep writes them, at backfill priority."""
    return fetch_queue_rows(entries, fetch_failed, Priority.BACKFILL)


@dataclass(slots=True)
class WalkCursor:
    since: dict[str, int | None]
    until: dict[str, int | None] | None
    before: str | None = None
    listed: int = 0
    queued: int = 0
    done: bool = False
    top: float | None = None  # the newest position seen, for progress

    def value(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def same_bounds(self, other: WalkCursor) -> bool:
        return (self.since, self.until) == (other.since, other.until)


@dataclass(slots=True)
class BackfillReport:
    addresses: list[str]
    listed: int = 0
    queued: int = 0
    resumed: list[str] = field(default_factory=list)
    remaining: int | None = None
    seconds: float = 0.0

    @property
    def already_known(self) -> int:
        return self.listed - self.queued

    def summary(self) -> dict[str, Any]:
        return {
            "addresses": self.addresses,
            "listed": self.listed,
            "queued": self.queued,
            "already_known": self.already_known,
            "resumed": self.resumed,
            "still_queued": self.remaining,
            "seconds": round(self.seconds, 2),
        }


# Walk --------------------------------------------------------------------------------------------------


async def load_walk(conn: Conn, key: str) -> WalkCursor | None:
    value = await conn.fetchval("select value from ingest_state where key = $1", key)
    if not value:
        return None
    return WalkCursor(
        value["since"], value.get("until"), value.get("before"), int(value.get("listed", 0)),
        int(value.get("queued", 0)), bool(value.get("done")), value.get("top"),
    )  # fmt: skip


async def record_page(
    conn: Conn, key: str, cursor: WalkCursor, page: Page, fetch_failed: bool, last_slot: int | None
) -> int:
    """Queue the page's unknown signatures and move the cursor, in one transaction; returns how many."""
    async with conn.transaction():
        missing = await queue_unknown(conn, page.wanted, fetch_failed, Priority.BACKFILL)
        cursor.before = page.last or cursor.before
        cursor.listed += len(page.wanted)
        cursor.queued += len(missing)
        cursor.done = page.done
        await save_state(conn, key, last_slot, cursor.before, cursor.value())
    return len(missing)


async def walk(
    rpc: RpcPool,
    conn: Conn,
    address: str,
    since: Bound,
    until: Bound | None,
    *,
    commitment: str,
    fetch_failed: bool,
    restart: bool,
    report: BackfillReport,
    tty: bool | None,
) -> None:
    key = f"backfill:{address}"
    fresh = WalkCursor(since.value(), until.value() if until else None)
    cursor = await load_walk(conn, key)
    if cursor is None or restart or not cursor.same_bounds(fresh):
        cursor = fresh
    elif cursor.done:
        log.info(
            "backfill of this address and range is already complete", address=address, queued=cursor.queued
        )
        return
    else:
        report.resumed.append(address)
        log.info("resuming backfill", address=address, listed=cursor.listed, before=cursor.before)
    floor = since.slot if since.slot is not None else since.time
    unit = "slots" if since.slot is not None else "chain seconds"
    bar = Progress(f"backfill {address[:8]}", None, unit=unit, tty=tty)
    try:
        while not cursor.done:
            entries = await rpc.get_signatures_for_address(
                address, before=cursor.before, limit=PAGE, priority=Priority.BACKFILL, commitment=commitment
            )
            page = cut(entries, since, until)
            report.queued += await record_page(
                conn, key, cursor, page, fetch_failed, int(entries[-1]["slot"]) if entries else None
            )
            report.listed += len(page.wanted)
            if entries:
                newest, oldest = since.position(entries[0]), since.position(entries[-1])
                cursor.top = cursor.top if cursor.top is not None else newest
                if cursor.top is not None and oldest is not None and floor is not None and cursor.top > floor:
                    span = cursor.top - floor
                    bar.set_total(round(span))
                    bar.update(round(min(max(cursor.top - oldest, 0), span)))
            if page.done and bar.total is not None:
                bar.update(bar.total)
    finally:
        bar.close()


async def wait_fetched(conn: Conn, stall_s: float, tty: bool | None) -> int:
    """Follow the backfill work in fetch_queue until it is gone (or stops moving); returns what is left."""
    sql = "select count(*) from fetch_queue where priority = $1"
    remaining = int(await conn.fetchval(sql, int(Priority.BACKFILL)))
    bar = Progress("backfill fetch", remaining, unit="transactions", tty=tty)
    total, moved = remaining, time.monotonic()
    try:
        while remaining:
            await asyncio.sleep(1.0)
            now_left = int(await conn.fetchval(sql, int(Priority.BACKFILL)))
            if now_left != remaining:
                moved = time.monotonic()
            remaining = now_left
            total = max(total, remaining)
            bar.set_total(total)
            bar.update(total - remaining)
            if time.monotonic() - moved > stall_s:
                log.warning("backfill work stopped moving; left in fetch_queue", remaining=remaining)
                break
    finally:
        bar.close()
    return remaining


async def backfill(
    settings: ExecutorSettings,
    addresses: Sequence[str],
    since: Bound,
    until: Bound | None,
    *,
    restart: bool = False,
    wait: bool | None = None,
    stall_s: float = 120.0,
    tty: bool | None = None,
) -> BackfillReport:
    report = BackfillReport(list(addresses))
    started = time.perf_counter()
    store, _ = await Store.open(settings.database_url, 2)
    requests, per_method = rate_limits(settings)
    endpoints = endpoints_from_urls(settings.solana_rpc_http, settings.solana_rpc_ws)
    try:
        async with (
            RpcPool(
                endpoints,
                requests_per_10s=max(1, requests // WALK_SHARE),
                method_per_10s=max(1, per_method // WALK_SHARE),
                timeout_s=settings.rpc_timeout_s,
            ) as rpc,
            store.pool.acquire() as conn,
        ):
            for address in addresses:
                await walk(
                    rpc, conn, address, since, until, commitment=settings.ingest_commitment,
                    fetch_failed=settings.fetch_failed, restart=restart, report=report, tty=tty,
                )  # fmt: skip
            executor_running = not await try_writer_lock(conn)
            if not executor_running:
                await conn.execute("select pg_advisory_unlock($1)", WRITER_LOCK)
                log.warning(
                    "no running executor holds the writer lock: the queued signatures are fetched when "
                    "`python -m executor run` starts"
                )
            if wait if wait is not None else executor_running:
                report.remaining = await wait_fetched(conn, stall_s, tty)
    finally:
        await store.close()
    report.seconds = time.perf_counter() - started
    return report


# Command line ------------------------------------------------------------------------------------------

HELP = (
    "queue history (getSignaturesForAddress backwards) for the running executor to fetch at BACKFILL priority"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Walk getSignaturesForAddress backwards from the tip down to --since and queue every signature not "
        "yet stored for the running executor, which fetches them after its live work and stores them "
        "exactly as live ingest would. Resumable; see docs/replay.md."
    )
    parser.add_argument(
        "--since", type=Bound.parse, required=True, metavar="SLOT|ISO", help="oldest slot or time"
    )
    parser.add_argument(
        "--until", type=Bound.parse, metavar="SLOT|ISO", help="newest slot or time (default: the tip)"
    )
    parser.add_argument(
        "--mint",
        action="append",
        default=[],
        metavar="MINT",
        help="walk these mints' addresses instead of the programs",
    )
    parser.add_argument("--restart", action="store_true", help="walk again from the tip instead of resuming")
    wait = parser.add_mutually_exclusive_group()
    wait.add_argument(
        "--wait", dest="wait", action="store_true", default=None, help="follow the fetches to the end"
    )
    wait.add_argument(
        "--no-wait", dest="wait", action="store_false", help="return once the walk has queued everything"
    )
    parser.add_argument(
        "--stall-s", type=float, default=120.0, help="--wait gives up when nothing moves this long"
    )
    parser.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    settings = settings_for_command("backfill", database=True)
    logs.configure(settings.log_format, settings.log_level, "executor")
    addresses = list(args.mint) or [PUMP, PUMP_AMM]
    try:
        report = asyncio.run(
            backfill(
                settings,
                addresses,
                args.since,
                args.until,
                restart=args.restart,
                wait=args.wait,
                stall_s=args.stall_s,
            )
        )
    except KeyboardInterrupt:
        print("executor backfill: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    except (ExecutorError, SchemaNotAtHead, RpcError, OSError, asyncpg.PostgresError) as exc:
        print(f"executor backfill: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(orjson.dumps(report.summary()).decode() + "\n")
    return 1 if report.remaining else 0
