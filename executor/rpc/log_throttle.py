"""Keeps repeated warnings (429s, malformed frames) to one log line per key per interval (pure)."""

from __future__ import annotations

from collections.abc import Callable, Hashable


class LogThrottle:
    """`allow(key)` is True at most once per `interval_s` per key; `suppressed(key)` counts the rest."""

    def __init__(self, interval_s: float, clock: Callable[[], float]) -> None:
        self._interval_s = interval_s
        self._clock = clock
        self._last: dict[Hashable, float] = {}
        self._suppressed: dict[Hashable, int] = {}

    def allow(self, key: Hashable) -> bool:
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self._interval_s:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return False
        self._last[key] = now
        return True

    def take_suppressed(self, key: Hashable) -> int:
        """How many `allow(key)` calls returned False since the last one that returned True."""
        return self._suppressed.pop(key, 0)
