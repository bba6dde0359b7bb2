"""Which layout of every event/account goes with a TradeEvent layout (`--layout`), and the fees
the program charged in that era (shared/docs/pump-protocol.md §5, §8)."""

from __future__ import annotations

from dataclasses import dataclass

from executor.curve import CurveFees


@dataclass(frozen=True, slots=True)
class Era:
    trade: str
    create: str
    complete: str
    migration: str
    create_pool: str
    amm_buy: str
    amm_sell: str
    bonding_curve: str
    pool: str
    fees: CurveFees
    create_v2: bool  # create_v2 (Token-2022) exists
    ix_name: bool  # TradeEvent carries ix_name (buy_exact_sol_in exists)


_ERAS = {
    "v0": Era("v0", "c0", "k0", "m0", "p0", "b0", "s0", "bc0", "pool0", CurveFees(100, 0), False, False),
    "v1": Era("v1", "c0", "k0", "m0", "p0", "b0", "s0", "bc0", "pool0", CurveFees(100, 0), False, False),
    "v2": Era("v2", "c2", "k0", "m0", "p1", "b1", "s1", "bc1", "pool1", CurveFees(95, 5), False, False),
    "v3": Era("v3", "c2", "k0", "m0", "p1", "b2", "s1", "bc1", "pool1", CurveFees(95, 30), False, False),
    "v4": Era("v4", "c2", "k0", "m0", "p1", "b3", "s1", "bc1", "pool1", CurveFees(95, 30), False, True),
    "v5": Era("v5", "c3", "k0", "m0", "p2", "b3", "s1", "bc2", "pool2", CurveFees(95, 30), True, True),
    "v6": Era("v6", "c4", "k0", "m0", "p2", "b4", "s2", "bc3", "pool3", CurveFees(95, 30), True, True),
    "v7": Era(
        "v7", "c4", "k0", "m0", "p2", "b5", "s3", "bc3", "pool3", CurveFees(95, 30, 0, 5000), True, True
    ),
    "v8": Era(
        "v8", "c5", "k1", "m1", "p2", "b5", "s3", "bc4", "pool3", CurveFees(95, 30, 0, 5000), True, True
    ),
    "v9": Era(
        "v9", "c5", "k1", "m1", "p2", "b5", "s3", "bc4", "pool3", CurveFees(95, 30, 0, 5000), True, True
    ),
}
LAYOUTS = tuple(_ERAS)


def era_of(layout: str) -> Era:
    try:
        return _ERAS[layout]
    except KeyError:
        raise ValueError(f"unknown --layout {layout!r}; choose one of {', '.join(LAYOUTS)}") from None
