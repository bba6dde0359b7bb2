"""Built-in signals, by id.

| id | what it detects |
|---|---|
| `inflow_accel` | net SOL inflow accelerating (second derivative of per-minute net inflow) |
| `buyer_growth` | unique buyers surging against the previous window |
| `price_trend` | implied price rising (least-squares slope), optionally accelerating (curvature) |
| `flow_composite` | at least N of the three above, blocked by active high-severity risk flags |

All are edge-triggered on new minute buckets and use only windowed history, so their output is
prefix- and warm-up-invariant. Defaults are documented on each `Params` class and in
`docs/strategy.md`.
"""

from __future__ import annotations

from typing import Any, Final

from strategy.sdk import Signal
from strategy.signals.buyer_growth import BuyerGrowth, BuyerGrowthParams
from strategy.signals.composite import FlowComposite, FlowCompositeParams
from strategy.signals.inflow_accel import InflowAcceleration, InflowAccelParams
from strategy.signals.price_trend import PriceTrend, PriceTrendParams

__all__ = [
    "BUILTINS",
    "BuyerGrowth",
    "BuyerGrowthParams",
    "FlowComposite",
    "FlowCompositeParams",
    "InflowAccelParams",
    "InflowAcceleration",
    "PriceTrend",
    "PriceTrendParams",
]

#: Built-in signal classes by id, in the order the default configuration lists them.
BUILTINS: Final[dict[str, type[Signal[Any]]]] = {
    cls.id: cls for cls in (InflowAcceleration, BuyerGrowth, PriceTrend, FlowComposite)
}
