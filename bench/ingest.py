"""Ingest benchmark: simulator -> executor -> Postgres -> one gRPC subscriber, measured from outside.

    python -m bench.ingest [--rates 1000,5000] [--seconds 20]

For each rate: a fresh database, the simulator (own process, serving a stream pre-generated once and
kept under .data/bench-streams, so the generator's CPU is not in the measurement) and the executor
(own process, the real `python -m executor run`). This process is both a second WebSocket client of the simulator (it records
when each notification left the node) and a gRPC subscriber of the executor (when its TradeObserved
arrived), so the latency is end to end on one clock (percentiles after a 2 s warm-up; every sample is
written to latency-<rate>.csv). Figures printed per rate: sustained transactions
per second stored with zero loss, notification -> TradeObserved latency p50/p99, the executor's DB
write rate (rows/s) beside the raw COPY rate of the same rows on the same Postgres.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import grpc
import httpx
import orjson
import websockets

from bench.replay import admin_url, database_url
from pumpflow.v1 import executor_pb2 as pb
from pumpflow.v1 import executor_pb2_grpc as pb_grpc

ROOT = Path(__file__).resolve().parent.parent
PUMP = "6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P"
PUMP_AMM = "pAMMBay6oceH9fJKBRHGP5D4bD4sWpmSwMn52FMfXEA"
DERIVED_ROWS = ("raw_logs", "transactions", "trades", "curve_snapshots", "amm_snapshots", "tokens", "events")


@dataclass
class Result:
    rate: int
    served: int
    stored: int
    trades_expected: int
    trades_streamed: int
    seconds: float
    latencies_ms: list[float]
    rows_written: int
    write_seconds: float
    copy_rows_per_s: float
    internals: dict[str, float]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def fresh_database(keep: bool = False) -> AsyncIterator[str]:
    admin = admin_url()
    name = f"pumpflow_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f"create database {name}")
    await conn.close()
    url = database_url(name)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "alembic", "upgrade", "head", cwd=ROOT, env={**os.environ, "DATABASE_URL": url}
    )
    await proc.wait()
    try:
        yield url
    finally:
        if keep:
            print(f"kept database {url}", file=sys.stderr)
        else:
            conn = await asyncpg.connect(admin)
            await conn.execute(f"drop database if exists {name} with (force)")
            await conn.close()


async def wait_port(port: int) -> None:
    async with asyncio.timeout(60):
        while True:
            with contextlib.suppress(OSError):
                _, w = await asyncio.open_connection("127.0.0.1", port)
                w.close()
                return
            await asyncio.sleep(0.1)


async def watch_notifications(ws_url: str, sent: dict[str, float], stop: asyncio.Event) -> None:
    """Both programs, as the executor subscribes: most generated trades are PumpSwap trades."""
    async with websockets.connect(ws_url, max_size=None) as ws:
        for n, program in enumerate((PUMP, PUMP_AMM), 1):
            await ws.send(orjson.dumps({"jsonrpc": "2.0", "id": n, "method": "logsSubscribe",
                                        "params": [{"mentions": [program]}, {"commitment": "confirmed"}]}))  # fmt: skip
        while not stop.is_set():
            try:
                frame = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                continue
            now = time.monotonic()
            message = orjson.loads(frame)
            value = message.get("params", {}).get("result", {}).get("value")
            if value:
                sent.setdefault(value["signature"], now)


async def watch_stream(addr: str, seen: dict[str, float], stop: asyncio.Event) -> None:
    request = pb.StreamRequest(
        kinds=[pb.EVENT_KIND_TRADE_OBSERVED], exclude_heartbeats=True, client_id="bench"
    )
    while not stop.is_set():
        try:
            async with grpc.aio.insecure_channel(addr) as channel:
                async for event in pb_grpc.ExecutorStub(channel).StreamEvents(request):
                    seen.setdefault(
                        f"{event.trade_observed.chain.signature}:{event.trade_observed.chain.event_index}",
                        time.monotonic(),
                    )
                    if stop.is_set():
                        return
        except grpc.aio.AioRpcError:
            await asyncio.sleep(0.2)


async def count_rows(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        total = 0
        for table in DERIVED_ROWS:
            total += int(await conn.fetchval(f"select count(*) from {table}"))
        return total
    finally:
        await conn.close()


async def copy_rate(url: str) -> float:
    """Rows/s of COPYing the stored rows out and into scratch copies of the same tables."""
    conn = await asyncpg.connect(url)
    try:
        rows = 0
        started = time.perf_counter()
        for table in ("raw_logs", "trades", "curve_snapshots", "events"):
            await conn.execute(f"create temp table copy_{table} (like {table})")
            records = await conn.fetch(f"select * from {table}")
            await conn.copy_records_to_table(f"copy_{table}", records=[tuple(r) for r in records])
            rows += len(records)
        return rows / (time.perf_counter() - started)
    finally:
        await conn.close()


async def scrape(port: int) -> dict[str, float]:
    """The executor's own view: mean batch time and size, mean notification -> commit time."""
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    values: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("pumpflow_ingest_") and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)

    def mean(metric: str) -> float:
        count = values.get(f"{metric}_count", 0.0)
        return values.get(f"{metric}_sum", 0.0) / count if count else float("nan")

    return {
        "batch_ms": mean("pumpflow_ingest_batch_seconds") * 1000,
        "batch_size": mean("pumpflow_ingest_batch_size"),
        "commit_ms": mean("pumpflow_ingest_notify_to_commit_seconds") * 1000,
    }


