"""Per-endpoint health: latency EWMA, error and 429 rates, slot lag, cooldowns, and the score (pure).

Every answer (or failure) of an endpoint is recorded here with the time it happened; nothing here
sleeps or does I/O, so tests drive it with a hand-made clock.

Score, in [0, 1], higher is better; the product of four factors:

    latency   1 / (1 + latency_ewma / 0.25 s)           unknown latency counts as 0.25 s
    errors    (1 − error_rate)²                          transport errors and node-unhealthy answers
    429s      1 − 0.8 · rate_limited_rate
    slot lag  1 / (1 + max(0, lag − 4) / 20)             lag vs the best endpoint, in slots

Rates are EWMAs over answers (α = 0.2) that also decay with a 30 s half-life while an endpoint gets no
traffic, so an endpoint that was failing is tried again once it has been left alone for a while (and
the background getSlot probe shows whether it recovered).

Cooldowns: a 429 cools the endpoint for Retry-After (or the default); three or more consecutive
transport failures open a circuit for 1 s, 2 s, 4 s ... up to 30 s.
"""

from __future__ import annotations

from dataclasses import dataclass

LATENCY_ALPHA = 0.2
RATE_ALPHA = 0.2
RATE_HALF_LIFE_S = 30.0
LATENCY_SCALE_S = 0.25
LAG_TOLERANCE_SLOTS = 4
LAG_SCALE_SLOTS = 20.0
RATE_LIMIT_WEIGHT = 0.8
SLOT_FRESH_S = 30.0
CIRCUIT_AFTER_FAILURES = 3
CIRCUIT_BASE_S = 1.0
CIRCUIT_MAX_S = 30.0


def score(
    latency_s: float | None, error_rate: float, rate_limited_rate: float, slot_lag: int | None
) -> float:
    latency = LATENCY_SCALE_S if latency_s is None else max(0.0, latency_s)
    latency_factor = 1.0 / (1.0 + latency / LATENCY_SCALE_S)
    error_factor = (1.0 - min(1.0, max(0.0, error_rate))) ** 2
    limited_factor = 1.0 - RATE_LIMIT_WEIGHT * min(1.0, max(0.0, rate_limited_rate))
    excess = max(0, (slot_lag or 0) - LAG_TOLERANCE_SLOTS)
    lag_factor = 1.0 / (1.0 + excess / LAG_SCALE_SLOTS)
    return latency_factor * error_factor * limited_factor * lag_factor


@dataclass(frozen=True, slots=True)
class EndpointHealth:
    """A snapshot of one endpoint for `RpcPool.health()` (times are `time.monotonic()` seconds)."""

    label: str
    score: float
    latency_ewma_s: float | None
    error_rate: float
    rate_limited_rate: float
    slot: int | None
    slot_lag: int | None
    cooling_down_until: float | None
    consecutive_failures: int
    requests: int
    failures: int
    rate_limited: int


class _DecayingRate:
    """EWMA of 0/1 samples that decays towards 0 with a half-life while no samples arrive."""

    __slots__ = ("_at", "_value")

    def __init__(self) -> None:
        self._value = 0.0
        self._at = 0.0

    def value(self, now: float) -> float:
        if self._value == 0.0 or now <= self._at:
            return self._value
        decay: float = 0.5 ** ((now - self._at) / RATE_HALF_LIFE_S)
        return self._value * decay

    def add(self, now: float, sample: float) -> None:
        current = self.value(now)
        self._value = current + RATE_ALPHA * (sample - current)
        self._at = max(now, self._at)


class EndpointStats:
    """Mutable health record of one endpoint."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.latency_ewma_s: float | None = None
        self._errors = _DecayingRate()
        self._limited = _DecayingRate()
        self.slot: int | None = None
        self.slot_at: float | None = None
        self._behind: int | None = None
        self._behind_at = 0.0
        self.cooling_until = 0.0
        self.consecutive_failures = 0
        self.requests = 0
        self.failures = 0
        self.rate_limited = 0

    # --- recording ---------------------------------------------------------------------------

    def _latency(self, latency_s: float) -> None:
        prev = self.latency_ewma_s
        self.latency_ewma_s = latency_s if prev is None else prev + LATENCY_ALPHA * (latency_s - prev)

    def record_success(self, now: float, latency_s: float) -> None:
        """The node answered (a result, or an error that is the caller's fault)."""
        self.requests += 1
        self._latency(latency_s)
        self._errors.add(now, 0.0)
        self._limited.add(now, 0.0)
        self.consecutive_failures = 0

    def record_failure(self, now: float, latency_s: float | None) -> float | None:
        """A transport error or a node-unhealthy answer; returns the circuit cooldown it opened, if any."""
        self.requests += 1
        self.failures += 1
        if latency_s is not None:
            self._latency(latency_s)
        self._errors.add(now, 1.0)
        self._limited.add(now, 0.0)
        self.consecutive_failures += 1
        excess = self.consecutive_failures - CIRCUIT_AFTER_FAILURES
        if excess < 0:
            return None
        cooldown = min(CIRCUIT_MAX_S, CIRCUIT_BASE_S * 2.0 ** min(excess, 16))
        self.cool(now, cooldown)
        return cooldown

    def record_rate_limited(self, now: float, cooldown_s: float) -> None:
        self.requests += 1
        self.rate_limited += 1
        self._limited.add(now, 1.0)
        self.cool(now, cooldown_s)

    def record_slot(self, now: float, slot: int) -> None:
        self.slot, self.slot_at = slot, now

    def record_behind(self, now: float, slots_behind: int) -> None:
        self._behind, self._behind_at = slots_behind, now

    def cool(self, now: float, seconds: float) -> None:
        self.cooling_until = max(self.cooling_until, now + seconds)

    # --- reading -----------------------------------------------------------------------------

    def cooling(self, now: float) -> bool:
        return self.cooling_until > now

    def fresh_slot(self, now: float) -> int | None:
        if self.slot is None or self.slot_at is None or now - self.slot_at > SLOT_FRESH_S:
            return None
        return self.slot

    def slot_lag(self, now: float, best_slot: int | None) -> int | None:
        lags: list[int] = []
        own = self.fresh_slot(now)
        if own is not None and best_slot is not None:
            lags.append(max(0, best_slot - own))
        if self._behind is not None and now - self._behind_at <= SLOT_FRESH_S:
            lags.append(self._behind)
        return max(lags) if lags else None

    def error_rate(self, now: float) -> float:
        return self._errors.value(now)

    def rate_limited_rate(self, now: float) -> float:
        return self._limited.value(now)

    def score(self, now: float, best_slot: int | None) -> float:
        return score(
            self.latency_ewma_s,
            self.error_rate(now),
            self.rate_limited_rate(now),
            self.slot_lag(now, best_slot),
        )

    def snapshot(self, now: float, best_slot: int | None) -> EndpointHealth:
        return EndpointHealth(
            label=self.label,
            score=self.score(now, best_slot),
            latency_ewma_s=self.latency_ewma_s,
            error_rate=self.error_rate(now),
            rate_limited_rate=self.rate_limited_rate(now),
            slot=self.slot,
            slot_lag=self.slot_lag(now, best_slot),
            cooling_down_until=self.cooling_until if self.cooling(now) else None,
            consecutive_failures=self.consecutive_failures,
            requests=self.requests,
            failures=self.failures,
            rate_limited=self.rate_limited,
        )


def best_slot(stats: list[EndpointStats], now: float) -> int | None:
    slots = [s for s in (st.fresh_slot(now) for st in stats) if s is not None]
    return max(slots) if slots else None
