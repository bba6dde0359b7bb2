"""Deterministic keys and program-derived addresses for the generated chain (cached)."""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from functools import lru_cache

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from sim import addresses as A

_PUMP = Pubkey.from_string(A.PUMP_PROGRAM)
_AMM = Pubkey.from_string(A.PUMP_AMM_PROGRAM)
_ATA = Pubkey.from_string(A.ATA_PROGRAM)
_MAYHEM = Pubkey.from_string(A.MAYHEM_PROGRAM)
_METAPLEX = Pubkey.from_string(A.METAPLEX_PROGRAM)


class _PubkeyBytes(dict[str, bytes]):
    """address -> its 32 raw bytes, computed on first use (the same keys recur in every block);
    bounded: cleared when it reaches `LIMIT` entries."""

    LIMIT = 500_000

    def __missing__(self, address: str) -> bytes:
        if len(self) >= self.LIMIT:
            self.clear()
        raw = self[address] = bytes(Pubkey.from_string(address))
        return raw


PUBKEY_BYTES = _PubkeyBytes()
pubkey_bytes = PUBKEY_BYTES.__getitem__
_pk = pubkey_bytes


@dataclass(frozen=True, slots=True, eq=False)
class Signer:
    """A keypair with its address computed once."""

    address: str
    keypair: Keypair


def keypair(seed: int, role: str, index: int) -> Signer:
    """The keypair of `role` #index (wallet, mint, keeper, ...) under this seed."""
    kp = Keypair.from_seed(hashlib.sha256(f"pumpflow-sim/{seed}/{role}/{index}".encode()).digest())
    return Signer(str(kp.pubkey()), kp)


@lru_cache(maxsize=200_000)
def pda(program: str, *seeds: bytes) -> str:
    return str(Pubkey.find_program_address(list(seeds), Pubkey.from_string(program))[0])


@lru_cache(maxsize=400_000)
def ata(owner: str, mint: str, token_program: str = A.TOKEN_PROGRAM) -> str:
    return str(Pubkey.find_program_address([_pk(owner), _pk(token_program), _pk(mint)], _ATA)[0])


def bonding_curve(mint: str) -> str:
    return pda(A.PUMP_PROGRAM, b"bonding-curve", _pk(mint))


def creator_vault(creator: str) -> str:
    return pda(A.PUMP_PROGRAM, b"creator-vault", _pk(creator))


def user_volume_accumulator(user: str, program: str = A.PUMP_PROGRAM) -> str:
    return pda(program, b"user_volume_accumulator", _pk(user))


def metadata(mint: str) -> str:
    return pda(A.METAPLEX_PROGRAM, b"metadata", bytes(_METAPLEX), _pk(mint))


def mayhem_accounts(mint: str) -> tuple[str, str, str, str]:
    """(global_params, sol_vault, mayhem_state, mayhem_token_vault) of create_v2."""
    sol_vault = pda(A.MAYHEM_PROGRAM, b"sol-vault")
    return (
        pda(A.MAYHEM_PROGRAM, b"global-params"),
        sol_vault,
        pda(A.MAYHEM_PROGRAM, b"mayhem-state", _pk(mint)),
        ata(sol_vault, mint, A.TOKEN_2022_PROGRAM),
    )


def pool_authority(mint: str) -> str:
    return pda(A.PUMP_PROGRAM, b"pool-authority", _pk(mint))


@lru_cache(maxsize=100_000)
def canonical_pool(mint: str) -> tuple[str, int]:
    """(pool address, bump) of the index-0 pool `migrate` creates for `mint` against WSOL."""
    seeds = [b"pool", struct.pack("<H", 0), _pk(pool_authority(mint)), _pk(mint), _pk(A.WSOL_MINT)]
    pool, bump = Pubkey.find_program_address(seeds, _AMM)
    return str(pool), bump


def lp_mint(pool: str) -> str:
    return pda(A.PUMP_AMM_PROGRAM, b"pool_lp_mint", _pk(pool))


def amm_creator_vault_authority(coin_creator: str) -> str:
    return pda(A.PUMP_AMM_PROGRAM, b"creator_vault", _pk(coin_creator))
