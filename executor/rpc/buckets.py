"""Token buckets sized so that a rolling-window limit is never exceeded (pure, clock passed in).

Public RPC limits are "N requests per W seconds" over a rolling window (100 / 10 s per IP, 40 / 10 s
per method). A bucket of capacity C refilling at r tokens/s can spend at most C + r·W in any W-second
window, so `window_bucket(N, W)` picks C = max(1, N // 10) and r = (N − C) / W: at most N per window,
short bursts of C for latency, and a smooth stream after that.
"""

from __future__ import annotations

import math


class TokenBucket:
    """Capacity `capacity`, refilled continuously at `rate` tokens per second; starts full."""

    __slots__ = ("_tokens", "_updated", "capacity", "rate")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("a token bucket needs rate > 0 and capacity >= 1")
        self.rate = rate
        self.capacity = capacity
        self._tokens = capacity
        self._updated = now

    def _refill(self, now: float) -> None:
        if now > self._updated:
            self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
            self._updated = now

    def tokens(self, now: float) -> float:
        self._refill(now)
        return self._tokens

    def wait_s(self, now: float, amount: float = 1.0) -> float:
        """Seconds until `amount` tokens are available (0 when they are now)."""
        self._refill(now)
        missing = amount - self._tokens
        return 0.0 if missing <= 1e-9 else missing / self.rate

    def take(self, now: float, amount: float = 1.0) -> None:
        """Spend `amount` tokens; the caller checked `wait_s(now, amount) == 0`."""
        self._refill(now)
        self._tokens -= amount

    def refund(self, now: float, amount: float = 1.0) -> None:
        self._refill(now)
        self._tokens = min(self.capacity, self._tokens + amount)


def window_bucket(limit: int, window_s: float, now: float) -> TokenBucket:
    """A bucket that never grants more than `limit` tokens in any `window_s`-second window."""
    if limit < 2:
        raise ValueError("a rate limit must allow at least 2 requests per window")
    burst = max(1, limit // 10)
    return TokenBucket(rate=(limit - burst) / window_s, capacity=burst, now=now)


def max_in_window(bucket: TokenBucket, window_s: float) -> int:
    """The most tokens `bucket` can grant in any `window_s`-second window (its burst plus refill)."""
    return math.floor(bucket.capacity + bucket.rate * window_s + 1e-9)
