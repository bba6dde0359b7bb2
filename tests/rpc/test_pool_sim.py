"""RpcPool against the simulator on real sockets: Retry-After, failover, traffic shift, nulls, priority."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import sim
from executor.decode import PUMP
from executor.rpc import Priority, RpcPool
from tests.rpc.conftest import endpoint_of, metric, requests
from tests.support import needs_fixtures

pytestmark = needs_fixtures  # the simulator serves the recorded scenario

FAST: dict[str, Any] = {"retry_backoff_min_s": 0.01, "retry_backoff_max_s": 0.05}


async def test_retry_after_from_the_node_is_honoured_and_every_call_succeeds() -> None:
    async with sim.running(scenario="recorded", port=0, seed=4, faults="429:0.3:1") as node:
        endpoint = endpoint_of(node)
        async with RpcPool([endpoint], slot_poll_interval_s=3600, **FAST) as pool:
            started = time.monotonic()
            slots = [await pool.get_slot() for _ in range(5)]
            elapsed = time.monotonic() - started
            (health,) = pool.health()
    assert all(isinstance(s, int) for s in slots)
    limited = metric("pumpflow_rpc_rate_limited_total", endpoint=endpoint.label)
    assert limited >= 1
    assert health.rate_limited == limited
    # each 429 said Retry-After: 1, and nothing was sent to the node before it passed
    assert elapsed >= 0.95 * limited


async def test_node_behind_fails_over_to_the_second_endpoint() -> None:
    async with (
        sim.running(scenario="recorded", port=0, faults="behind:1.0") as lagging,
        sim.running(scenario="recorded", port=0) as healthy,
    ):
        a, b = endpoint_of(lagging), endpoint_of(healthy)
        async with RpcPool([a, b], **FAST) as pool:
            (newest,) = await pool.get_signatures_for_address(PUMP, limit=1, priority=Priority.LIVE)
            tx = await pool.get_transaction(newest["signature"], priority=Priority.LIVE)
            health_a, health_b = pool.health()
    assert tx is not None
    assert tx["transaction"]["signatures"][0] == newest["signature"]
    assert requests(a, "getSignaturesForAddress", "node_unhealthy") == 1  # first try went to a ...
    assert requests(b, "getSignaturesForAddress") == 1  # ... and the retry to b
    assert requests(a, "getTransaction", "node_unhealthy") == 0  # by then a was demoted
    assert requests(b, "getTransaction") == 1
    assert health_a.slot_lag == 40
    assert health_a.score < 0.5 * health_b.score


async def test_traffic_moves_off_an_endpoint_that_mostly_answers_429() -> None:
    async with (
        sim.running(scenario="recorded", port=0, seed=2, faults="429:0.9:1") as limited,
        sim.running(scenario="recorded", port=0, seed=2) as healthy,
    ):
        a, b = endpoint_of(limited), endpoint_of(healthy)
        async with RpcPool([a, b], requests_per_10s=1000, method_per_10s=1000, **FAST) as pool:
            for _ in range(40):
                await pool.call("getBlockHeight", [{"commitment": "confirmed"}])
            health_a, health_b = pool.health()
    sent_a = sum(requests(a, "getBlockHeight", o) for o in ("ok", "rate_limited"))
    assert requests(b, "getBlockHeight") >= 38
    assert sent_a <= 2
    assert health_a.rate_limited >= 1
    assert health_b.score > health_a.score


async def test_null_then_present_transaction_is_none_until_the_node_has_it() -> None:
    async with (
        sim.running(scenario="recorded", port=0, faults="null-tx:2") as node,
        RpcPool([endpoint_of(node)]) as pool,
    ):
        (newest,) = await pool.get_signatures_for_address(PUMP, limit=1, priority=Priority.BACKFILL)
        signature = newest["signature"]
        answers = [await pool.get_transaction(signature, priority=Priority.LIVE) for _ in range(3)]
    assert answers[:2] == [None, None]
    assert answers[2] is not None
    assert answers[2]["transaction"]["signatures"][0] == signature


async def test_live_calls_complete_before_backfill_queued_ahead_of_them() -> None:
    # 40 per 10 s -> a burst of 4, then 3.6 calls/s
    async with (
        sim.running(scenario="recorded", port=0) as node,
        RpcPool(
            [endpoint_of(node)], requests_per_10s=40, method_per_10s=40, slot_poll_interval_s=3600
        ) as pool,
    ):
        await pool.get_slot()  # the background probe's first round happens now, not mid-test
        await asyncio.sleep(1.2)  # let the bucket refill its burst
        done: list[str] = []

        async def one(name: str, priority: Priority) -> None:
            await pool.call("getBlockHeight", [{"commitment": "confirmed"}], priority=priority)
            done.append(name)

        backfill = [asyncio.create_task(one(f"B{i}", Priority.BACKFILL)) for i in range(10)]
        await asyncio.sleep(0.05)
        queued_backfill = pool.waiting(Priority.BACKFILL)
        live = [asyncio.create_task(one(f"L{i}", Priority.LIVE)) for i in range(4)]
        await asyncio.sleep(0)
        assert pool.waiting(Priority.LIVE) == 4
        await asyncio.wait_for(asyncio.gather(*backfill, *live), 20)
    assert queued_backfill >= 5
    last_live = max(done.index(f"L{i}") for i in range(4))
    assert all(name.startswith("B") for name in done[-queued_backfill:])
    assert last_live < len(done) - queued_backfill
