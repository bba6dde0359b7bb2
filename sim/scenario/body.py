"""`getTransaction` rendering of a generated transaction, from its compact parts.

A generated transaction is kept as the bytes it was built from: wire bytes, the head of its
`meta` already serialized, packed inner instructions and token balance rows. The `transaction`
object and the rest of `meta` (base58 instruction data, `uiTokenAmount`s) are rendered only when
`getTransaction` asks, which is rare next to the notifications every transaction gets. Its log
lines are the shape's constant JSON parts plus its own event bytes (`ledger.logs_json`).
"""

from __future__ import annotations

import base64
from array import array
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson

from sim.ledger import Account, Entry, LogParts, TokenBalance, logs_json
from sim.scenario.chain import TokenRow
from sim.scenario.txbuild import unpack_inner
from sim.txformat import b58encode, to_json_parsed, wire_to_ui_transaction


class Generated(NamedTuple):
    """One generated transaction in compact, picklable form: what the generator hands over (in
    this process or from the generator process), in generation order."""

    t: float  # emission second
    signature: str
    slot: int
    block_time: int
    err: Any
    keys: tuple[str, ...]
    logs: bytes | LogParts  # the log lines (see ledger.logs_json) ...
    events: tuple[bytes, ...]  # ... with these events
    manifest_json: bytes  # empty when no manifest is written
    accounts: tuple[tuple[str, int, str, bytes], ...]  # (address, lamports, owner, data) after it
    version: int | None
    wire: bytes
    fee: int
    pre: bytes  # lamports of keys before (array "q")
    post: bytes  # ... and after
    inner: bytes
    pre_tokens: tuple[TokenRow, ...]
    post_tokens: tuple[TokenRow, ...]
    loaded: tuple[int, int]
    units: int


def to_entry(g: Generated) -> Entry:
    keys = g.keys
    accounts = g.accounts
    post_tokens = g.post_tokens
    return Entry(
        g.signature,
        g.slot,
        g.block_time,
        g.err,
        keys,
        g.logs,
        g.events,
        GeneratedBody(
            g.slot,
            g.block_time,
            g.err,
            g.version,
            g.wire,
            g.fee,
            g.pre,
            g.post,
            g.inner,
            g.pre_tokens,
            post_tokens,
            g.loaded,
            g.units,
            keys,
            g.logs,
            g.events,
        ),
        g.manifest_json or None,
        tuple([(a, Account(lamports, owner, data)) for a, lamports, owner, data in accounts])
        if accounts
        else (),
        array("q", g.post),
        tuple([TokenBalance(keys[i], m, o, p, amount, d) for i, m, o, p, d, amount in post_tokens]),
    )


@dataclass(slots=True)
class GeneratedBody:
    slot: int
    block_time: int
    err: Any
    version: int | None
    wire: bytes
    fee: int
    pre: bytes  # lamports of keys before (array "q")
    post: bytes  # ... and after
    inner: bytes  # see txbuild.unpack_inner
    pre_tokens: tuple[TokenRow, ...]
    post_tokens: tuple[TokenRow, ...]
    loaded: tuple[int, int]
    units: int
    keys: tuple[str, ...]
    logs: bytes | LogParts
    events: tuple[bytes, ...]

    def render(self, encoding: str, max_version: int | None) -> orjson.Fragment | None:
        if encoding == "json":
            tx = orjson.dumps(wire_to_ui_transaction(self.wire))
        elif encoding == "base64":
            tx = b'["' + base64.b64encode(self.wire) + b'","base64"]'
        elif encoding == "base58":
            tx = b'["' + b58encode(self.wire).encode() + b'","base58"]'
        elif encoding == "jsonParsed":
            json_tx = orjson.dumps(wire_to_ui_transaction(self.wire))
            parsed = to_json_parsed(orjson.loads(self._join(json_tx, max_version)))
            return orjson.Fragment(orjson.dumps(parsed))
        else:
            return None
        return orjson.Fragment(self._join(tx, max_version))

    def meta(self) -> bytes:
        logs = logs_json(self.logs, self.events)
        n_w, n_r = self.loaded
        n_static = len(self.keys) - n_w - n_r
        err = self.err
        head = {
            "err": err,
            "status": {"Ok": None} if err is None else {"Err": err},
            "fee": self.fee,
            "preBalances": array("q", self.pre).tolist(),
            "postBalances": array("q", self.post).tolist(),
        }
        tail = {
            "preTokenBalances": _token_rows(self.pre_tokens),
            "postTokenBalances": _token_rows(self.post_tokens),
            "rewards": [],
            "loadedAddresses": {
                "writable": self.keys[n_static : n_static + n_w],
                "readonly": self.keys[n_static + n_w :],
            },
            "computeUnitsConsumed": self.units,
        }
        return (
            orjson.dumps(head)[:-1]
            + b',"innerInstructions":'
            + orjson.dumps(_inner_json(self.inner))
            + b',"logMessages":'
            + logs
            + b","
            + orjson.dumps(tail)[1:]
        )

    def _join(self, tx: bytes, max_version: int | None) -> bytes:
        version = b""
        if max_version is not None:
            version = b',"version":' + (b'"legacy"' if self.version is None else str(self.version).encode())
        return (
            b'{"slot":%d,"transaction":' % self.slot
            + tx
            + b',"meta":'
            + self.meta()
            + version
            + b',"blockTime":%d}' % self.block_time
        )


def _inner_json(packed: bytes) -> list[dict[str, Any]]:
    return [
        {
            "index": index,
            "instructions": [
                {
                    "programIdIndex": program,
                    "accounts": list(accounts),
                    "data": b58encode(data),
                    "stackHeight": height,
                }
                for program, accounts, data, height in group
            ],
        }
        for index, group in unpack_inner(packed)
    ]


def _token_rows(rows: tuple[TokenRow, ...]) -> list[dict[str, Any]]:
    return [
        {
            "accountIndex": index,
            "mint": mint,
            "uiTokenAmount": ui_amount(amount, decimals),
            "owner": owner,
            "programId": program,
        }
        for index, mint, owner, program, decimals, amount in rows
    ]


def ui_amount(amount: int, decimals: int) -> dict[str, Any]:
    text = str(amount).rjust(decimals + 1, "0")
    whole, frac = text[:-decimals], text[-decimals:].rstrip("0")
    return {
        "uiAmount": amount / 10**decimals if amount else None,
        "decimals": decimals,
        "amount": str(amount),
        "uiAmountString": f"{whole}.{frac}" if frac else whole,
    }
