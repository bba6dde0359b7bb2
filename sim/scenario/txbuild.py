"""Build one transaction the way the runtime would record it: message bytes and signatures,
the invoke tree's logs (invoke / log / data / consumed / success|failed lines, CU accounting),
inner instructions with stack heights, and the `getTransaction` pieces in agave's shapes.

Pure: no clock, no randomness; the caller passes everything in.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from sim import addresses as A
from sim.txformat import b58encode

LOG_LIMIT_BYTES = 10_000
# Programs that never print "consumed" lines (builtins).
_BUILTINS = frozenset({A.SYSTEM_PROGRAM, A.COMPUTE_BUDGET_PROGRAM})


@dataclass(slots=True)
class Call:
    """One program invocation; `body` holds log lines (str) and child calls, in execution order."""

    program: str
    accounts: Sequence[str]
    data: bytes
    body: list[Call | str] = field(default_factory=list)
    units: int = 0
    fail: str | None = None

    def log(self, line: str) -> Call:
        self.body.append("Program log: " + line)
        return self

    def call(self, child: Call) -> Call:
        self.body.append(child)
        return child


@dataclass(slots=True)
class AccountMeta:
    signer: bool = False
    writable: bool = False


@dataclass(frozen=True, slots=True)
class Lookup:
    """An address lookup table the message loads `writable` / `readonly` keys from."""

    table: str
    addresses: tuple[str, ...]


@dataclass(slots=True)
class BuiltTx:
    signature: str
    version: int | None
    wire: bytes
    transaction_json: dict[str, Any]
    keys: tuple[str, ...]  # static ++ loaded writable ++ loaded readonly
    logs: list[str]
    inner: list[dict[str, Any]]
    units: int
    loaded: dict[str, list[str]] | None


def compact_u16(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _program_log_len(line: str) -> int:
    return len(line.encode())


class LogBudget:
    """agave's log collector: 10,000 bytes; the first line that does not fit is replaced by
    `Log truncated` once, later shorter lines may still fit."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.used = 0
        self.truncated = False
        self.lines: list[str] = []

    def add(self, line: str) -> None:
        if self.limit is None:
            self.lines.append(line)
            return
        size = _program_log_len(line)
        if self.used + size >= self.limit:
            if not self.truncated:
                self.truncated = True
                self.lines.append("Log truncated")
            return
        self.used += size
        self.lines.append(line)


def build(
    *,
    payer: Keypair,
    signers: Sequence[Keypair],
    top: Sequence[Call],
    writable: frozenset[str] | set[str],
    blockhash: bytes,
    cu_limit: int,
    lookup: Lookup | None,
    log_limit: int | None,
    fast_signature: bytes | None,
) -> BuiltTx:
    """Compile, sign and "execute" (render logs and inner instructions of) a transaction."""
    metas: dict[str, AccountMeta] = {}
    signer_keys = [str(payer.pubkey())] + [str(k.pubkey()) for k in signers if k is not payer]
    for key in signer_keys:
        metas[key] = AccountMeta(signer=True, writable=True)

    def touch(key: str, writable: bool) -> None:
        m = metas.get(key)
        if m is None:
            metas[key] = AccountMeta(writable=writable)
        elif writable:
            m.writable = True

    def visit(call: Call) -> None:
        touch(call.program, False)
        for acc in call.accounts:
            touch(acc, acc in writable)
        for item in call.body:
            if isinstance(item, Call):
                visit(item)

    for call in top:
        visit(call)
    top_programs = {c.program for c in top}
    loaded_w: list[str] = []
    loaded_r: list[str] = []
    if lookup is not None:
        table = set(lookup.addresses)
        for key, m in metas.items():
            if key in table and not m.signer and key not in top_programs:
                (loaded_w if m.writable else loaded_r).append(key)
    loaded_set = set(loaded_w) | set(loaded_r)
    static = [k for k in metas if k not in loaded_set]
    signed_w = [k for k in static if metas[k].signer and metas[k].writable]
    signed_r = [k for k in static if metas[k].signer and not metas[k].writable]
    unsigned_w = [k for k in static if not metas[k].signer and metas[k].writable]
    unsigned_r = [k for k in static if not metas[k].signer and not metas[k].writable]
    static_order = signed_w + signed_r + unsigned_w + unsigned_r
    keys = static_order + loaded_w + loaded_r
    index = {k: i for i, k in enumerate(keys)}

    compiled = bytearray(compact_u16(len(top)))
    for call in top:
        compiled += bytes([index[call.program]])
        compiled += compact_u16(len(call.accounts)) + bytes(index[a] for a in call.accounts)
        compiled += compact_u16(len(call.data)) + call.data
    header = bytes([len(signed_w) + len(signed_r), len(signed_r), len(unsigned_r)])
    body = (
        header + compact_u16(len(static_order)) + b"".join(bytes(Pubkey.from_string(k)) for k in static_order)
    )
    body += blockhash + bytes(compiled)
    version: int | None = None
    lookups_json: list[dict[str, Any]] = []
    if lookup is not None:
        version = 0
        w_idx = [lookup.addresses.index(k) for k in loaded_w]
        r_idx = [lookup.addresses.index(k) for k in loaded_r]
        table_part = compact_u16(1) if (w_idx or r_idx) else compact_u16(0)
        if w_idx or r_idx:
            table_part += bytes(Pubkey.from_string(lookup.table))
            table_part += compact_u16(len(w_idx)) + bytes(w_idx) + compact_u16(len(r_idx)) + bytes(r_idx)
            lookups_json = [{"accountKey": lookup.table, "writableIndexes": w_idx, "readonlyIndexes": r_idx}]
        message = b"\x80" + body + table_part
    else:
        message = body
    sig_keys = [payer] + [k for k in signers if k is not payer]
    if fast_signature is not None:
        sigs = [hashlib.sha512(fast_signature + bytes([i])).digest() for i in range(len(sig_keys))]
    else:
        sigs = [bytes(k.sign_message(message)) for k in sig_keys]
    wire = compact_u16(len(sigs)) + b"".join(sigs) + message

    logs = LogBudget(log_limit)
    inner: list[dict[str, Any]] = []
    remaining = cu_limit
    for ix_index, call in enumerate(top):
        group: list[dict[str, Any]] = []
        used, failed = _run(call, 1, remaining, logs, group, index)
        remaining -= used
        if group:
            inner.append({"index": ix_index, "instructions": group})
        if failed:
            break
    message_json: dict[str, Any] = {
        "header": {
            "numRequiredSignatures": header[0],
            "numReadonlySignedAccounts": header[1],
            "numReadonlyUnsignedAccounts": header[2],
        },
        "accountKeys": static_order,
        "recentBlockhash": b58encode(blockhash),
        "instructions": [
            {
                "programIdIndex": index[c.program],
                "accounts": [index[a] for a in c.accounts],
                "data": b58encode(c.data),
                "stackHeight": None,
            }
            for c in top
        ],
    }
    if version is not None:
        message_json["addressTableLookups"] = lookups_json
    return BuiltTx(
        signature=b58encode(sigs[0]),
        version=version,
        wire=wire,
        transaction_json={"signatures": [b58encode(s) for s in sigs], "message": message_json},
        keys=tuple(keys),
        logs=logs.lines,
        inner=inner,
        units=cu_limit - remaining,
        loaded={"writable": loaded_w, "readonly": loaded_r} if version is not None else None,
    )


