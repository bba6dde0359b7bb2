"""Balances of the generated chain and the per-transaction draft that changes them.

A `Draft` collects a transaction's invocations, writable accounts, events and balance effects;
`finish()` compiles it (txbuild), snapshots pre balances over the message's keys, applies the
effects (only the fee when the transaction failed) and returns the `getTransaction` pieces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from solders.keypair import Keypair

from sim import addresses as A
from sim.ledger import Account, TokenBalance
from sim.scenario import txbuild
from sim.scenario.txbuild import Call, Lookup

_PROGRAM_LAMPORTS = {
    A.SYSTEM_PROGRAM: 1,
    A.COMPUTE_BUDGET_PROGRAM: 1,
    A.TOKEN_PROGRAM: 4_522_329_612,
    A.TOKEN_2022_PROGRAM: 3_387_961_056,
    A.ATA_PROGRAM: 731_913_600,
    A.METAPLEX_PROGRAM: 1_141_440,
    A.RENT_SYSVAR: 1_009_200,
    A.WSOL_MINT: 1_167_318_521,
}


def rent(size: int) -> int:
    """Rent-exempt minimum for `size` bytes of data."""
    return (128 + size) * 6960


@dataclass(slots=True)
class TokenAcct:
    mint: str
    owner: str
    program: str
    decimals: int
    amount: int


class Chain:
    """Lamports and token accounts of every address the scenario touched."""

    def __init__(self) -> None:
        self.lamports: dict[str, int] = dict(_PROGRAM_LAMPORTS)
        self.tokens: dict[str, TokenAcct] = {}

    def balance(self, address: str) -> int:
        return self.lamports.get(address, 0)


@dataclass(slots=True)
class Event:
    program: str
    name: str
    version: str
    fields: dict[str, Any]
    data: bytes  # discriminator + payload


@dataclass(slots=True)
class Draft:
    payer: Keypair
    signers: list[Keypair] = field(default_factory=list)
    top: list[Call] = field(default_factory=list)
    writable: set[str] = field(default_factory=set)
    events: list[Event] = field(default_factory=list)
    sol: dict[str, int] = field(default_factory=dict)
    token_deltas: list[tuple[str, str, str, str, int, int]] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    accounts: dict[str, Account] = field(default_factory=dict)
    err: Any = None
    cu_limit: int = 200_000
    cu_price: int = 0
    lookup: Lookup | None = None

    def w(self, *keys: str) -> None:
        self.writable.update(keys)

    def move(self, src: str, dst: str, lamports: int) -> None:
        self.sol[src] = self.sol.get(src, 0) - lamports
        self.sol[dst] = self.sol.get(dst, 0) + lamports

    def token(self, account: str, mint: str, owner: str, program: str, decimals: int, delta: int) -> None:
        self.token_deltas.append((account, mint, owner, program, decimals, delta))

    @property
    def fee(self) -> int:
        signatures = 1 + sum(1 for s in self.signers if s is not self.payer)
        return 5000 * signatures + -(-self.cu_limit * self.cu_price // 1_000_000)


@dataclass(slots=True)
class Finished:
    built: txbuild.BuiltTx
    meta: dict[str, Any]
    lamports: tuple[tuple[str, int], ...]
    token_balances: tuple[TokenBalance, ...]


def finish(
    chain: Chain, draft: Draft, *, blockhash: bytes, log_limit: int | None, fast_signature: bytes | None
) -> Finished:
    built = txbuild.build(
        payer=draft.payer,
        signers=draft.signers,
        top=draft.top,
        writable=draft.writable,
        blockhash=blockhash,
        cu_limit=draft.cu_limit,
        lookup=draft.lookup,
        log_limit=log_limit,
        fast_signature=fast_signature,
    )
    keys = built.keys
    index = {k: i for i, k in enumerate(keys)}
    pre = [chain.balance(k) for k in keys]
    pre_tokens = _token_rows(chain, keys, index)
    payer = str(draft.payer.pubkey())
    fee = draft.fee
    chain.lamports[payer] = chain.balance(payer) - fee
    if draft.err is None:
        for address, delta in draft.sol.items():
            chain.lamports[address] = chain.balance(address) + delta
        for account, mint, owner, program, decimals, delta in draft.token_deltas:
            acct = chain.tokens.get(account)
            if acct is None:
                acct = chain.tokens[account] = TokenAcct(mint, owner, program, decimals, 0)
            acct.amount += delta
            assert acct.amount >= 0, f"negative token balance on {account}"
        for account in draft.closed:
            chain.tokens.pop(account, None)
    post = [chain.balance(k) for k in keys]
    assert min(post) >= 0, "negative lamports"
    post_tokens = _token_rows(chain, keys, index)
    meta: dict[str, Any] = {
        "err": draft.err,
        "status": {"Ok": None} if draft.err is None else {"Err": draft.err},
        "fee": fee,
        "preBalances": pre,
        "postBalances": post,
        "innerInstructions": built.inner,
        "logMessages": built.logs,
        "preTokenBalances": pre_tokens,
        "postTokenBalances": post_tokens,
        "rewards": [],
        "loadedAddresses": built.loaded or {"writable": [], "readonly": []},
        "computeUnitsConsumed": built.units,
    }
    token_balances = tuple(
        TokenBalance(
            keys[r["accountIndex"]],
            r["mint"],
            r["owner"],
            r["programId"],
            int(r["uiTokenAmount"]["amount"]),
            r["uiTokenAmount"]["decimals"],
        )
        for r in post_tokens
    )
    return Finished(built, meta, tuple(zip(keys, post, strict=True)), token_balances)


def _token_rows(chain: Chain, keys: tuple[str, ...], index: dict[str, int]) -> list[dict[str, Any]]:
    rows = []
    for key in keys:
        acct = chain.tokens.get(key)
        if acct is None:
            continue
        rows.append(
            {
                "accountIndex": index[key],
                "mint": acct.mint,
                "uiTokenAmount": ui_amount(acct.amount, acct.decimals),
                "owner": acct.owner,
                "programId": acct.program,
            }
        )
    return rows


def ui_amount(amount: int, decimals: int) -> dict[str, Any]:
    text = str(amount).rjust(decimals + 1, "0")
    whole, frac = text[:-decimals], text[-decimals:].rstrip("0")
    return {
        "uiAmount": amount / 10**decimals if amount else None,
        "decimals": decimals,
        "amount": str(amount),
        "uiAmountString": f"{whole}.{frac}" if frac else whole,
    }
