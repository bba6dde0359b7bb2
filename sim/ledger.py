"""What the simulated node has served: transactions, the address index, and account state.

Pure data structures, no I/O. An `Entry` is one served transaction; its `body` renders the
`getTransaction` result in each encoding. Token accounts and lamport balances are derived from
the entries' post balances, so recorded and generated data answer getBalance,
getTokenLargestAccounts and token-account getAccountInfo the same way.
"""

from __future__ import annotations

import base64
import struct
from bisect import bisect_left
from collections import defaultdict, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any, NamedTuple, Protocol

import orjson
from solders.pubkey import Pubkey

from sim.addresses import SYSTEM_PROGRAM, TOKEN_2022_PROGRAM, TOKEN_PROGRAM
from sim.txformat import b58encode

RENT_EPOCH_EXEMPT = 18446744073709551615


class TxBody(Protocol):
    """Renders the `getTransaction` result; None when the encoding cannot be produced exactly."""

    @property
    def version(self) -> int | None:
        """0 (or later) for versioned messages, None for legacy."""

    def render(self, encoding: str, max_version: int | None) -> orjson.Fragment | None: ...


@dataclass(frozen=True, slots=True)
class Account:
    lamports: int
    owner: str
    data: bytes
    executable: bool = False
    rent_epoch: int = RENT_EPOCH_EXEMPT

    def to_json(self, encoding: str, data_slice: tuple[int, int] | None = None) -> dict[str, Any]:
        data = self.data
        if data_slice is not None:
            off, length = data_slice
            data = data[off : off + length]
        rendered: Any
        if encoding in ("base58", "binary"):
            rendered = b58encode(data) if encoding == "binary" else [b58encode(data), "base58"]
        else:
            rendered = [base64.b64encode(data).decode(), "base64"]
        return {
            "data": rendered,
            "executable": self.executable,
            "lamports": self.lamports,
            "owner": self.owner,
            "rentEpoch": self.rent_epoch,
            "space": len(self.data),
        }


# A transaction's log lines as a JSON array: constant JSON, and (ints) the positions of its events,
# each printed as the base64 of its data. Generated transactions share these parts per shape.
LogParts = tuple[bytes | int, ...]


def logs_json(parts: bytes | LogParts, events: tuple[bytes, ...]) -> bytes:
    """The JSON array of log lines (`parts` is it already when it is bytes)."""
    if parts.__class__ is bytes:
        return parts
    b64 = base64.b64encode
    return b"".join([p if p.__class__ is bytes else b64(events[p]) for p in parts])  # type: ignore[index]


def notification_value(signature: str, err: Any, logs: bytes) -> bytes:
    """The logsNotification value `{"signature","err","logs"}` (`logs`: a JSON array)."""
    return b'{"signature":"%s","err":%s,"logs":%s}' % (signature.encode(), orjson.dumps(err), logs)


class TokenBalance(NamedTuple):
    """One post-token-balance row: SPL token account state as the transaction left it."""

    account: str
    mint: str
    owner: str
    program: str
    amount: int
    decimals: int


@dataclass(slots=True)
class Entry:
    """One served transaction, kept compact: what the node needs after serving it is bytes.

    Its logs are `log_parts` with `events` (see `logs_json`); `value` is the logsNotification
    value built from them. `manifest_json` is its manifest row (dropped once written).
    `balances` are the lamports of `keys` after the transaction; they, `accounts` and
    `token_balances` update the ledger's state and feed accountSubscribe, and are dropped once
    every commitment has seen the transaction.
    """

    signature: str
    slot: int
    block_time: int | None
    err: Any
    keys: tuple[str, ...]
    log_parts: bytes | LogParts
    events: tuple[bytes, ...]
    body: TxBody
    manifest_json: bytes | None
    accounts: tuple[tuple[str, Account], ...] = ()
    balances: Sequence[int] = ()
    token_balances: tuple[TokenBalance, ...] = ()
    seq: int = -1

    @property
    def value(self) -> bytes:
        return notification_value(self.signature, self.err, logs_json(self.log_parts, self.events))

    def logs_value(self) -> bytes:
        return self.value

    @property
    def logs(self) -> list[str]:
        logs: list[str] = orjson.loads(logs_json(self.log_parts, self.events))
        return logs

    @property
    def manifest(self) -> dict[str, Any]:
        assert self.manifest_json is not None, "the manifest row was written and dropped"
        row: dict[str, Any] = orjson.loads(self.manifest_json)
        return row

    @property
    def lamports(self) -> tuple[tuple[str, int], ...]:
        return tuple(zip(self.keys, self.balances, strict=False))

    def served(self) -> None:
        """Every commitment has been notified: keep only what history queries read."""
        self.accounts = ()
        self.balances = ()
        self.token_balances = ()


