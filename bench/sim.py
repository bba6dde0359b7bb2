"""Simulator throughput: `python -m bench.sim [--rates 1000,5000,10000,20000] [--seconds 10]`.

For each `--rate`, starts `python -m sim` (generated `lifecycle` traffic) in a subprocess, attaches
one plain `websockets` client to `logsSubscribe` ("all", commitment confirmed) and one `httpx`
client calling `getTransaction` on a sample of the notified signatures, and prints per rate:

* notifications/s: median of the per-second counts after the warm-up (and the run's mean);
* notification lag p50 / p99: arrival time minus the moment the transaction's slot reached the
  subscription's commitment, on the client's clock anchored at the subscribe request (so it
  includes a little connection latency; at `--speed 200` a slot lasts 2 ms);
* getTransaction latency p50 / p99 over the sampled calls, and how many answered null;
* CPU used by the simulator's processes (server + generator) and by this client, in % of one core,
  and the simulator's CPU microseconds per notified transaction.

First it measures the generator alone (CPU time per transaction in this process), the figure that
does not depend on what else the machine runs.

The client reads frames as bytes and only slices out the slot, so it stays cheap; its own CPU
figure shows when it, not the simulator, is the limit. With `--runs N` every rate is measured N
times and the medians are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
import websockets

ROOT = Path(__file__).resolve().parents[1]
BASE_SLOT = 420_000_000
SLOT_MS = 400
LAG_SLOTS = {"processed": 0, "confirmed": 1, "finalized": 32}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
SIM = (sys.executable, "-m", "sim")


@dataclass(slots=True)
class RunResult:
    rate: float
    notes_per_s: float  # median of per-second counts
    notes_mean: float
    lag_p50_ms: float
    lag_p99_ms: float
    tx_p50_ms: float
    tx_p99_ms: float
    tx_calls: int
    tx_nulls: int
    sim_cpu: float  # % of one core
    client_cpu: float


@dataclass(slots=True)
class Observed:
    per_second: dict[int, int] = field(default_factory=dict)
    lags: list[float] = field(default_factory=list)
    recent: list[str] = field(default_factory=list)
    tx_ms: list[float] = field(default_factory=list)
    tx_nulls: int = 0
    total: int = 0


# --- the simulator process --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_port(port: int, proc: asyncio.subprocess.Process, limit_s: float = 60.0) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            raise RuntimeError(f"simulator exited with {proc.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        return
    raise RuntimeError("simulator port never opened")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of `pid` and its live children (Linux /proc; 0 elsewhere)."""
    total = 0.0
    try:
        pids = [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return 0.0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


# --- the client -------------------------------------------------------------------------------


def slot_and_signature(frame: bytes) -> tuple[int, str]:
    """The context slot and the signature of a logsNotification, without parsing the logs."""
    i = frame.index(b'"slot":') + 7
    slot = int(frame[i : frame.index(b"}", i)])
    j = frame.index(b'"signature":"', i) + 13
    return slot, frame[j : frame.index(b'"', j)].decode()


async def read_notifications(
    ws: websockets.ClientConnection, t_sub: float, sps: float, lag_slots: int, obs: Observed, t0: float
) -> None:
    anchor = t_sub + lag_slots / sps - BASE_SLOT / sps
    while True:
        frame = await ws.recv(decode=False)
        now = time.perf_counter()
        if b"logsNotification" not in frame[:60]:
            continue
        slot, sig = slot_and_signature(frame)
        obs.total += 1
        second = int(now - t0)
        obs.per_second[second] = obs.per_second.get(second, 0) + 1
        obs.lags.append(now - (anchor + slot / sps))
        if obs.total % 64 == 0:
            obs.recent.append(sig)
            del obs.recent[:-8]


async def sample_transactions(
    http: httpx.AsyncClient, rps: float, obs: Observed, stop: asyncio.Event
) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "getTransaction", "params": []}
    config = {"encoding": "json", "maxSupportedTransactionVersion": 0, "commitment": "confirmed"}
    while not stop.is_set():
        await asyncio.sleep(1 / rps)
        if len(obs.recent) < 2:
            continue
        body["params"] = [obs.recent[0], config]
        start = time.perf_counter()
        reply = await http.post("/", content=orjson.dumps(body), headers={"content-type": "application/json"})
        obs.tx_ms.append((time.perf_counter() - start) * 1000)
        if orjson.loads(reply.content).get("result") is None:
            obs.tx_nulls += 1


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def pregenerate(args: argparse.Namespace, rate: float) -> list[str]:
    """`--replay FILE` arguments for a stream file of this rate, generated first (once)."""
    path = Path(args.pregenerated) / f"seed{args.seed}-rate{rate:g}-speed{args.speed:g}.stream"
    if not path.exists():
        seconds = args.warmup + args.seconds + 5
        print(f"  pregenerating {seconds:g} s at --rate {rate:g} into {path} ...", flush=True)
        proc = await asyncio.create_subprocess_exec(
            *SIM,
            *("--seed", str(args.seed), "--rate", str(rate), "--speed", str(args.speed)),
            *("--base-slot", str(BASE_SLOT), "--duration", str(seconds), "--pregenerate", str(path)),
            *("--log-level", "warning"),
            cwd=ROOT,
        )
        if await proc.wait() != 0:
            raise RuntimeError("pregeneration failed")
    return ["--replay", str(path)]


