"""`executor verify` against real Postgres: what the hash covers, what it leaves out, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

import asyncpg

from executor.verify import DERIVED_TABLES, digest_database
from tests.support import ROOT

TOKENS = "insert into tokens (mint, first_seen_slot, launched_at, name) values ($1, $2, $3, $4)"


async def seed(url: str, rows: list[tuple[str, int, str]]) -> None:
    conn = await asyncpg.connect(url)
    try:
        for mint, slot, name in rows:
            await conn.execute(TOKENS, mint, slot, datetime.fromtimestamp(1_790_000_000 + slot, UTC), name)
        await conn.execute(
            "insert into curve_snapshots (mint, slot, signature, event_index, origin, virtual_token_reserves, "
            "virtual_sol_reserves, complete, price_sol) values ('m', 1, 's', 0, 'account', 1, 1, false, 1)"
        )
    finally:
        await conn.close()


def verify_cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "executor", "verify", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


async def test_equal_contents_hash_equal_whatever_the_insert_order_locale_and_time_zone(
    db_url: str, other_db_url: str
) -> None:
    rows = [("b", 2, "Bee"), ("A", 1, "ay"), ("a", 3, "tab\there")]
    await seed(db_url, rows)
    await seed(other_db_url, list(reversed(rows)))
    conn = await asyncpg.connect(other_db_url)
    await conn.execute("update tokens set name = name")  # a new physical row version
    await conn.execute(
        f"alter database {other_db_url.rsplit('/', 1)[-1].split('?')[0]} set timezone to 'Asia/Kolkata'"
    )
    await conn.close()
    ours = await digest_database(db_url, DERIVED_TABLES)
    theirs = await digest_database(other_db_url, DERIVED_TABLES)
    assert ours == theirs
    assert ours[0].table == "tokens" and ours[0].rows == 3


async def test_any_change_of_a_derived_value_changes_the_hash_but_observed_rows_do_not_count(
    db_url: str,
) -> None:
    await seed(db_url, [("a", 1, "x")])
    before = {d.table: d for d in await digest_database(db_url, DERIVED_TABLES)}
    assert before["curve_snapshots"].rows == 0, "account snapshots are observations, not derived rows"
    conn = await asyncpg.connect(db_url)
    await conn.execute("update tokens set first_seen_slot = 2")
    after = {d.table: d for d in await digest_database(db_url, DERIVED_TABLES)}
    await conn.execute("update tokens set first_seen_slot = 1")
    await conn.execute("update curve_snapshots set virtual_sol_reserves = 5")
    back = {d.table: d for d in await digest_database(db_url, DERIVED_TABLES)}
    await conn.close()
    assert after["tokens"] != before["tokens"]
    assert back == before


async def test_wall_clock_columns_are_left_out(db_url: str) -> None:
    conn = await asyncpg.connect(db_url)
    await conn.execute("insert into raw_logs (signature, slot, logs, source) values ('s', 1, '{}', 'ws')")
    first = await digest_database(db_url, ["raw_logs"])
    await conn.execute("update raw_logs set received_at = received_at + interval '1 hour'")
    second = await digest_database(db_url, ["raw_logs"])
    await conn.close()
    assert first == second


async def test_the_cli_prints_one_line_per_table_and_compare_names_the_tables_that_differ(
    db_url: str, other_db_url: str
) -> None:
    await seed(db_url, [("a", 1, "x")])
    await seed(other_db_url, [("a", 1, "y")])
    alone = verify_cli(db_url)
    assert alone.returncode == 0, alone.stderr
    lines = alone.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(DERIVED_TABLES)
    assert lines[0].startswith("tokens rows=1 sha256=") and len(lines[0].split("sha256=")[1]) == 64
    same = verify_cli(db_url, "--compare", db_url)
    assert same.returncode == 0 and same.stdout == alone.stdout
    differ = verify_cli(db_url, "--compare", other_db_url)
    assert differ.returncode == 1
    assert "1 tables differ: tokens" in differ.stderr
    events = verify_cli(db_url, "--events")
    assert events.stdout.splitlines()[-1].startswith("events rows=0 ")
