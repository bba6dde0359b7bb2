"""`getTransaction` rendering of a generated transaction, from pre-serialized parts."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import orjson

from sim.scenario.txbuild import BuiltTx
from sim.txformat import b58encode, to_json_parsed


@dataclass(slots=True)
class GeneratedBody:
    slot: int
    block_time: int
    version: int | None
    wire: bytes
    tx_json: bytes
    meta_json: bytes

    @classmethod
    def create(cls, slot: int, block_time: int, built: BuiltTx, meta: dict[str, Any]) -> GeneratedBody:
        return cls(
            slot,
            block_time,
            built.version,
            built.wire,
            orjson.dumps(built.transaction_json),
            orjson.dumps(meta),
        )

    def render(self, encoding: str, max_version: int | None) -> orjson.Fragment | None:
        if encoding == "json":
            tx = self.tx_json
        elif encoding == "base64":
            tx = b'["' + base64.b64encode(self.wire) + b'","base64"]'
        elif encoding == "base58":
            tx = b'["' + b58encode(self.wire).encode() + b'","base58"]'
        elif encoding == "jsonParsed":
            parsed = to_json_parsed(orjson.loads(self._join(self.tx_json, max_version)))
            return orjson.Fragment(orjson.dumps(parsed))
        else:
            return None
        return orjson.Fragment(self._join(tx, max_version))

    def _join(self, tx: bytes, max_version: int | None) -> bytes:
        version = b""
        if max_version is not None:
            version = b',"version":' + (b'"legacy"' if self.version is None else str(self.version).encode())
        return (
            b'{"slot":%d,"transaction":' % self.slot
            + tx
            + b',"meta":'
            + self.meta_json
            + version
            + b',"blockTime":%d}' % self.block_time
        )