STREAMS = ROOT / ".data" / "bench-streams"
# Latency percentiles leave out the first seconds: decoder templates and plans are learned then.
WARMUP_S = 2.0


async def pregenerated(chain: list[str], rate: int, seconds: int) -> Path:
    """A simulator stream generated once and kept (the simulator then only serves it, so the
    benchmark measures ingest rather than the generator's CPU)."""
    path = STREAMS / f"seed1-rate{rate}-s{seconds}.stream"
    if not path.exists():
        STREAMS.mkdir(parents=True, exist_ok=True)
        print(f"generating {path} (once)", file=sys.stderr)
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "sim",
            *chain,
            "--pregenerate",
            str(path),
            "--log-level",
            "warning",
            cwd=ROOT,
        )
        if await proc.wait():
            raise RuntimeError("simulator could not pre-generate the stream")
    return path


async def run_rate(rate: int, seconds: int, tmp: Path, keep_db: bool, pregenerate: bool) -> Result:
    async with fresh_database(keep_db) as url:
        sim_port, grpc_port, metrics_port = free_port(), free_port(), free_port()
        manifest = tmp / f"manifest-{rate}.jsonl"
        logs = (tmp / f"bench-{rate}.log").open("wb")
        chain = [
            "--seed",
            "1",
            "--rate",
            str(rate),
            "--speed",
            "10",
            "--duration",
            str(seconds),
            "--signatures",
            "fast",
        ]
        source = ["--replay", str(await pregenerated(chain, rate, seconds))] if pregenerate else []
        sim = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "sim", "--host", "127.0.0.1", "--port", str(sim_port), *chain, *source,
            "--manifest", str(manifest), "--log-level", "warning", cwd=ROOT, stdout=logs, stderr=logs,
        )  # fmt: skip
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "SOLANA_RPC_HTTP": f"http://127.0.0.1:{sim_port}",
            "SOLANA_RPC_WS": f"ws://127.0.0.1:{sim_port}",
            "EXECUTOR_GRPC_ADDR": f"127.0.0.1:{grpc_port}",
            "EXECUTOR_METRICS_PORT": str(metrics_port),
            "LOG_LEVEL": "INFO",
            "LOG_FORMAT": "json",
            "FETCH_POLICY": "smart",
            # The benchmark's own WebSocket client may start the simulator's chain first.
            "INGEST_INITIAL_BACKFILL": "1000",
        }
        executor = None
        try:
            await wait_port(sim_port)
            executor = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "executor", "run", cwd=ROOT, env=env, stdout=logs, stderr=logs
            )
            await wait_port(grpc_port)
            sent: dict[str, float] = {}
            seen: dict[str, float] = {}
            stop = asyncio.Event()
            watchers = [
                asyncio.create_task(watch_stream(f"127.0.0.1:{grpc_port}", seen, stop)),
                asyncio.create_task(watch_notifications(f"ws://127.0.0.1:{sim_port}", sent, stop)),
            ]
            await asyncio.sleep(1)
            rows_before = await count_rows(url)
            started = time.monotonic()
            stored = served = 0
            deadline = started + seconds + 120
            while time.monotonic() < deadline:
                await asyncio.sleep(1)
                # Counting lines, not parsing them: this loop must not stall the timing watchers.
                served = manifest.read_bytes().count(b"\n")
                conn = await asyncpg.connect(url)
                stored = int(await conn.fetchval("select count(*) from raw_logs"))
                await conn.close()
                print(f"  {rate}/s: served {served}, stored {stored}", file=sys.stderr, end="\r")
                if time.monotonic() - started > seconds and stored >= served:
                    break
            elapsed = time.monotonic() - started
            print(" " * 60, file=sys.stderr, end="\r")
            internals = await scrape(metrics_port)
            rows = [orjson.loads(line) for line in manifest.read_bytes().splitlines() if line.strip()]
            served_signatures = {r["signature"] for r in rows}
            # Let the stream subscriber finish: it may be catching up from the outbox.
            streamed, quiet_since = -1, time.monotonic()
            while time.monotonic() - quiet_since < 3 and time.monotonic() < deadline:
                if len(seen) != streamed:
                    streamed, quiet_since = len(seen), time.monotonic()
                await asyncio.sleep(0.5)
            stop.set()
            for task in watchers:
                task.cancel()
            await asyncio.gather(*watchers, return_exceptions=True)
            rows_written = await count_rows(url) - rows_before
            trades = {
                f"{r['signature']}:{rec['event_index']}"
                for r in rows
                if r.get("err") is None
                for rec in r.get("records") or []
                if rec["kind"] in ("curve_trade", "amm_trade")
            }
            timed = sorted(
                (sent[key.split(":")[0]] - started, (seen[key] - sent[key.split(":")[0]]) * 1000)
                for key in trades
                if key in seen and key.split(":")[0] in sent
            )
            (tmp / f"latency-{rate}.csv").write_text("".join(f"{t:.3f},{ms:.1f}\n" for t, ms in timed))
            latencies = [ms for t, ms in timed if t >= WARMUP_S]
            return Result(
                rate=rate,
                served=len(served_signatures),
                stored=stored,
                trades_expected=len(trades),
                trades_streamed=len(trades & set(seen)),
                seconds=elapsed,
                latencies_ms=latencies,
                rows_written=rows_written,
                write_seconds=elapsed,
                copy_rows_per_s=await copy_rate(url),
                internals=internals,
            )
        finally:
            for proc in (executor, sim):
                if proc is not None and proc.returncode is None:
                    proc.terminate()
                    await proc.wait()
            logs.close()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rates", default="1000,5000", help="comma-separated simulator rates (tx/s)")
    ap.add_argument("--seconds", type=int, default=20, help="emission time per rate")
    ap.add_argument("--keep-db", action="store_true", help="keep each rate's database for inspection")
    ap.add_argument(
        "--live-generation",
        action="store_true",
        help="let the simulator generate while serving (default: serve a pre-generated stream kept in .data/)",
    )
    opts = ap.parse_args()
    print(
        "rate  sim tx/s  served  stored  loss  stored tx/s  trades streamed  p50 ms  p99 ms  samples  DB rows/s"
        "  COPY rows/s  batch ms  batch size  notify->commit ms"
    )
    tmp = tempfile.mkdtemp(prefix="pumpflow-bench-ingest-")
    print(f"logs and manifests in {tmp}", file=sys.stderr)
    for rate in (int(r) for r in opts.rates.split(",")):
        r = await run_rate(rate, opts.seconds, Path(tmp), opts.keep_db, not opts.live_generation)
        print(
            f"{r.rate:>4}  {r.served / opts.seconds:>8.0f}  {r.served:>6}  {r.stored:>6}  {r.served - min(r.stored, r.served):>4}  "
            f"{r.stored / r.seconds:>11.0f}  {r.trades_streamed:>7}/{r.trades_expected:<7}  "
            f"{statistics.median(r.latencies_ms) if r.latencies_ms else float('nan'):>6.1f}  "
            f"{pct(r.latencies_ms, 0.99):>6.1f}  {len(r.latencies_ms):>7}  {r.rows_written / r.write_seconds:>9.0f}  {r.copy_rows_per_s:>11.0f}"
            f"  {r.internals['batch_ms']:>8.1f}  {r.internals['batch_size']:>10.1f}  {r.internals['commit_ms']:>17.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
