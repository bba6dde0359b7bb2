"""Shared fixtures of the decoder tests: the recorded chain data in <repo>/../shared/fixtures.

Tests that take `tx_row`, `account_row` or `fragment_row` are parametrized over the INDEX.json
rows of that kind; when the fixture folder is missing they are skipped with the reason.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sim.recorded import default_fixtures_dir

FIXTURES = default_fixtures_dir()
MISSING_REASON = (
    f"chain fixtures not found at {FIXTURES} (shared/fixtures beside the repo, or PUMPFLOW_FIXTURES)"
)


def _index() -> list[dict[str, Any]]:
    path = FIXTURES / "INDEX.json"
    if not path.is_file():
        return []
    rows: list[dict[str, Any]] = json.loads(path.read_text("utf-8"))
    return rows


INDEX = _index()
_PARAMETRIZED: dict[str, Callable[[dict[str, Any]], bool]] = {
    "tx_row": lambda row: row["kind"] == "transaction",
    "tx_row_with_expected": lambda row: row["kind"] == "transaction" and bool(row["expected"]),
    "tx_row_with_tradeevent": lambda row: (
        row["kind"] == "transaction" and row["tradeevent_payload_len"] is not None
    ),
    "account_row": lambda row: row["kind"] == "account",
    "fragment_row": lambda row: row["kind"] in ("event", "instruction"),
}


def _row_id(row: dict[str, Any]) -> str:
    name = Path(row["file"]).name
    return f"{'+'.join(row['what'])}:{name[:14]}{'.parsed' if 'jsonParsed' in name else ''}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for argname, wanted in _PARAMETRIZED.items():
        if argname not in metafunc.fixturenames:
            continue
        rows = [row for row in INDEX if wanted(row)]
        if rows:
            metafunc.parametrize(argname, rows, ids=[_row_id(row) for row in rows])
        else:
            metafunc.parametrize(argname, [pytest.param(None, marks=pytest.mark.skip(reason=MISSING_REASON))])


@pytest.fixture(name="fixtures_dir", scope="session")
def _fixtures_dir() -> Path:
    if not (FIXTURES / "INDEX.json").is_file():
        pytest.skip(MISSING_REASON)
    return FIXTURES


@pytest.fixture(name="load_json", scope="session")
def _load_json(fixtures_dir: Path) -> Any:
    cache: dict[str, Any] = {}

    def load(relative: str) -> Any:
        if relative not in cache:
            cache[relative] = json.loads((fixtures_dir / relative).read_text("utf-8"))
        return copy.deepcopy(cache[relative])

    return load


@pytest.fixture(name="tx_result", scope="session")
def _tx_result(load_json: Any, fixtures_dir: Path) -> Any:
    """`tx_result("3S2vFsz")`: a deep copy of the getTransaction result whose file name starts so."""

    def find(prefix: str) -> dict[str, Any]:
        matches = sorted(p.name for p in (fixtures_dir / "transactions").glob(f"{prefix}*.json"))
        primary = [name for name in matches if name.count(".") == 1]
        if not primary:
            raise LookupError(f"no transaction fixture starts with {prefix}")
        result: dict[str, Any] = load_json(f"transactions/{primary[0]}")["result"]
        return result

    return find


@pytest.fixture(name="all_tx_results", scope="session")
def _all_tx_results(load_json: Any) -> list[dict[str, Any]]:
    return [load_json(row["file"])["result"] for row in INDEX if row["kind"] == "transaction"]