async def run_one(args: argparse.Namespace, rate: float) -> RunResult:
    port = free_port()
    replay = await pregenerate(args, rate) if args.pregenerated else []
    cmd = [
        *SIM,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--seed",
        str(args.seed),
        "--rate",
        str(rate),
        "--speed",
        str(args.speed),
        "--base-slot",
        str(BASE_SLOT),
        "--log-level",
        "warning",
        *replay,
        *args.sim_args,
    ]
    proc = await asyncio.create_subprocess_exec(*cmd, cwd=ROOT, stdout=asyncio.subprocess.DEVNULL)
    obs = Observed()
    sps = 1000.0 * args.speed / SLOT_MS
    try:
        await wait_port(port, proc)
        async with (
            websockets.connect(f"ws://127.0.0.1:{port}", max_size=None, compression=None) as ws,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http,
        ):
            request = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "logsSubscribe",
                "params": ["all", {"commitment": args.commitment}],
            }
            t_sub = time.perf_counter()
            await ws.send(orjson.dumps(request).decode())
            ack = orjson.loads(await ws.recv())
            if not isinstance(ack.get("result"), int):
                raise RuntimeError(f"logsSubscribe failed: {ack}")
            stop = asyncio.Event()
            reader = asyncio.create_task(
                read_notifications(ws, t_sub, sps, LAG_SLOTS[args.commitment], obs, t_sub)
            )
            sampler = asyncio.create_task(sample_transactions(http, args.sample_rps, obs, stop))
            await asyncio.sleep(args.warmup)
            cpu_sim0, cpu_me0, t_measure = cpu_seconds(proc.pid), time.process_time(), time.perf_counter()
            lag_start, tx_start, total_start = len(obs.lags), len(obs.tx_ms), obs.total
            await asyncio.sleep(args.seconds)
            elapsed = time.perf_counter() - t_measure
            cpu_sim = cpu_seconds(proc.pid) - cpu_sim0
            cpu_me = time.process_time() - cpu_me0
            lags = obs.lags[lag_start:]
            tx_ms = obs.tx_ms[tx_start:]
            total = obs.total - total_start
            stop.set()
            for task in (reader, sampler):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
                    await task
    finally:
        if proc.returncode is None:
            proc.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), 10)
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    first = int(args.warmup) + 1
    seconds = [obs.per_second.get(s, 0) for s in range(first, first + max(1, int(args.seconds) - 1))]
    return RunResult(
        rate=rate,
        notes_per_s=statistics.median(seconds),
        notes_mean=total / elapsed,
        lag_p50_ms=quantile(lags, 0.5) * 1000,
        lag_p99_ms=quantile(lags, 0.99) * 1000,
        tx_p50_ms=quantile(tx_ms, 0.5),
        tx_p99_ms=quantile(tx_ms, 0.99),
        tx_calls=len(tx_ms),
        tx_nulls=obs.tx_nulls,
        sim_cpu=100 * cpu_sim / elapsed,
        client_cpu=100 * cpu_me / elapsed,
    )


