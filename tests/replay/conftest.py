"""Fixtures of the replay tests: one live ingest of simulated traffic under faults per module, which
tests copy (CREATE DATABASE ... TEMPLATE) and replay, and the helpers that drive the CLI."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from executor.ingest.pipeline import ingest_task
from executor.verify import DERIVED_TABLES, TableDigest, digest_database
from tests.support import (
    ROOT,
    admin_execute,
    executor_settings,
    running_executor,
    sim_process,
    until_ingested,
    with_database,
)

LATENESS = 30
FAULTS = "ws-drop:3s,dup:0.05,429:0.05,null-tx:2"
LIVE_SIM = ("--seed", "5", "--rate", "80", "--speed", "10", "--duration", "15", "--faults", FAULTS)


async def live_ingest(
    url: str, tmp: Path, sim_args: tuple[str, ...], **overrides: Any
) -> list[dict[str, Any]]:
    async with sim_process(tmp, *sim_args) as (http, ws, manifest):
        settings = executor_settings(
            url, solana_rpc_http=(http,), solana_rpc_ws=(ws,), reconcile_interval_s=2.0,
            features_lateness_s=LATENESS, **overrides,
        )  # fmt: skip
        async with running_executor(settings, (ingest_task,)):
            return await until_ingested(url, manifest, fetches_drained=True)


@pytest.fixture(name="live_db", scope="module")
def _live_db(pg_admin_url: str, template_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The name of a database filled by live ingest of simulated traffic with faults on (read-only:
    copy it with the `copies` fixture)."""
    name = f"pumpflow_live_{uuid.uuid4().hex[:8]}"
    asyncio.run(admin_execute(pg_admin_url, f"create database {name} template {template_db}"))
    try:
        asyncio.run(live_ingest(with_database(pg_admin_url, name), tmp_path_factory.mktemp("live"), LIVE_SIM))
        yield name
    finally:
        asyncio.run(admin_execute(pg_admin_url, f"drop database if exists {name} with (force)"))


class Copies:
    """Fresh copies of a database, dropped at the end of the test."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.names: list[str] = []

    async def of(self, source: str) -> str:
        name = f"pumpflow_c_{uuid.uuid4().hex[:10]}"
        await admin_execute(self.admin_url, f"create database {name} template {source}")
        self.names.append(name)
        return with_database(self.admin_url, name)

    async def drop(self) -> None:
        for name in self.names:
            await admin_execute(self.admin_url, f"drop database if exists {name} with (force)")


@pytest.fixture(name="copies")
async def _copies(pg_admin_url: str) -> AsyncIterator[Copies]:
    copies = Copies(pg_admin_url)
    yield copies
    await copies.drop()


def executor_cli(
    url: str, *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "executor", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "FEATURES_LATENESS_S": str(LATENESS), **(env or {})},
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


async def digests(url: str, events: bool = False) -> dict[str, TableDigest]:
    tables = [*DERIVED_TABLES, "events"] if events else list(DERIVED_TABLES)
    return {d.table: d for d in await digest_database(url, tables)}
