"""The rate governor: who may send which request to which endpoint, and when.

Each endpoint has a token bucket for all its traffic (default 100 per 10 s) and one per method (default
40 per 10 s), sized so the rolling-window limits are never exceeded (see `buckets`), plus a cap on
requests in flight. A call asks for a grant with `acquire(method, priority)` and gets back the label of
the endpoint it must use; `release(label)` when its answer is in.

Waiting calls sit in FIFO queues per (priority, method, pinned endpoint). `_pump` walks LIVE queues
before BACKFILL queues and grants what the buckets allow right now; a queue whose head cannot be served
blocks only itself (other methods go on), and while any LIVE call is blocked a BACKFILL call may only
take an endpoint token if one stays in reserve. `_pump` never awaits, so it needs no lock: it runs
inside `acquire`/`release` and from one loop timer set for the earliest moment a blocked head could
be served.

Endpoint choice for a grant: endpoints cooling down are skipped; endpoints scoring below
`demote_ratio` × the best score are left alone (they still get the pool's getSlot probes, and come
back when they recover); the caller's `avoid` set (where its previous attempt failed) is skipped when
another endpoint is eligible; among the rest, the best-scoring endpoint that can be served now wins.
"""

from __future__ import annotations

import asyncio
import enum
import math
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from executor.rpc import metrics
from executor.rpc.buckets import TokenBucket, window_bucket
from executor.rpc.errors import RpcError

_TIMER_SLACK_S = 0.0005


class Priority(enum.IntEnum):
    """Live work (the subscription's follow-ups) is always served before backfill."""

    LIVE = 0
    BACKFILL = 1


_PRIORITIES = (Priority.LIVE, Priority.BACKFILL)  # highest first; iterating the enum is slow


@dataclass(frozen=True, slots=True)
class EndpointStatus:
    score: float
    cooling_until: float


StatusFn = Callable[[float], Mapping[str, EndpointStatus]]


@dataclass(eq=False, slots=True)
class _Waiter:
    method: str
    priority: Priority
    pinned: str | None
    avoid: frozenset[str]
    future: asyncio.Future[str]
    since: float


class GovernorClosed(RpcError):
    """The pool was closed while this call waited."""