def median_result(runs: list[RunResult]) -> RunResult:
    def med(attr: str) -> float:
        return float(statistics.median(getattr(r, attr) for r in runs))

    return RunResult(
        rate=runs[0].rate,
        notes_per_s=med("notes_per_s"),
        notes_mean=med("notes_mean"),
        lag_p50_ms=med("lag_p50_ms"),
        lag_p99_ms=med("lag_p99_ms"),
        tx_p50_ms=med("tx_p50_ms"),
        tx_p99_ms=med("tx_p99_ms"),
        tx_calls=int(med("tx_calls")),
        tx_nulls=int(med("tx_nulls")),
        sim_cpu=med("sim_cpu"),
        client_cpu=med("client_cpu"),
    )


HEADER = (
    f"{'rate':>7} {'notes/s':>8} {'mean/s':>8} {'lag p50':>8} {'lag p99':>8} "
    f"{'getTx p50':>9} {'getTx p99':>9} {'calls':>6} {'null':>5} {'sim cpu':>8} {'us/tx':>6} {'client':>7}"
)


def row(r: RunResult) -> str:
    per_tx = r.sim_cpu * 10_000 / r.notes_mean if r.notes_mean else float("nan")
    return (
        f"{r.rate:>7.0f} {r.notes_per_s:>8.0f} {r.notes_mean:>8.0f} {r.lag_p50_ms:>6.1f}ms {r.lag_p99_ms:>6.1f}ms "
        f"{r.tx_p50_ms:>7.2f}ms {r.tx_p99_ms:>7.2f}ms {r.tx_calls:>6} {r.tx_nulls:>5} "
        f"{r.sim_cpu:>7.0f}% {per_tx:>6.0f} {r.client_cpu:>6.0f}%"
    )


def generation_capacity(rate: float, seed: int, count: int = 3000) -> float:
    """CPU microseconds per transaction of the lifecycle generator alone (this process, one
    core, after a warm-up), at `rate` (the economy's pace depends on it)."""
    from sim.clock import ChainClock
    from sim.config import SimConfig
    from sim.faults import parse_faults
    from sim.scenario.lifecycle import World

    cfg = SimConfig(seed=seed, rate=rate, speed=200.0)
    world = World(cfg, ChainClock(cfg.base_slot, cfg.base_time, cfg.speed), parse_faults(""), manifest=False)
    for _ in range(500):
        world.next()
    start = time.process_time()
    for _ in range(count):
        world.next()
    return (time.process_time() - start) / count * 1e6


async def run(args: argparse.Namespace) -> int:
    mode = f"--replay (stream files in {args.pregenerated})" if args.pregenerated else "live generation"
    print(
        f"python -m sim --rate R --speed {args.speed:g} --seed {args.seed} {' '.join(args.sim_args)}, {mode}; "
        f"logsSubscribe all/{args.commitment}; {args.warmup:g} s warm-up + {args.seconds:g} s measured; "
        f"getTransaction {args.sample_rps:g}/s; {os.cpu_count()} cores"
    )
    if not args.pregenerated:
        top = max(args.rates)
        micros = generation_capacity(top, args.seed)
        print(
            f"generation alone at --rate {top:g}: {micros:.0f} us CPU per transaction "
            f"= {1e6 / micros:,.0f} tx/s per core (in-process, no manifest)"
        )
    print(HEADER)
    for rate in args.rates:
        runs = [await run_one(args, rate) for _ in range(args.runs)]
        print(row(median_result(runs)), flush=True)
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.sim", description=(__doc__ or "").split("\n\n")[0])
    p.add_argument(
        "--rates",
        type=lambda s: [float(x) for x in s.split(",")],
        default=[1000.0, 5000.0, 10000.0, 20000.0],
        help="comma-separated --rate values (default 1000,5000,10000,20000)",
    )
    p.add_argument("--seconds", type=float, default=10.0, help="measured seconds per run (default 10)")
    p.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring (default 3)")
    p.add_argument("--runs", type=int, default=1, help="runs per rate; medians are printed (default 1)")
    p.add_argument("--speed", type=float, default=200.0, help="--speed of the simulator (default 200)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--commitment", choices=tuple(LAG_SLOTS), default="confirmed")
    p.add_argument("--sample-rps", type=float, default=20.0, help="getTransaction calls per second")
    p.add_argument(
        "--pregenerated",
        metavar="DIR",
        help="serve stream files (python -m sim --pregenerate, made here once per rate and kept) "
        "instead of generating live: the serving side alone",
    )
    p.add_argument("sim_args", nargs="*", help="extra simulator flags (after --)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
