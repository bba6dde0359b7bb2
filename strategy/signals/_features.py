"""The flow features the built-in signals share, as pure functions of a `MintHistory`.

Each `read_*` function looks at the window ending `end_offset` minutes before the newest bucket
and returns a reading, or None when the window is not fully covered or the feature is undefined.
The signals compare readings with their thresholds; the composite reuses the same functions, so a
component and the composite can never disagree on what "acceleration" means.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

from strategy.sdk import DECIMAL_CONTEXT, FeatureBucket, MintHistory, curvature, growth, mean, slope

__all__ = [
    "BuyerReading",
    "InflowReading",
    "PriceReading",
    "is_fresh_head",
    "read_buyers",
    "read_inflow",
    "read_price",
]

_HUNDRED = Decimal(100)


def is_fresh_head(bucket: FeatureBucket, history: MintHistory) -> bool:
    """True when `bucket` is the first emission of the newest minute: the one moment to decide.

    Revisions (late trades re-emitting a minute) and buckets of older minutes update the history
    but do not re-trigger the built-in signals.
    """
    last = history.last
    return not bucket.is_revision and last is not None and last.minute_start == bucket.minute_start


@dataclass(frozen=True, slots=True)
class InflowReading:
    """Net SOL inflow acceleration over a window (lamports per minute²), the newest minute's inflow
    and its change from the minute before (lamports)."""

    accel_lamports: Decimal
    last_inflow_lamports: int
    last_change_lamports: int


def read_inflow(history: MintHistory, window: int, *, end_offset: int = 0) -> InflowReading | None:
    """Second derivative of per-minute net inflow: least-squares parabola over `window` minutes.

    With `window == 3` this is exactly the second difference `v[-1] - 2·v[-2] + v[-3]`.
    Minutes without trades count as zero inflow.
    """
    series = history.series("net_inflow_sol", window, end_offset=end_offset)
    if len(series) < window:
        return None
    return InflowReading(
        accel_lamports=curvature(series),
        last_inflow_lamports=series[-1],
        last_change_lamports=series[-1] - series[-2],
    )


@dataclass(frozen=True, slots=True)
class BuyerReading:
    """Unique buyers in the recent window vs the window before it."""

    recent: int
    prior: int
    #: `(recent - prior) / prior`, or None when `prior` is zero.
    growth: Decimal | None


def read_buyers(history: MintHistory, window: int, *, end_offset: int = 0) -> BuyerReading | None:
    """Buyer growth rate: sum of per-minute unique buyers over the last `window` minutes against
    the `window` minutes before them."""
    recent = history.series("uniq_buyers", window, end_offset=end_offset)
    prior = history.series("uniq_buyers", window, end_offset=end_offset + window)
    if len(recent) < window or len(prior) < window:
        return None
    r, p = sum(recent), sum(prior)
    return BuyerReading(recent=r, prior=p, growth=growth(p, r))


@dataclass(frozen=True, slots=True)
class PriceReading:
    """Slope and curvature of the implied close price, relative to the window's mean price."""

    #: Percent of the mean price per minute.
    slope_pct: Decimal
    #: Percent of the mean price per minute².
    curvature_pct: Decimal
    points: int


def read_price(
    history: MintHistory, window: int, min_points: int, *, end_offset: int = 0
) -> PriceReading | None:
    """Least-squares slope and curvature of `price_close` over the buckets inside the window.

    Minutes without a bucket (or without a positive price) are skipped; x is the minute position, so
    gaps are respected. Needs `min_points` (>= 3) such buckets.
    """
    if history.minutes_covered < window + end_offset:
        return None
    # A bucket without a price (empty string on the wire reads as 0) carries no level information.
    pts = [(x, y) for x, y in history.points("price_close", window, end_offset=end_offset) if y > 0]
    if len(pts) < max(3, min_points):
        return None
    xs = [x for x, _ in pts]
    ys = [y for _, y in pts]
    level = mean(ys)
    with localcontext(DECIMAL_CONTEXT):
        return PriceReading(
            slope_pct=slope(ys, xs) / level * _HUNDRED,
            curvature_pct=curvature(ys, xs) / level * _HUNDRED,
            points=len(pts),
        )
