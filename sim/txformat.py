"""Transaction encodings: base58, wire bytes -> agave `json` shape, `json` -> `jsonParsed` shape.

Pure functions. `wire_to_ui_transaction` is exact (solders parses the bincode message);
`to_json_parsed` is the partially-decoded fallback agave uses for programs it has no parser for,
applied to every instruction (the simulator does not parse System/Token instructions).
"""

from __future__ import annotations

import base64
from typing import Any

from solders.message import MessageV0
from solders.transaction import VersionedTransaction

_B58 = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}
_CHUNK = 58**10


_PAIRS = [bytes((_B58[i // 58], _B58[i % 58])) for i in range(58 * 58)]


def b58encode(data: bytes) -> str:
    """Base58 (Bitcoin alphabet): 10 digits per big-int division, two per table lookup."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    n = int.from_bytes(data, "big")
    parts: list[bytes] = []
    pairs = _PAIRS
    while n:
        n, chunk = divmod(n, _CHUNK)
        c4, p4 = divmod(chunk, 3364)
        c3, p3 = divmod(c4, 3364)
        c2, p2 = divmod(c3, 3364)
        p0, p1 = divmod(c2, 3364)
        parts.append(pairs[p0] + pairs[p1] + pairs[p2] + pairs[p3] + pairs[p4])
    parts.reverse()
    text = b"".join(parts).lstrip(b"1")
    return (b"1" * zeros + text).decode()


def b58decode(text: str) -> bytes:
    raw = text.encode()
    n = 0
    for c in raw:
        try:
            n = n * 58 + _B58_INDEX[c]
        except KeyError:
            raise ValueError(f"invalid base58 character {chr(c)!r}") from None
    zeros = len(raw) - len(raw.lstrip(b"1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * zeros + body


def wire_to_ui_transaction(wire: bytes) -> dict[str, Any]:
    """The `transaction` object of the `json` encoding, built from bincode wire bytes."""
    tx = VersionedTransaction.from_bytes(wire)
    msg = tx.message
    header = msg.header
    message: dict[str, Any] = {
        "header": {
            "numRequiredSignatures": header.num_required_signatures,
            "numReadonlySignedAccounts": header.num_readonly_signed_accounts,
            "numReadonlyUnsignedAccounts": header.num_readonly_unsigned_accounts,
        },
        "accountKeys": [str(k) for k in msg.account_keys],
        "recentBlockhash": str(msg.recent_blockhash),
        "instructions": [
            {
                "programIdIndex": ix.program_id_index,
                "accounts": list(bytes(ix.accounts)),
                "data": b58encode(bytes(ix.data)),
                "stackHeight": None,
            }
            for ix in msg.instructions
        ],
    }
    if isinstance(msg, MessageV0):
        message["addressTableLookups"] = [
            {
                "accountKey": str(lk.account_key),
                "writableIndexes": list(bytes(lk.writable_indexes)),
                "readonlyIndexes": list(bytes(lk.readonly_indexes)),
            }
            for lk in msg.address_table_lookups
        ]
    return {"signatures": [str(s) for s in tx.signatures], "message": message}


def transaction_version(wire: bytes) -> int | None:
    """0 for a v0 message, None for legacy."""
    return 0 if isinstance(VersionedTransaction.from_bytes(wire).message, MessageV0) else None


def to_json_parsed(result: dict[str, Any]) -> dict[str, Any]:
    """`json`-encoded getTransaction result -> `jsonParsed` (partially decoded instructions)."""
    tx = result["transaction"]
    msg = tx["message"]
    meta = result.get("meta")
    header = msg["header"]
    static = msg["accountKeys"]
    loaded = (meta or {}).get("loadedAddresses") or {"writable": [], "readonly": []}
    n_sig = header["numRequiredSignatures"]
    n_ro_signed = header["numReadonlySignedAccounts"]
    n_ro_unsigned = header["numReadonlyUnsignedAccounts"]
    keys: list[dict[str, Any]] = []
    for i, key in enumerate(static):
        signer = i < n_sig
        writable = i < n_sig - n_ro_signed if signer else i < len(static) - n_ro_unsigned
        keys.append({"pubkey": key, "writable": writable, "signer": signer, "source": "transaction"})
    for key in loaded["writable"]:
        keys.append({"pubkey": key, "writable": True, "signer": False, "source": "lookupTable"})
    for key in loaded["readonly"]:
        keys.append({"pubkey": key, "writable": False, "signer": False, "source": "lookupTable"})
    names = [k["pubkey"] for k in keys]

    def parse_ix(ix: dict[str, Any]) -> dict[str, Any]:
        return {
            "accounts": [names[a] for a in ix["accounts"]],
            "data": ix["data"],
            "programId": names[ix["programIdIndex"]],
            "stackHeight": ix.get("stackHeight"),
        }

    parsed_msg: dict[str, Any] = {
        "accountKeys": keys,
        "instructions": [parse_ix(ix) for ix in msg["instructions"]],
        "recentBlockhash": msg["recentBlockhash"],
    }
    if "addressTableLookups" in msg:
        parsed_msg["addressTableLookups"] = msg["addressTableLookups"]
    out = dict(result)
    out["transaction"] = {"message": parsed_msg, "signatures": tx["signatures"]}
    if meta is not None:
        new_meta = {k: v for k, v in meta.items() if k != "loadedAddresses"}
        if meta.get("innerInstructions") is not None:
            new_meta["innerInstructions"] = [
                {"index": inner["index"], "instructions": [parse_ix(ix) for ix in inner["instructions"]]}
                for inner in meta["innerInstructions"]
            ]
        out["meta"] = new_meta
    return out


def all_account_keys(result: dict[str, Any]) -> list[str]:
    """Static keys ++ loaded writable ++ loaded readonly, for any encoding of a result."""
    tx = result["transaction"]
    meta = result.get("meta") or {}
    if isinstance(tx, list):
        static = [
            str(k) for k in VersionedTransaction.from_bytes(base64.b64decode(tx[0])).message.account_keys
        ]
    else:
        raw = tx["message"]["accountKeys"]
        static = [k["pubkey"] if isinstance(k, dict) else k for k in raw]
        if raw and isinstance(raw[0], dict):
            return static
    loaded = meta.get("loadedAddresses") or {}
    return static + list(loaded.get("writable", [])) + list(loaded.get("readonly", []))
