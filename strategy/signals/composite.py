"""Composite flow signal: inflow acceleration, buyer growth and price trend, gated by risk flags."""

from __future__ import annotations

from decimal import Decimal
from typing import Self

from pydantic import model_validator

from strategy.sdk import (
    Ctx,
    Emit,
    EvidenceValue,
    FeatureBucket,
    MintHistory,
    Params,
    Severity,
    Signal,
    Venue,
    param,
    quantize,
)
from strategy.signals._features import is_fresh_head, read_buyers, read_inflow, read_price
from strategy.signals.buyer_growth import buyers_hold
from strategy.signals.inflow_accel import inflow_holds
from strategy.signals.price_trend import price_holds

__all__ = ["FlowComposite", "FlowCompositeParams"]

_SEVERITIES = {"LOW": Severity.LOW, "MEDIUM": Severity.MEDIUM, "HIGH": Severity.HIGH}


class FlowCompositeParams(Params):
    """Thresholds of `flow_composite`; the component thresholds mirror the single signals' defaults."""

    min_confirmations: int = param(2, ge=1, le=3, search=True, doc="components that must agree (of 3)")
    block_severity: str = param(
        "HIGH", doc="an active risk flag of at least this severity blocks buys: LOW, MEDIUM or HIGH"
    )
    require_launch: bool = param(
        True, doc="buy only mints whose launch this run saw, so every risk flag since launch is known"
    )
    inflow_window: int = param(3, ge=3, le=30, doc="see inflow_accel.window")
    min_accel_sol: Decimal = param(
        Decimal("0.5"), ge=Decimal(0), search=True, doc="see inflow_accel.min_accel_sol"
    )
    min_net_inflow_sol: Decimal = param(
        Decimal("0.2"), ge=Decimal(0), doc="see inflow_accel.min_net_inflow_sol"
    )
    buyer_window: int = param(2, ge=1, le=15, doc="see buyer_growth.window")
    min_buyer_growth: Decimal = param(
        Decimal("0.5"), ge=Decimal(0), search=True, doc="see buyer_growth.min_growth"
    )
    min_recent_buyers: int = param(5, ge=1, le=10_000, doc="see buyer_growth.min_recent_buyers")
    price_window: int = param(5, ge=3, le=30, doc="see price_trend.window")
    price_min_points: int = param(3, ge=3, le=30, doc="see price_trend.min_points")
    min_slope_pct: Decimal = param(Decimal("1"), search=True, doc="see price_trend.min_slope_pct")
    min_curvature_pct: Decimal = param(Decimal("0"), doc="see price_trend.min_curvature_pct")
    size_sol: Decimal = param(Decimal("0.1"), gt=Decimal(0), le=Decimal(100), doc="buy size, SOL")
    max_slippage_bps: int = param(500, ge=1, le=5000, doc="slippage tolerance, basis points")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.block_severity not in _SEVERITIES:
            raise ValueError(
                f"block_severity must be one of {sorted(_SEVERITIES)}, got {self.block_severity!r}"
            )
        if self.price_min_points > self.price_window:
            raise ValueError("price_min_points must not exceed price_window")
        return self


class FlowComposite(Signal[FlowCompositeParams]):
    """Buy when at least `min_confirmations` of the three flow conditions hold on a new minute
    (and fewer held one minute earlier), unless the mint has an active risk flag of at least
    `block_severity` or its bonding curve is complete.

    Risk flags are state with unbounded look-back: a run that started after a mint's launch may
    have missed a flag raised before it started. With `require_launch` (the default) the composite
    therefore only buys mints whose `TokenLaunched` it saw; a late-starting run can only emit fewer
    composite intents than a full one, never one the full run would have blocked.

    Reasons: `COMPOSITE_BUY` first, then the code of every component that held. A blocked buy is
    not an intent; it is noted through `ctx.log` (the live driver logs it).
    """

    id = "flow_composite"
    version = 2
    reasons = ("COMPOSITE_BUY", "INFLOW_ACCEL_UP", "BUYER_SURGE", "PRICE_UPTREND")
    history_buckets = 32

    def warmup(self) -> int:
        """The largest component window plus one minute for the edge test."""
        p = self.params
        return max(p.inflow_window, 2 * p.buyer_window, p.price_window) + 1

    def on_bucket(self, bucket: FeatureBucket, ctx: Ctx[FlowCompositeParams]) -> Emit:
        """Decide on the first emission of each new minute; risk flags veto."""
        history = ctx.history(bucket.mint, bucket.venue)
        if not is_fresh_head(bucket, history):
            return None
        if ctx.params.require_launch and ctx.launch(bucket.mint) is None:
            return None
        held, evidence = _components(history, ctx.params, 0)
        need = ctx.params.min_confirmations
        if len(held) < need or len(_components(history, ctx.params, 1)[0]) >= need:
            return None
        block = _SEVERITIES[ctx.params.block_severity]
        blocking = [f.flag for f in ctx.risk_flags(bucket.mint) if f.severity >= block]
        if blocking:
            ctx.log("buy blocked by risk flag", flags=",".join(blocking), confirmations=len(held))
            return None
        if bucket.venue is Venue.PUMP_CURVE and ctx.curve_complete(bucket.mint):
            return None
        evidence["confirmations"] = len(held)
        return ctx.buy(
            bucket.mint,
            venue=bucket.venue,
            size_sol=ctx.params.size_sol,
            max_slippage_bps=ctx.params.max_slippage_bps,
            reason=["COMPOSITE_BUY", *held],
            evidence=evidence,
        )


def _components(
    history: MintHistory, p: FlowCompositeParams, end_offset: int
) -> tuple[list[str], dict[str, EvidenceValue]]:
    held: list[str] = []
    evidence: dict[str, EvidenceValue] = {}
    inflow = read_inflow(history, p.inflow_window, end_offset=end_offset)
    if inflow_holds(inflow, p.min_accel_sol, p.min_net_inflow_sol) and inflow is not None:
        held.append("INFLOW_ACCEL_UP")
        evidence["accel_sol_per_min2"] = quantize(inflow.accel_lamports.scaleb(-9), 9)
    buyers = read_buyers(history, p.buyer_window, end_offset=end_offset)
    if buyers_hold(buyers, p.min_buyer_growth, p.min_recent_buyers) and buyers is not None:
        held.append("BUYER_SURGE")
        evidence["recent_buyers"] = buyers.recent
        evidence["prior_buyers"] = buyers.prior
    price = read_price(history, p.price_window, p.price_min_points, end_offset=end_offset)
    if price_holds(price, p.min_slope_pct, p.min_curvature_pct) and price is not None:
        held.append("PRICE_UPTREND")
        evidence["slope_pct_per_min"] = quantize(price.slope_pct, 6)
    return held, evidence
