"""Raw inputs in canonical order: chunk boundaries over `raw_logs`, and the rows of each chunk read
and decoded into the processor's inputs, in worker processes when there are cores to spare.

Canonical order is (slot, signature) with signatures compared byte-wise (the "C" collation), so
it is the same on every server whatever its locale; the position of a transaction within its block
is not stored by ingest and so cannot take part. Within a transaction, events keep their
`event_index` order (the decoder's). A chunk is `chunk` consecutive raw rows; its rows come with
their fetched transaction when there is one, which is preferred over the logs exactly as
`executor.ingest.processor.stored_inputs` does, and are turned into inputs by the same
`logs_input` / `tx_input` functions live ingest uses.

Decoding is pure, so chunks are read and decoded ahead by a pool of processes (each with its own
database connection) while the main process applies the previous chunk; results come back in
chunk order. Inputs travel back without their raw payload (`logs`, `result`): replay applies them
with `persist_raw=False`, which never reads it, and pickling it back would cost as much as decoding.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import multiprocessing
import signal
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson

from executor.ingest.processor import Input, logs_input, tx_input
from executor.replay.options import Key
from pumpflow.schema import Conn

I64_MAX = 2**63 - 1
BOUNDS_SQL = """
select slot, signature, n, total from (
    select slot, signature, row_number() over w as n, count(*) over () as total
    from raw_logs
    where (slot, signature collate "C") > ($1::bigint, $2::text) and slot <= $3::bigint
    window w as (order by slot, signature collate "C")
) k
where n % $4 = 0 or n = total
order by n
"""
CHUNK_SQL = """
select r.signature, r.slot, r.err::text as err, r.logs, t.result::text as result, t.encoding
from raw_logs r left join transactions t using (signature)
where r.slot >= $1::bigint and r.slot <= $3::bigint
  and (r.slot, r.signature collate "C") > ($1::bigint, $2::text)
  and (r.slot, r.signature collate "C") <= ($3::bigint, $4::text)
order by r.slot, r.signature collate "C"
"""


@dataclass(frozen=True, slots=True)
class Plan:
    """The chunks still to replay: the last key of each, and how many raw rows they hold."""

    ends: tuple[Key, ...]
    rows: int


async def plan(conn: Conn, after: Key, to_slot: int | None, chunk: int) -> Plan:
    rows = await conn.fetch(BOUNDS_SQL, after[0], after[1], I64_MAX if to_slot is None else to_slot, chunk)
    return Plan(tuple((r["slot"], r["signature"]) for r in rows), int(rows[-1]["total"]) if rows else 0)


def input_of(
    signature: str, slot: int, err: str | None, logs: Sequence[str], result: str | None, encoding: str | None
) -> Input:
    """One stored raw row (with its transaction, if fetched) as the processor's input."""
    if result is not None:
        item = tx_input(orjson.loads(result), encoding or "json", "transaction", None, signature)
        return dataclasses.replace(item, result={})
    parsed_err = orjson.loads(err) if err is not None else None
    return dataclasses.replace(logs_input(signature, slot, parsed_err, list(logs), "ws", None), logs=[])


def inputs_of(rows: Sequence[Any]) -> list[Input]:
    return [
        input_of(r["signature"], r["slot"], r["err"], r["logs"], r["result"], r["encoding"]) for r in rows
    ]


async def read_chunk(conn: Conn, lo: Key, hi: Key) -> list[Input]:
    return inputs_of(await conn.fetch(CHUNK_SQL, lo[0], lo[1], hi[0], hi[1]))


# Worker processes --------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Worker:
    loop: asyncio.AbstractEventLoop
    conn: asyncpg.Connection[asyncpg.Record]


_worker: _Worker | None = None


def _init_worker(url: str) -> None:
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the pool
    loop = asyncio.new_event_loop()
    conn = loop.run_until_complete(asyncpg.connect(url))
    _worker = _Worker(loop, conn)


def _read_in_worker(lo: Key, hi: Key) -> list[Input]:
    assert _worker is not None, "worker not initialised"
    return _worker.loop.run_until_complete(read_chunk(_worker.conn, lo, hi))


class ChunkReader:
    """Yields (last key, inputs) per chunk, in order. With `workers` > 0 up to 2 x workers chunks
    are read and decoded ahead in a process pool; with 0, each chunk is read on `conn` when asked."""

    def __init__(self, url: str, conn: Conn, workers: int) -> None:
        self.url = url
        self.conn = conn
        self.workers = workers
        self.pool: concurrent.futures.ProcessPoolExecutor | None = None

    async def __aenter__(self) -> ChunkReader:
        if self.workers > 0:
            self.pool = concurrent.futures.ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(self.url,),
            )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    async def chunks(self, start: Key, ends: Sequence[Key]) -> AsyncIterator[tuple[Key, list[Input]]]:
        if not ends:
            return
        los = [start, *ends[:-1]]
        if self.pool is None:
            for lo, hi in zip(los, ends, strict=True):
                yield hi, await read_chunk(self.conn, lo, hi)
            return
        loop = asyncio.get_running_loop()
        ahead = 2 * self.workers
        pending: deque[tuple[Key, asyncio.Future[list[Input]]]] = deque()
        todo = iter(zip(los, ends, strict=True))
        try:
            for lo, hi in todo:
                pending.append((hi, loop.run_in_executor(self.pool, _read_in_worker, lo, hi)))
                if len(pending) >= ahead:
                    break
            while pending:
                hi, future = pending.popleft()
                inputs = await future
                nxt = next(todo, None)
                if nxt is not None:
                    pending.append((nxt[1], loop.run_in_executor(self.pool, _read_in_worker, nxt[0], nxt[1])))
                yield hi, inputs
        finally:
            for _, future in pending:
                future.cancel()
