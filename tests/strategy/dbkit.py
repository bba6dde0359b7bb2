"""Database helpers for the strategy tests: write a stream into the executor's `events` outbox."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import asyncpg

from strategy.events import event_to_pb
from strategy.sdk import StreamEvent
from tests.strategy.streams import golden_stream


@contextlib.asynccontextmanager
async def connect(url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(url)
    try:
        yield conn
    finally:
        await conn.close()


def _row(event: StreamEvent, columns: list[str]) -> tuple[object, ...]:
    wire = event_to_pb(event)
    chain = getattr(event, "chain", None)
    values = {
        "seq": event.seq,
        "kind": event.kind.upper(),
        "mint": event.mint,
        "slot": chain.slot if chain is not None else None,
        "signature": chain.signature if chain is not None else None,
        "key": f"{event.mint}:{event.seq}",
        "payload": wire.SerializeToString(deterministic=True),
    }
    return tuple(values[c] for c in columns)


async def store_golden(db_url: str) -> list[StreamEvent]:
    """Write the golden stream into the executor's outbox, rows shaped as the executor writes them
    (start an executor afterwards and it serves them from `from_seq`)."""
    events = golden_stream()
    async with connect(db_url) as conn:
        present = {
            r["column_name"]
            for r in await conn.fetch(
                "select column_name from information_schema.columns where table_name = 'events'"
            )
        }
        columns = [c for c in ("seq", "kind", "mint", "slot", "signature", "key", "payload") if c in present]
        await conn.copy_records_to_table(
            "events", records=[_row(e, columns) for e in events], columns=columns
        )
    return events
