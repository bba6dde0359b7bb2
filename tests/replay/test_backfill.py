"""Backfill of a simulated history equals live ingest of the same history."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from executor.ingest.pipeline import ingest_task
from tests.replay.conftest import LATENESS, Copies, digests, executor_cli
from tests.support import (
    executor_settings,
    fetch,
    manifest_rows,
    running_executor,
    sim_process,
    until_ingested,
)

pytestmark = pytest.mark.slow
BASE_SLOT = 420_000_000
HISTORY = ("--seed", "23", "--rate", "70", "--speed", "10", "--duration", "15", "--start", "immediate")


async def test_backfill_of_a_simulated_history_equals_live_ingest_of_it(
    copies: Copies, template_db: str, tmp_path: Path
) -> None:
    live, back = await copies.of(template_db), await copies.of(template_db)
    async with sim_process(tmp_path, *HISTORY) as (http, ws, manifest):
        # Live: the executor follows the chain as it is made (every transaction fetched, so both
        # databases hold the same inputs); the first second, before it subscribed, is swept.
        await live_ingest_on(live, http, ws, manifest)
        # Backfill: the chain is history now; a fresh executor runs, `backfill` queues the history.
        settings = executor_settings(
            back, solana_rpc_http=(http,), solana_rpc_ws=(ws,), reconcile_interval_s=1.0,
            features_lateness_s=LATENESS,
        )  # fmt: skip
        async with running_executor(settings, (ingest_task,)):
            env = {"SOLANA_RPC_HTTP": http, "SOLANA_RPC_WS": ws}
            done = await asyncio.to_thread(
                executor_cli, back, "backfill", "--since", str(BASE_SLOT), "--wait", env=env
            )
            assert done.returncode == 0, done.stderr[-2000:]
            summary = orjson.loads(done.stdout)
            await until_ingested(back, manifest, fetches_drained=True)
            again = await asyncio.to_thread(
                executor_cli, back, "backfill", "--since", str(BASE_SLOT), "--no-wait", env=env
            )
    served = manifest_rows(manifest)
    assert summary["queued"] == len(served) and summary["still_queued"] == 0
    assert orjson.loads(again.stdout)["queued"] == 0, "a finished backfill is not walked again"
    sources = await fetch(back, "select source, count(*) as n from raw_logs group by source")
    assert {r["source"]: r["n"] for r in sources} == {"backfill": len(served)}
    assert await digests(back) == await digests(live)
    assert (await digests(live))["trades"].rows > 500


async def live_ingest_on(url: str, http: str, ws: str, manifest: Path) -> None:
    settings = executor_settings(
        url, solana_rpc_http=(http,), solana_rpc_ws=(ws,), reconcile_interval_s=2.0,
        features_lateness_s=LATENESS, fetch_policy="all", ingest_initial_backfill=1000,
    )  # fmt: skip
    async with running_executor(settings, (ingest_task,)):
        await until_ingested(url, manifest, fetches_drained=True)
