"""The RPC error tree and the mapping from wire answers to it.

    executor.errors.ExecutorError
    └── RpcError                 root of everything this package raises; `retriable` drives retries
        ├── RpcTransportError    connect/read failures, timeouts, HTTP 5xx, malformed or non-JSON bodies (retriable)
        ├── RpcRateLimited       HTTP 429 or JSON-RPC code 429; `retry_after_s` from Retry-After (retriable)
        ├── RpcNodeUnhealthy     -32005 node behind, -32016 minContextSlot not reached, -32004/-32014
        │                        block not available yet, -32019 long-term storage unreachable (retriable)
        └── RpcResponseError     any other JSON-RPC error answer: bad params, unsupported version... (not retriable)

Retry policy is data on the class (`retriable`), as in aiokafka: the pool retries a retriable error on
the next attempt (usually another endpoint) and raises anything else at once. Messages never contain
an endpoint URL, only its redacted label.
"""

from __future__ import annotations

from typing import Any

from executor.errors import ExecutorError

# JSON-RPC codes (shared/docs/solana-rpc.md §1.3).
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
BLOCK_NOT_AVAILABLE = -32004
NODE_UNHEALTHY = -32005
BLOCK_STATUS_NOT_AVAILABLE_YET = -32014
UNSUPPORTED_TRANSACTION_VERSION = -32015
MIN_CONTEXT_SLOT_NOT_REACHED = -32016
LONG_TERM_STORAGE_UNREACHABLE = -32019
TOO_MANY_REQUESTS = 429

NODE_UNHEALTHY_CODES = frozenset(
    {
        NODE_UNHEALTHY,
        MIN_CONTEXT_SLOT_NOT_REACHED,
        BLOCK_NOT_AVAILABLE,
        BLOCK_STATUS_NOT_AVAILABLE_YET,
        LONG_TERM_STORAGE_UNREACHABLE,
    }
)


class RpcError(ExecutorError):
    """Root of the RPC errors. `endpoint` is the redacted label of the endpoint that answered, if any."""

    retriable = False
    outcome = "error"  # the `outcome` label of pumpflow_rpc_requests_total

    def __init__(self, message: str, *, endpoint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.endpoint = endpoint

    def __str__(self) -> str:
        return self.message if self.endpoint is None else f"{self.message} (endpoint {self.endpoint})"


class RpcTransportError(RpcError):
    retriable = True
    outcome = "transport_error"

    def __init__(self, message: str, *, http_status: int | None = None, endpoint: str | None = None) -> None:
        super().__init__(message, endpoint=endpoint)
        self.http_status = http_status


class RpcRateLimited(RpcError):
    retriable = True
    outcome = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: float | None, endpoint: str | None = None) -> None:
        super().__init__(message, endpoint=endpoint)
        self.retry_after_s = retry_after_s


class RpcNodeUnhealthy(RpcError):
    retriable = True
    outcome = "node_unhealthy"

    def __init__(
        self,
        message: str,
        *,
        code: int,
        slots_behind: int | None = None,
        context_slot: int | None = None,
        endpoint: str | None = None,
    ) -> None:
        super().__init__(message, endpoint=endpoint)
        self.code = code
        self.slots_behind = slots_behind
        self.context_slot = context_slot


class RpcResponseError(RpcError):
    outcome = "rpc_error"

    def __init__(self, message: str, *, code: int, data: Any = None, endpoint: str | None = None) -> None:
        super().__init__(message, endpoint=endpoint)
        self.code = code
        self.data = data

    def __str__(self) -> str:
        return f"JSON-RPC error {self.code}: {super().__str__()}"


def error_from_object(error: Any, *, retry_after_s: float | None = None) -> RpcError:
    """Map a JSON-RPC `error` member to the tree. Unknown shapes are transport errors (retriable)."""
    if not isinstance(error, dict):
        return RpcTransportError(f"error member is not an object: {type(error).__name__}")
    code = error.get("code")
    message = error.get("message")
    text = message if isinstance(message, str) else "(no message)"
    if isinstance(code, bool) or not isinstance(code, int):
        return RpcTransportError(f"error member without an integer code: {text}")
    data = error.get("data")
    if code == TOO_MANY_REQUESTS:
        return RpcRateLimited(text, retry_after_s=retry_after_s)
    if code in NODE_UNHEALTHY_CODES:
        return RpcNodeUnhealthy(
            text,
            code=code,
            slots_behind=_int_field(data, "numSlotsBehind"),
            context_slot=_int_field(data, "contextSlot"),
        )
    return RpcResponseError(text, code=code, data=data)


def _int_field(data: Any, name: str) -> int | None:
    if isinstance(data, dict):
        value = data.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None
