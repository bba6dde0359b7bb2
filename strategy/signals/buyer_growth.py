"""Buyer growth rate: buy when the number of distinct buyers of a mint surges."""

from __future__ import annotations

from decimal import Decimal

from strategy.sdk import Ctx, Emit, EvidenceValue, FeatureBucket, MintHistory, Params, Signal, param, quantize
from strategy.signals._features import BuyerReading, is_fresh_head, read_buyers

__all__ = ["BuyerGrowth", "BuyerGrowthParams", "buyers_hold"]


class BuyerGrowthParams(Params):
    """Thresholds of `buyer_growth`."""

    window: int = param(2, ge=1, le=15, search=True, doc="minutes per comparison window")
    min_growth: Decimal = param(
        Decimal("0.5"),
        ge=Decimal(0),
        search=True,
        doc="minimum growth of unique buyers vs the previous window (0.5 = +50%)",
    )
    min_recent_buyers: int = param(
        5, ge=1, le=10_000, search=True, doc="minimum unique buyers in the recent window"
    )
    size_sol: Decimal = param(Decimal("0.05"), gt=Decimal(0), le=Decimal(100), doc="buy size, SOL")
    max_slippage_bps: int = param(500, ge=1, le=5000, doc="slippage tolerance, basis points")


class BuyerGrowth(Signal[BuyerGrowthParams]):
    """Buy when unique buyers over the last `window` minutes grow by `min_growth` over the window
    before (or appear from none), with at least `min_recent_buyers` of them.

    Unique buyers are summed per minute (a wallet buying in two minutes counts twice), which is
    what the buckets allow without raw trades. Edge-triggered like every built-in.
    """

    id = "buyer_growth"
    version = 1
    reasons = ("BUYER_SURGE",)
    history_buckets = 32

    def warmup(self) -> int:
        """`2 * window + 1` minutes: both comparison windows, plus one minute for the edge test."""
        return 2 * self.params.window + 1

    def on_bucket(self, bucket: FeatureBucket, ctx: Ctx[BuyerGrowthParams]) -> Emit:
        """Decide on the first emission of each new minute."""
        history = ctx.history(bucket.mint, bucket.venue)
        if not is_fresh_head(bucket, history):
            return None
        now = _reading(history, ctx.params, 0)
        if now is None or _reading(history, ctx.params, 1) is not None:
            return None
        evidence: dict[str, EvidenceValue] = {"recent_buyers": now.recent, "prior_buyers": now.prior}
        if now.growth is not None:
            evidence["buyer_growth"] = quantize(now.growth, 6)
        return ctx.buy(
            bucket.mint,
            venue=bucket.venue,
            size_sol=ctx.params.size_sol,
            max_slippage_bps=ctx.params.max_slippage_bps,
            reason="BUYER_SURGE",
            evidence=evidence,
        )


def buyers_hold(reading: BuyerReading | None, min_growth: Decimal, min_recent_buyers: int) -> bool:
    """The `buyer_growth` condition on a reading (growth from zero buyers counts as a surge)."""
    if reading is None or reading.recent < min_recent_buyers:
        return False
    return reading.growth is None or reading.growth >= min_growth


def _reading(history: MintHistory, p: BuyerGrowthParams, end_offset: int) -> BuyerReading | None:
    reading = read_buyers(history, p.window, end_offset=end_offset)
    return reading if buyers_hold(reading, p.min_growth, p.min_recent_buyers) else None