class Governor:
    def __init__(
        self,
        labels: Sequence[str],
        *,
        requests_per_window: int,
        method_per_window: int,
        window_s: float = 10.0,
        max_in_flight: int = 16,
        demote_ratio: float = 0.5,
        clock: Callable[[], float],
        status: StatusFn,
    ) -> None:
        if not labels:
            raise ValueError("the governor needs at least one endpoint")
        if max_in_flight < 2:
            raise ValueError("max_in_flight must be at least 2")
        self._labels = list(labels)
        self._clock = clock
        self._status = status
        self._window_s = window_s
        self._method_limit = method_per_window
        self._demote_ratio = demote_ratio
        self._max_in_flight = max_in_flight
        now = clock()
        self._endpoint_buckets = {
            label: window_bucket(requests_per_window, window_s, now) for label in self._labels
        }
        self._method_buckets: dict[tuple[str, str], TokenBucket] = {}
        self._in_flight = dict.fromkeys(self._labels, 0)
        self._queues: dict[Priority, dict[tuple[str, str | None], deque[_Waiter]]] = {
            p: {} for p in _PRIORITIES
        }
        self._waiting = dict.fromkeys(_PRIORITIES, 0)
        self._waiting_total = 0
        self._wait_seconds = {p: metrics.GOVERNOR_WAIT.labels(p.name.lower()) for p in _PRIORITIES}
        self._waiting_gauge = {p: metrics.GOVERNOR_WAITING.labels(p.name.lower()) for p in _PRIORITIES}
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False

    # --- public --------------------------------------------------------------------------------

    async def acquire(
        self,
        method: str,
        priority: Priority,
        *,
        avoid: frozenset[str] = frozenset(),
        pinned: str | None = None,
    ) -> str:
        """Wait for a grant; returns the endpoint label to send to. Pair with `release(label)`."""
        if self._closed:
            raise GovernorClosed("the RPC pool is closed")
        if pinned is not None and pinned not in self._in_flight:
            raise ValueError(f"unknown endpoint {pinned!r}")
        now = self._clock()
        if not self._waiting_total:  # nobody queued: grant at once if the budget allows
            label, _ = self._choose(method, pinned, avoid, now, self._status(now), 0)
            if label is not None:
                self._take(label, method, now)
                self._wait_seconds[priority].observe(0.0)
                return label
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        waiter = _Waiter(method, priority, pinned, avoid, future, now)
        self._queues[priority].setdefault((method, pinned), deque()).append(waiter)
        self._count(priority, +1)
        self._pump()
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._refund(future.result(), method)
            else:
                self._discard(waiter)
            raise

    def release(self, label: str) -> None:
        self._in_flight[label] -= 1
        if self._waiting_total:
            self._pump()

    def wake(self) -> None:
        """Re-evaluate the queues now (a cooldown or a score changed)."""
        self._pump()

    def waiting(self, priority: Priority) -> int:
        return self._waiting[priority]

    def in_flight(self, label: str) -> int:
        return self._in_flight[label]

    def close(self) -> None:
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for queues in self._queues.values():
            for queue in queues.values():
                for waiter in queue:
                    if not waiter.future.done():
                        waiter.future.set_exception(GovernorClosed("the RPC pool is closed"))
                    self._count(waiter.priority, -1)
            queues.clear()

    # --- granting ------------------------------------------------------------------------------

    def _pump(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._closed or not self._waiting_total:
            return
        now = self._clock()
        status = self._status(now)
        next_at = math.inf
        reserve = 0
        for priority in _PRIORITIES:
            queues = self._queues[priority]
            if not queues:
                continue
            blocked = False
            for key in sorted(queues, key=lambda k: queues[k][0].since if queues[k] else 0.0):
                queue = queues[key]
                while queue:
                    waiter = queue[0]
                    if waiter.future.done():  # cancelled while queued
                        queue.popleft()
                        self._count(priority, -1)
                        continue
                    label, ready_at = self._choose(
                        waiter.method, waiter.pinned, waiter.avoid, now, status, reserve
                    )
                    if label is None:
                        next_at = min(next_at, ready_at)
                        blocked = True
                        break
                    queue.popleft()
                    self._grant(waiter, label, now)
                if not queue:
                    del queues[key]
            if blocked:
                reserve = 1
        if next_at < math.inf:
            delay = max(0.0, next_at - now) + _TIMER_SLACK_S
            self._timer = asyncio.get_running_loop().call_later(delay, self._pump)

    def _choose(
        self,
        method: str,
        pinned: str | None,
        avoid: frozenset[str],
        now: float,
        status: Mapping[str, EndpointStatus],
        reserve: int,
    ) -> tuple[str | None, float]:
        """The endpoint to grant now, or None and the earliest time worth looking again."""
        earliest = math.inf
        if pinned is not None:
            if status[pinned].cooling_until > now:
                return None, status[pinned].cooling_until
            candidates = [pinned]
        else:
            available = [label for label in self._labels if status[label].cooling_until <= now]
            for label in self._labels:
                if status[label].cooling_until > now:
                    earliest = min(earliest, status[label].cooling_until)
            if not available:
                return None, earliest
            best = max(status[label].score for label in available)
            eligible = [label for label in available if status[label].score >= self._demote_ratio * best]
            candidates = [label for label in eligible if label not in avoid] or eligible
            candidates.sort(key=lambda label: -status[label].score)
        for label in candidates:
            if self._in_flight[label] + reserve >= self._max_in_flight:
                continue  # a release() pumps again
            wait = max(
                self._endpoint_buckets[label].wait_s(now, 1.0 + reserve),
                self._method_bucket(label, method, now).wait_s(now),
            )
            if wait <= 0.0:
                return label, now
            earliest = min(earliest, now + wait)
        return None, earliest

    def _grant(self, waiter: _Waiter, label: str, now: float) -> None:
        self._take(label, waiter.method, now)
        self._count(waiter.priority, -1)
        self._wait_seconds[waiter.priority].observe(now - waiter.since)
        waiter.future.set_result(label)

    def _take(self, label: str, method: str, now: float) -> None:
        self._endpoint_buckets[label].take(now)
        self._method_bucket(label, method, now).take(now)
        self._in_flight[label] += 1

    def _refund(self, label: str, method: str) -> None:
        now = self._clock()
        self._endpoint_buckets[label].refund(now)
        self._method_bucket(label, method, now).refund(now)
        self.release(label)

    def _discard(self, waiter: _Waiter) -> None:
        queue = self._queues[waiter.priority].get((waiter.method, waiter.pinned))
        if queue is not None and waiter in queue:
            queue.remove(waiter)
            self._count(waiter.priority, -1)
            if not queue:
                del self._queues[waiter.priority][(waiter.method, waiter.pinned)]
            self._pump()

    def _method_bucket(self, label: str, method: str, now: float) -> TokenBucket:
        bucket = self._method_buckets.get((label, method))
        if bucket is None:
            bucket = window_bucket(self._method_limit, self._window_s, now)
            self._method_buckets[(label, method)] = bucket
        return bucket

    def _count(self, priority: Priority, delta: int) -> None:
        self._waiting[priority] += delta
        self._waiting_total += delta
        self._waiting_gauge[priority].inc(delta)
