"""Recorded scenario: the real mainnet transactions in shared/fixtures, served as recorded.

Each `getTransaction` answer is the recorded `result` (only `version` is dropped for a legacy
transaction asked without `maxSupportedTransactionVersion`, as agave does). Other encodings are
derived where that is exact: base64 -> json and base58 with solders, json -> jsonParsed in
agave's partially-decoded form. Transactions are served in slot order; the few recorded without
a slot are placed after the last transaction of their era (INDEX `era`), by signature.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from sim.addresses import WSOL_MINT as WSOL
from sim.ledger import Account, Entry, TokenBalance
from sim.txformat import all_account_keys, b58encode, to_json_parsed, wire_to_ui_transaction

_KIND_PRIORITY = (
    "migrate",
    "create_v2",
    "create",
    "pumpswap_create_pool",
    "complete",
    "buy_exact_sol_in",
    "buy_v2",
    "buy",
    "sell",
    "pumpswap_buy_exact_quote_in",
    "pumpswap_buy",
    "pumpswap_sell",
    "pumpswap_claim_cashback",
    "withdraw",
    "extend_account",
)


def default_fixtures_dir() -> Path:
    """`$PUMPFLOW_FIXTURES` when set (a checkout that does not sit beside `shared/`), else
    `<repo>/../shared/fixtures`, found from this file's location."""
    configured = os.environ.get("PUMPFLOW_FIXTURES")
    if configured:
        return Path(configured).expanduser().resolve()
    return Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures"


def encoding_of(result: dict[str, Any]) -> str:
    tx = result["transaction"]
    if isinstance(tx, list):
        return str(tx[1])
    keys = tx["message"]["accountKeys"]
    return "jsonParsed" if keys and isinstance(keys[0], dict) else "json"


@dataclass(slots=True)
class RecordedBody:
    """A recorded result per encoding, with exact conversions computed on first use."""

    variants: dict[str, dict[str, Any]]
    version: int | None
    _cache: dict[tuple[str, bool], orjson.Fragment] = field(default_factory=dict)

    def render(self, encoding: str, max_version: int | None) -> orjson.Fragment | None:
        key = (encoding, max_version is None)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        result = self._result(encoding)
        if result is None:
            return None
        if max_version is None and "version" in result:
            result = {k: v for k, v in result.items() if k != "version"}
        fragment = orjson.Fragment(orjson.dumps(result))
        self._cache[key] = fragment
        return fragment

    def _result(self, encoding: str) -> dict[str, Any] | None:
        found = self.variants.get(encoding)
        if found is not None:
            return found
        wire = self.variants.get("base64")
        if encoding == "json" and wire is not None:
            converted = dict(wire)
            converted["transaction"] = wire_to_ui_transaction(base64.b64decode(wire["transaction"][0]))
            self.variants["json"] = converted
            return converted
        if encoding == "base58" and wire is not None:
            converted = dict(wire)
            converted["transaction"] = [b58encode(base64.b64decode(wire["transaction"][0])), "base58"]
            return converted
        if encoding == "jsonParsed":
            source = self._result("json")
            return to_json_parsed(source) if source is not None else None
        return None


@dataclass(frozen=True, slots=True)
class RecordedTx:
    signature: str
    placement_slot: int
    result: dict[str, Any]
    alternatives: tuple[dict[str, Any], ...]
    row: dict[str, Any]


