"""Risk flags: rules over trades and launches that raise a flag on a mint. Pure: no I/O.

Each rule is a function of facts that do not depend on arrival order, so live ingest and replay
raise the same flags:

* CREATOR_DUMP (HIGH): a bonding-curve sell by the coin's creator (the TradeEvent names the
  creator) of at least `creator_dump_min_tokens` base units in one trade.
* SERIAL_LAUNCHER (MEDIUM): a launch whose creator launched at least `serial_launch_count` coins
  (this one included) within the `serial_launch_window_s` seconds of chain time ending at it. A
  launch that arrives late makes the caller re-evaluate the creator's other launches in the window.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from executor.ingest.derive import CURVE, TradeRow

CREATOR_DUMP = "CREATOR_DUMP"
SERIAL_LAUNCHER = "SERIAL_LAUNCHER"


@dataclass(frozen=True, slots=True)
class RiskRules:
    creator_dump_min_tokens: int = 10_000_000_000_000  # 10M tokens: 1% of a standard supply
    serial_launch_count: int = 3
    serial_launch_window_s: int = 86_400


@dataclass(frozen=True, slots=True)
class Flag:
    mint: str
    flag: str
    severity: str
    slot: int
    signature: str
    event_index: int
    event_time: int | None
    active: bool
    details: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class LaunchFact:
    mint: str
    creator: str
    slot: int
    signature: str
    event_index: int
    event_time: int

    @property
    def order(self) -> tuple[int, int, str, int]:
        return (self.event_time, self.slot, self.signature, self.event_index)


def creator_dumps(trades: Iterable[TradeRow], rules: RiskRules) -> list[Flag]:
    flags = []
    for t in trades:
        if (
            t.venue == CURVE
            and not t.is_buy
            and t.mint is not None
            and t.creator is not None
            and t.trader == t.creator
            and t.token_amount >= rules.creator_dump_min_tokens
        ):
            flags.append(
                Flag(
                    mint=t.mint,
                    flag=CREATOR_DUMP,
                    severity="HIGH",
                    slot=t.slot,
                    signature=t.signature,
                    event_index=t.event_index,
                    event_time=t.event_time,
                    active=True,
                    details=(
                        ("creator", t.creator),
                        ("sol_amount", str(t.sol_amount)),
                        ("token_amount", str(t.token_amount)),
                    ),
                )
            )
    return flags


def serial_launches(launches: Sequence[LaunchFact], rules: RiskRules) -> list[Flag]:
    """Flags for every launch among `launches` (one creator's) that completes a serial pattern."""
    ordered = sorted(launches, key=lambda launch: launch.order)
    flags = []
    for i, launch in enumerate(ordered):
        window_start = launch.event_time - rules.serial_launch_window_s
        count = sum(1 for prior in ordered[: i + 1] if prior.event_time > window_start)
        if count >= rules.serial_launch_count:
            flags.append(
                Flag(
                    mint=launch.mint,
                    flag=SERIAL_LAUNCHER,
                    severity="MEDIUM",
                    slot=launch.slot,
                    signature=launch.signature,
                    event_index=launch.event_index,
                    event_time=launch.event_time,
                    active=True,
                    details=(
                        ("creator", launch.creator),
                        ("launches_in_window", str(count)),
                        ("window_s", str(rules.serial_launch_window_s)),
                    ),
                )
            )
    return flags
