"""pumpflow strategy SDK: write signals that behave identically live and in replay.

A signal is a subclass of `Signal[MyParams]` with synchronous hooks (`on_bucket`, `on_trade`,
`on_curve`) that read immutable events and a `Ctx`, and *return* `TradeIntent` values. The
framework owns ordering (the executor's `seq`), time (event time only), per-mint history (which
never contains the future), warm-up, intent ids, and fault isolation. Everything here is pure:
no I/O, clocks, randomness or asyncio, which a lint rule and a test enforce.

Quick taste::

    from decimal import Decimal
    from strategy.sdk import Ctx, Emit, FeatureBucket, Params, Signal, lamports, param

    class BigInflowParams(Params):
        min_inflow_sol: Decimal = param(Decimal("2"), gt=Decimal(0), doc="net inflow per minute, SOL")

    class BigInflow(Signal[BigInflowParams]):
        id = "big_inflow"
        version = 1
        reasons = ("BIG_INFLOW",)

        def on_bucket(self, bucket: FeatureBucket, ctx: Ctx[BigInflowParams]) -> Emit:
            if bucket.net_inflow_sol >= lamports(ctx.params.min_inflow_sol):
                return ctx.buy(bucket.mint, size_sol=Decimal("0.1"), reason="BIG_INFLOW")
            return None

Test it with `strategy.sdk.testing.run_signal`; see `docs/strategy.md` for the full guide.
"""

from strategy.sdk._ctx import Ctx, SignalNote
from strategy.sdk._decimal import (
    DECIMAL_CONTEXT,
    LAMPORTS_PER_SOL,
    canonical_decimal,
    lamports,
    parse_decimal,
    quantize,
    sol,
)
from strategy.sdk._events import (
    ChainRef,
    CurveCompleted,
    CurveSnapshot,
    FeatureBucket,
    RiskFlag,
    Severity,
    StreamEvent,
    TokenLaunched,
    TokenMigrated,
    TradeObserved,
    Venue,
)
from strategy.sdk._history import BucketField, FlowField, LevelField, MintHistory
from strategy.sdk._intent import EvidenceValue, Side, TradeIntent, derive_intent_id, fingerprint
from strategy.sdk._math import curvature, diffs, growth, mean, second_diff, slope
from strategy.sdk._params import ParamInfo, Params, param
from strategy.sdk._signal import HOOKS, Emit, Signal
from strategy.sdk.errors import IntentError, ParamsError, SignalDefinitionError, SignalSdkError

__all__ = [
    "DECIMAL_CONTEXT",
    "HOOKS",
    "LAMPORTS_PER_SOL",
    "BucketField",
    "ChainRef",
    "Ctx",
    "CurveCompleted",
    "CurveSnapshot",
    "Emit",
    "EvidenceValue",
    "FeatureBucket",
    "FlowField",
    "IntentError",
    "LevelField",
    "MintHistory",
    "ParamInfo",
    "Params",
    "ParamsError",
    "RiskFlag",
    "Severity",
    "Side",
    "Signal",
    "SignalDefinitionError",
    "SignalNote",
    "SignalSdkError",
    "StreamEvent",
    "TokenLaunched",
    "TokenMigrated",
    "TradeIntent",
    "TradeObserved",
    "Venue",
    "canonical_decimal",
    "curvature",
    "derive_intent_id",
    "diffs",
    "fingerprint",
    "growth",
    "lamports",
    "mean",
    "param",
    "parse_decimal",
    "quantize",
    "second_diff",
    "slope",
    "sol",
]
