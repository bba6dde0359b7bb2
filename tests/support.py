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

import asyncpg

from executor.config import ExecutorSettings
from executor.service import Running, TaskFactory, serve

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT.parent / "shared" / "fixtures"


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
