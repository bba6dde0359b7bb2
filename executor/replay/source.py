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
chunk order. What crosses the process boundary is kept cheap (`pack` / `unpack`): the raw payload
(`logs`, `result`) stays behind, since replay applies with `persist_raw=False`, which never reads
it; a decoded transaction travels as plain tuples and is rebuilt with the decoder's own slot filler
(pickled, its frozen dataclasses are restored field by field, which cost as much as decoding them);
of its decoded events and instructions only those telemetry reports on (unknown, failed to decode,
or with an unknown tail) travel, since the records carry everything else the processor reads.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import multiprocessing
import operator
import signal
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson

from executor.decode import DecodedEvent, DecodedInstruction, DecodedTx
from executor.decode.frozen import filler
from executor.decode.model import UNKNOWN
from executor.ingest.processor import Input, LogsInput, TxInput, logs_input, tx_input
from executor.replay.options import Key
from pumpflow.schema import Conn

I64_MAX = 2**63 - 1
UNPACK_SLICE = 100
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
    """One stored raw row (with its transaction, if fetched) as the processor's input, without its raw
    payload (see the module docstring)."""
    if result is not None:
        item = tx_input(orjson.loads(result), encoding or "json", "transaction", None, signature)
        return dataclasses.replace(item, result={})
    parsed_err = orjson.loads(err) if err is not None else None
    return dataclasses.replace(logs_input(signature, slot, parsed_err, list(logs), "ws", None), logs=[])


def inputs_of(rows: Sequence[Any]) -> list[Input]:
    return [
        input_of(r["signature"], r["slot"], r["err"], r["logs"], r["result"], r["encoding"]) for r in rows
    ]


async def read_chunk(conn: Conn, lo: Key, hi: Key) -> tuple[list[Input], float, float]:
    """The chunk's inputs, with the seconds spent reading and decoding them."""
    t0 = time.perf_counter()
    rows = await conn.fetch(CHUNK_SQL, lo[0], lo[1], hi[0], hi[1])
    t1 = time.perf_counter()
    inputs = inputs_of(rows)
    return inputs, t1 - t0, time.perf_counter() - t1


# Across the process boundary ---------------------------------------------------------------------------

Packed = tuple[Any, ...]
Codec = tuple[Callable[[Any], tuple[Any, ...]], Callable[[Sequence[object]], Any]]
_CODECS: dict[type[Any], Codec] = {}


def codec(cls: type[Any]) -> Codec:
    """(an instance's values in field order, the decoder's filler that rebuilds one from them)."""
    found = _CODECS.get(cls)
    if found is None:
        get = operator.attrgetter(*(f.name for f in dataclasses.fields(cls)))
        found = _CODECS[cls] = (get, filler(cls))
    return found


def reported(part: DecodedEvent | DecodedInstruction) -> bool:
    """Telemetry reports this event or instruction (executor.decode.shapes)."""
    return part.name == UNKNOWN or part.error is not None or bool(part.tail)


def pack(item: Input) -> Packed:
    tx = item.decoded
    decoded = None
    if tx is not None:
        decoded = (
            tx.signature, tx.slot, tx.block_time, tx.err, tx.failed, tx.truncated,
            tuple(e for e in tx.events if reported(e)),
            tuple((type(r), codec(type(r))[0](r)) for r in tx.records),
            tuple(i for i in tx.instructions if reported(i)),
            tx.anomalies,
        )  # fmt: skip
    extra = item.encoding if isinstance(item, TxInput) else item.err
    return (isinstance(item, TxInput), item.signature, item.slot, extra, decoded, item.error)


def unpack(packed: Packed) -> Input:
    is_tx, signature, slot, extra, decoded, error = packed
    tx = None
    if decoded is not None:
        sig, tx_slot, block_time, err, failed, truncated, events, records, instructions, anomalies = decoded
        rebuilt = tuple(codec(cls)[1](values) for cls, values in records)
        tx = DecodedTx(
            sig, tx_slot, block_time, err, failed, truncated, events, rebuilt, instructions, anomalies
        )
    if is_tx:
        return TxInput(signature, slot, {}, extra, tx, "transaction", None, error)
    return LogsInput(signature, slot, extra, [], "ws", None, tx, error)


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


