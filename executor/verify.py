"""`python -m executor verify`: one line per derived table with its row count and a sha256 over a
canonical text form of its rows, so two databases (or two runs) compare in one line each.

    tokens rows=49 sha256=4f0c...
    trades rows=1420 sha256=9a1e...

Canonical form (docs/replay.md): the rows are written by Postgres itself with
`COPY (select <columns> from <table> where <derived rows> order by <primary key>) TO STDOUT` in text
format, in a session pinned to UTC, ISO dates and hex bytea, so every value has exactly one spelling
(integers, numerics at their column scale, timestamps, jsonb, arrays). Primary-key text columns sort
with the "C" collation, so the order does not depend on the server's locale. The hash covers a header
line with the table name and the column list first, then the rows; `rows` is the line count.

What is left out, and why:
* wall-clock bookkeeping columns (`received_at`, `fetched_at`, `created_at`, `updated_at`,
  `observed_at`, `enqueued_at`): they say when a row was written, not what it holds. Chain-time
  columns such as `tokens.launched_at` or `trades.event_time` are kept;
* snapshot rows observed from accounts (`origin = 'account'` in curve_snapshots / amm_snapshots):
  they are raw observations, not derived from stored transactions, and replay keeps them as they are;
* whole tables that are not a function of the raw rows: raw tables, `decode_errors` (live records a
  logs-stage and a transaction-stage error for the same signature, replay decodes the preferred
  input once), service tables, and the `events` outbox, whose order and re-emissions depend on
  arrival (see docs/replay.md). `--events` adds an `events` line (seq, kind, mint, slot,
  signature, key, payload) to compare two rebuilt outboxes.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from executor.config import settings_for_command
from pumpflow.schema import Conn

DERIVED_TABLES = ("tokens", "trades", "curve_snapshots", "amm_snapshots", "features_1m", "risk_flags")
OUTBOX = "events"
WALL_CLOCK = frozenset(
    {"received_at", "fetched_at", "created_at", "updated_at", "observed_at", "enqueued_at"}
)
# Rows of a derived table that are observations rather than derivations (kept apart by replay too).
DERIVED_ROWS = {"curve_snapshots": "origin <> 'account'", "amm_snapshots": "origin <> 'account'"}
# One spelling per value, whatever the server's or the role's defaults are.
SESSION = (
    "set timezone to 'UTC'",
    "set datestyle to 'ISO, YMD'",
    "set intervalstyle to 'postgres'",
    "set extra_float_digits to 1",
    "set bytea_output to 'hex'",
)
TEXT_TYPES = frozenset({"text", "character varying", "character", "name", "citext"})


@dataclass(frozen=True, slots=True)
class TableShape:
    table: str
    columns: tuple[str, ...]
    key: tuple[tuple[str, bool], ...]  # primary-key columns in index order, and whether they are text


@dataclass(frozen=True, slots=True)
class TableDigest:
    table: str
    rows: int
    sha256: str

    def line(self) -> str:
        return f"{self.table} rows={self.rows} sha256={self.sha256}"


# Pure --------------------------------------------------------------------------------------------------


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def digest_query(shape: TableShape, where: str | None) -> str:
    columns = ", ".join(quote_ident(c) for c in shape.columns)
    order = ", ".join(f'{quote_ident(c)} collate "C"' if text else quote_ident(c) for c, text in shape.key)
    if not order:
        order = ", ".join(f"{i + 1}" for i in range(len(shape.columns)))
    condition = f" where {where}" if where else ""
    return f"select {columns} from {quote_ident(shape.table)}{condition} order by {order}"


def header(shape: TableShape) -> bytes:
    return f"{shape.table}\t{chr(9).join(shape.columns)}\n".encode()


def differing(ours: Sequence[TableDigest], theirs: Sequence[TableDigest]) -> list[str]:
    """Tables whose digest differs (or that only one side has), in our order."""
    other = {d.table: d for d in theirs}
    names = [d.table for d in ours] + [t for t in other if t not in {d.table for d in ours}]
    mine = {d.table: d for d in ours}
    return [t for t in names if mine.get(t) != other.get(t)]


# Database ----------------------------------------------------------------------------------------------


async def table_shape(conn: Conn, table: str) -> TableShape:
    """Columns (in table order, minus wall-clock ones) and primary key of `table` on the search path."""
    rows = await conn.fetch(
        "select attname as name from pg_attribute where attrelid = to_regclass($1) and attnum > 0 "
        "and not attisdropped order by attnum",
        quote_ident(table),
    )
    if not rows:
        raise LookupError(f"no table {table!r} in this database")
    keys = await conn.fetch(
        """
        select a.attname as name, format_type(a.atttypid, null) as type
        from pg_index i
        cross join lateral unnest(i.indkey) with ordinality as k(attnum, position)
        join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
        where i.indrelid = to_regclass($1) and i.indisprimary
        order by k.position
        """,
        quote_ident(table),
    )
    columns = tuple(r["name"] for r in rows if r["name"] not in WALL_CLOCK)
    key = tuple((r["name"], r["type"] in TEXT_TYPES) for r in keys)
    return TableShape(table, columns, key)


class _Hasher:
    def __init__(self, first: bytes) -> None:
        self.sha = hashlib.sha256(first)
        self.rows = 0

    async def __call__(self, chunk: bytes) -> None:
        self.sha.update(chunk)
        self.rows += chunk.count(b"\n")


async def prepare_session(conn: Conn) -> None:
    for statement in SESSION:
        await conn.execute(statement)


async def digest_table(conn: Conn, table: str) -> TableDigest:
    """Row count and sha256 of one table; call `prepare_session` on the connection first."""
    shape = await table_shape(conn, table)
    sink = _Hasher(header(shape))
    await conn.copy_from_query(digest_query(shape, DERIVED_ROWS.get(table)), output=sink)
    return TableDigest(table, sink.rows, sink.sha.hexdigest())


async def digest_tables(conn: Conn, tables: Sequence[str]) -> list[TableDigest]:
    await prepare_session(conn)
    return [await digest_table(conn, t) for t in tables]


async def digest_database(url: str, tables: Sequence[str]) -> list[TableDigest]:
    conn = await asyncpg.connect(url)
    try:
        return await digest_tables(conn, tables)
    finally:
        await conn.close()


# Command line ------------------------------------------------------------------------------------------

HELP = "print row count and sha256 per derived table (compare two databases with --compare)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--compare", metavar="URL", help="a second database: exit 1 naming the tables that differ"
    )
    parser.add_argument(
        "--events",
        action="store_true",
        help="add a line for the events outbox (meaningful between rebuilt outboxes)",
    )
    parser.add_argument(
        "--table",
        action="append",
        default=None,
        metavar="NAME",
        help="hash only these tables (repeatable; any table, wall-clock columns are left out)",
    )
    parser.set_defaults(func=command)


def tables_of(args: argparse.Namespace) -> list[str]:
    tables = list(args.table) if args.table else list(DERIVED_TABLES)
    if args.events and OUTBOX not in tables:
        tables.append(OUTBOX)
    return tables


def command(args: argparse.Namespace) -> int:
    url = settings_for_command("verify", database=True).database_url
    tables = tables_of(args)
    try:
        ours = asyncio.run(digest_database(url, tables))
        theirs = asyncio.run(digest_database(args.compare, tables)) if args.compare else None
    except (OSError, asyncpg.PostgresError, LookupError) as exc:
        print(f"executor verify: {exc}", file=sys.stderr)
        return 2
    for d in ours:
        print(d.line())
    if theirs is None:
        return 0
    differ = differing(ours, theirs)
    if not differ:
        print(f"verify: the {len(ours)} tables are identical in both databases", file=sys.stderr)
        return 0
    other = {d.table: d for d in theirs}
    for table in differ:
        print(f"differs: {other[table].line() if table in other else table + ' missing'}", file=sys.stderr)
    print(f"verify: {len(differ)} tables differ: {', '.join(differ)}", file=sys.stderr)
    return 1
