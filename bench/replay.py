"""Replay benchmark: `python -m bench.replay [--rows 1000000] [--workers N] [--chunk 2000] [--profile]`.

1. A database of `--rows` generated transactions, as live ingest stores them: one `raw_logs` row per
   transaction (the logsNotification: signature, slot, err, logs) and, for the ones the default
   `smart` fetch policy would fetch (creates, truncated logs, a 1 % sample), the `transactions` row
   with the getTransaction result. The rows come straight from the simulator's `lifecycle` generator
   (`sim.scenario`), several seeds in parallel processes, written with COPY; no live ingest is
   needed. The database (`pumpflow_bench_replay_<rows>`, on DATABASE_URL's server) is kept and
   reused by later runs; `--regenerate` builds it again.
2. The raw read rate: `COPY (<the rows replay reads, in its canonical order>) TO STDOUT`, timed.
3. `executor replay` (fresh tables, `--workers` decoding processes), timed, with where the time went:
   the main process applying chunks through the processor, the readers fetching and decoding
   (summed over them), and the main process waiting for decoded chunks.

Targets (issue 6): 1,000,000 in under 60 s on 2 cores, and at least half the raw read rate.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import cProfile
import io
import multiprocessing
import os
import pstats
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from executor.ingest.pipeline import sampled
from executor.ingest.processor import RAW_COLUMNS, TX_COLUMNS, ProcessorConfig, tx_record
from executor.replay import ReplayOptions, replay
from executor.replay.options import default_workers
from executor.replay.source import CHUNK_SQL
from executor.store import init_connection

ROOT = Path(__file__).resolve().parent.parent
GENERATOR_VERSION = 1
BATCH = 2000
RATE_PER_SEED = 250.0  # transactions per chain second per generated economy
SAMPLE_BPS = 100  # the smart fetch policy's default sample


def admin_url() -> str:
    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    base, sep, query = url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/postgres{sep}{query}"


def database_url(name: str) -> str:
    base, sep, query = admin_url().partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}{sep}{query}"


# Generation (worker processes) -------------------------------------------------------------------------


def rows_of(entry: Any) -> tuple[tuple[Any, ...], tuple[Any, ...] | None]:
    """The raw_logs row of a generated transaction, and its transactions row when the smart fetch
    policy would have fetched it."""
    manifest = orjson.loads(entry.manifest_json)
    logs = orjson.loads(entry.value)["logs"]
    truncated = bool(manifest.get("log_truncated"))
    raw = (entry.signature, entry.slot, entry.err, logs, truncated, "ws", None)
    wanted = entry.err is None and (
        manifest["kind"].startswith("create") or truncated or sampled(entry.signature, SAMPLE_BPS)
    )
    if not wanted:
        return raw, None
    result = orjson.loads(orjson.dumps(entry.body.render("json", 0)))
    return raw, tx_record(entry.signature, entry.slot, result, "json")


def generate(url: str, seed: int, count: int) -> tuple[int, int, float, list[str]]:
    """Write `count` transactions of the economy `seed`; returns (raw rows, tx rows, seconds, the
    generator failures met). When the generator fails, the next economy (seed + 1,000,000) goes on."""
    started = time.perf_counter()
    failures: list[str] = []

    async def write() -> tuple[int, int]:
        conn = await asyncpg.connect(url)
        await init_connection(conn)  # the service's jsonb codec, so COPY carries jsonb
        n_raw = n_tx = 0
        economy = seed
        try:
            while n_raw < count:
                raws: list[tuple[Any, ...]] = []
                txs: list[tuple[Any, ...]] = []
                try:
                    for entry in economy_feed(economy):
                        raw, tx = rows_of(entry)
                        raws.append(raw)
                        if tx is not None:
                            txs.append(tx)
                        if len(raws) >= BATCH or n_raw + len(raws) >= count:
                            await flush(conn, raws, txs)
                            n_raw, n_tx = n_raw + len(raws), n_tx + len(txs)
                            raws, txs = [], []
                            if n_raw >= count:
                                break
                except AssertionError as exc:  # the simulator's own consistency checks
                    failures.append(f"seed {economy} after {n_raw:,} rows: {exc}")
                    economy += 1_000_000
        finally:
            await conn.close()
        return n_raw, n_tx

    n_raw, n_tx = asyncio.run(write())
    return n_raw, n_tx, time.perf_counter() - started, failures


def economy_feed(seed: int) -> Iterator[Any]:
    from sim.clock import ChainClock
    from sim.config import SimConfig
    from sim.faults import FaultPlan
    from sim.scenario import lifecycle_feed

    cfg = SimConfig(seed=seed, rate=RATE_PER_SEED, signatures="fast")
    feed, _ = lifecycle_feed(cfg, ChainClock(cfg.base_slot, cfg.base_time, cfg.speed), FaultPlan())
    return (entry for _, entry in feed)


async def flush(
    conn: asyncpg.Connection[asyncpg.Record], raws: list[tuple[Any, ...]], txs: list[tuple[Any, ...]]
) -> None:
    await conn.copy_records_to_table("raw_logs", records=raws, columns=RAW_COLUMNS)
    if txs:
        await conn.copy_records_to_table("transactions", records=txs, columns=TX_COLUMNS)


async def existing_rows(url: str) -> int:
    """Rows of an interrupted generation (0 when the database is unusable): it is topped up."""
    try:
        conn = await asyncpg.connect(url)
    except (OSError, asyncpg.PostgresError):
        return 0
    try:
        return int(await conn.fetchval("select count(*) from raw_logs"))
    except asyncpg.PostgresError:
        return 0
    finally:
        await conn.close()


async def migrate(url: str, name: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "alembic", "upgrade", "head", cwd=ROOT, env={**os.environ, "DATABASE_URL": url},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    if await proc.wait():
        raise SystemExit(f"alembic upgrade head failed on {name}")


async def ensure_database(rows: int, processes: int, regenerate: bool) -> str:
    name = f"pumpflow_bench_replay_{rows}"
    url = database_url(name)
    admin = await asyncpg.connect(admin_url())
    have = 0
    try:
        exists = await admin.fetchval("select 1 from pg_database where datname = $1", name)
        if exists and not regenerate:
            conn = await asyncpg.connect(url)
            try:
                marker = await conn.fetchval(
                    "select value::text from ingest_state where key = 'bench:generated'"
                )
            finally:
                await conn.close()
            if marker is not None and orjson.loads(marker).get("version") == GENERATOR_VERSION:
                print(f"reusing {name}: {marker}", flush=True)
                return url
            have = 0 if marker is not None else await existing_rows(url)
        if not exists or regenerate or have == 0:
            await admin.execute(f"drop database if exists {name} with (force)")
            await admin.execute(f"create database {name}")
            await migrate(url, name)
            have = 0
    finally:
        await admin.close()
    todo = rows - have
    print(
        f"generating {todo:,} transactions into {name} ({processes} processes, {have:,} there)...", flush=True
    )
    started = time.perf_counter()
    shares = [todo // processes + (1 if i < todo % processes else 0) for i in range(processes)]
    first_seed = 1000 if not have else 100_000 + have  # a top-up uses economies of its own
    loop = asyncio.get_running_loop()
    with concurrent.futures.ProcessPoolExecutor(
        processes, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        done = await asyncio.gather(
            *(
                loop.run_in_executor(pool, generate, url, first_seed + i, share)
                for i, share in enumerate(shares)
            )
        )
    for failure in (f for d in done for f in d[3]):
        print(f"  the simulator's generator failed ({failure}); went on with another economy", flush=True)
    conn = await asyncpg.connect(url)
    try:
        raw_rows = await conn.fetchval("select count(*) from raw_logs")
        tx_rows = await conn.fetchval("select count(*) from transactions")
        await conn.execute("analyze")
        marker = {"version": GENERATOR_VERSION, "raw_logs": raw_rows, "transactions": tx_rows}
        await conn.execute(
            "insert into ingest_state (key, value) values ('bench:generated', $1::text::jsonb)",
            orjson.dumps(marker).decode(),
        )
    finally:
        await conn.close()
    print(
        f"generated {raw_rows:,} raw_logs + {tx_rows:,} transactions rows in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    return url


# Measurements ------------------------------------------------------------------------------------------


class Counter:
    def __init__(self) -> None:
        self.rows = 0
        self.bytes = 0

    async def __call__(self, chunk: bytes) -> None:
        self.rows += chunk.count(b"\n")
        self.bytes += len(chunk)


async def raw_read(url: str) -> tuple[int, int, float]:
    """COPY out of the rows replay reads (same join, same order); (rows, bytes, seconds)."""
    query = (
        CHUNK_SQL.replace("$1::bigint", "-1").replace("$2::text", "''").replace("$3::bigint", str(2**63 - 1))
    )
    query = query.replace("$4::text", "'~'")
    conn = await asyncpg.connect(url)
    try:
        sink = Counter()
        started = time.perf_counter()
        await conn.copy_from_query(query, output=sink)
        return sink.rows, sink.bytes, time.perf_counter() - started
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> int:
    url = await ensure_database(args.rows, args.gen_processes, args.regenerate)
    rows, size, read_s = await raw_read(url)
    print(
        f"raw read (COPY out, canonical order): {rows:,} rows, {size / 1e6:,.0f} MB in {read_s:.1f} s = {rows / read_s:,.0f} rows/s",
        flush=True,
    )
    options = ReplayOptions(into="fresh", workers=args.workers, chunk=args.chunk, restart=True)
    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:
        profiler.enable()
    report = await replay(url, options, ProcessorConfig())
    if profiler is not None:
        profiler.disable()
    rate = report.rows / report.seconds
    print(
        f"replay ({options.describe()}, workers={args.workers}): {report.rows:,} rows in {report.seconds:.1f} s = {rate:,.0f} rows/s",
        flush=True,
    )
    print("  where the time went (s): " + ", ".join(f"{k} {v:.1f}" for k, v in report.phases.items()))
    print(f"  trades {report.trades_inserted:,}, cores {os.cpu_count()}")
    per_million = 1_000_000 / rate
    ratio = rate / (rows / read_s)
    print(f"1M transactions: {per_million:.0f} s (target < 60 s: {'met' if per_million < 60 else 'NOT met'})")
    print(f"replay / raw read: {ratio:.2f} (target >= 0.50: {'met' if ratio >= 0.5 else 'NOT met'})")
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        print("main process, by own time:\n" + out.getvalue())
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000, help="generated transactions (default 1,000,000)")
    ap.add_argument("--workers", type=int, default=default_workers(), help="replay decoding processes")
    ap.add_argument("--chunk", type=int, default=2000, help="raw rows per replay transaction")
    ap.add_argument("--gen-processes", type=int, default=default_workers(), help="generator processes")
    ap.add_argument("--regenerate", action="store_true", help="build the database again")
    ap.add_argument("--profile", action="store_true", help="cProfile the replay's main process")
    return asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