def load_transactions(fixtures: Path) -> list[RecordedTx]:
    """Every primary transaction file, in serving order."""
    index = {r["file"]: r for r in orjson.loads((fixtures / "INDEX.json").read_bytes())}
    primary: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    alternatives: dict[str, list[dict[str, Any]]] = {}
    for path in sorted((fixtures / "transactions").glob("*.json")):
        doc = orjson.loads(path.read_bytes())
        result = doc.get("result") if isinstance(doc, dict) else None
        if not isinstance(result, dict) or "transaction" not in result:
            continue
        sig = path.name.split(".")[0]
        if path.name.count(".") > 1:
            alternatives.setdefault(sig, []).append(result)
        else:
            primary[sig] = (result, index.get(f"transactions/{path.name}", {}))
    era_last: dict[int, int] = {}
    for result, row in primary.values():
        if result.get("slot"):
            era = int(row.get("era") or 0)
            era_last[era] = max(era_last.get(era, 0), int(result["slot"]))
    out: list[RecordedTx] = []
    for sig, (result, row) in primary.items():
        slot = int(result.get("slot") or 0)
        if not slot:
            era = int(row.get("era") or 0)
            slot = max((s for e, s in era_last.items() if e <= era), default=1)
        out.append(RecordedTx(sig, slot, result, tuple(alternatives.get(sig, ())), row))
    out.sort(key=lambda r: (r.placement_slot, 0 if r.result.get("slot") else 1, r.signature))
    return out


def to_entry(tx: RecordedTx) -> Entry:
    result = tx.result
    meta = result.get("meta") or {}
    keys = all_account_keys(result)
    version_raw = result.get("version")
    version = version_raw if isinstance(version_raw, int) else None
    variants = {encoding_of(result): result}
    for alt in tx.alternatives:
        variants.setdefault(encoding_of(alt), alt)
    post = meta.get("postBalances") or []
    token_balances = []
    mint: str | None = None
    for tb in meta.get("postTokenBalances") or []:
        idx = tb["accountIndex"]
        if idx >= len(keys):
            continue
        ui = tb["uiTokenAmount"]
        token_balances.append(
            TokenBalance(
                keys[idx],
                tb["mint"],
                tb.get("owner", ""),
                tb.get("programId", ""),
                int(ui["amount"]),
                ui["decimals"],
            )
        )
        if mint is None and tb["mint"] != WSOL:
            mint = tb["mint"]
    what = list(tx.row.get("what") or [])
    kind = next((k for k in _KIND_PRIORITY if k in what), what[0] if what else "unknown")
    return Entry(
        signature=tx.signature,
        slot=tx.placement_slot,
        block_time=result.get("blockTime"),
        err=meta.get("err"),
        keys=tuple(keys),
        log_parts=orjson.dumps(meta.get("logMessages") or []),
        events=(),
        body=RecordedBody(variants, version),
        manifest_json=orjson.dumps(
            {
                "signature": tx.signature,
                "slot": tx.placement_slot,
                "block_time": result.get("blockTime"),
                "kind": kind,
                "mint": mint,
                "err": meta.get("err"),
                "records": None,
                "tags": what,
                "recorded_slot": result.get("slot"),
            }
        ),
        balances=tuple(post),
        token_balances=tuple(token_balances),
    )


def load_accounts(fixtures: Path) -> dict[str, Account]:
    """Fixture accounts whose address INDEX.json knows, keyed by that address."""
    out: dict[str, Account] = {}
    for row in orjson.loads((fixtures / "INDEX.json").read_bytes()):
        if row.get("kind") != "account" or not row.get("address"):
            continue
        doc = orjson.loads((fixtures / row["file"]).read_bytes())
        value = doc["result"]["value"]
        data = value["data"]
        raw = base64.b64decode(data[0]) if isinstance(data, list) else b""
        out[row["address"]] = Account(
            lamports=int(value["lamports"]),
            owner=value["owner"],
            data=raw,
            executable=bool(value.get("executable")),
            rent_epoch=int(value.get("rentEpoch", 0)),
        )
    return out


def recorded_feed(fixtures: Path, rate: float) -> tuple[Iterator[tuple[float, Entry]], list[Entry]]:
    """(feed, history). The recorded transactions are old, finalized history: the node's ledger
    holds all of them from the start, and the feed replays their notifications in slot order at
    `rate` per wall second."""
    entries = [to_entry(tx) for tx in load_transactions(fixtures)]

    def gen() -> Iterator[tuple[float, Entry]]:
        for i, entry in enumerate(entries):
            yield i / rate, entry

    return gen(), entries
