"""Jittered exponential backoff (pure; the random source is injectable for tests)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(slots=True)
class Backoff:
    """`delay(n)` for the n-th consecutive failure (n = 0, 1, ...): min_s·2ⁿ capped at max_s, times a
    uniform factor in [1 − jitter, 1], so retries of many clients spread out but never hit zero."""

    min_s: float
    max_s: float
    jitter: float = 0.5
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        if not 0 < self.min_s <= self.max_s:
            raise ValueError("backoff needs 0 < min_s <= max_s")
        if not 0 <= self.jitter < 1:
            raise ValueError("backoff jitter must be in [0, 1)")

    def ceiling(self, attempt: int) -> float:
        return min(self.max_s, self.min_s * 2.0 ** min(max(attempt, 0), 62))

    def delay(self, attempt: int) -> float:
        return self.ceiling(attempt) * (1.0 - self.jitter * self.rng.random())
