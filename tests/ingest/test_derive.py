"""Derived rows from real mainnet transactions: both carriers give the same trade keys and values."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from executor.decode import decode_logs, decode_transaction
from executor.ingest.derive import PoolDirectory, derive, sold_pct
from tests.support import FIXTURES

TX_FILES = sorted((FIXTURES / "transactions").glob("*.json")) if FIXTURES.exists() else []
pytestmark = pytest.mark.skipif(not TX_FILES, reason=f"fixtures not found at {FIXTURES}")


def load(path: Path) -> dict:
    return json.loads(path.read_text())["result"]


@pytest.mark.parametrize("path", TX_FILES, ids=lambda p: p.name[:12])
def test_logs_and_transaction_carriers_derive_the_same_trades(path: Path) -> None:
    result = load(path)
    full = decode_transaction(result)
    logs = result["meta"].get("logMessages") or []
    from_logs = decode_logs(full.signature, full.slot, logs, result["meta"].get("err"))
    pools = PoolDirectory()
    by_tx = {t.key: t for t in derive(full, pools).trades}
    by_logs = {t.key: t for t in derive(from_logs, pools).trades}
    if full.truncated:
        assert set(by_logs) <= set(by_tx)
    else:
        assert set(by_logs) == set(by_tx)
    for key, t in by_logs.items():
        other = by_tx[key]
        ignore = (
            {"source", "block_time", "mint", "quote_mint", "price_sol"}
            if t.venue == "PUMP_AMM"
            else {"source", "block_time"}
        )
        differing = {
            f.name for f in dataclasses.fields(t) if getattr(t, f.name) != getattr(other, f.name)
        } - ignore
        assert not differing, f"{key}: {differing}"


@pytest.mark.parametrize("path", TX_FILES, ids=lambda p: p.name[:12])
def test_every_trade_row_is_exact_and_timed(path: Path) -> None:
    for t in derive(decode_transaction(load(path)), PoolDirectory()).trades:
        assert isinstance(t.sol_amount, int) and isinstance(t.token_amount, int)
        assert t.event_time > 1_600_000_000
        assert t.source in ("cpi", "logs", "balance_delta")
        if t.venue == "PUMP_CURVE":
            assert t.mint is not None and t.price_sol is not None


def test_a_pool_learned_from_a_migration_names_the_mint_of_later_logs_only_trades() -> None:
    pools = PoolDirectory()
    assert pools.learn("Pool1", "MintA", "So11111111111111111111111111111111111111112")
    assert not pools.learn("Pool1", "Other", "X")
    assert pools.get("Pool1") == ("MintA", "So11111111111111111111111111111111111111112")


def test_sold_pct_runs_from_zero_at_launch_to_one_hundred_at_completion() -> None:
    assert sold_pct(1_073_000_000_000_000) == 0
    assert sold_pct(279_900_000_000_000) == 100
    assert str(sold_pct(676_450_000_000_000)) == "50.000000"
