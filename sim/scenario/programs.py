"""Invocations of pump, PumpSwap and the helper programs, as the real programs log them.

Each function adds one instruction (with its CPIs, log lines and event carriers) to a `Draft`
and records the balance effects; the economics come from `executor.curve` and are decided by
the caller (`lifecycle`).
"""

from __future__ import annotations

import struct
from typing import Any

from solders.pubkey import Pubkey

from executor.curve import AmmTrade, CurveTrade
from executor.decode.encode import encode_event, encode_instruction, event_cpi_data
from sim import addresses as A
from sim.scenario import keys as K
from sim.scenario.chain import Draft, Event, rent
from sim.scenario.txbuild import (
    Call,
    compute_unit_limit,
    compute_unit_price,
    program_data,
    return_line,
    system_create_account,
    system_transfer,
    token_burn,
    token_mint_to,
    token_transfer_checked,
)

ZERO_KEY = A.SYSTEM_PROGRAM
_GET_FEES = bytes.fromhex("e7257e55cf5b3f34")  # pump_fees get_fees (the decoder does not cover pump_fees)
CUSTOM_ERRORS = {"TooMuchSolRequired": 6002, "TooLittleSolReceived": 6003}


def compute_budget(draft: Draft, limit: int, price: int) -> None:
    draft.cu_limit, draft.cu_price = limit, price
    draft.top.append(Call(A.COMPUTE_BUDGET_PROGRAM, [], compute_unit_limit(limit), units=150))
    draft.top.append(Call(A.COMPUTE_BUDGET_PROGRAM, [], compute_unit_price(price), units=150))


def emit(draft: Draft, call: Call, program: str, name: str, version: str, fields: dict[str, Any]) -> None:
    """Both carriers: the `Program data:` line and the self-CPI through the event authority."""
    data = encode_event(name, fields, version, program=program)
    authority = A.PUMP_EVENT_AUTHORITY if program == A.PUMP_PROGRAM else A.AMM_EVENT_AUTHORITY
    call.body.append(program_data(data))
    call.call(
        Call(program, [authority], event_cpi_data(data), units=2060 if program == A.PUMP_PROGRAM else 2048)
    )
    draft.events.append(Event(program, name, version, fields, data))


def get_fees(
    call: Call,
    fee_config: str,
    trading_program: str,
    market_cap: int,
    trade_size: int,
    fees: tuple[int, int, int],
) -> None:
    """The Pump Fees `get_fees` CPI both trading programs make; its return data is (lp, protocol, creator)."""
    data = _GET_FEES + struct.pack(
        "<?QQQ?", True, market_cap & (2**64 - 1), market_cap >> 64, trade_size, False
    )
    lp, protocol, creator = fees
    fees_call = call.call(Call(A.PUMP_FEES_PROGRAM, [fee_config, trading_program], data, units=3136))
    fees_call.log("Instruction: GetFees")
    fees_call.body.append(return_line(A.PUMP_FEES_PROGRAM, struct.pack("<QQQ", lp, protocol, creator)))


def create_ata(
    draft: Draft, parent: Call | None, payer: str, owner: str, mint: str, program: str, idempotent: bool
) -> str:
    """Associated token account creation (top level when `parent` is None)."""
    account = K.ata(owner, mint, program)
    call = Call(
        A.ATA_PROGRAM,
        [payer, account, owner, mint, A.SYSTEM_PROGRAM, program],
        b"\x01" if idempotent else b"",
        units=4000,
    )
    call.log("CreateIdempotent" if idempotent else "Create")
    size = 170 if program == A.TOKEN_2022_PROGRAM else 165
    call.call(Call(program, [mint], b"\x15", units=1400)).log("Instruction: GetAccountDataSize")
    call.body[-1].body.append(return_line(program, struct.pack("<Q", size)))  # type: ignore[union-attr]
    call.call(Call(A.SYSTEM_PROGRAM, [payer, account], system_create_account(rent(size), size, program)))
    call.log("Initialize the associated token account")
    call.call(Call(program, [account], b"\x16", units=700)).log("Instruction: InitializeImmutableOwner")
    call.call(Call(program, [account, mint], b"\x12" + bytes(Pubkey.from_string(owner)), units=1900)).log(
        "Instruction: InitializeAccount3"
    )
    draft.w(payer, account)
    draft.move(payer, account, rent(size))
    decimals = 9 if mint == A.WSOL_MINT else 6
    draft.token(account, mint, owner, program, decimals, 0)
    if parent is None:
        draft.top.append(call)
    else:
        parent.call(call)
    return account


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


def instruction(program: str, name: str, args: dict[str, Any]) -> bytes:
    return encode_instruction(program, name, args)


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


def token_transfer(
    call: Call, program: str, source: str, mint: str, dest: str, authority: str, amount: int, decimals: int
) -> None:
    t = call.call(
        Call(
            program,
            [source, mint, dest, authority],
            token_transfer_checked(amount, decimals),
            units=6147 if program == A.TOKEN_PROGRAM else 2475,
        )
    )
    t.log("Instruction: TransferChecked")


def system_move(call: Call, src: str, dst: str, lamports: int) -> None:
    call.call(Call(A.SYSTEM_PROGRAM, [src, dst], system_transfer(lamports)))


def mint_to(call: Call, program: str, mint: str, dest: str, authority: str, amount: int) -> None:
    call.call(Call(program, [mint, dest, authority], token_mint_to(amount), units=1642)).log(
        "Instruction: MintTo"
    )


def burn(call: Call, program: str, account: str, mint: str, authority: str, amount: int) -> None:
    call.call(Call(program, [account, mint, authority], token_burn(amount), units=1295)).log(
        "Instruction: Burn"
    )
