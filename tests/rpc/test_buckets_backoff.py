"""Token buckets never exceed their rolling-window limit; backoff grows, caps and jitters within bounds."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from executor.rpc.backoff import Backoff
from executor.rpc.buckets import TokenBucket, max_in_window, window_bucket


def test_bucket_starts_full_and_refills_at_its_rate() -> None:
    bucket = TokenBucket(rate=2.0, capacity=3, now=0.0)
    for _ in range(3):
        assert bucket.wait_s(0.0) == 0.0
        bucket.take(0.0)
    assert bucket.wait_s(0.0) == pytest.approx(0.5)
    assert bucket.wait_s(0.25) == pytest.approx(0.25)
    assert bucket.wait_s(0.5) == 0.0
    assert bucket.tokens(100.0) == 3  # never above capacity


def test_bucket_refund_gives_a_token_back_but_not_past_capacity() -> None:
    bucket = TokenBucket(rate=1.0, capacity=2, now=0.0)
    bucket.take(0.0)
    bucket.refund(0.0)
    bucket.refund(0.0)
    assert bucket.tokens(0.0) == 2


def test_public_limits_become_small_bursts_and_a_steady_rate() -> None:
    endpoint = window_bucket(100, 10.0, now=0.0)
    method = window_bucket(40, 10.0, now=0.0)
    assert (endpoint.capacity, endpoint.rate) == (10, 9.0)
    assert (method.capacity, method.rate) == (4, 3.6)
    assert max_in_window(endpoint, 10.0) == 100
    assert max_in_window(method, 10.0) == 40


@settings(max_examples=60, deadline=None)
@given(
    limit=st.integers(min_value=2, max_value=200),
    gaps=st.lists(st.floats(min_value=0.0, max_value=0.5), min_size=1, max_size=400),
)
def test_a_greedy_client_never_exceeds_the_limit_in_any_window(limit: int, gaps: list[float]) -> None:
    window = 10.0
    bucket = window_bucket(limit, window, now=0.0)
    now = 0.0
    grants: list[float] = []
    for gap in gaps:
        now += gap
        while bucket.wait_s(now) == 0.0:
            bucket.take(now)
            grants.append(now)
        now += bucket.wait_s(now)  # wait exactly until the next token, then take it too
        bucket.take(now)
        grants.append(now)
    start = 0
    for end, t in enumerate(grants):
        while grants[start] <= t - window:
            start += 1
        assert end - start + 1 <= limit


def test_backoff_doubles_from_min_and_caps_at_max() -> None:
    backoff = Backoff(0.5, 30.0, jitter=0.0)
    assert [backoff.delay(n) for n in range(8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert backoff.delay(10_000) == 30.0


def test_backoff_jitter_stays_within_half_to_full_ceiling() -> None:
    backoff = Backoff(0.1, 5.0, jitter=0.5, rng=random.Random(7))
    for attempt in range(10):
        for _ in range(50):
            delay = backoff.delay(attempt)
            assert backoff.ceiling(attempt) * 0.5 <= delay <= backoff.ceiling(attempt)


def test_backoff_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="min_s"):
        Backoff(0.0, 1.0)
    with pytest.raises(ValueError, match="jitter"):
        Backoff(0.1, 1.0, jitter=1.0)
