"""JSON-RPC error objects exactly as agave (and the public endpoint's rate limiter) send them.

Every handler raises `RpcError`; the server turns it into the wire error object. Messages follow
`rpc-client-api/src/custom_error.rs`, `rpc/src/rpc.rs` and `rpc/src/rpc_pubsub.rs`
(see shared/docs/solana-rpc.md §1.3, §3.2, §3.3).
"""

from __future__ import annotations

from typing import Any

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
NODE_UNHEALTHY = -32005
UNSUPPORTED_TRANSACTION_VERSION = -32015
MIN_CONTEXT_SLOT_NOT_REACHED = -32016
TOO_MANY_REQUESTS = 429


class RpcError(Exception):
    """An error answer: `{"code", "message", "data"?}`."""

    def __init__(self, code: int, message: str, data: Any = None, *, has_data: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data
        self.has_data = has_data or data is not None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.has_data:
            out["data"] = self.data
        return out


def parse_error() -> RpcError:
    return RpcError(PARSE_ERROR, "Parse error")


def invalid_request(detail: str | None = None) -> RpcError:
    return RpcError(INVALID_REQUEST, detail or "Invalid request")


def method_not_found() -> RpcError:
    return RpcError(METHOD_NOT_FOUND, "Method not found")


def invalid_params(detail: str) -> RpcError:
    """jsonrpc_core's shape for params that do not deserialize: `Invalid params: <serde message>`."""
    return RpcError(INVALID_PARAMS, f"Invalid params: {detail}.")


def invalid_param(detail: str) -> RpcError:
    """agave's own parameter checks (`verify_pubkey`, `verify_signature`, token lookups)."""
    return RpcError(INVALID_PARAMS, f"Invalid param: {detail}")


def commitment_below_confirmed() -> RpcError:
    return RpcError(INVALID_PARAMS, "Method does not support commitment below `confirmed`")


def invalid_limit() -> RpcError:
    return RpcError(INVALID_PARAMS, "Invalid limit; max 1000")


def too_many_inputs(limit: int) -> RpcError:
    return RpcError(INVALID_PARAMS, f"Too many inputs provided; max {limit}")


def base58_too_large() -> RpcError:
    return RpcError(
        INVALID_REQUEST,
        "Encoded binary (base 58) data should be less than 128 bytes, please use Base64 encoding.",
    )


def node_behind(num_slots: int | None) -> RpcError:
    if num_slots is None:
        return RpcError(NODE_UNHEALTHY, "Node is unhealthy", {"numSlotsBehind": None}, has_data=True)
    return RpcError(NODE_UNHEALTHY, f"Node is behind by {num_slots} slots", {"numSlotsBehind": num_slots})


def unsupported_transaction_version(version: int) -> RpcError:
    return RpcError(
        UNSUPPORTED_TRANSACTION_VERSION,
        f"Transaction version ({version}) is not supported by the requesting client. "
        "Please try the request again with the following configuration parameter: "
        f'"maxSupportedTransactionVersion": {version}',
    )


def min_context_slot_not_reached(context_slot: int) -> RpcError:
    return RpcError(
        MIN_CONTEXT_SLOT_NOT_REACHED,
        "Minimum context slot has not been reached",
        {"contextSlot": context_slot},
    )


def too_many_requests() -> RpcError:
    return RpcError(
        TOO_MANY_REQUESTS,
        "Too many requests for a specific RPC call, contact your app developer or support@rpcpool.com.",
    )


def invalid_subscription_id() -> RpcError:
    return RpcError(INVALID_PARAMS, "Invalid subscription id.")


def mentions_count() -> RpcError:
    return RpcError(INVALID_PARAMS, "Invalid Request: Only 1 address supported")


def mentions_invalid() -> RpcError:
    return RpcError(INVALID_PARAMS, "Invalid Request: Invalid mentions provided")
