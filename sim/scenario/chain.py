"""Balances of the generated chain and the per-transaction draft that changes them.

A `Draft` collects a transaction's shape key (`shapes`), the values behind the shape's names,
its events and its balance effects. `finish()` builds it (txbuild), snapshots pre balances over
the message's keys, applies the effects (only the fee when the transaction failed) and returns
the balance pieces of the `getTransaction` meta.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import compress, repeat
from typing import Any

from executor.decode.layouts import EVENT_CPI_TAG
from sim import addresses as A
from sim.ledger import Account
from sim.scenario import keys as K
from sim.scenario import txbuild
from sim.scenario.keys import Signer, pubkey_bytes
from sim.scenario.programs import ata_size, rent
from sim.scenario.shapes import shape_of
from sim.scenario.txbuild import Lookup, compute_unit_price

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


class Draft:
    """One transaction while the economy decides it."""

    __slots__ = (
        "accounts",
        "cu_limit",
        "cu_price",
        "err",
        "events",
        "fail_code",
        "noise",
        "parts",
        "payer",
        "routed",
        "signer_names",
        "signers",
        "sol",
        "token_deltas",
        "values",
    )

    def __init__(self, payer: Signer, payer_name: str = "$user") -> None:
        self.payer = payer
        self.signers: list[Signer] = []  # besides the payer
        self.signer_names = [payer_name]
        self.parts: list[tuple[Any, ...]] = []  # instructions of the shape key
        self.values: dict[str, Any] = {}  # "$name" -> key, "#name" -> bytes
        self.events: list[Event] = []
        self.sol: dict[str, int] = {}
        self.token_deltas: list[tuple[str, str, str, str, int, int]] = []
        self.accounts: dict[str, Account] = {}
        self.fail_code: int | None = None  # custom program error of a failed transaction
        self.err: Any = None  # its meta.err, once built
        self.cu_limit = 200_000
        self.cu_price = 0
        self.routed = False
        self.noise = False

    def move(self, src: str, dst: str, lamports: int) -> None:
        sol = self.sol
        sol[src] = sol.get(src, 0) - lamports
        sol[dst] = sol.get(dst, 0) + lamports

    def token(self, account: str, mint: str, owner: str, program: str, decimals: int, delta: int) -> None:
        self.token_deltas.append((account, mint, owner, program, decimals, delta))

    def create_ata(
        self, top: bool, payer: str, account: str, owner: str, mint: str, program: str, idempotent: bool
    ) -> str:
        """Values and effects of an associated token account creation (`programs.create_ata`
        with the same names; top level when `top`). Returns the new account's address."""
        if top:
            self.parts.append(("ata", payer, account, owner, mint, program, idempotent))
        get = self.values.get
        payer_key, owner_key, mint_key = get(payer, payer), get(owner, owner), get(mint, mint)
        address = self.values[account] = K.ata(owner_key, mint_key, program)
        self.values["#init" + account] = b"\x12" + pubkey_bytes(owner_key)
        self.move(payer_key, address, rent(ata_size(program)))
        self.token(address, mint_key, owner_key, program, 9 if mint_key == A.WSOL_MINT else 6, 0)
        return address

    def emit(self, event: Event) -> None:
        """An event's bytes for its log line and self-CPI (`programs.Tree.emit`)."""
        i = len(self.events)
        self.values[f"#ev{i}"] = event.data
        self.values[f"#cpi{i}"] = EVENT_CPI_TAG + event.data
        self.events.append(event)

    @property
    def fee(self) -> int:
        signatures = 1 + sum(1 for s in self.signers if s is not self.payer)
        return 5000 * signatures + -(-self.cu_limit * self.cu_price // 1_000_000)


# (account index, mint, owner, token program, decimals, amount): one pre/post token balance row
TokenRow = tuple[int, str, str, str, int, int]


@dataclass(slots=True)
class Finished:
    built: txbuild.BuiltTx
    fee: int
    pre: list[int]  # lamports of built.keys before ...
    post: list[int]  # ... and after the transaction
    pre_tokens: tuple[TokenRow, ...]
    post_tokens: tuple[TokenRow, ...]


def finish(
    chain: Chain,
    draft: Draft,
    *,
    lookup: Lookup,
    blockhash: bytes,
    log_limit: int | None,
    fast_signature: bytes | None,
) -> Finished:
    draft.values["#cu_price"] = compute_unit_price(draft.cu_price)
    key = (tuple(draft.signer_names), draft.cu_limit, draft.routed, draft.noise, *draft.parts)
    signing = [draft.payer] + [s for s in draft.signers if s is not draft.payer]
    built = txbuild.build(
        key,
        shape_of,
        draft.values,
        signing,
        lookup=lookup if draft.routed else None,
        blockhash=blockhash,
        log_limit=log_limit,
        fast_signature=fast_signature,
    )
    if draft.fail_code is not None:
        draft.err = {"InstructionError": [built.fail_index, {"Custom": draft.fail_code}]}
    keys = built.keys
    lamports = chain.lamports
    balance = lamports.get
    zeros = repeat(0, len(keys))
    pre = list(map(balance, keys, zeros))
    pre_tokens = _token_rows(chain, keys)
    payer = draft.payer.address
    fee = draft.fee
    lamports[payer] = balance(payer, 0) - fee
    if draft.err is None:
        for address, delta in draft.sol.items():
            lamports[address] = balance(address, 0) + delta
        tokens = chain.tokens
        for account, mint, owner, program, decimals, delta in draft.token_deltas:
            acct = tokens.get(account)
            if acct is None:
                acct = tokens[account] = TokenAcct(mint, owner, program, decimals, 0)
            acct.amount += delta
            assert acct.amount >= 0, f"negative token balance on {account}"
    post = list(map(balance, keys, repeat(0, len(keys))))
    assert min(post) >= 0, "negative lamports"
    return Finished(built, fee, pre, post, pre_tokens, _token_rows(chain, keys))


def _token_rows(chain: Chain, keys: tuple[str, ...]) -> tuple[TokenRow, ...]:
    tokens = chain.tokens
    rows = []
    for i in compress(range(len(keys)), map(tokens.__contains__, keys)):
        acct = tokens[keys[i]]
        rows.append((i, acct.mint, acct.owner, acct.program, acct.decimals, acct.amount))
    return tuple(rows)
