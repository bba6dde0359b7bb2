"""Read a `getTransaction` result (json, jsonParsed, base64 or base58 encoding; legacy or v0) into
one flat shape: the full account index space and every instruction with resolved pubkeys.

Account index space for v0 messages: static keys, then `meta.loadedAddresses.writable`, then
`meta.loadedAddresses.readonly` (jsonParsed has already merged them into `accountKeys`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from solders.transaction import VersionedTransaction

from executor.decode.base58 import b58decode
from executor.decode.errors import UnsupportedInput
from executor.decode.layouts import EVENT_PROGRAMS

_READ_PROGRAMS = frozenset(EVENT_PROGRAMS)


@dataclass(frozen=True, slots=True)
class RawInstruction:
    program: str
    accounts: tuple[str, ...]
    # None for programs the decoder does not read (their base58 is left undecoded) and for
    # instructions a jsonParsed node already parsed (system, token, ...)
    data: bytes | None
    stack_height: int | None


@dataclass(frozen=True, slots=True)
class RawTransaction:
    signature: str
    slot: int
    block_time: int | None
    keys: tuple[str, ...]
    outer: tuple[RawInstruction, ...]
    inner: dict[int, tuple[RawInstruction, ...]]
    meta: dict[str, Any]  # {} when the node returned none


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _b58(text: object) -> bytes:
    if not isinstance(text, str):
        raise UnsupportedInput(f"instruction data is not base58 text: {text!r}")
    try:
        return b58decode(text)
    except ValueError as exc:
        raise UnsupportedInput(str(exc)) from exc


def _data(program: str, entry: dict[str, Any]) -> bytes | None:
    return _b58(entry.get("data", "")) if program in _READ_PROGRAMS else None


def _indexed(entry: dict[str, Any], keys: tuple[str, ...]) -> RawInstruction:
    try:
        program = keys[entry["programIdIndex"]]
        accounts = tuple(keys[i] for i in entry.get("accounts", []))
    except IndexError as exc:
        raise UnsupportedInput("instruction account index outside the transaction's keys") from exc
    return RawInstruction(program, accounts, _data(program, entry), _int_or_none(entry.get("stackHeight")))


def _parsed_style(entry: dict[str, Any]) -> RawInstruction:
    height = _int_or_none(entry.get("stackHeight"))
    program = str(entry["programId"])
    if "parsed" in entry:
        return RawInstruction(program, (), None, height)
    return RawInstruction(program, tuple(entry.get("accounts", [])), _data(program, entry), height)


def _instruction(entry: dict[str, Any], keys: tuple[str, ...]) -> RawInstruction:
    if "programIdIndex" in entry:
        return _indexed(entry, keys)
    return _parsed_style(entry)


def _loaded(meta: dict[str, Any]) -> tuple[str, ...]:
    loaded = meta.get("loadedAddresses") or {}
    return tuple(loaded.get("writable") or ()) + tuple(loaded.get("readonly") or ())


def _from_wire(
    encoded: list[Any], meta: dict[str, Any]
) -> tuple[str, tuple[str, ...], tuple[RawInstruction, ...]]:
    text, encoding = encoded[0], encoded[1]
    try:
        raw = base64.b64decode(text, validate=True) if encoding == "base64" else b58decode(text)
        tx = VersionedTransaction.from_bytes(raw)
    except ValueError as exc:
        raise UnsupportedInput(f"transaction bytes ({encoding}) do not parse: {exc}") from exc
    message = tx.message
    keys = tuple(str(key) for key in message.account_keys) + _loaded(meta)
    outer = []
    for ix in message.instructions:
        try:
            program = keys[ix.program_id_index]
            accounts = tuple(keys[i] for i in bytes(ix.accounts))
        except IndexError as exc:
            raise UnsupportedInput("instruction account index outside the transaction's keys") from exc
        outer.append(RawInstruction(program, accounts, bytes(ix.data), 1))
    return str(tx.signatures[0]), keys, tuple(outer)


def _from_json(
    transaction: dict[str, Any], meta: dict[str, Any]
) -> tuple[str, tuple[str, ...], tuple[RawInstruction, ...]]:
    message = transaction["message"]
    raw_keys = message["accountKeys"]
    if raw_keys and isinstance(raw_keys[0], dict):
        keys = tuple(str(key["pubkey"]) for key in raw_keys)
    else:
        keys = tuple(raw_keys) + _loaded(meta)
    outer = tuple(_instruction(entry, keys) for entry in message["instructions"])
    return str(transaction["signatures"][0]), keys, outer


def read_transaction(result: object) -> RawTransaction:
    """Raises UnsupportedInput (a DecodeError) when `result` is not a getTransaction result."""
    if not isinstance(result, dict) or "transaction" not in result:
        raise UnsupportedInput("not a getTransaction result: no 'transaction' field")
    meta = result.get("meta") or {}
    if not isinstance(meta, dict):
        raise UnsupportedInput("transaction meta is not an object")
    transaction = result["transaction"]
    try:
        if isinstance(transaction, list):
            signature, keys, outer = _from_wire(transaction, meta)
        else:
            signature, keys, outer = _from_json(transaction, meta)
        inner: dict[int, tuple[RawInstruction, ...]] = {}
        for group in meta.get("innerInstructions") or ():
            inner[int(group["index"])] = tuple(_instruction(entry, keys) for entry in group["instructions"])
        slot = result.get("slot", 0)
        if not isinstance(slot, int):
            raise UnsupportedInput(f"slot is not an integer: {slot!r}")
    except (KeyError, TypeError, AttributeError, IndexError) as exc:
        raise UnsupportedInput(f"malformed getTransaction result: {exc!r}") from exc
    return RawTransaction(signature, slot, _int_or_none(result.get("blockTime")), keys, outer, inner, meta)
