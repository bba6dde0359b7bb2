"""Decode account data of pump, PumpSwap and Pump Fees (and the SPL token accounts that hold a
curve's or pool's reserves).

Accounts are allocated with room to grow and zero-filled, so the layout version of an account is
the newest one that fits in its data length; the rest is `padding`. A 49-byte legacy
BondingCurve decodes as `bc0` with `creator` and later fields absent (None in records).
"""

from __future__ import annotations

from executor.decode.base58 import encode_pubkey
from executor.decode.borsh import Value
from executor.decode.errors import DecodeError, TruncatedData
from executor.decode.idl import PUMP, PUMP_AMM, PUMP_FEES
from executor.decode.layouts import ACCOUNTS, ACCOUNTS_BY_PROGRAM, Layout
from executor.decode.model import DecodedAccount

TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"  # noqa: S105 (a program id)
TOKEN_2022_PROGRAM = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"  # noqa: S105 (a program id)
TOKEN_ACCOUNT = "TokenAccount"  # noqa: S105 (an account kind)
_TOKEN_ACCOUNT_LEN = 165  # SPL token account; Token-2022 accounts with extensions are longer


def _layout_for(disc: bytes, owner: str | None) -> Layout | None:
    if owner in (PUMP, PUMP_AMM, PUMP_FEES):
        own = ACCOUNTS_BY_PROGRAM[owner].get(disc)
        if own is not None:
            return own
    return ACCOUNTS.get(disc)


def _token_account(data: bytes, owner: str) -> DecodedAccount:
    # mint (0..32), owner (32..64), amount u64 (64..72): the fields reserve accounting needs
    fields: dict[str, Value] = {
        "mint": encode_pubkey(data[0:32]),
        "owner": encode_pubkey(data[32:64]),
        "amount": int.from_bytes(data[64:72], "little"),
    }
    return DecodedAccount(owner, TOKEN_ACCOUNT, "", "spl", fields, len(data), len(data) - 72)


def decode_account(data: bytes, owner: str | None = None) -> DecodedAccount:
    """Decode one account's data. `owner` (the account's owner program) disambiguates accounts
    that several programs define under one name and enables SPL token accounts.

    Raises DecodeError for data no layout knows or too short for the oldest layout.
    """
    is_token_owner = owner in (TOKEN_PROGRAM, TOKEN_2022_PROGRAM)
    if is_token_owner and len(data) >= _TOKEN_ACCOUNT_LEN:
        return _token_account(data, owner or TOKEN_PROGRAM)
    if len(data) < 8:
        raise TruncatedData(f"account data of {len(data)} bytes has no discriminator")
    disc = bytes(data[:8])
    layout = _layout_for(disc, owner)
    if layout is None:
        if owner is None and len(data) == _TOKEN_ACCOUNT_LEN:
            return _token_account(data, TOKEN_PROGRAM)
        raise DecodeError(f"unknown account discriminator {disc.hex()}", reason="unknown_account")
    fields, version, end = layout.decode(data, 8)
    return DecodedAccount(
        layout.program, layout.name, disc.hex(), version, fields, len(data), len(data) - end
    )
