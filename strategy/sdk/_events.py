"""Immutable value objects for the events a signal sees, mirroring `pumpflow.v1` without protobuf.

Field names follow the proto (which follows the pump IDL). Money is `int` (lamports, token base
units); prices and ratios are `Decimal`. Every event carries the executor's gap-free `seq`, which
is the replay authority: the runner processes events in `seq` order and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import IntEnum, StrEnum
from types import MappingProxyType
from typing import ClassVar, TypeAlias

__all__ = [
    "ChainRef",
    "CurveCompleted",
    "CurveSnapshot",
    "FeatureBucket",
    "RiskFlag",
    "Severity",
    "StreamEvent",
    "TokenLaunched",
    "TokenMigrated",
    "TradeObserved",
    "Venue",
]


class Venue(StrEnum):
    """Where a trade happens: the pump.fun bonding curve or the PumpSwap AMM after migration."""

    UNSPECIFIED = "UNSPECIFIED"
    PUMP_CURVE = "PUMP_CURVE"
    PUMP_AMM = "PUMP_AMM"


class Severity(IntEnum):
    """Risk-flag severity; ordered, so `flag.severity >= Severity.HIGH` reads naturally."""

    UNSPECIFIED = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainRef:
    """Where a chain event came from; `(slot, signature, event_index)` is its stable key."""

    slot: int
    signature: str
    #: Unix seconds of the block, 0 when unknown.
    block_time: int
    #: Unix seconds the event is bucketed by (block time, else the event's own timestamp).
    event_time: int
    #: Position of the event inside its transaction.
    event_index: int

    @property
    def key(self) -> str:
        """The canonical chain key `"slot:signature:index"`."""
        return f"{self.slot}:{self.signature}:{self.event_index}"


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenLaunched:
    """A pump.fun `create`/`create_v2`: a new mint and its bonding curve."""

    kind: ClassVar[str] = "token_launched"
    seq: int
    chain: ChainRef
    mint: str
    bonding_curve: str
    creator: str
    user: str
    name: str
    symbol: str
    uri: str
    is_mayhem_mode: bool
    virtual_token_reserves: int
    virtual_sol_reserves: int
    real_token_reserves: int
    token_total_supply: int

    @property
    def as_of(self) -> int:
        """Event time, unix seconds."""
        return self.chain.event_time


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeObserved:
    """One buy or sell on the curve or the AMM, as decoded from the chain."""

    kind: ClassVar[str] = "trade_observed"
    seq: int
    chain: ChainRef
    venue: Venue
    mint: str
    user: str
    is_buy: bool
    #: Curve/pool amount before fees, lamports.
    sol_amount: int
    token_amount: int
    virtual_sol_reserves: int
    virtual_token_reserves: int
    real_sol_reserves: int
    real_token_reserves: int
    fee: int
    fee_bps: int
    creator_fee: int
    creator_fee_bps: int
    creator: str
    pool: str
    #: SOL the user actually paid or received, fees included, where known (else 0).
    user_sol_amount: int
    #: Implied price after the trade, SOL per whole token.
    price_sol: Decimal

    @property
    def as_of(self) -> int:
        """Event time, unix seconds."""
        return self.chain.event_time


@dataclass(frozen=True, slots=True, kw_only=True)
class CurveSnapshot:
    """Bonding-curve state at a slot, with the derived price."""

    kind: ClassVar[str] = "curve_snapshot"
    seq: int
    chain: ChainRef
    mint: str
    bonding_curve: str
    virtual_token_reserves: int
    virtual_sol_reserves: int
    real_token_reserves: int
    real_sol_reserves: int
    token_total_supply: int
    complete: bool
    #: SOL per whole token.
    price_sol: Decimal
    #: Share of the sellable supply already sold, 0..100.
    sold_pct: Decimal
    #: "trade_event" or "account".
    origin: str

    @property
    def as_of(self) -> int:
        """Event time, unix seconds."""
        return self.chain.event_time


@dataclass(frozen=True, slots=True, kw_only=True)
class FeatureBucket:
    """A closed one-minute bucket of flow for one (mint, venue).

    Emitted once the minute is final, i.e. after every trade it aggregates. A late trade re-emits
    the same minute with `bucket_version + 1`; the runner's history keeps only the newest version.
    Lamport fields are ints (`net_inflow_sol` is signed); statistics and prices are Decimals.
    """

    kind: ClassVar[str] = "feature_bucket"
    seq: int
    mint: str
    venue: Venue
    #: Unix seconds, minute-aligned, event time.
    minute_start: int
    closes_at: int
    trades: int
    buys: int
    sells: int
    uniq_signers: int
    uniq_buyers: int
    uniq_sellers: int
    buy_sol: int
    sell_sol: int
    net_inflow_sol: int
    avg_trade_sol: Decimal
    trade_sol_stddev: Decimal
    whale_share_top5: Decimal
    price_open: Decimal
    price_high: Decimal
    price_low: Decimal
    price_close: Decimal
    first_slot: int
    last_slot: int
    bucket_version: int

    @property
    def as_of(self) -> int:
        """The bucket's close time: when it became knowable."""
        return self.closes_at

    @property
    def is_revision(self) -> bool:
        """True for a re-emission caused by a late trade (`bucket_version > 1`)."""
        return self.bucket_version > 1


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskFlag:
    """A risk condition on a mint raised (`active=True`) or cleared (`active=False`)."""

    kind: ClassVar[str] = "risk_flag"
    seq: int
    chain: ChainRef
    mint: str
    #: Stable code, e.g. "CREATOR_DUMP".
    flag: str
    severity: Severity
    active: bool
    #: Evidence values, exact strings; read-only.
    details: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)

    @property
    def as_of(self) -> int:
        """Event time, unix seconds."""
        return self.chain.event_time


@dataclass(frozen=True, slots=True, kw_only=True)
class CurveCompleted:
    """The bonding curve of `mint` filled; no more curve trades."""

    kind: ClassVar[str] = "curve_completed"
    seq: int
    chain: ChainRef
    mint: str
    bonding_curve: str
    user: str

    @property
    def as_of(self) -> int:
        """Event time, unix seconds."""
        return self.chain.event_time


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenMigrated:
    """`mint` moved to a PumpSwap pool."""

    kind: ClassVar[str] = "token_migrated"
    seq: int
    chain: ChainRef
    mint: str
    pool: str
    mint_amount: int
    sol_amount: int
    pool_migration_fee: int
    bonding_curve: str
    user: str

    @property
    def as_of(self) -> int:
        """Event time, unix seconds."""
        return self.chain.event_time


#: Every event the runner accepts. Heartbeats and AMM snapshots are not stream events for signals.
StreamEvent: TypeAlias = (
    TokenLaunched | TradeObserved | CurveSnapshot | FeatureBucket | RiskFlag | CurveCompleted | TokenMigrated
)
