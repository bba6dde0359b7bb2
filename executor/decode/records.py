"""Normalized records: the rows the rest of the system stores and streams.

Each record is one pump or PumpSwap event (or, for `source="balance_delta"`, one trade inferred
from balance changes) plus the envelope that places it: signature, slot, block time,
`event_index` (the storage key with the signature), the outer instruction and inner position
of the emitting instruction, the carrier it was read from, and the layout version.

Fields keep their IDL names. A field that the event's layout version does not have yet is
None, never 0, so "absent" and "zero" stay apart. `tests/decode` checks that every record field
is an IDL field of its event (or a documented derived field).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import ClassVar

from executor.decode.borsh import Value
from executor.decode.frozen import constructor
from executor.decode.idl import PUMP, PUMP_AMM
from executor.decode.model import DecodedEvent, DecodedInstruction, Source


@dataclass(frozen=True, slots=True, kw_only=True)
class Envelope:
    signature: str
    slot: int
    block_time: int | None
    event_index: int
    ix_index: int | None
    inner_index: int | None
    source: Source
    program: str
    layout_version: str
    timestamp: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Launch(Envelope):
    kind: ClassVar[str] = "launch"
    mint: str
    bonding_curve: str
    user: str
    creator: str | None
    name: str
    symbol: str
    uri: str
    token_program: str | None
    is_mayhem_mode: bool | None
    is_cashback_enabled: bool | None
    virtual_token_reserves: int | None
    virtual_sol_reserves: int | None
    real_token_reserves: int | None
    token_total_supply: int | None
    quote_mint: str | None
    virtual_quote_reserves: int | None
    ix_name: str | None  # derived: the creating instruction ("create" / "create_v2") when known


@dataclass(frozen=True, slots=True, kw_only=True)
class CurveTrade(Envelope):
    kind: ClassVar[str] = "curve_trade"
    mint: str
    user: str
    is_buy: bool
    sol_amount: int
    token_amount: int
    virtual_sol_reserves: int | None
    virtual_token_reserves: int | None
    real_sol_reserves: int | None
    real_token_reserves: int | None
    fee_recipient: str | None
    fee_basis_points: int | None
    fee: int | None
    creator: str | None
    creator_fee_basis_points: int | None
    creator_fee: int | None
    track_volume: bool | None
    ix_name: str | None
    mayhem_mode: bool | None
    cashback_fee_basis_points: int | None
    cashback: int | None
    buyback_fee_basis_points: int | None
    buyback_fee: int | None
    shareholders: tuple[tuple[str, int], ...] | None  # (address, share_bps)
    quote_mint: str | None
    quote_amount: int | None
    virtual_quote_reserves: int | None
    real_quote_reserves: int | None
    holder_rewards_bps: int | None  # post-IDL tail, name unverified (pump-protocol.md §5.1)
    holder_rewards: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CurveComplete(Envelope):
    kind: ClassVar[str] = "curve_complete"
    user: str
    mint: str
    bonding_curve: str
    quote_mint: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Migration(Envelope):
    kind: ClassVar[str] = "migration"
    user: str
    mint: str
    mint_amount: int
    sol_amount: int
    pool_migration_fee: int
    bonding_curve: str
    pool: str
    quote_mint: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AmmPoolCreated(Envelope):
    kind: ClassVar[str] = "amm_pool_created"
    pool: str
    creator: str
    base_mint: str
    quote_mint: str
    index: int
    base_mint_decimals: int
    quote_mint_decimals: int
    base_amount_in: int
    quote_amount_in: int
    pool_base_amount: int
    pool_quote_amount: int
    minimum_liquidity: int
    initial_liquidity: int
    lp_token_amount_out: int
    pool_bump: int
    lp_mint: str
    user_base_token_account: str
    user_quote_token_account: str
    coin_creator: str | None
    is_mayhem_mode: bool | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AmmTrade(Envelope):
    """A PumpSwap BuyEvent or SellEvent. Derived fields: `is_buy`, `base_amount` (base_amount_out
    of a buy, base_amount_in of a sell), `quote_amount` (quote_amount_in / quote_amount_out, the
    constant-product amount before fees), `user_quote_amount` (user_quote_amount_in / _out, what
    the user paid or got), `base_mint`/`quote_mint` (instruction accounts 3/4; None when only
    logs were seen). Pool reserves are pre-trade, as the event states them."""

    kind: ClassVar[str] = "amm_trade"
    pool: str
    user: str
    is_buy: bool
    base_amount: int
    quote_amount: int | None
    user_quote_amount: int | None
    pool_base_token_reserves: int | None
    pool_quote_token_reserves: int | None
    user_base_token_reserves: int | None
    user_quote_token_reserves: int | None
    lp_fee_basis_points: int | None
    lp_fee: int | None
    protocol_fee_basis_points: int | None
    protocol_fee: int | None
    protocol_fee_recipient: str | None
    coin_creator: str | None
    coin_creator_fee_basis_points: int | None
    coin_creator_fee: int | None
    ix_name: str | None
    cashback_fee_basis_points: int | None
    cashback: int | None
    buyback_fee_basis_points: int | None
    buyback_fee: int | None
    user_base_token_account: str | None
    user_quote_token_account: str | None
    base_mint: str | None
    quote_mint: str | None


Record = Launch | CurveTrade | CurveComplete | Migration | AmmPoolCreated | AmmTrade
RECORD_TYPES: tuple[type[Record], ...] = (
    Launch,
    CurveTrade,
    CurveComplete,
    Migration,
    AmmPoolCreated,
    AmmTrade,
)

ENVELOPE_FIELDS = frozenset(f.name for f in fields(Envelope))

# record field -> (buy event field, sell event field) for the AmmTrade fields whose IDL name
# depends on the side
AMM_SIDED = {
    "base_amount": ("base_amount_out", "base_amount_in"),
    "quote_amount": ("quote_amount_in", "quote_amount_out"),
    "user_quote_amount": ("user_quote_amount_in", "user_quote_amount_out"),
}
# record fields that are not copied from the event under the same name
DERIVED_FIELDS: dict[type[Record], frozenset[str]] = {
    Launch: frozenset({"ix_name"}),
    AmmTrade: frozenset({"is_buy", "base_mint", "quote_mint", *AMM_SIDED}),
}
RECORD_OF_EVENT: dict[tuple[str, str], type[Record]] = {
    (PUMP, "CreateEvent"): Launch,
    (PUMP, "TradeEvent"): CurveTrade,
    (PUMP, "CompleteEvent"): CurveComplete,
    (PUMP, "CompletePumpAmmMigrationEvent"): Migration,
    (PUMP_AMM, "CreatePoolEvent"): AmmPoolCreated,
    (PUMP_AMM, "BuyEvent"): AmmTrade,
    (PUMP_AMM, "SellEvent"): AmmTrade,
}
TRADE_RECORDS = (CurveTrade, AmmTrade)


def _own_fields(cls: type[Record]) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls) if f.name not in ENVELOPE_FIELDS)


# build_record writes the envelope positionally, in this order
_ENVELOPE_ORDER = (
    "signature",
    "slot",
    "block_time",
    "event_index",
    "ix_index",
    "inner_index",
    "source",
    "program",
    "layout_version",
    "timestamp",
)
if tuple(f.name for f in fields(Envelope)) != _ENVELOPE_ORDER:
    raise RuntimeError("Envelope fields changed: update build_record's row")
_OWN: dict[type[Record], tuple[str, ...]] = {cls: _own_fields(cls) for cls in RECORD_TYPES}
_NEW: dict[type[Record], Callable[..., Record]] = {cls: constructor(cls) for cls in RECORD_TYPES}
# position of a field in the value row (envelope first, then the record's own fields)
_AT: dict[type[Record], dict[str, int]] = {
    cls: {name: i for i, name in enumerate((*(f.name for f in fields(Envelope)), *_OWN[cls]))}
    for cls in RECORD_TYPES
}


def shareholder_pairs(value: Value) -> tuple[tuple[str, int], ...] | None:
    """`CurveTrade.shareholders` from the event's vector of {address, share_bps} structs."""
    if not isinstance(value, tuple):
        return None
    pairs: list[tuple[str, int]] = []
    for item in value:
        if isinstance(item, dict):
            address, share = item["address"], item["share_bps"]
            if isinstance(address, str) and isinstance(share, int):
                pairs.append((address, share))
    return tuple(pairs)