def _read_in_worker(lo: Key, hi: Key) -> tuple[list[Packed], float, float]:
    assert _worker is not None, "worker not initialised"
    inputs, read_s, decode_s = _worker.loop.run_until_complete(read_chunk(_worker.conn, lo, hi))
    t0 = time.perf_counter()
    packed = [pack(item) for item in inputs]
    return packed, read_s, decode_s + time.perf_counter() - t0


@dataclass(slots=True)
class ReaderStats:
    """Where reading time goes: in the readers (database, decoding) and waiting for them."""

    read_s: float = 0.0  # fetching rows (summed over readers)
    decode_s: float = 0.0  # turning them into inputs (summed over readers)
    wait_s: float = 0.0  # the consumer waiting for the next chunk
    unpack_s: float = 0.0  # the consumer rebuilding what the readers sent

    def phases(self) -> dict[str, float]:
        return {
            "read": self.read_s,
            "decode": self.decode_s,
            "wait_for_decode": self.wait_s,
            "unpack": self.unpack_s,
        }


class ChunkReader:
    """Yields (last key, inputs) per chunk, in order. With `workers` > 0 up to 2 x workers chunks
    are read and decoded ahead in a process pool; with 0, each chunk is read on `conn` when asked."""

    def __init__(self, url: str, conn: Conn, workers: int) -> None:
        self.url = url
        self.conn = conn
        self.workers = workers
        self.pool: concurrent.futures.ProcessPoolExecutor | None = None
        self.stats = ReaderStats()

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

    def _count(self, read: tuple[list[Input], float, float]) -> list[Input]:
        inputs, read_s, decode_s = read
        self.stats.read_s += read_s
        self.stats.decode_s += decode_s
        return inputs

    async def _unpacked(self, read: asyncio.Future[tuple[list[Packed], float, float]]) -> list[Input]:
        """A reader's chunk, rebuilt in slices: between slices the event loop serves the consumer,
        so the rebuilding fills the time it waits on Postgres for the previous chunk."""
        packed, read_s, decode_s = await read
        inputs: list[Input] = []
        for start in range(0, len(packed), UNPACK_SLICE):
            t0 = time.perf_counter()
            inputs.extend(unpack(p) for p in packed[start : start + UNPACK_SLICE])
            self.stats.unpack_s += time.perf_counter() - t0
            await asyncio.sleep(0)
        return self._count((inputs, read_s, decode_s))

    async def chunks(self, start: Key, ends: Sequence[Key]) -> AsyncIterator[tuple[Key, list[Input]]]:
        if not ends:
            return
        los = [start, *ends[:-1]]
        if self.pool is None:
            for lo, hi in zip(los, ends, strict=True):
                t0 = time.perf_counter()
                inputs = self._count(await read_chunk(self.conn, lo, hi))
                self.stats.wait_s += time.perf_counter() - t0
                yield hi, inputs
            return
        pool, loop = self.pool, asyncio.get_running_loop()
        pending: deque[tuple[Key, asyncio.Task[list[Input]]]] = deque()

        def submit(lo: Key, hi: Key) -> None:
            read = loop.run_in_executor(pool, _read_in_worker, lo, hi)
            pending.append((hi, asyncio.ensure_future(self._unpacked(read))))

        todo = iter(zip(los, ends, strict=True))
        try:
            for lo, hi in todo:
                submit(lo, hi)
                if len(pending) >= 2 * self.workers:
                    break
            while pending:
                hi, task = pending.popleft()
                t0 = time.perf_counter()
                inputs = await task
                self.stats.wait_s += time.perf_counter() - t0
                nxt = next(todo, None)
                if nxt is not None:
                    submit(*nxt)
                yield hi, inputs
        finally:
            for _, task in pending:
                task.cancel()
