"""Runs the local stack for `make up`, `make demo` and `make migrate`.

Database: DATABASE_URL when set, otherwise an embedded PostgreSQL (pgserver) with its data under
./.data/pg, kept across runs and stopped when this process ends. The embedded server holds two
databases: `pumpflow` (`make up`: what the configured RPC endpoints deliver) and `pumpflow_demo`
(`make demo`: simulated chain data, created afresh by every demo so that its traffic flows from the
start and never mixes with real data; `--demo-db` points the other commands at it). The schema is
migrated with alembic before any service starts (the services never migrate themselves). Services run
as child processes in the foreground; Ctrl-C (or SIGTERM) stops all of them, and if one exits on its own the others are
stopped too.

    python -m scripts.stack migrate
    python -m scripts.stack up
    python -m scripts.stack demo -- --rate 500 --faults ws-drop:30s
    python -m scripts.stack run -- python -m executor verify     # any command, with DATABASE_URL set
    python -m scripts.stack --demo-db run -- python -m executor verify   # the same on the demo's data
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data" / "pg"
EMBEDDED_DB = "pumpflow"
DEMO_DB = "pumpflow_demo"


def say(msg: str) -> None:
    print(f"[pumpflow] {msg}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def database(name: str, *, fresh: bool = False) -> Iterator[str]:
    """Yield the database URL: DATABASE_URL, or database `name` of the embedded server started for
    the duration (dropped and created again first when `fresh`)."""
    url = os.environ.get("DATABASE_URL", "")
    if url:
        yield url
        return
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    from pgserver import postgres_server  # the embedded server is only needed without DATABASE_URL

    DATA.mkdir(parents=True, exist_ok=True)
    server = postgres_server.get_server(DATA, cleanup_mode="stop")
    if fresh:
        server.psql(f"drop database if exists {name} with (force);")
    exists = server.psql(f"select 1 from pg_database where datname = '{name}';")
    if "(1 row)" not in exists:
        server.psql(f"create database {name};")
    url = server.get_uri(name)
    say(f"embedded PostgreSQL (data in {DATA.relative_to(ROOT)}): DATABASE_URL={url}")
    try:
        yield url
    finally:
        say("stopping the embedded PostgreSQL")


def migrate(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    done = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, env=env, check=False
    )
    if done.returncode:
        raise SystemExit(f"migration failed (exit {done.returncode})")
    say("schema migrated to head")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(host: str, port: int, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args!r} exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), 0.5):
            return
        time.sleep(0.2)
    raise SystemExit(f"nothing listens on {host}:{port} after {timeout_s:.0f} s")


class Children:
    """Child processes that stop together."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.stopping = False

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        say(f"starting {name}: {' '.join(args[1:])}")
        proc = subprocess.Popen(args, cwd=ROOT, env=env)
        self.procs.append((name, proc))
        return proc

    def stop(self, *_: object) -> None:
        if self.stopping:
            return
        self.stopping = True
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                say(f"stopping {name}")
                proc.send_signal(signal.SIGINT)
        for name, proc in reversed(self.procs):
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                say(f"{name} did not stop in 20 s; killing it")
                proc.kill()

    def supervise(self) -> int:
        while not self.stopping:
            for name, proc in self.procs:
                if proc.poll() is not None:
                    say(f"{name} exited with {proc.returncode}; stopping the rest")
                    self.stop()
                    return proc.returncode or 1
            time.sleep(0.3)
        return 0


def run_services(url: str, sim_args: list[str] | None) -> int:
    env = {**os.environ, "DATABASE_URL": url}
    env.setdefault("EXECUTOR_GRPC_ADDR", "127.0.0.1:50051")
    host, _, port = env["EXECUTOR_GRPC_ADDR"].rpartition(":")
    children = Children()
    signal.signal(signal.SIGTERM, children.stop)
    signal.signal(signal.SIGINT, children.stop)
    try:
        if sim_args is not None:
            sim_port = int(env.get("SIM_PORT") or free_port())
            sim = children.start(
                "simulator",
                [sys.executable, "-m", "sim", "--host", "127.0.0.1", "--port", str(sim_port), *sim_args],
                env,
            )
            wait_port("127.0.0.1", sim_port, sim, 60)
            env["SOLANA_RPC_HTTP"] = f"http://127.0.0.1:{sim_port}"
            env["SOLANA_RPC_WS"] = f"ws://127.0.0.1:{sim_port}"
        executor = children.start("executor", [sys.executable, "-m", "executor", "run"], env)
        wait_port(host.strip("[]"), int(port), executor, 60)
        children.start("strategy", [sys.executable, "-m", "strategy", "run"], env)
        say("running; Ctrl-C stops everything")
        return children.supervise()
    finally:
        children.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["migrate", "up", "demo", "run"])
    ap.add_argument(
        "--demo-db", action="store_true", help="embedded server: use the demo's database (pumpflow_demo)"
    )
    ap.add_argument("args", nargs="*", help="demo: extra simulator flags; run: the command to run (after --)")
    opts = ap.parse_args()
    demo = opts.command == "demo"
    with database(DEMO_DB if demo or opts.demo_db else EMBEDDED_DB, fresh=demo) as url:
        migrate(url)
        if opts.command == "migrate":
            return 0
        if opts.command == "run":
            return subprocess.run(
                opts.args, cwd=ROOT, env={**os.environ, "DATABASE_URL": url}, check=False
            ).returncode
        return run_services(url, opts.args if demo else None)


if __name__ == "__main__":
    sys.exit(main())