class Ledger:
    """Served entries in order (the newest `retain`), indexed by signature and by every account
    key they mention; plus the latest account state."""

    def __init__(self, retain: int) -> None:
        self.retain = retain
        self._entries: list[Entry] = []
        self._first_seq = 0
        self._by_sig: dict[str, Entry] = {}
        self._by_addr: defaultdict[str, list[int]] = defaultdict(list)
        self.accounts: dict[str, Account] = {}
        self.lamports: dict[str, int] = {}
        self.token_accounts: dict[str, TokenBalance] = {}
        self._by_mint: dict[str, set[str]] = {}

    def __len__(self) -> int:
        return self._first_seq + len(self._entries)

    def append(self, entry: Entry) -> None:
        seq = len(self)
        entry.seq = seq
        self._entries.append(entry)
        self._by_sig[entry.signature] = entry
        # every key's list gets `seq` (a message lists each account once); consumed in C
        deque(map(list.append, map(self._by_addr.__getitem__, entry.keys), repeat(seq)), maxlen=0)
        self.lamports.update(zip(entry.keys, entry.balances, strict=False))
        for address, account in entry.accounts:
            self.accounts[address] = account
        for tb in entry.token_balances:
            self.token_accounts[tb.account] = tb
            holders = self._by_mint.get(tb.mint)
            if holders is None:
                self._by_mint[tb.mint] = {tb.account}
            else:
                holders.add(tb.account)
        if len(self._entries) > self.retain:
            self._evict(max(1, len(self._entries) // 10))

    def _evict(self, count: int) -> None:
        """Forget the oldest `count` entries, and their places in the address index."""
        old = self._entries[:count]
        del self._entries[:count]
        self._first_seq += count
        first = self._first_seq
        by_sig = self._by_sig
        for entry in old:
            by_sig.pop(entry.signature, None)
        by_addr = self._by_addr
        for address in {key for entry in old for key in entry.keys}:
            seqs = by_addr.get(address)
            if seqs is None:
                continue
            cut = bisect_left(seqs, first)
            if cut == len(seqs):
                del by_addr[address]
            elif cut:
                del seqs[:cut]

    def get(self, signature: str) -> Entry | None:
        return self._by_sig.get(signature)

    def last(self) -> Entry | None:
        return self._entries[-1] if self._entries else None

    def entries(self) -> Iterator[Entry]:
        return iter(self._entries)

    def at(self, seq: int) -> Entry | None:
        """The entry with sequence number `seq`, None when evicted or not yet served."""
        i = seq - self._first_seq
        return self._entries[i] if 0 <= i < len(self._entries) else None

    @property
    def first_seq(self) -> int:
        return self._first_seq

    def signatures_for(
        self, address: str, *, before: str | None, until: str | None, limit: int, max_slot: int
    ) -> list[Entry]:
        """getSignaturesForAddress: newest first, `before`/`until` exclusive, up to `limit`."""
        seqs = self._by_addr.get(address)
        if not seqs:
            return []
        start = len(seqs) - 1
        if before is not None:
            b = self._by_sig.get(before)
            if b is None:
                return []
            start = bisect_left(seqs, b.seq) - 1
        stop_seq = -1
        if until is not None:
            u = self._by_sig.get(until)
            if u is not None:
                stop_seq = u.seq
        out: list[Entry] = []
        first = self._first_seq
        entries = self._entries
        for i in range(start, -1, -1):
            seq = seqs[i]
            if seq <= stop_seq or seq < first:
                break
            entry = entries[seq - first]
            if entry.slot > max_slot:
                continue
            out.append(entry)
            if len(out) >= limit:
                break
        return out

    def account(self, address: str) -> Account | None:
        """Explicit account, else a synthesized token account, else a bare system account."""
        acct = self.accounts.get(address)
        if acct is not None:
            return acct
        tb = self.token_accounts.get(address)
        if tb is not None:
            return token_account(tb, self.lamports.get(address, 2_039_280))
        lamports = self.lamports.get(address)
        if lamports:
            return Account(lamports=lamports, owner=SYSTEM_PROGRAM, data=b"", rent_epoch=RENT_EPOCH_EXEMPT)
        return None

    def largest_token_accounts(self, mint: str, n: int = 20) -> list[TokenBalance]:
        holders = [self.token_accounts[a] for a in self._by_mint.get(mint, ())]
        holders.sort(key=lambda tb: (-tb.amount, tb.account))
        return holders[:n]

    def mint_decimals(self, mint: str) -> int | None:
        for account in self._by_mint.get(mint, ()):
            return self.token_accounts[account].decimals
        return None


def token_account(tb: TokenBalance, lamports: int) -> Account:
    """SPL token account bytes (165; Token-2022 adds the account type and ImmutableOwner TLV)."""
    data = (
        bytes(Pubkey.from_string(tb.mint))
        + bytes(Pubkey.from_string(tb.owner))
        + struct.pack("<Q", tb.amount)
        + bytes(36)  # delegate: None
        + b"\x01"  # state: initialized
        + bytes(12)  # is_native: None
        + bytes(8)  # delegated_amount
        + bytes(36)  # close_authority: None
    )
    if tb.program == TOKEN_2022_PROGRAM:
        data += b"\x02" + struct.pack("<HH", 7, 0)
    return Account(lamports=lamports, owner=tb.program, data=data)


def mint_account(supply: int, decimals: int, program: str, mint_authority: str | None = None) -> Account:
    """SPL mint bytes (82; Token-2022 pads to 165 and adds the account type)."""
    auth = b"\x01\0\0\0" + bytes(Pubkey.from_string(mint_authority)) if mint_authority else bytes(36)
    data = auth + struct.pack("<QB?", supply, decimals, True) + bytes(36)
    if program == TOKEN_2022_PROGRAM:
        data = data + bytes(165 - len(data)) + b"\x01"
    lamports = 1_461_600 if program == TOKEN_PROGRAM else 2_074_080
    return Account(lamports=lamports, owner=program, data=data)


def parse_mint(account: Account) -> tuple[int, int] | None:
    """(supply, decimals) when the account is an initialized SPL / Token-2022 mint."""
    if account.owner not in (TOKEN_PROGRAM, TOKEN_2022_PROGRAM) or len(account.data) < 82:
        return None
    if account.owner == TOKEN_PROGRAM and len(account.data) != 82:
        return None
    if account.owner == TOKEN_2022_PROGRAM and len(account.data) > 82 and account.data[165:166] != b"\x01":
        return None
    supply, decimals, initialized = struct.unpack_from("<QB?", account.data, 36)
    return (supply, decimals) if initialized else None