def build_record(
    event: DecodedEvent,
    *,
    signature: str,
    slot: int,
    block_time: int | None,
    instruction: DecodedInstruction | None,
) -> Record | None:
    """The normalized record of one decoded event, or None for events that have none.

    Record fields absent from the event's layout version are None; derived fields are set below.
    """
    cls = RECORD_OF_EVENT.get((event.program, event.name))
    if cls is None or event.error is not None or event.layout_version is None:
        return None
    values = event.fields
    timestamp = values.get("timestamp")
    row: list[object] = [
        signature,
        slot,
        block_time,
        event.event_index,
        event.ix_index,
        event.inner_index,
        event.source,
        event.program,
        event.layout_version,
        timestamp if isinstance(timestamp, int) else None,
    ]
    row.extend(map(values.get, _OWN[cls]))
    at = _AT[cls]
    if cls is CurveTrade:
        row[at["shareholders"]] = shareholder_pairs(values.get("shareholders"))
    elif cls is Launch:
        row[at["ix_name"]] = instruction.name if instruction is not None else None
    elif cls is AmmTrade:
        side = 0 if event.name == "BuyEvent" else 1
        row[at["is_buy"]] = side == 0
        for name, names in AMM_SIDED.items():
            row[at[name]] = values.get(names[side])
        row[at["base_mint"]] = instruction.account("base_mint") if instruction is not None else None
        row[at["quote_mint"]] = instruction.account("quote_mint") if instruction is not None else None
    return _NEW[cls](*row)
