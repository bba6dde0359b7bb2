"""Parsing JSON-RPC params the way agave's serde structs do, with agave's error texts."""

from __future__ import annotations

from typing import Any

from solders.pubkey import Pubkey
from solders.signature import Signature

from sim.errors import invalid_param, invalid_params
from sim.txformat import b58decode

_COMMITMENT_ALIASES = {
    "processed": "processed",
    "confirmed": "confirmed",
    "finalized": "finalized",
    "recent": "processed",
    "single": "confirmed",
    "singleGossip": "confirmed",
    "root": "finalized",
    "max": "finalized",
}


def positional(params: Any, name: str, index: int, *, required: bool = True) -> Any:
    if params is None:
        params = []
    if not isinstance(params, list):
        raise invalid_params("invalid type: map, expected a sequence")
    if index >= len(params):
        if required:
            raise invalid_params(f"invalid length {len(params)}, expected {name}")
        return None
    return params[index]


def config(params: Any, index: int) -> dict[str, Any]:
    cfg = positional(params, "config", index, required=False)
    if cfg is None:
        return {}
    if not isinstance(cfg, dict):
        raise invalid_params(f"invalid type: {json_type(cfg)}, expected struct config")
    return cfg


def commitment(cfg: dict[str, Any], default: str = "finalized") -> str:
    value = cfg.get("commitment")
    if value is None:
        return default
    if not isinstance(value, str) or value not in _COMMITMENT_ALIASES:
        raise invalid_params(
            f"unknown variant `{value}`, expected one of `processed`, `confirmed`, `finalized`, "
            "`recent`, `single`, `singleGossip`, `root`, `max`"
        )
    return _COMMITMENT_ALIASES[value]


def pubkey(value: Any) -> str:
    if not isinstance(value, str):
        raise invalid_params(f"invalid type: {json_type(value)}, expected a string")
    _check_b58(value, 32)
    return str(Pubkey.from_string(value))


def signature(value: Any) -> str:
    if not isinstance(value, str):
        raise invalid_params(f"invalid type: {json_type(value)}, expected a string")
    _check_b58(value, 64)
    return str(Signature.from_string(value))


def optional_int(cfg: dict[str, Any], key: str) -> int | None:
    value = cfg.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise invalid_params(f"invalid type: {json_type(value)}, expected u64 for `{key}`")
    return value


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{str(value).lower()}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value}`"
    if isinstance(value, str):
        return f'string "{value}"'
    if isinstance(value, list):
        return "sequence"
    return "map"


def _check_b58(value: str, size: int) -> None:
    """agave's `verify_pubkey`/`verify_signature` report the solana-sdk parse error by name."""
    try:
        raw = b58decode(value)
    except ValueError:
        raise invalid_param("Invalid") from None
    if len(raw) != size:
        raise invalid_param("WrongSize")
