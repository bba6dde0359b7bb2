"""Fixtures shared by the whole suite: a real PostgreSQL and in-process services on real sockets.

Database: DATABASE_URL when set (its server hosts throwaway databases; the database named in the URL is
never touched), otherwise an embedded PostgreSQL (pgserver) in a temporary directory. Once per session
a template database is migrated to head; every test that asks for `db_url` gets a fresh copy of it
(CREATE DATABASE ... TEMPLATE, a few tens of milliseconds), dropped afterwards.
Plain helpers (free_port, executor_settings, running_executor, ...) are in tests/support.py.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support import (
    ExecutorHandle,
    admin_execute,
    executor_settings,
    migrate_to_head,
    running_executor,
    with_database,
)


@pytest.fixture(name="pg_admin_url", scope="session")
def _pg_admin_url() -> Iterator[str]:
    url = os.environ.get("DATABASE_URL", "")
    if url:
        yield with_database(url, "postgres")
        return
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    import pgserver  # embedded server only when no DATABASE_URL is given

    # pgserver runs postgres as an unprivileged user when we are root: its directory must be reachable.
    data = Path(tempfile.mkdtemp(prefix="pumpflow-test-pg-"))
    data.chmod(0o755)
    server = pgserver.get_server(data, cleanup_mode="delete")
    yield server.get_uri("postgres")


@pytest.fixture(name="template_db", scope="session")
def _template_db(pg_admin_url: str) -> Iterator[str]:
    name = f"pumpflow_tpl_{uuid.uuid4().hex[:8]}"
    asyncio.run(admin_execute(pg_admin_url, f"create database {name}"))
    migrate_to_head(with_database(pg_admin_url, name))
    yield name
    asyncio.run(admin_execute(pg_admin_url, f"drop database if exists {name} with (force)"))


@pytest.fixture(name="db_url")
async def _db_url(pg_admin_url: str, template_db: str) -> AsyncIterator[str]:
    """A fresh database at schema head, dropped after the test."""
    name = f"pumpflow_t_{uuid.uuid4().hex[:10]}"
    await admin_execute(pg_admin_url, f"create database {name} template {template_db}")
    yield with_database(pg_admin_url, name)
    await admin_execute(pg_admin_url, f"drop database if exists {name} with (force)")


@pytest.fixture(name="other_db_url")
async def _other_db_url(pg_admin_url: str, template_db: str) -> AsyncIterator[str]:
    """A second fresh database at schema head, for comparing two runs."""
    name = f"pumpflow_o_{uuid.uuid4().hex[:10]}"
    await admin_execute(pg_admin_url, f"create database {name} template {template_db}")
    yield with_database(pg_admin_url, name)
    await admin_execute(pg_admin_url, f"drop database if exists {name} with (force)")


@pytest.fixture(name="empty_db_url")
async def _empty_db_url(pg_admin_url: str) -> AsyncIterator[str]:
    """A fresh database with no schema at all."""
    name = f"pumpflow_e_{uuid.uuid4().hex[:10]}"
    await admin_execute(pg_admin_url, f"create database {name}")
    yield with_database(pg_admin_url, name)
    await admin_execute(pg_admin_url, f"drop database if exists {name} with (force)")


@pytest.fixture(name="executor")
async def _executor(db_url: str) -> AsyncIterator[ExecutorHandle]:
    """A default executor (TRADING_DISABLED, unreachable RPC) on a fresh database."""
    async with running_executor(executor_settings(db_url)) as handle:
        yield handle
