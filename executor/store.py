"""Postgres adapter: the connection pool, intents, the events outbox and ingest bookkeeping.

The only module of the service layer that speaks SQL for these tables, and the only place that catches
asyncpg's own exception classes (they become executor.errors.StoreError / StoreUnavailable).
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson

from executor.errors import StoreConflict, StoreError, StoreUnavailable
from executor.intents import Decision, IntentRecord
from pumpflow.schema import Conn, check_schema

# Errors that mean "the server or the connection went away"; everything else is a bug or bad data.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    ConnectionError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.InterfaceError,
    TimeoutError,
    ssl.SSLError,
)


@contextlib.asynccontextmanager
async def translate_errors(what: str) -> AsyncIterator[None]:
    try:
        yield
    except UNAVAILABLE as exc:
        raise StoreUnavailable(f"{what}: database unavailable ({type(exc).__name__}: {exc})") from exc
    except asyncpg.exceptions.TransactionRollbackError as exc:
        raise StoreConflict(f"{what}: {type(exc).__name__}: {exc}") from exc
    except asyncpg.PostgresError as exc:
        raise StoreError(f"{what}: {type(exc).__name__}: {exc}") from exc


async def init_connection(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    # Binary format (a version byte, then the JSON text) so that COPY can carry jsonb too.
    await conn.set_type_codec(
        "jsonb",
        encoder=lambda v: b"\x01" + orjson.dumps(v),
        decoder=lambda b: orjson.loads(b[1:]),
        schema="pg_catalog",
        format="binary",
    )


async def create_pool(url: str, size: int) -> asyncpg.Pool[asyncpg.Record]:
    async with translate_errors("connect"):
        pool = await asyncpg.create_pool(url, min_size=1, max_size=size, init=init_connection)
    assert pool is not None
    return pool


# One writer of the derived tables and the events outbox per database: live ingest's writer and
# `executor replay` hold this session-level advisory lock (two writers would interleave seq
# allocation and the processor's in-memory state). Released when the session ends.
WRITER_LOCK = 0x7075_6D70_666C_6F77  # "pumpflow"


async def try_writer_lock(conn: Conn) -> bool:
    """Take the writer lock on this session if it is free; False when another session holds it."""
    return bool(await conn.fetchval("select pg_try_advisory_lock($1)", WRITER_LOCK))


async def writer_lock(conn: Conn, on_wait: Callable[[], None] | None = None) -> None:
    """Take the writer lock on this session, waiting while another session (a replay) holds it;
    `on_wait` is called once before waiting."""
    if await try_writer_lock(conn):
        return
    if on_wait is not None:
        on_wait()
    await conn.execute("select pg_advisory_lock($1)", WRITER_LOCK)


async def save_state(conn: Conn, key: str, slot: int | None, signature: str | None, value: Any) -> None:
    """Upsert one `ingest_state` row (a resumable command's cursor)."""
    await conn.execute(
        "insert into ingest_state (key, slot, signature, value, updated_at) values ($1, $2, $3, $4, now()) "
        "on conflict (key) do update set slot = excluded.slot, signature = excluded.signature, "
        "value = excluded.value, updated_at = now()",
        key,
        slot,
        signature,
        value,
    )


@dataclass(frozen=True, slots=True)
class StoredIntent:
    status: str
    reason: str
    message: str
    received_at_ms: int
    request_sha256: str


@dataclass(frozen=True, slots=True)
class OutboxRow:
    seq: int
    kind: str
    mint: str | None
    slot: int | None
    signature: str | None
    key: str
    payload: bytes


class Store:
    def __init__(self, pool: asyncpg.Pool[asyncpg.Record]) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, url: str, size: int) -> tuple[Store, str]:
        """Connect and check the schema; returns the store and the database's schema revision."""
        pool = await create_pool(url, size)
        try:
            async with translate_errors("schema check"), pool.acquire() as conn:
                revision = await check_schema(conn)
        except BaseException:
            await pool.close()
            raise
        return cls(pool), revision

    async def close(self) -> None:
        await self.pool.close()

    # Intents -------------------------------------------------------------------------------------------

    async def record_intent(self, rec: IntentRecord, decision: Decision) -> tuple[StoredIntent, bool]:
        """Insert the intent with its decision; on a repeated intent_id return the stored row instead.

        Returns (stored answer, duplicate)."""
        async with translate_errors("record intent"), self.pool.acquire() as conn:
            row = await conn.fetchrow(
                """
                insert into intents (intent_id, signal_id, signal_version, params_hash, mint, venue, side,
                    size_lamports, max_slippage_bps, ttl_ms, reasons, trigger, as_of, evidence,
                    request_sha256, status, reject_reason)
                values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
                on conflict (intent_id) do nothing
                returning status, reject_reason, received_at, request_sha256
                """,
                rec.intent_id, rec.signal_id, rec.signal_version, rec.params_hash, rec.mint, rec.venue,
                rec.side, rec.size_lamports, rec.max_slippage_bps, rec.ttl_ms, list(rec.reasons),
                rec.trigger, rec.as_of, rec.evidence, rec.request_sha256, decision.status,
                decision.reason or None,
            )  # fmt: skip
            duplicate = row is None
            if duplicate:
                row = await conn.fetchrow(
                    "select status, reject_reason, received_at, request_sha256 from intents where intent_id = $1",
                    rec.intent_id,
                )
        assert row is not None
        message = (
            decision.message if not duplicate else "intent_id seen before; the stored answer is returned"
        )
        stored = StoredIntent(
            status=row["status"],
            reason=row["reject_reason"] or "",
            message=message,
            received_at_ms=int(row["received_at"].timestamp() * 1000),
            request_sha256=row["request_sha256"],
        )
        return stored, duplicate

    # Events outbox -------------------------------------------------------------------------------------

    async def outbox_bounds(self) -> tuple[int, int]:
        """(oldest held seq, head seq); (0, 0) when the outbox is empty."""
        async with translate_errors("outbox bounds"), self.pool.acquire() as conn:
            row = await conn.fetchrow(
                "select coalesce(min(seq), 0) as lo, coalesce(max(seq), 0) as hi from events"
            )
        assert row is not None
        return int(row["lo"]), int(row["hi"])

    async def append_events(self, conn: Conn, rows: Sequence[OutboxRow]) -> None:
        """Write outbox rows inside the caller's transaction (the caller owns seq allocation)."""
        await conn.copy_records_to_table(
            "events",
            records=[(r.seq, r.kind, r.mint, r.slot, r.signature, r.key, r.payload) for r in rows],
            columns=("seq", "kind", "mint", "slot", "signature", "key", "payload"),
        )

    async def read_events(
        self, from_seq: int, upto_seq: int, kinds: Sequence[str], mints: Sequence[str], limit: int
    ) -> list[tuple[int, bytes]]:
        """Outbox rows with from_seq <= seq <= upto_seq matching the filters, oldest first."""
        clauses = ["seq >= $1", "seq <= $2"]
        args: list[Any] = [from_seq, upto_seq]
        if kinds:
            args.append(list(kinds))
            clauses.append(f"kind = any(${len(args)})")
        if mints:
            args.append(list(mints))
            clauses.append(f"(mint is null or mint = any(${len(args)}))")
        args.append(limit)
        sql = f"select seq, payload from events where {' and '.join(clauses)} order by seq limit ${len(args)}"
        async with translate_errors("read events"), self.pool.acquire() as conn:
            rows = await conn.fetch(sql, *args)
        return [(int(r["seq"]), bytes(r["payload"])) for r in rows]

    async def prune_events(self, keep: int) -> int:
        """Delete all but the newest `keep` events; returns how many were deleted."""
        async with translate_errors("prune events"), self.pool.acquire() as conn:
            status = await conn.execute(
                "delete from events where seq <= (select max(seq) from events) - $1", keep
            )
        return int(status.rsplit(" ", 1)[-1])
