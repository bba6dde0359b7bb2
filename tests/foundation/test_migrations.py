"""The schema migrates up and down on real Postgres and the services guard the revision."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import asyncpg
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from executor.config import ExecutorSettings
from executor.service import serve
from pumpflow.schema import SCHEMA_HEAD, SchemaNotAtHead
from tests.support import ROOT, executor_settings

SEED_TABLES = {
    "raw_logs", "transactions", "tokens", "curve_snapshots", "amm_snapshots", "features_1m",
    "holder_snapshots", "risk_flags", "intents", "orders", "fills",
}  # fmt: skip
ADDED_TABLES = {"trades", "fee_policy", "ingest_state", "events", "decode_errors"}
REQUIRED_COLUMNS = {
    "raw_logs": {"signature", "slot", "err", "logs"},
    "transactions": {"signature", "slot", "block_time", "err", "result"},
    "tokens": {"mint", "name", "symbol", "uri", "creator", "bonding_curve", "launched_slot", "status", "migrated_slot", "pool"},
    "trades": {"signature", "event_index", "slot", "mint", "trader", "is_buy", "sol_amount", "token_amount"},
    "curve_snapshots": {"mint", "slot", "virtual_sol_reserves", "virtual_token_reserves", "complete", "sold_pct"},
    "features_1m": {"mint", "minute", "venue", "trades", "uniq_signers", "uniq_buyers", "buy_sol", "sell_sol",
                    "net_inflow_sol", "avg_trade_sol", "trade_sol_stddev", "whale_share_top5"},
    "intents": {"intent_id", "status", "reject_reason", "signal_id", "params_hash", "reasons", "max_slippage_bps"},
    "ingest_state": {"key", "slot", "signature", "value"},
    "events": {"seq", "kind", "mint", "payload"},
}  # fmt: skip


def alembic(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=False,
    )


async def public_columns(url: str) -> dict[str, set[str]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "select table_name, column_name from information_schema.columns where table_schema = 'public'"
        )
    finally:
        await conn.close()
    out: dict[str, set[str]] = {}
    for r in rows:
        out.setdefault(r["table_name"], set()).add(r["column_name"])
    return out


def test_schema_head_constant_matches_the_newest_alembic_revision() -> None:
    script = ScriptDirectory.from_config(Config(toml_file=str(ROOT / "pyproject.toml")))
    assert script.get_heads() == [SCHEMA_HEAD]


async def test_upgrade_creates_every_seed_table_and_required_column(db_url: str) -> None:
    columns = await public_columns(db_url)
    assert set(columns) >= SEED_TABLES | ADDED_TABLES
    for table, required in REQUIRED_COLUMNS.items():
        assert required <= columns[table], f"{table} lacks {required - columns[table]}"


async def test_downgrade_base_removes_everything_and_upgrade_restores_it(db_url: str) -> None:
    down = await asyncio.to_thread(alembic, db_url, "downgrade", "base")
    assert down.returncode == 0, down.stderr
    assert set(await public_columns(db_url)) == {"alembic_version"}
    up = await asyncio.to_thread(alembic, db_url, "upgrade", "head")
    assert up.returncode == 0, up.stderr
    assert set(await public_columns(db_url)) >= SEED_TABLES | ADDED_TABLES


async def test_fee_policy_is_seeded_with_the_known_fee_history(db_url: str) -> None:
    conn = await asyncpg.connect(db_url)
    try:
        curve = await conn.fetch(
            "select protocol_fee_bps, creator_fee_bps from fee_policy where venue = 'PUMP_CURVE' order by effective_from"
        )
    finally:
        await conn.close()
    assert [(int(r[0]), int(r[1])) for r in curve] == [(100, 0), (95, 5), (95, 30)]


async def test_executor_refuses_to_start_on_an_unmigrated_database(empty_db_url: str) -> None:
    settings: ExecutorSettings = executor_settings(empty_db_url)
    with pytest.raises(SchemaNotAtHead, match="make migrate"):
        await serve(settings, asyncio.Event())


async def test_executor_process_exits_2_with_a_clear_message_when_not_at_head(empty_db_url: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "executor", "run",
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": empty_db_url, "EXECUTOR_METRICS_PORT": "0", "LOG_FORMAT": "json"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2
    assert b"not at head" in err and b"make migrate" in err


async def test_strategy_refuses_to_start_when_its_database_is_not_at_head(empty_db_url: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "strategy", "run",
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": empty_db_url, "STRATEGY_METRICS_PORT": "0"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2
    assert b"not at head" in err
