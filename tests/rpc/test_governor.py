"""The rate governor: LIVE before BACKFILL, per-method buckets, cooldowns, demotion, in-flight caps.

Driven by a hand-made clock: `wake()` re-evaluates the queues at the clock's current time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest

from executor.rpc.governor import EndpointStatus, Governor, GovernorClosed, Priority


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class World:
    """Clock plus per-endpoint score and cooldown that the governor reads."""

    def __init__(self, labels: list[str]) -> None:
        self.clock = Clock()
        self.scores = dict.fromkeys(labels, 1.0)
        self.cooling = dict.fromkeys(labels, 0.0)

    def status(self, now: float) -> Mapping[str, EndpointStatus]:
        return {label: EndpointStatus(self.scores[label], self.cooling[label]) for label in self.scores}


def governor(
    world: World, *, per_window: int = 20, method_per_window: int = 20, in_flight: int = 16
) -> Governor:
    # per_window=20 -> burst 2, then 1.8 tokens/s
    return Governor(
        list(world.scores),
        requests_per_window=per_window,
        method_per_window=method_per_window,
        max_in_flight=in_flight,
        clock=world.clock,
        status=world.status,
    )


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


def granted(tasks: list[asyncio.Task[str]]) -> list[int]:
    return [i for i, t in enumerate(tasks) if t.done()]


async def test_live_calls_jump_ahead_of_queued_backfill() -> None:
    world = World(["a"])
    gov = governor(world)
    order: list[str] = []

    async def call(name: str, priority: Priority) -> str:
        label = await gov.acquire("getTransaction", priority)
        order.append(name)
        gov.release(label)
        return label

    backfill = [asyncio.create_task(call(f"b{i}", Priority.BACKFILL)) for i in range(5)]
    await settle()
    assert order == ["b0", "b1"]  # the burst
    live = [asyncio.create_task(call(f"l{i}", Priority.LIVE)) for i in range(2)]
    await settle()
    assert gov.waiting(Priority.LIVE) == 2
    assert gov.waiting(Priority.BACKFILL) == 3
    for _ in range(5):
        world.clock.now += 1 / 1.8
        gov.wake()
        await settle()
    assert order == ["b0", "b1", "l0", "l1", "b2", "b3", "b4"]
    await asyncio.gather(*backfill, *live)


async def test_an_exhausted_method_does_not_hold_up_other_methods() -> None:
    world = World(["a"])
    gov = governor(world, per_window=100, method_per_window=20)  # endpoint burst 10, method burst 2
    tx = [asyncio.create_task(gov.acquire("getTransaction", Priority.LIVE)) for _ in range(3)]
    await settle()
    assert granted(tx) == [0, 1]
    slot = asyncio.create_task(gov.acquire("getSlot", Priority.BACKFILL))
    await settle()
    assert slot.done()  # the endpoint still has tokens and one LIVE waiter is blocked: one stays in reserve
    world.clock.now += 1.0
    gov.wake()
    await settle()
    assert all(t.done() for t in tx)


async def test_backfill_leaves_one_endpoint_token_for_a_blocked_live_call() -> None:
    world = World(["a"])
    gov = governor(world, per_window=20, method_per_window=20)  # endpoint burst 2
    first = await gov.acquire("getTransaction", Priority.LIVE)
    second = await gov.acquire("getTransaction", Priority.LIVE)
    gov.release(first)
    gov.release(second)
    world.clock.now += 1 / 1.8  # one endpoint token and one getTransaction token back
    live = asyncio.create_task(gov.acquire("getTransaction", Priority.LIVE))
    await settle()
    assert live.done()
    gov.release(live.result())
    world.clock.now += 2 / 1.8  # two endpoint tokens, two getTransaction tokens
    blocked_live = [asyncio.create_task(gov.acquire("getTransaction", Priority.LIVE)) for _ in range(3)]
    backfill = asyncio.create_task(gov.acquire("getSignaturesForAddress", Priority.BACKFILL))
    await settle()
    assert granted(blocked_live) == [0, 1]
    assert not backfill.done()  # no endpoint token left to spare while a LIVE call waits
    gov.close()
    outcomes = await asyncio.gather(blocked_live[2], backfill, return_exceptions=True)
    assert all(isinstance(outcome, GovernorClosed) for outcome in outcomes)


async def test_a_cooling_endpoint_is_skipped_and_used_again_afterwards() -> None:
    world = World(["a", "b"])
    gov = governor(world)
    world.cooling["a"] = 5.0
    assert await gov.acquire("getSlot", Priority.LIVE) == "b"
    world.cooling["b"] = 5.0
    waiting = asyncio.create_task(gov.acquire("getSlot", Priority.LIVE))
    await settle()
    assert not waiting.done()
    world.clock.now = 5.0
    gov.wake()
    await settle()
    assert waiting.result() == "a"


async def test_demoted_endpoints_are_left_alone_and_avoid_prefers_another_healthy_one() -> None:
    world = World(["a", "b"])
    gov = governor(world, per_window=1000, method_per_window=1000)
    world.scores.update(a=1.0, b=0.3)
    assert {await gov.acquire("getSlot", Priority.LIVE) for _ in range(5)} == {"a"}
    # b is demoted (0.3 < 0.5 x 1.0): a retry that avoids a still goes to a rather than to b
    assert await gov.acquire("getSlot", Priority.LIVE, avoid=frozenset({"a"})) == "a"
    world.scores.update(b=0.6)
    assert await gov.acquire("getSlot", Priority.LIVE, avoid=frozenset({"a"})) == "b"
    assert await gov.acquire("getSlot", Priority.LIVE, pinned="b") == "b"


async def test_better_endpoint_takes_traffic_but_the_other_budget_is_used_when_it_runs_dry() -> None:
    world = World(["a", "b"])
    gov = governor(world, per_window=20, method_per_window=20)  # burst 2 each
    world.scores.update(a=0.9, b=0.8)
    labels = [await gov.acquire("getSlot", Priority.LIVE) for _ in range(4)]
    assert labels == ["a", "a", "b", "b"]


async def test_in_flight_cap_waits_for_a_release() -> None:
    world = World(["a"])
    gov = governor(world, per_window=1000, method_per_window=1000, in_flight=2)
    first = await gov.acquire("getSlot", Priority.LIVE)
    await gov.acquire("getSlot", Priority.LIVE)
    third = asyncio.create_task(gov.acquire("getSlot", Priority.LIVE))
    await settle()
    assert not third.done()
    assert gov.in_flight("a") == 2
    gov.release(first)
    await settle()
    assert third.done()


async def test_a_cancelled_waiter_leaves_the_queue_and_a_cancelled_grant_is_refunded() -> None:
    world = World(["a"])
    gov = governor(world, per_window=20, method_per_window=20)
    for _ in range(2):
        gov.release(await gov.acquire("getSlot", Priority.LIVE))
    queued = asyncio.create_task(gov.acquire("getSlot", Priority.BACKFILL))
    await settle()
    assert gov.waiting(Priority.BACKFILL) == 1
    queued.cancel()
    await asyncio.gather(queued, return_exceptions=True)
    assert gov.waiting(Priority.BACKFILL) == 0

    world.clock.now += 1 / 1.8
    winner = asyncio.create_task(gov.acquire("getSlot", Priority.LIVE))
    winner.cancel()  # granted synchronously inside acquire, cancelled before it resumes
    await asyncio.gather(winner, return_exceptions=True)
    assert gov.in_flight("a") == 0
    assert (await asyncio.wait_for(gov.acquire("getSlot", Priority.LIVE), 1)) == "a"  # the token came back


async def test_closing_fails_every_waiter() -> None:
    world = World(["a"])
    gov = governor(world, per_window=20, method_per_window=20)
    for _ in range(2):
        await gov.acquire("getSlot", Priority.LIVE)
    waiters = [asyncio.create_task(gov.acquire("getSlot", p)) for p in Priority]
    await settle()
    gov.close()
    for waiter in waiters:
        with pytest.raises(GovernorClosed):
            await waiter
    assert gov.waiting(Priority.LIVE) == gov.waiting(Priority.BACKFILL) == 0
    with pytest.raises(GovernorClosed):
        await gov.acquire("getSlot", Priority.LIVE)