def _run(
    call: Call, depth: int, budget: int, logs: LogBudget, group: list[dict[str, Any]], index: dict[str, int]
) -> tuple[int, bool]:
    """Render one invocation; returns (compute units used, failed)."""
    program = call.program
    logs.add(f"Program {program} invoke [{depth}]")
    children = sum(1 for item in call.body if isinstance(item, Call))
    chunk = call.units // (children + 1)
    used = 0
    for item in call.body:
        if isinstance(item, str):
            logs.add(item)
            continue
        used += chunk
        group.append(
            {
                "programIdIndex": index[item.program],
                "accounts": [index[a] for a in item.accounts],
                "data": b58encode(item.data),
                "stackHeight": depth + 1,
            }
        )
        child_used, failed = _run(item, depth + 1, budget - used, logs, group, index)
        used += child_used
        if failed:
            return _finish(call, used + chunk, budget, logs, item.fail)
    used += call.units - chunk * children
    return _finish(call, used, budget, logs, call.fail)


def _finish(call: Call, used: int, budget: int, logs: LogBudget, fail: str | None) -> tuple[int, bool]:
    used = min(used, budget)
    if call.program not in _BUILTINS:
        logs.add(f"Program {call.program} consumed {used} of {budget} compute units")
    if fail is not None:
        logs.add(f"Program {call.program} failed: {fail}")
        return used, True
    logs.add(f"Program {call.program} success")
    return used, False


# --- instruction data of the non-pump programs the generated transactions use ---------------


def system_transfer(lamports: int) -> bytes:
    return struct.pack("<IQ", 2, lamports)


def system_create_account(lamports: int, space: int, owner: str) -> bytes:
    return struct.pack("<IQQ", 0, lamports, space) + bytes(Pubkey.from_string(owner))


def token_transfer_checked(amount: int, decimals: int) -> bytes:
    return struct.pack("<BQB", 12, amount, decimals)


def token_mint_to(amount: int) -> bytes:
    return struct.pack("<BQ", 7, amount)


def token_burn(amount: int) -> bytes:
    return struct.pack("<BQ", 8, amount)


def compute_unit_limit(units: int) -> bytes:
    return struct.pack("<BI", 2, units)


def compute_unit_price(micro_lamports: int) -> bytes:
    return struct.pack("<BQ", 3, micro_lamports)


def program_data(event: bytes) -> str:
    return "Program data: " + base64.b64encode(event).decode()


def return_line(program: str, data: bytes) -> str:
    return f"Program return: {program} " + base64.b64encode(data).decode()


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)
