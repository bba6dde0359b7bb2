"""Net inflow acceleration: buy when net SOL inflow into a mint starts accelerating."""

from __future__ import annotations

from decimal import Decimal

from strategy.sdk import Ctx, Emit, FeatureBucket, MintHistory, Params, Signal, lamports, param, quantize, sol
from strategy.signals._features import InflowReading, is_fresh_head, read_inflow

__all__ = ["InflowAccelParams", "InflowAcceleration"]


class InflowAccelParams(Params):
    """Thresholds of `inflow_accel`."""

    window: int = param(
        3, ge=3, le=30, search=True, doc="minutes in the acceleration fit (3 = plain second difference)"
    )
    min_accel_sol: Decimal = param(
        Decimal("0.5"), ge=Decimal(0), search=True, doc="minimum acceleration of net inflow, SOL per minute²"
    )
    min_net_inflow_sol: Decimal = param(
        Decimal("0.2"), ge=Decimal(0), search=True, doc="minimum net inflow in the newest minute, SOL"
    )
    size_sol: Decimal = param(Decimal("0.05"), gt=Decimal(0), le=Decimal(100), doc="buy size, SOL")
    max_slippage_bps: int = param(500, ge=1, le=5000, doc="slippage tolerance, basis points")


class InflowAcceleration(Signal[InflowAccelParams]):
    """Buy when the second derivative of per-minute net SOL inflow crosses `min_accel_sol` while the
    inflow is rising and at least `min_net_inflow_sol` in the newest minute.

    Evaluated on each new minute bucket. Edge-triggered: fires only on the minute the condition
    becomes true (it was false one minute earlier), so a sustained surge gives one intent, and the
    decision depends on the last `window + 1` minutes only (hence the warm-up).
    """

    id = "inflow_accel"
    version = 1
    reasons = ("INFLOW_ACCEL_UP",)
    history_buckets = 32

    def warmup(self) -> int:
        """`window + 1` minutes: the fit window, and the one before it for the edge test."""
        return self.params.window + 1

    def on_bucket(self, bucket: FeatureBucket, ctx: Ctx[InflowAccelParams]) -> Emit:
        """Decide on the first emission of each new minute."""
        history = ctx.history(bucket.mint, bucket.venue)
        if not is_fresh_head(bucket, history):
            return None
        now = _reading(history, ctx.params, 0)
        if now is None or _reading(history, ctx.params, 1) is not None:
            return None
        return ctx.buy(
            bucket.mint,
            venue=bucket.venue,
            size_sol=ctx.params.size_sol,
            max_slippage_bps=ctx.params.max_slippage_bps,
            reason="INFLOW_ACCEL_UP",
            evidence={
                "accel_sol_per_min2": quantize(now.accel_lamports.scaleb(-9), 9),
                "net_inflow_sol": sol(now.last_inflow_lamports),
                "window_min": ctx.params.window,
            },
        )


def inflow_holds(reading: InflowReading | None, min_accel_sol: Decimal, min_net_inflow_sol: Decimal) -> bool:
    """The `inflow_accel` condition on a reading: accelerating, rising, and actually flowing in.

    Rising matters: a decline that flattens out (6, 3, 1 SOL) also has a positive second derivative.
    """
    return (
        reading is not None
        and reading.accel_lamports >= lamports(min_accel_sol)
        and reading.last_change_lamports > 0
        and reading.last_inflow_lamports >= lamports(min_net_inflow_sol)
    )


def _reading(history: MintHistory, p: InflowAccelParams, end_offset: int) -> InflowReading | None:
    reading = read_inflow(history, p.window, end_offset=end_offset)
    return reading if inflow_holds(reading, p.min_accel_sol, p.min_net_inflow_sol) else None
