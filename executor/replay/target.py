"""Where a replay writes: the live tables in place, or fresh tables in a scratch schema swapped in at
the end; and what it clears before it starts.

* in place: a full replay empties the derived tables (and the outbox with `--events rebuild`) in
  its first transaction; every chunk then commits on its own. Readers see the tables fill up again.
* fresh: the derived tables are created empty in the schema `replay_build` (same columns, checks,
  keys, indexes and names), the replay writes there through the connection's search_path (the
  processor's SQL is unqualified), and one last transaction moves the old tables out and the new
  ones in. Readers see the old tables until then; an interrupted or failed replay leaves them as
  they were. Privileges granted on the old tables are not carried over; a view on one stops the swap.
* a partial replay (slot range and/or mints) deletes the derived rows that belong to it and keeps
  everything else; `replay_build.stale_buckets` remembers the feature buckets of the deleted trades
  so that the last transaction can recompute (or delete) the ones no replayed trade touched again.

Rows observed from accounts (`origin = 'account'` snapshots) are raw observations: never deleted,
copied into fresh tables as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from executor.replay.options import BUILD_SCHEMA, ReplayOptions
from executor.verify import DERIVED_TABLES, OUTBOX
from pumpflow.schema import Conn

OBSERVED = {"curve_snapshots": "origin = 'account'", "amm_snapshots": "origin = 'account'"}
OLD_SCHEMA = "replay_old"

# Partial replays. $1 from slot, $2 to slot (null: open), $3 mints (null: all), $4 pools of the mints.
IN_RANGE = "($1::bigint is null or slot >= $1) and ($2::bigint is null or slot <= $2)"
TRADES_OF = (
    f"{IN_RANGE} and ($3::text[] is null or mint = any($3) or (mint is null and pool = any($4::text[])))"
)
OF_MINTS = "($3::text[] is null or mint = any($3))"
# table -> (condition, whether it takes the pools argument $4)
PARTIAL_DELETES = {
    "trades": (TRADES_OF, True),
    "curve_snapshots": (f"origin <> 'account' and {IN_RANGE} and {OF_MINTS}", False),
    "amm_snapshots": (
        f"origin <> 'account' and {IN_RANGE} and ($3::text[] is null or base_mint = any($3) or pool = any($4::text[]))",
        True,
    ),
    "risk_flags": (f"{IN_RANGE} and {OF_MINTS}", False),
}
# Token facts by the slot they come from (the columns the processor's launch, complete and migration
# updates write); `first_seen_slot` keeps its earliest-wins value. $1/$2 slot range, $3 mints.
RESET = "($1::bigint is null or {column} >= $1) and ($2::bigint is null or {column} <= $2) and {mints}"
TOKEN_RESETS = (
    "update {tokens} set name = null, symbol = null, uri = null, creator = null, launched_by = null, "
    "bonding_curve = null, token_program = null, is_mayhem_mode = null, quote_mint = null, launch_signature = null, "
    "launch_event_index = null, launched_slot = null, launched_at = null, launch_ix = null, layout_version = null "
    "where " + RESET.format(column="launched_slot", mints=OF_MINTS),
    "update {tokens} set complete_slot = null, complete_signature = null, "
    "status = case when status = 'migrated' then status else 'bonding' end "
    "where " + RESET.format(column="complete_slot", mints=OF_MINTS),
    "update {tokens} set migrated_slot = null, migrated_signature = null, pool = null, "
    "status = case when complete_slot is null then 'bonding' else 'complete' end "
    "where " + RESET.format(column="migrated_slot", mints=OF_MINTS),
)
# Secondary indexes no processor query needs: a fresh build creates them at the end, in one pass, rather
# than maintaining them row by row (any index not named here is created before the build).
DEFERRED_INDEXES = frozenset(
    {
        "trades_mint_slot_idx",
        "trades_slot_idx",
        "trades_trader_idx",
        "amm_snapshots_base_mint_idx",
        "features_1m_minute_idx",
        "tokens_launched_slot_idx",
        "risk_flags_active_idx",
        "events_mint_seq_idx",
    }
)
STALE_TABLE = f"{BUILD_SCHEMA}.stale_buckets"
MINUTE_OF = "to_timestamp(floor(extract(epoch from event_time) / 60) * 60)"


@dataclass(frozen=True, slots=True)
class Target:
    """The schema a replay writes to and how it was prepared."""

    live: str  # the schema holding the application's tables (normally public)
    options: ReplayOptions

    @property
    def schema(self) -> str:
        return BUILD_SCHEMA if self.options.target == "fresh" else self.live

    @property
    def tables(self) -> tuple[str, ...]:
        return DERIVED_TABLES + ((OUTBOX,) if self.options.events == "rebuild" else ())

    def qualified(self, table: str) -> str:
        return f"{self.schema}.{table}"

    async def enter(self, conn: Conn) -> None:
        """Point the session at the target: unqualified names resolve to the fresh tables first."""
        if self.options.target == "fresh":
            await conn.execute(f"set search_path to {BUILD_SCHEMA}, {self.live}")

    # First transaction ---------------------------------------------------------------------------------

    async def begin(self, conn: Conn) -> None:
        """Prepare the target inside the caller's transaction (the one that writes the cursor)."""
        await conn.execute(f"drop schema if exists {BUILD_SCHEMA} cascade")
        await conn.execute(f"create schema {BUILD_SCHEMA}")
        if self.options.target == "fresh":
            for table in self.tables:
                await self._create_like(conn, table)
        if self.options.partial:
            await self._clear_partial(conn)
        elif self.options.target == "in-place":
            await self._clear_all(conn)

    async def _create_like(self, conn: Conn, table: str) -> None:
        live, build = f"{self.live}.{table}", f"{BUILD_SCHEMA}.{table}"
        await conn.execute(
            f"create table {build} (like {live} including defaults including constraints including generated "
            "including identity including storage including comments)"
        )
        if self.options.partial:
            await conn.execute(f"insert into {build} select * from {live}")
        elif table in OBSERVED:
            await conn.execute(f"insert into {build} select * from {live} where {OBSERVED[table]}")
        for name, statement in await index_statements(conn, self.live, table, BUILD_SCHEMA):
            if name not in DEFERRED_INDEXES:
                await conn.execute(statement)

    async def _clear_all(self, conn: Conn) -> None:
        for table in self.tables:
            observed = OBSERVED.get(table)
            if observed and await conn.fetchval(
                f"select exists (select 1 from {self.live}.{table} where {observed})"
            ):
                await conn.execute(f"delete from {self.live}.{table} where not ({observed})")
            else:
                await conn.execute(f"truncate {self.live}.{table}")

    async def _clear_partial(self, conn: Conn) -> None:
        args = await self.partial_args(conn)
        schema = self.schema
        await conn.execute(
            f"create table {STALE_TABLE} (mint text, minute timestamptz, venue text, primary key (mint, minute, venue))"
        )
        await conn.execute(
            f"insert into {STALE_TABLE} select distinct mint, {MINUTE_OF}, venue from {schema}.trades "
            f"where {TRADES_OF} and mint is not null and quote_mint is null",
            *args,
        )
        for table, (condition, with_pools) in PARTIAL_DELETES.items():
            await conn.execute(
                f"delete from {schema}.{table} where {condition}", *(args if with_pools else args[:3])
            )
        if self.options.mints and self.options.from_slot is None and self.options.to_slot is None:
            # Every fact of these tokens comes from the replayed inputs: rebuild their rows whole.
            await conn.execute(
                f"delete from {schema}.tokens where mint = any($1::text[])", list(self.options.mints)
            )
            return
        # A range: forget the token facts that came from inside it, so that the replayed launches count
        # as new (the serial-launcher rule runs again for their creators) and stale facts go away.
        for reset in TOKEN_RESETS:
            await conn.execute(reset.format(tokens=f"{schema}.tokens"), *args[:3])

    async def partial_args(self, conn: Conn) -> list[Any]:
        mints = sorted(self.options.mints) or None
        return [
            self.options.from_slot,
            self.options.to_slot,
            mints,
            await self.pools_of(conn) if mints else [],
        ]

    async def pools_of(self, conn: Conn) -> list[str]:
        """PumpSwap pools of the replayed mints, as the derived tables know them."""
        rows = await conn.fetch(
            f"select pool from {self.schema}.tokens where mint = any($1::text[]) and pool is not null "
            f"union select distinct pool from {self.schema}.amm_snapshots where base_mint = any($1::text[])",
            sorted(self.options.mints),
        )
        return sorted(r["pool"] for r in rows)

    # Last transaction ----------------------------------------------------------------------------------

    async def stale_buckets(self, conn: Conn) -> list[tuple[str, int, str]]:
        if not self.options.partial:
            return []
        rows = await conn.fetch(
            f"select mint, extract(epoch from minute)::bigint as minute, venue from {STALE_TABLE} order by 1, 2, 3"
        )
        return [(r["mint"], int(r["minute"]), r["venue"]) for r in rows]

    async def finish(self, conn: Conn) -> None:
        """Swap fresh tables in (inside the caller's transaction) and drop the scratch schema."""
        if self.options.target == "fresh":
            await conn.execute(f"set search_path to {self.live}")
            for table in self.tables:
                for name, statement in await index_statements(conn, self.live, table, BUILD_SCHEMA):
                    if name in DEFERRED_INDEXES:
                        await conn.execute(statement)
            names = ", ".join(f"{self.live}.{t}" for t in self.tables)
            await conn.execute(f"lock table {names} in access exclusive mode")
            await conn.execute(f"drop schema if exists {OLD_SCHEMA} cascade")
            await conn.execute(f"create schema {OLD_SCHEMA}")
            for table in self.tables:
                await conn.execute(f"alter table {self.live}.{table} set schema {OLD_SCHEMA}")
                await conn.execute(f"alter table {BUILD_SCHEMA}.{table} set schema {self.live}")
            # Not cascade: a view on an old table stops the swap (rolled back) rather than vanishing.
            for table in self.tables:
                await conn.execute(f"drop table {OLD_SCHEMA}.{table}")
            await conn.execute(f"drop schema {OLD_SCHEMA}")
        await conn.execute(f"drop schema if exists {BUILD_SCHEMA} cascade")

    async def analyze(self, conn: Conn) -> None:
        if self.options.target == "fresh":
            for table in self.tables:
                await conn.execute(f"analyze {self.live}.{table}")


