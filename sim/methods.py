"""HTTP JSON-RPC methods of the simulated node, over a `Node`'s ledger and clock.

Each handler takes `(node, params)` and returns a JSON-able value (pre-serialized parts are
`orjson.Fragment`s) or raises `RpcError`. Shapes and errors follow agave `rpc/src/rpc.rs`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sim import params as P
from sim.errors import (
    RpcError,
    base58_too_large,
    commitment_below_confirmed,
    invalid_limit,
    invalid_param,
    invalid_params,
    min_context_slot_not_reached,
    too_many_inputs,
    unsupported_transaction_version,
)
from sim.ledger import parse_mint

if TYPE_CHECKING:
    from sim.node import Node

API_VERSION = "3.0.10"
FEATURE_SET = 3294202862
MAX_MULTIPLE_ACCOUNTS = 100
MAX_SIGNATURES_LIMIT = 1000
TX_ENCODINGS = ("json", "jsonParsed", "base64", "base58", "binary")
ACCOUNT_ENCODINGS = ("binary", "base58", "base64", "base64+zstd", "jsonParsed")

Handler = Callable[["Node", Any], Any]


def _context(node: Node, slot: int) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "slot": slot}


def _bank_slot(node: Node, cfg: dict[str, Any]) -> int:
    """The slot of the bank a read is served from; enforces `minContextSlot` (-32016)."""
    slot = node.commitment_slot(P.commitment(cfg))
    min_slot = P.optional_int(cfg, "minContextSlot")
    if min_slot is not None and min_slot > slot:
        raise min_context_slot_not_reached(slot)
    return slot


def _history_commitment(cfg: dict[str, Any]) -> str:
    commitment = P.commitment(cfg)
    if commitment == "processed":
        raise commitment_below_confirmed()
    return commitment


def get_slot(node: Node, params: Any) -> Any:
    return _bank_slot(node, P.config(params, 0))


def get_block_height(node: Node, params: Any) -> Any:
    return node.block_height(_bank_slot(node, P.config(params, 0)))


def get_health(node: Node, params: Any) -> Any:
    return "ok"


def get_version(node: Node, params: Any) -> Any:
    return {"feature-set": FEATURE_SET, "solana-core": API_VERSION}


def get_latest_blockhash(node: Node, params: Any) -> Any:
    slot = _bank_slot(node, P.config(params, 0))
    return {
        "context": _context(node, slot),
        "value": {"blockhash": node.blockhash(slot), "lastValidBlockHeight": node.block_height(slot) + 150},
    }


def get_transaction(node: Node, params: Any) -> Any:
    sig = P.signature(P.positional(params, "signature", 0))
    raw_cfg = P.positional(params, "config", 1, required=False)
    cfg: dict[str, Any] = {"encoding": raw_cfg} if isinstance(raw_cfg, str) else P.config(params, 1)
    encoding = cfg.get("encoding") or "json"
    if encoding not in TX_ENCODINGS:
        raise invalid_params(f"unknown variant `{encoding}`, expected one of {', '.join(TX_ENCODINGS)}")
    commitment = _history_commitment(cfg)
    max_version = P.optional_int(cfg, "maxSupportedTransactionVersion")
    entry = node.ledger.get(sig)
    if entry is None or entry.slot > node.commitment_slot(commitment):
        return None
    if node.null_tx_fault(sig):
        return None
    version = entry.body.version
    if version is not None and (max_version is None or version > max_version):
        raise unsupported_transaction_version(version)
    rendered = entry.body.render("base58" if encoding == "binary" else encoding, max_version)
    if rendered is None:
        raise invalid_param(f"encoding {encoding} is not available for this recorded transaction")
    return rendered


def get_signatures_for_address(node: Node, params: Any) -> Any:
    address = P.pubkey(P.positional(params, "address", 0))
    cfg = P.config(params, 1)
    limit = cfg.get("limit")
    if limit is None:
        limit = MAX_SIGNATURES_LIMIT
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_SIGNATURES_LIMIT:
        raise invalid_limit()
    before = P.signature(cfg["before"]) if cfg.get("before") is not None else None
    until = P.signature(cfg["until"]) if cfg.get("until") is not None else None
    commitment = _history_commitment(cfg)
    max_slot = _bank_slot(node, {**cfg, "commitment": commitment})
    finalized = node.commitment_slot("finalized")
    return [
        {
            "signature": e.signature,
            "slot": e.slot,
            "err": e.err,
            "memo": None,
            "blockTime": e.block_time,
            "confirmationStatus": "finalized" if e.slot <= finalized else "confirmed",
        }
        for e in node.ledger.signatures_for(
            address, before=before, until=until, limit=limit, max_slot=max_slot
        )
    ]


def get_signature_statuses(node: Node, params: Any) -> Any:
    sigs = P.positional(params, "signatures", 0)
    if not isinstance(sigs, list):
        raise invalid_params(f"invalid type: {P.json_type(sigs)}, expected a sequence")
    if len(sigs) > 256:
        raise too_many_inputs(256)
    tip = node.commitment_slot("processed")
    confirmed = node.commitment_slot("confirmed")
    finalized = node.commitment_slot("finalized")
    out: list[Any] = []
    for raw in sigs:
        entry = node.ledger.get(P.signature(raw))
        if entry is None:
            out.append(None)
            continue
        rooted = entry.slot <= finalized
        status = "finalized" if rooted else "confirmed" if entry.slot <= confirmed else "processed"
        out.append(
            {
                "slot": entry.slot,
                "confirmations": None if rooted else max(0, tip - entry.slot),
                "err": entry.err,
                "status": {"Ok": None} if entry.err is None else {"Err": entry.err},
                "confirmationStatus": status,
            }
        )
    return {"context": _context(node, tip), "value": out}


def _account_encoding(cfg: dict[str, Any], default: str) -> str:
    encoding = cfg.get("encoding") or default
    if encoding not in ACCOUNT_ENCODINGS:
        raise invalid_params(f"unknown variant `{encoding}`, expected one of {', '.join(ACCOUNT_ENCODINGS)}")
    # No account parsers and no zstd here: jsonParsed falls back to base64 as agave does for
    # unknown owners; base64+zstd is answered as plain base64 (documented simplification).
    return "base64" if encoding in ("jsonParsed", "base64+zstd") else encoding


def _data_slice(cfg: dict[str, Any]) -> tuple[int, int] | None:
    ds = cfg.get("dataSlice")
    if ds is None:
        return None
    if not isinstance(ds, dict) or not all(isinstance(ds.get(k), int) for k in ("offset", "length")):
        raise invalid_params("invalid type: expected struct UiDataSliceConfig")
    return int(ds["offset"]), int(ds["length"])


def _account_value(node: Node, address: str, encoding: str, data_slice: tuple[int, int] | None) -> Any:
    account = node.ledger.account(address)
    if account is None:
        return None
    if encoding in ("binary", "base58"):
        size = len(account.data) if data_slice is None else min(data_slice[1], len(account.data))
        if size > 128:
            raise base58_too_large()
    return account.to_json(encoding, data_slice)


def get_account_info(node: Node, params: Any) -> Any:
    address = P.pubkey(P.positional(params, "pubkey", 0))
    cfg = P.config(params, 1)
    slot = _bank_slot(node, cfg)
    value = _account_value(node, address, _account_encoding(cfg, "binary"), _data_slice(cfg))
    return {"context": _context(node, slot), "value": value}


def get_multiple_accounts(node: Node, params: Any) -> Any:
    keys = P.positional(params, "pubkeys", 0)
    if not isinstance(keys, list):
        raise invalid_params(f"invalid type: {P.json_type(keys)}, expected a sequence")
    if len(keys) > MAX_MULTIPLE_ACCOUNTS:
        raise too_many_inputs(MAX_MULTIPLE_ACCOUNTS)
    addresses = [P.pubkey(k) for k in keys]
    cfg = P.config(params, 1)
    slot = _bank_slot(node, cfg)
    encoding = _account_encoding(cfg, "base64")
    data_slice = _data_slice(cfg)
    return {
        "context": _context(node, slot),
        "value": [_account_value(node, a, encoding, data_slice) for a in addresses],
    }


def get_balance(node: Node, params: Any) -> Any:
    address = P.pubkey(P.positional(params, "pubkey", 0))
    slot = _bank_slot(node, P.config(params, 1))
    account = node.ledger.account(address)
    return {"context": _context(node, slot), "value": account.lamports if account else 0}


def _ui_amount(amount: int, decimals: int) -> dict[str, Any]:
    text = str(amount).rjust(decimals + 1, "0")
    whole, frac = (text[:-decimals], text[-decimals:]) if decimals else (text, "")
    ui_string = f"{whole}.{frac}".rstrip("0").rstrip(".") if frac else whole
    return {
        "amount": str(amount),
        "decimals": decimals,
        "uiAmount": amount / 10**decimals,
        "uiAmountString": ui_string,
    }


def get_token_supply(node: Node, params: Any) -> Any:
    mint = P.pubkey(P.positional(params, "mint", 0))
    slot = _bank_slot(node, P.config(params, 1))
    account = node.ledger.accounts.get(mint)
    if account is None:
        raise invalid_param("could not find account")
    parsed = parse_mint(account)
    if parsed is None:
        raise invalid_param("not a Token mint")
    return {"context": _context(node, slot), "value": _ui_amount(*parsed)}


def get_token_largest_accounts(node: Node, params: Any) -> Any:
    mint = P.pubkey(P.positional(params, "mint", 0))
    slot = _bank_slot(node, P.config(params, 1))
    account = node.ledger.accounts.get(mint)
    decimals: int | None
    if account is not None:
        parsed = parse_mint(account)
        if parsed is None:
            raise invalid_param("not a Token mint")
        decimals = parsed[1]
    else:
        decimals = node.ledger.mint_decimals(mint)
        if decimals is None:
            raise invalid_param("could not find mint")
    value = [
        {"address": tb.account, **_ui_amount(tb.amount, decimals)}
        for tb in node.ledger.largest_token_accounts(mint)
    ]
    return {"context": _context(node, slot), "value": value}


METHODS: dict[str, Handler] = {
    "getAccountInfo": get_account_info,
    "getBalance": get_balance,
    "getBlockHeight": get_block_height,
    "getHealth": get_health,
    "getLatestBlockhash": get_latest_blockhash,
    "getMultipleAccounts": get_multiple_accounts,
    "getSignatureStatuses": get_signature_statuses,
    "getSignaturesForAddress": get_signatures_for_address,
    "getSlot": get_slot,
    "getTokenLargestAccounts": get_token_largest_accounts,
    "getTokenSupply": get_token_supply,
    "getTransaction": get_transaction,
    "getVersion": get_version,
}


def call(node: Node, method: str, params: Any) -> Any:
    handler = METHODS.get(method)
    if handler is None:
        from sim.errors import method_not_found

        raise method_not_found()
    return handler(node, params)


__all__ = ["METHODS", "RpcError", "call"]
