"""Plain helpers for tests (fixtures live in conftest.py): ports, database URLs, in-process services."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import orjson
import pytest

from executor.config import ExecutorSettings
from executor.runtime import Running, TaskFactory
from executor.service import serve
from sim.recorded import default_fixtures_dir

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = default_fixtures_dir()
# For tests that serve or read the recorded mainnet fixtures (shared/fixtures beside the checkout).
needs_fixtures = pytest.mark.skipif(
    not (FIXTURES / "INDEX.json").is_file(),
    reason=f"chain fixtures not found at {FIXTURES} (shared/fixtures beside the repo, or PUMPFLOW_FIXTURES)",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at another database (keeps query parameters such as host=)."""
    base, sep, query = url.partition("?")
    head, _, _ = base.rpartition("/")
    return f"{head}/{name}{sep}{query}"


def migrate_to_head(url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"alembic upgrade head failed:\n{done.stderr}")


async def admin_execute(admin_url: str, *statements: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def executor_settings(db_url: str, **overrides: Any) -> ExecutorSettings:
    """Settings for an in-process executor on free ports; RPC points at a closed port unless overridden."""
    dead = free_port()
    values: dict[str, Any] = {
        "database_url": db_url,
        "executor_grpc_addr": f"127.0.0.1:{free_port()}",
        "executor_metrics_port": 0,
        "solana_rpc_http": (f"http://127.0.0.1:{dead}",),
        "solana_rpc_ws": (f"ws://127.0.0.1:{dead}",),
        "heartbeat_interval_s": 0.2,
        "shutdown_grace_s": 0.5,
    }
    values.update(overrides)
    return ExecutorSettings(_env_file=None, **values)  # type: ignore[call-arg]


class ExecutorHandle:
    """An executor running inside the test's event loop; `stop()` shuts it down like SIGTERM would."""

    def __init__(self, running: Running, stop: asyncio.Event, task: asyncio.Task[None]) -> None:
        self.running = running
        self._stop = stop
        self._task = task

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.running.grpc_port}"

    async def stop(self) -> None:
        self._stop.set()
        await self._task


@contextlib.asynccontextmanager
async def running_executor(
    settings: ExecutorSettings, tasks: tuple[TaskFactory, ...] = ()
) -> AsyncIterator[ExecutorHandle]:
    stop = asyncio.Event()
    ready: asyncio.Future[Running] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve(settings, stop, tasks, started=ready.set_result))
    done, _ = await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # raises the start-up error
    handle = ExecutorHandle(ready.result(), stop, task)
    try:
        yield handle
    finally:
        if not task.done():
            await handle.stop()


@contextlib.asynccontextmanager
async def sim_process(tmp: Path, *args: str) -> AsyncIterator[tuple[str, str, Path]]:
    """`python -m sim` in its own process on a free port; yields (http url, ws url, manifest path)."""
    port = free_port()
    manifest = tmp / f"manifest-{port}.jsonl"
    log = (tmp / f"sim-{port}.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sim", "--host", "127.0.0.1", "--port", str(port), "--manifest", str(manifest), *args,
        cwd=ROOT, stdout=log, stderr=log,
    )  # fmt: skip
    try:
        async with asyncio.timeout(30):
            while True:
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                except OSError:
                    if proc.returncode is not None:
                        raise RuntimeError(f"simulator exited with {proc.returncode}") from None
                    await asyncio.sleep(0.1)
                    continue
                writer.close()
                break
        yield f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", manifest
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()
        log.close()


def manifest_rows(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    # The simulator may be mid-line: only complete lines count.
    complete = path.read_bytes().split(b"\n")[:-1]
    return [orjson.loads(line) for line in complete if line.strip()]


async def fetch(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def wait_settled(url: str, sql: str, *, quiet_s: float = 3.0, timeout_s: float = 90.0) -> int:
    """Poll a count until it stops changing for `quiet_s`; returns the final value."""
    last, still_since = -1, asyncio.get_running_loop().time()
    async with asyncio.timeout(timeout_s):
        while True:
            value = int((await fetch(url, sql))[0][0])
            now = asyncio.get_running_loop().time()
            if value != last:
                last, still_since = value, now
            elif now - still_since >= quiet_s:
                return value
            await asyncio.sleep(0.25)


async def until_ingested(
    url: str, manifest: Path, *, fetches_drained: bool = False, timeout_s: float = 120
) -> list[dict[str, Any]]:
    """Wait until the simulator stopped emitting (its manifest is quiet for 3 s), every signature it
    served is in raw_logs (and, with `fetches_drained`, nothing is left in fetch_queue), then until
    features_1m settles; returns the manifest rows."""
    loop = asyncio.get_running_loop()
    served, since, deadline = -1, loop.time(), loop.time() + timeout_s
    while True:
        rows = manifest_rows(manifest)
        if len(rows) != served:
            served, since = len(rows), loop.time()
        stored = {r["signature"] for r in await fetch(url, "select signature from raw_logs")}
        missing = {r["signature"] for r in rows} - stored
        queued = await fetch(url, "select signature, reason, attempts from fetch_queue")
        if rows and loop.time() - since >= 3 and not missing and not (fetches_drained and queued):
            break
        if loop.time() > deadline:
            errors = await fetch(url, "select signature, stage, reason from decode_errors")
            raise AssertionError(
                f"{len(missing)} served signatures never stored, e.g. {sorted(missing)[:3]}; "
                f"fetch_queue {len(queued)}: {[tuple(r) for r in queued[:5]]}; "
                f"decode_errors {[tuple(r) for r in errors[:5]]}"
            )
        await asyncio.sleep(0.5)
    await wait_settled(url, "select count(*) + coalesce(sum(trades), 0) from features_1m", quiet_s=3)
    return manifest_rows(manifest)


class PgProxy:
    """A TCP proxy in front of PostgreSQL that a test can cut, as if the server restarted."""

    def __init__(self, target_url: str) -> None:
        self.target_url = target_url
        parsed = urlsplit(target_url)
        query = dict(part.split("=", 1) for part in parsed.query.split("&") if "=" in part)
        self.socket_dir = query.get("host") if (query.get("host") or "").startswith("/") else None
        self.target = (parsed.hostname or "127.0.0.1", parsed.port or 5432)
        self.port = 0
        self.down = False
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        parsed = urlsplit(self.target_url)
        user = parsed.username or "postgres"
        return f"postgresql://{user}@127.0.0.1:{self.port}{parsed.path}"

    async def __aenter__(self) -> PgProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        self._drop()
        await self._server.wait_closed()

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.socket_dir is not None:
            return await asyncio.open_unix_connection(f"{self.socket_dir}/.s.PGSQL.{self.target[1]}")
        return await asyncio.open_connection(*self.target)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.down:
            writer.close()
            return
        up_reader, up_writer = await self._open()
        self._pipes.update((writer, up_writer))

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
        self._pipes.difference_update((writer, up_writer))

    def _drop(self) -> None:
        for w in list(self._pipes):
            w.close()
        self._pipes.clear()

    async def outage(self, seconds: float) -> None:
        """Close every connection and refuse new ones for `seconds`."""
        self.down = True
        self._drop()
        await asyncio.sleep(seconds)
        self.down = False
