"""The processor's derived rows do not depend on which carrier of a transaction arrived first.

Live ingest usually stores a create's logs notification first and its fetched transaction later;
replay prefers the transaction. Both must give the same `tokens` row (found while building replay:
the creating instruction, known only from the transaction, stayed null when the logs came first).
"""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest

from executor.bus import EventBus
from executor.ingest.processor import Input, Processor, ProcessorConfig, logs_input, tx_input
from executor.replay.source import pack, unpack
from executor.store import Store
from executor.verify import DERIVED_TABLES, digest_database
from sim.recorded import default_fixtures_dir
from tests.support import fetch

FIXTURES = default_fixtures_dir()
CREATE = (
    FIXTURES
    / "transactions"
    / "2s393PSYYxJJJfGiwHf18HZeC68nZs44ssbeB4aAkeYMyd1dyiiu3yVmGyRWZuArk5HzYDgVxYfhKLYd2CJ8kCBj.json"
)


def carriers() -> tuple[Input, Input]:
    if not CREATE.is_file():
        pytest.skip(f"chain fixtures not found at {FIXTURES}")
    result: dict[str, Any] = json.loads(CREATE.read_text("utf-8"))["result"]
    signature = result["transaction"]["signatures"][0]
    meta = result["meta"]
    logs = logs_input(signature, result["slot"], meta["err"], meta["logMessages"], "ws", None)
    return logs, tx_input(result, "json", "transaction", None)


async def apply_batches(url: str, batches: list[list[Input]]) -> None:
    store, _ = await Store.open(url, 2)
    try:
        bus = EventBus(store, 64)
        await bus.start()
        processor = Processor(bus, ProcessorConfig(lateness_s=30))
        async with store.pool.acquire() as conn:
            await processor.prepare(conn)
            for batch in batches:
                async with bus.transaction(conn) as (tx, outbox):
                    await processor.apply(tx, outbox, batch, persist_raw=True)
            async with bus.transaction(conn) as (tx, outbox):
                await processor.flush_open(tx, outbox, force=True)
    finally:
        await store.close()


@pytest.mark.parametrize(
    "order",
    [["logs", "tx"], ["logs+tx"], ["tx+logs"], ["tx", "logs"]],
    ids=["logs-then-tx", "one-batch-logs-first", "one-batch-tx-first", "tx-then-logs"],
)
async def test_a_create_stored_from_either_carrier_first_derives_the_same_rows(
    db_url: str, other_db_url: str, order: list[str]
) -> None:
    logs, tx = carriers()
    by_name = {"logs": [logs], "tx": [tx], "logs+tx": [logs, tx], "tx+logs": [tx, logs]}
    await apply_batches(db_url, [by_name[step] for step in order])
    await apply_batches(other_db_url, [[tx]])
    ix = await fetch(db_url, "select launch_ix from tokens where launch_signature is not null")
    assert [r["launch_ix"] for r in ix] == ["create"]
    assert await digest_database(db_url, DERIVED_TABLES) == await digest_database(
        other_db_url, DERIVED_TABLES
    )


def test_inputs_cross_the_process_boundary_intact_for_the_processor() -> None:
    """Replay's readers send decoded inputs as plain tuples; what the processor reads survives."""
    for item in carriers():
        back = unpack(pickle.loads(pickle.dumps(pack(item))))
        assert type(back) is type(item)
        assert (back.signature, back.slot, back.error) == (item.signature, item.slot, item.error)
        assert back.decoded is not None and item.decoded is not None
        for name in ("signature", "slot", "block_time", "err", "failed", "truncated", "records", "anomalies"):
            assert getattr(back.decoded, name) == getattr(item.decoded, name), name
        assert back.decoded.events == tuple(e for e in item.decoded.events if e.tail or e.error)
