"""Deterministic synthetic event streams for the strategy tests (no `random`: values come from sha256).

`golden_stream()` is the fixed stream behind the golden fingerprint: six staggered mints over forty
minutes with trades, minute buckets, quiet stretches and surges (so every built-in fires), a launch
per mint, a curve snapshot, a HIGH risk flag raised and cleared, a LOW one, and a re-emitted bucket.
Changing anything here changes the golden fingerprint on purpose.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from strategy.sdk import FeatureBucket, Severity, StreamEvent, fingerprint, quantize
from strategy.sdk.testing import StreamBuilder, make_bucket, mint_address, run_signals
from strategy.signals import BUILTINS

GOLDEN_MINUTES = 40
GOLDEN_MINTS = 6
_PRICE0 = Decimal("0.000000028")


def unit(label: str, i: int) -> Decimal:
    """A reproducible number in [0, 1) with 6 decimals, derived from sha256."""
    digest = hashlib.sha256(f"{label}:{i}".encode()).digest()
    return Decimal(int.from_bytes(digest[:4], "big") % 1_000_000).scaleb(-6)


def _minute_values(k: int, m: int) -> tuple[Decimal, int]:
    """(net inflow SOL, unique buyers) of mint k in its m-th minute: noise plus periodic surges."""
    noise = unit(f"inflow{k}", m) - Decimal("0.5")
    phase = (m + 2 * k) % 9
    surge = {5: Decimal(1), 6: Decimal(3), 7: Decimal(6)}.get(phase, Decimal(0))
    buyers = 2 + int(unit(f"buyers{k}", m) * 4) + {5: 4, 6: 10, 7: 18}.get(phase, 0)
    return quantize(noise + surge, 3), buyers


def golden_stream(minutes: int = GOLDEN_MINUTES, mints: int = GOLDEN_MINTS) -> list[StreamEvent]:
    """The golden stream (see the module docstring)."""
    s = StreamBuilder()
    names = [f"golden-{k}" for k in range(mints)]
    launch = {name: 2 * k for k, name in enumerate(names)}
    price = {name: _PRICE0 for name in names}
    last: dict[str, FeatureBucket] = {}
    for m in range(minutes):
        for k, name in enumerate(names):
            if m < launch[name]:
                continue
            if m == launch[name]:
                s.launch(name, at=60 * m + 1)
            inflow, _ = _minute_values(k, m - launch[name])
            for j in range(2):
                s.trade(
                    name,
                    at=60 * m + 15 + 20 * j,
                    is_buy=inflow >= 0 or j == 0,
                    sol=abs(inflow) / 2 + Decimal("0.1"),
                )
        if m == 8:
            s.curve(names[3], at=60 * m + 50, price=price[names[3]])
        if m == 12:
            s.risk_flag(names[2], "CREATOR_DUMP", Severity.HIGH, at=60 * m + 55)
            s.risk_flag(names[4], "SERIAL_LAUNCHER", Severity.LOW, at=60 * m + 56)
        if m == 20:
            s.risk_flag(names[2], "CREATOR_DUMP", Severity.HIGH, active=False, at=60 * m + 55)
        for k, name in enumerate(names):
            if m < launch[name]:
                continue
            inflow, buyers = _minute_values(k, m - launch[name])
            price[name] = quantize(price[name] * (1 + inflow * Decimal("0.03")), 18)
            last[name] = s.bucket(name, m, net_inflow_sol=inflow, uniq_buyers=buyers, price_close=price[name])
        if m == 15:
            # A late trade re-opens minute 15 of mint 1: re-emitted with version 2 and more inflow.
            s.add(
                make_bucket(
                    names[1],
                    last[names[1]].minute_start,
                    net_inflow_sol=Decimal("7.5"),
                    uniq_buyers=last[names[1]].uniq_buyers + 5,
                    price_close=last[names[1]].price_close,
                    bucket_version=2,
                )
            )
    return s.events


def golden_mint(k: int) -> str:
    """The base58 address of golden mint k."""
    return mint_address(f"golden-{k}")


def builtin_fingerprint(events: list[StreamEvent] | None = None) -> str:
    """Fingerprint of all built-ins (defaults) over `events` (default: the golden stream)."""
    result = run_signals(
        {sid: cls() for sid, cls in BUILTINS.items()}, golden_stream() if events is None else events
    )
    return fingerprint(result.intents)


if __name__ == "__main__":  # used by the cross-process determinism test
    print(builtin_fingerprint())
