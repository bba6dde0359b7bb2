"""Event fields of the generated trades and the manifest record each event should decode to.

`record()` answers in the decoder's vocabulary (`executor.decode.records`); the per-(event,
layout version) field plan is worked out once, so a record is one dict fill.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import Any

from executor.curve import AmmTrade, CurveTrade
from executor.decode import records as R
from executor.decode.layouts import layout_by_name
from sim.scenario.chain import Event

ZERO_KEY = "11111111111111111111111111111111"


def curve_trade_fields(
    *,
    mint: str,
    user: str,
    trade: CurveTrade,
    timestamp: int,
    fee_recipient: str,
    fees_bps: tuple[int, int, int, int],
    creator: str,
    ix_name: str,
    volume: int,
) -> dict[str, Any]:
    protocol_bps, creator_bps, cashback_bps, buyback_bps = fees_bps
    after = trade.after
    return {
        "mint": mint,
        "sol_amount": trade.sol_amount,
        "token_amount": trade.token_amount,
        "is_buy": trade.is_buy,
        "user": user,
        "timestamp": timestamp,
        "virtual_sol_reserves": after.virtual_sol_reserves,
        "virtual_token_reserves": after.virtual_token_reserves,
        "real_sol_reserves": after.real_sol_reserves,
        "real_token_reserves": after.real_token_reserves,
        "fee_recipient": fee_recipient,
        "fee_basis_points": protocol_bps,
        "fee": trade.fee,
        "creator": creator,
        "creator_fee_basis_points": creator_bps,
        "creator_fee": trade.creator_fee,
        "track_volume": trade.is_buy,
        "total_unclaimed_tokens": 0,
        "total_claimed_tokens": 0,
        "current_sol_volume": volume,
        "last_update_timestamp": timestamp,
        "ix_name": ix_name,
        "mayhem_mode": False,
        "cashback_fee_basis_points": cashback_bps,
        "cashback": trade.cashback,
        "buyback_fee_basis_points": buyback_bps,
        "buyback_fee": trade.buyback_fee,
        "shareholders": [],
        "quote_mint": ZERO_KEY,
        "quote_amount": trade.sol_amount,
        "virtual_quote_reserves": after.virtual_sol_reserves,
        "real_quote_reserves": after.real_sol_reserves,
        "holder_rewards_bps": 0,
        "holder_rewards": 0,
    }


def amm_trade_fields(
    *,
    trade: AmmTrade,
    timestamp: int,
    pool: str,
    user: str,
    user_base: str,
    user_quote: str,
    user_base_before: int,
    user_quote_before: int,
    recipient: str,
    recipient_ata: str,
    coin_creator: str,
    fees_bps: tuple[int, int, int],
    limit: int,
    ix_name: str,
    volume: int,
) -> dict[str, Any]:
    lp_bps, protocol_bps, creator_bps = fees_bps
    common: dict[str, Any] = {
        "timestamp": timestamp,
        "user_base_token_reserves": user_base_before,
        "user_quote_token_reserves": user_quote_before,
        "pool_base_token_reserves": trade.base_reserve_before,
        "pool_quote_token_reserves": trade.quote_reserve_before,
        "lp_fee_basis_points": lp_bps,
        "lp_fee": trade.lp_fee,
        "protocol_fee_basis_points": protocol_bps,
        "protocol_fee": trade.protocol_fee,
        "pool": pool,
        "user": user,
        "user_base_token_account": user_base,
        "user_quote_token_account": user_quote,
        "protocol_fee_recipient": recipient,
        "protocol_fee_recipient_token_account": recipient_ata,
        "coin_creator": coin_creator,
        "coin_creator_fee_basis_points": creator_bps,
        "coin_creator_fee": trade.creator_fee,
        "cashback_fee_basis_points": 0,
        "cashback": 0,
        "buyback_fee_basis_points": 0,
        "buyback_fee": 0,
    }
    if trade.is_buy:
        common.update(
            base_amount_out=trade.base_amount,
            max_quote_amount_in=limit,
            quote_amount_in=trade.quote_amount,
            quote_amount_in_with_lp_fee=trade.quote_with_lp,
            user_quote_amount_in=trade.user_quote,
            track_volume=True,
            total_unclaimed_tokens=0,
            total_claimed_tokens=0,
            current_sol_volume=volume,
            last_update_timestamp=timestamp,
            min_base_amount_out=trade.base_amount,
            ix_name=ix_name,
        )
    else:
        common.update(
            base_amount_in=trade.base_amount,
            min_quote_amount_out=limit,
            quote_amount_out=trade.quote_amount,
            quote_amount_out_without_lp_fee=trade.quote_with_lp,
            user_quote_amount_out=trade.user_quote,
        )
    return common


_RECORD_OF: dict[str, type[R.Record]] = {
    "CreateEvent": R.Launch,
    "TradeEvent": R.CurveTrade,
    "CompleteEvent": R.CurveComplete,
    "CompletePumpAmmMigrationEvent": R.Migration,
    "CreatePoolEvent": R.AmmPoolCreated,
    "BuyEvent": R.AmmTrade,
    "SellEvent": R.AmmTrade,
}
_ABSENT = "\x00absent"  # a field name no event has: its default is the record's value


@cache
def _plan(program: str, name: str, version: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[Any, ...]]:
    """(record field, event field it comes from, value when that field is absent) in record
    order, for one event layout version."""
    cls = _RECORD_OF[name]
    present = frozenset(f.name for f in layout_by_name("event", name, program).fields_until(version))
    is_buy = name == "BuyEvent"
    out: list[tuple[str, str, Any]] = []
    for f in dataclasses.fields(cls):
        field = f.name
        if field in R.ENVELOPE_FIELDS:
            continue
        if cls is R.AmmTrade and field in R.DERIVED_FIELDS[R.AmmTrade]:
            if field == "is_buy":
                out.append((field, _ABSENT, is_buy))
            elif field in R.AMM_SIDED:
                out.append((field, R.AMM_SIDED[field][0 if is_buy else 1], None))
            elif field == "base_mint":
                out.append((field, "base_mint", None))
            else:
                out.append((field, "quote_mint_account", None))
        elif cls is R.Launch and field == "ix_name":
            out.append((field, "ix_name", None))
        else:
            out.append((field, field if field in present else _ABSENT, None))
    names, sources, defaults = zip(*out, strict=True)
    return names, sources, defaults


def record(event_index: int, ev: Event) -> dict[str, Any]:
    """The record the decoder should produce for this event, in its vocabulary."""
    cls = _RECORD_OF[ev.name]
    names, sources, defaults = _plan(ev.program, ev.name, ev.version)
    out: dict[str, Any] = {
        "kind": getattr(cls, "kind"),  # noqa: B009 - ClassVar on the record dataclasses
        "event_index": event_index,
        "program": ev.program,
        "layout_version": ev.version,
    }
    out.update(zip(names, map(ev.fields.get, sources, defaults), strict=True))
    if cls is R.CurveTrade and out.get("shareholders") is not None:
        out["shareholders"] = [list(p) for p in out["shareholders"]]
    return out