async def discard(conn: Conn) -> None:
    """Forget an interrupted replay's scratch schema (the caller deletes its cursor)."""
    await conn.execute(f"drop schema if exists {BUILD_SCHEMA} cascade")


async def index_statements(conn: Conn, live: str, table: str, schema: str) -> list[tuple[str, str]]:
    """(name, DDL) that give `schema.table` the keys and indexes of `live.table`, under the same names."""
    constraints = await conn.fetch(
        "select conname, pg_get_constraintdef(oid) as definition, conindid from pg_constraint "
        "where conrelid = to_regclass($1) and contype in ('p', 'u', 'x') order by conname",
        f"{live}.{table}",
    )
    statements = [
        (c["conname"], f"alter table {schema}.{table} add constraint {c['conname']} {c['definition']}")
        for c in constraints
    ]
    backing = [c["conindid"] for c in constraints]
    indexes = await conn.fetch(
        "select c.relname as name, pg_get_indexdef(i.indexrelid) as definition from pg_index i "
        "join pg_class c on c.oid = i.indexrelid "
        "where i.indrelid = to_regclass($1) and not (i.indexrelid = any($2::oid[])) order by 1",
        f"{live}.{table}",
        backing,
    )
    for ix in indexes:
        on_live = f" ON {live}.{table} USING "
        if on_live not in ix["definition"]:
            raise RuntimeError(f"unexpected index definition, cannot copy it: {ix['definition']}")
        statements.append((ix["name"], ix["definition"].replace(on_live, f" ON {schema}.{table} USING ", 1)))
    return statements
