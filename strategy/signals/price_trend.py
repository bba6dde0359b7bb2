"""Price slope and curvature: buy when the implied price trends up (and optionally accelerates)."""

from __future__ import annotations

from decimal import Decimal
from typing import Self

from pydantic import model_validator

from strategy.sdk import Ctx, Emit, FeatureBucket, MintHistory, Params, Signal, param, quantize
from strategy.signals._features import PriceReading, is_fresh_head, read_price

__all__ = ["PriceTrend", "PriceTrendParams", "price_holds"]


class PriceTrendParams(Params):
    """Thresholds of `price_trend`."""

    window: int = param(5, ge=3, le=30, search=True, doc="minutes in the least-squares fit")
    min_points: int = param(3, ge=3, le=30, doc="minimum buckets (minutes with trades) inside the window")
    min_slope_pct: Decimal = param(
        Decimal("1"), search=True, doc="minimum slope of the close price, % of the window mean per minute"
    )
    min_curvature_pct: Decimal = param(
        Decimal("0"),
        search=True,
        doc="minimum curvature of the close price, % of the window mean per minute²",
    )
    size_sol: Decimal = param(Decimal("0.05"), gt=Decimal(0), le=Decimal(100), doc="buy size, SOL")
    max_slippage_bps: int = param(500, ge=1, le=5000, doc="slippage tolerance, basis points")

    @model_validator(mode="after")
    def _points_fit_window(self) -> Self:
        if self.min_points > self.window:
            raise ValueError(f"min_points ({self.min_points}) must not exceed window ({self.window})")
        return self


class PriceTrend(Signal[PriceTrendParams]):
    """Buy when the least-squares slope of the implied close price over `window` minutes is at least
    `min_slope_pct` and its curvature at least `min_curvature_pct` (default 0: not decelerating).

    Reasons: `PRICE_UPTREND`, plus `PRICE_ACCELERATING` when the curvature is strictly positive.
    Minutes without trades have no price and are left out of the fit (x keeps the minute position).
    """

    id = "price_trend"
    version = 1
    reasons = ("PRICE_UPTREND", "PRICE_ACCELERATING")
    history_buckets = 32

    def warmup(self) -> int:
        """`window + 1` minutes: the fit window, and the one before it for the edge test."""
        return self.params.window + 1

    def on_bucket(self, bucket: FeatureBucket, ctx: Ctx[PriceTrendParams]) -> Emit:
        """Decide on the first emission of each new minute."""
        history = ctx.history(bucket.mint, bucket.venue)
        if not is_fresh_head(bucket, history):
            return None
        now = _reading(history, ctx.params, 0)
        if now is None or _reading(history, ctx.params, 1) is not None:
            return None
        reasons = ["PRICE_UPTREND"]
        if now.curvature_pct > 0:
            reasons.append("PRICE_ACCELERATING")
        return ctx.buy(
            bucket.mint,
            venue=bucket.venue,
            size_sol=ctx.params.size_sol,
            max_slippage_bps=ctx.params.max_slippage_bps,
            reason=reasons,
            evidence={
                "slope_pct_per_min": quantize(now.slope_pct, 6),
                "curvature_pct_per_min2": quantize(now.curvature_pct, 6),
                "price_close": bucket.price_close,
                "points": now.points,
            },
        )


def price_holds(reading: PriceReading | None, min_slope_pct: Decimal, min_curvature_pct: Decimal) -> bool:
    """The `price_trend` condition on a reading."""
    return (
        reading is not None
        and reading.slope_pct >= min_slope_pct
        and reading.curvature_pct >= min_curvature_pct
    )


def _reading(history: MintHistory, p: PriceTrendParams, end_offset: int) -> PriceReading | None:
    reading = read_price(history, p.window, p.min_points, end_offset=end_offset)
    return reading if price_holds(reading, p.min_slope_pct, p.min_curvature_pct) else None
