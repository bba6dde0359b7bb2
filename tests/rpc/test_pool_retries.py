"""RpcPool retry, cooldown and failover rules against scripted answers (httpx MockTransport)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from executor.rpc import (
    Endpoint,
    Priority,
    RpcNodeUnhealthy,
    RpcPool,
    RpcResponseError,
    RpcTransportError,
)
from tests.rpc.fakes import FakeNodes, connect_error, error, ok, raw

A = Endpoint("http://a.test:1", "ws://a.test:1")
B = Endpoint("http://b.test:2", "ws://b.test:2")

PoolFactory = Callable[..., RpcPool]


@pytest.fixture(name="nodes")
def _nodes() -> FakeNodes:
    return FakeNodes()


@pytest.fixture(name="make_pool")
async def _make_pool(nodes: FakeNodes) -> AsyncIterator[PoolFactory]:
    pools: list[RpcPool] = []

    def make(*endpoints: Endpoint, **kwargs: Any) -> RpcPool:
        options: dict[str, Any] = {
            "transport": nodes.transport(),
            "retry_backoff_min_s": 0.01,
            "retry_backoff_max_s": 0.05,
            "slot_poll_interval_s": 3600,
            **kwargs,
        }
        pool = RpcPool(list(endpoints or (A,)), **options)
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        await pool.aclose()


async def test_429_waits_out_retry_after_then_succeeds(nodes: FakeNodes, make_pool: PoolFactory) -> None:
    nodes.script(
        "a.test:1", "getBalance", error(429, "Too many requests", status=429, retry_after="1"), ok(5)
    )
    pool = make_pool()
    started = time.monotonic()
    assert await pool.call("getBalance", ["x"]) == 5
    first, second = nodes.calls("getBalance")
    assert second.at - first.at >= 0.99
    assert time.monotonic() - started >= 0.99
    (health,) = pool.health()
    assert health.rate_limited == 1


async def test_429_without_retry_after_uses_the_default_cooldown(
    nodes: FakeNodes, make_pool: PoolFactory
) -> None:
    nodes.script("a.test:1", "getBalance", error(429, "slow down"), ok(5))
    pool = make_pool(default_retry_after_s=0.3)
    assert await pool.call("getBalance", ["x"]) == 5
    first, second = nodes.calls("getBalance")
    assert 0.29 <= second.at - first.at < 0.9


async def test_a_huge_retry_after_is_capped(nodes: FakeNodes, make_pool: PoolFactory) -> None:
    nodes.script("a.test:1", "getBalance", error(429, "later", status=429, retry_after="3600"), ok(1))
    pool = make_pool(max_retry_after_s=0.2)
    assert await pool.call("getBalance", ["x"]) == 1


async def test_429_moves_the_retry_to_another_endpoint_at_once(
    nodes: FakeNodes, make_pool: PoolFactory
) -> None:
    nodes.script("a.test:1", "getBalance", error(429, "Too many requests", status=429, retry_after="30"))
    nodes.default("b.test:2", "getBalance", ok(7))
    pool = make_pool(A, B)
    started = time.monotonic()
    assert await pool.call("getBalance", ["x"]) == 7
    assert time.monotonic() - started < 1.0
    assert [h.cooling_down_until is not None for h in pool.health()] == [True, False]
    assert pool.ranked() == ["b.test:2", "a.test:1"]


async def test_node_behind_fails_over_and_the_lagging_node_is_demoted(
    nodes: FakeNodes, make_pool: PoolFactory
) -> None:
    behind = error(-32005, "Node is behind by 40 slots", {"numSlotsBehind": 40})
    nodes.default("a.test:1", "getBalance", behind)
    nodes.default("b.test:2", "getBalance", ok(9))
    pool = make_pool(A, B)
    for _ in range(10):
        assert await pool.call("getBalance", ["x"]) == 9
    assert len(nodes.calls("getBalance", "a.test:1")) == 1
    a, b = pool.health()
    assert a.slot_lag == 40
    assert a.score < b.score * 0.5


async def test_non_retriable_errors_are_raised_after_one_request(
    nodes: FakeNodes, make_pool: PoolFactory
) -> None:
    nodes.default("a.test:1", "getBalance", error(-32602, "Invalid param: WrongSize"))
    pool = make_pool()
    with pytest.raises(RpcResponseError) as caught:
        await pool.call("getBalance", ["x"])
    assert caught.value.code == -32602
    assert caught.value.endpoint == "a.test:1"
    assert len(nodes.calls("getBalance")) == 1
    (health,) = pool.health()
    assert health.error_rate == 0.0  # the node answered; the request was wrong


async def test_garbage_is_retried_and_the_last_error_raised_when_out_of_attempts(
    nodes: FakeNodes, make_pool: PoolFactory
) -> None:
    nodes.script("a.test:1", "getBalance", raw(200, b"{nope"), raw(502, b"<html>bad gateway</html>"), ok(3))
    pool = make_pool(max_attempts=3)
    assert await pool.call("getBalance", ["x"]) == 3
    nodes.default("a.test:1", "getBalance", raw(200, b"{nope"))
    with pytest.raises(RpcTransportError, match="non-JSON"):
        await pool.call("getBalance", ["x"])
    assert len(nodes.calls("getBalance")) == 6


async def test_unhealthy_answers_out_of_attempts_raise_node_unhealthy(
    nodes: FakeNodes, make_pool: PoolFactory
) -> None:
    nodes.default(
        "a.test:1",
        "getBalance",
        error(-32016, "Minimum context slot has not been reached", {"contextSlot": 5}),
    )
    pool = make_pool(max_attempts=2)
    with pytest.raises(RpcNodeUnhealthy) as caught:
        await pool.call("getBalance", ["x"])
    assert caught.value.context_slot == 5


async def test_consecutive_connect_failures_open_a_circuit_that_holds_calls_back(
    nodes: FakeNodes, make_pool: PoolFactory
) -> None:
    nodes.default("a.test:1", "getBalance", connect_error)
    nodes.default("a.test:1", "getSlot", ok(1))
    pool = make_pool(max_attempts=1)
    for _ in range(3):
        with pytest.raises(RpcTransportError, match="ConnectError"):
            await pool.call("getBalance", ["x"])
    (health,) = pool.health()
    assert health.consecutive_failures == 3
    assert health.cooling_down_until is not None
    started = time.monotonic()
    nodes.default("a.test:1", "getBalance", ok(4))
    assert await pool.call("getBalance", ["x"]) == 4  # sent only once the 1 s circuit closed
    assert time.monotonic() - started >= 0.9


async def test_traffic_prefers_the_healthy_endpoint_and_spills_over_only_when_its_budget_is_spent(
    nodes: FakeNodes, make_pool: PoolFactory
) -> None:
    nodes.default("a.test:1", "getBalance", connect_error)
    nodes.default("b.test:2", "getBalance", ok(1))
    pool = make_pool(A, B, max_attempts=3, method_per_10s=1000, requests_per_10s=1000)
    assert [await pool.call("getBalance", ["x"]) for _ in range(20)] == [1] * 20
    assert len(nodes.calls("getBalance", "a.test:1")) <= 1


async def test_http_403_cools_the_endpoint_for_a_minute(nodes: FakeNodes, make_pool: PoolFactory) -> None:
    nodes.default("a.test:1", "getBalance", raw(403, b"Forbidden"))
    nodes.default("b.test:2", "getBalance", ok(2))
    pool = make_pool(A, B)
    assert await pool.call("getBalance", ["x"]) == 2
    a, _ = pool.health()
    assert a.cooling_down_until is not None
    assert a.cooling_down_until - time.monotonic() > 50


async def test_get_transaction_always_asks_for_v0_at_confirmed_and_returns_null(
    nodes: FakeNodes, make_pool: PoolFactory
) -> None:
    tx = {"slot": 5, "transaction": {}, "meta": {}}
    nodes.script("a.test:1", "getTransaction", ok(None), ok(tx))
    pool = make_pool()
    assert await pool.get_transaction("sig", priority=Priority.LIVE) is None
    assert await pool.get_transaction("sig", priority=Priority.BACKFILL, encoding="base64") == tx
    first, second = nodes.calls("getTransaction")
    assert first.params == [
        "sig",
        {"encoding": "json", "commitment": "confirmed", "maxSupportedTransactionVersion": 0},
    ]
    assert second.params[1]["encoding"] == "base64"


async def test_a_malformed_transaction_result_is_retried(nodes: FakeNodes, make_pool: PoolFactory) -> None:
    nodes.script("a.test:1", "getTransaction", ok("not a tx"), ok({"slot": 1}))
    pool = make_pool()
    assert await pool.get_transaction("sig", priority=Priority.LIVE) == {"slot": 1}


async def test_signature_pages_send_exclusive_bounds(nodes: FakeNodes, make_pool: PoolFactory) -> None:
    page = [{"signature": "s2", "slot": 2, "err": None}, {"signature": "s1", "slot": 1, "err": None}]
    nodes.default("a.test:1", "getSignaturesForAddress", ok(page))
    pool = make_pool()
    got = await pool.get_signatures_for_address(
        "prog", until="s0", before="s3", limit=2, priority=Priority.BACKFILL
    )
    assert got == page
    (seen,) = nodes.calls("getSignaturesForAddress")
    assert seen.params == ["prog", {"limit": 2, "commitment": "confirmed", "until": "s0", "before": "s3"}]
    with pytest.raises(ValueError, match="limit"):
        await pool.get_signatures_for_address("prog", limit=1001, priority=Priority.BACKFILL)


async def test_account_reads_are_base64_with_context(nodes: FakeNodes, make_pool: PoolFactory) -> None:
    value = {"context": {"slot": 3}, "value": None}
    nodes.default("a.test:1", "getAccountInfo", ok(value))
    nodes.default("a.test:1", "getMultipleAccounts", ok({"context": {"slot": 3}, "value": [None]}))
    pool = make_pool()
    assert await pool.get_account_info("acc", min_context_slot=3) == value
    assert (await pool.get_multiple_accounts(["acc"]))["value"] == [None]
    (seen,) = nodes.calls("getAccountInfo")
    assert seen.params == ["acc", {"encoding": "base64", "commitment": "confirmed", "minContextSlot": 3}]
    with pytest.raises(ValueError, match=r"1\.\.100"):
        await pool.get_multiple_accounts([f"k{i}" for i in range(101)])


async def test_get_slot_feeds_the_slot_lag_of_each_endpoint(nodes: FakeNodes, make_pool: PoolFactory) -> None:
    nodes.default("a.test:1", "getSlot", ok(1_000))
    nodes.default("b.test:2", "getSlot", ok(900))
    pool = make_pool(A, B, slot_poll_interval_s=0.05)
    await pool.get_slot()
    for _ in range(50):
        if all(h.slot is not None for h in pool.health()):
            break
        await asyncio.sleep(0.02)
    a, b = pool.health()
    assert (a.slot, a.slot_lag, b.slot, b.slot_lag) == (1_000, 0, 900, 100)
    assert a.score > b.score
