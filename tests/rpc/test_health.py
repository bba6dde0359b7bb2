"""Health scores rank endpoints by latency, errors, 429s and slot lag; bad ones recover with time."""

from __future__ import annotations

import pytest

from executor.rpc.health import (
    CIRCUIT_AFTER_FAILURES,
    RATE_HALF_LIFE_S,
    EndpointStats,
    best_slot,
    score,
)


def test_score_is_one_for_an_instant_clean_endpoint_and_falls_with_each_factor() -> None:
    perfect = score(0.0, 0.0, 0.0, 0)
    assert perfect == 1.0
    assert score(0.25, 0.0, 0.0, 0) == pytest.approx(0.5)
    assert score(0.0, 0.5, 0.0, 0) == pytest.approx(0.25)
    assert score(0.0, 0.0, 1.0, 0) == pytest.approx(0.2)
    assert score(0.0, 0.0, 0.0, 4) == 1.0  # a few slots of lag are noise
    assert score(0.0, 0.0, 0.0, 24) == pytest.approx(0.5)
    assert score(None, 0.0, 0.0, None) == pytest.approx(0.5)  # unknown latency counts as 250 ms


def test_errors_lower_the_score_and_decay_while_the_endpoint_rests() -> None:
    stats = EndpointStats("a")
    stats.record_success(0.0, 0.05)
    clean = stats.score(0.0, None)
    stats.record_failure(1.0, 0.05)
    stats.record_failure(1.0, 0.05)
    assert stats.error_rate(1.0) == pytest.approx(0.36)
    hurt = stats.score(1.0, None)
    assert hurt < clean * 0.5
    later = 1.0 + 2 * RATE_HALF_LIFE_S
    assert stats.error_rate(later) == pytest.approx(0.36 / 4)
    assert stats.score(later, None) > hurt


def test_consecutive_failures_open_a_growing_circuit_and_a_success_closes_it() -> None:
    stats = EndpointStats("a")
    cooldowns = [stats.record_failure(float(i), None) for i in range(CIRCUIT_AFTER_FAILURES + 2)]
    assert cooldowns[: CIRCUIT_AFTER_FAILURES - 1] == [None] * (CIRCUIT_AFTER_FAILURES - 1)
    assert cooldowns[CIRCUIT_AFTER_FAILURES - 1 :] == [1.0, 2.0, 4.0]
    now = float(CIRCUIT_AFTER_FAILURES + 1)
    assert stats.cooling(now)
    assert not stats.cooling(now + 4.01)
    stats.record_success(now + 5, 0.01)
    assert stats.consecutive_failures == 0
    assert stats.record_failure(now + 6, None) is None


def test_rate_limit_cools_for_the_given_time_and_counts() -> None:
    stats = EndpointStats("a")
    stats.record_rate_limited(10.0, 3.0)
    assert stats.cooling(12.9)
    assert not stats.cooling(13.0)
    snap = stats.snapshot(11.0, None)
    assert snap.cooling_down_until == 13.0
    assert snap.rate_limited == 1
    assert snap.rate_limited_rate > 0


def test_slot_lag_is_measured_against_the_best_fresh_slot_and_node_reports() -> None:
    a, b = EndpointStats("a"), EndpointStats("b")
    a.record_slot(0.0, 1_000)
    b.record_slot(0.0, 960)
    best = best_slot([a, b], 1.0)
    assert best == 1_000
    assert a.slot_lag(1.0, best) == 0
    assert b.slot_lag(1.0, best) == 40
    assert b.score(1.0, best) < a.score(1.0, best) * 0.5
    assert best_slot([a, b], 100.0) is None  # stale readings say nothing
    b.record_behind(100.0, 80)
    assert b.slot_lag(100.0, None) == 80


def test_an_answered_request_error_is_not_held_against_the_node() -> None:
    stats = EndpointStats("a")
    stats.record_success(0.0, 0.2)
    snap = stats.snapshot(0.0, None)
    assert (snap.requests, snap.failures, snap.error_rate) == (1, 0, 0.0)
    assert snap.latency_ewma_s == pytest.approx(0.2)
