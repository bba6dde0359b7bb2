"""`getTransaction` rendering of a generated transaction, from its compact parts.

A generated transaction is kept as the bytes it was built from: wire bytes, the head of its
`meta` already serialized, packed inner instructions and token balance rows. The `transaction`
object and the rest of `meta` (base58 instruction data, `uiTokenAmount`s) are rendered only when
`getTransaction` asks, which is rare next to the notifications every transaction gets. The log
lines are not stored twice: they are spliced from the logsNotification value.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import orjson

from sim.scenario.chain import Finished, TokenRow
from sim.scenario.txbuild import unpack_inner
from sim.txformat import b58encode, to_json_parsed, wire_to_ui_transaction

_LOGS_KEY = b'"logs":'


@dataclass(slots=True)
class GeneratedBody:
    slot: int
    block_time: int
    version: int | None
    wire: bytes
    head: bytes  # meta "err" .. "postBalances", serialized, without the closing brace
    inner: bytes  # see txbuild.unpack_inner
    pre_tokens: tuple[TokenRow, ...]
    post_tokens: tuple[TokenRow, ...]
    loaded: tuple[int, int]
    units: int
    keys: tuple[str, ...]
    value: bytes  # the logsNotification value {"signature","err","logs"}

    @classmethod
    def create(cls, slot: int, block_time: int, done: Finished, err: Any, value: bytes) -> GeneratedBody:
        built = done.built
        head = orjson.dumps(
            {
                "err": err,
                "status": {"Ok": None} if err is None else {"Err": err},
                "fee": done.fee,
                "preBalances": done.pre,
                "postBalances": done.post,
            }
        )[:-1]
        return cls(
            slot,
            block_time,
            built.version,
            built.wire,
            head,
            built.inner,
            done.pre_tokens,
            done.post_tokens,
            built.loaded,
            built.units,
            built.keys,
            value,
        )

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
        value = self.value
        logs = value[value.index(_LOGS_KEY) + len(_LOGS_KEY) : -1]
        n_w, n_r = self.loaded
        n_static = len(self.keys) - n_w - n_r
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
            self.head
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
