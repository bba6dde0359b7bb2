"""JSON-RPC 2.0 envelopes over HTTP and PubSub frames, decoded into values or errors (pure).

Shapes follow shared/docs/solana-rpc.md §1 and §3: results are matched by `id`; a 429 is recognised
by HTTP status or by `error.code == 429`; a logsNotification is
`{"method":"logsNotification","params":{"result":{"context":{"slot"},"value":{"signature","err","logs"}},"subscription"}}`.
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from executor.rpc.errors import RpcError, RpcRateLimited, RpcTransportError, error_from_object

# The all-ones signature is 64 zero bytes: a ghost notification some nodes send before the real one.
GHOST_SIGNATURE = "1" * 64
_SIGNATURE = re.compile(r"^[1-9A-HJ-NP-Za-km-z]{64,88}$")


def encode_request(request_id: int, method: str, params: list[Any]) -> bytes:
    return orjson.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds (integer, tolerated as decimal) or an HTTP date."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def decode_response(status: int, body: bytes, request_id: int, retry_after: str | None = None) -> Any:
    """The `result` of a single JSON-RPC answer, or raise the matching `RpcError`."""
    retry_after_s = parse_retry_after(retry_after)
    if status == 429:
        message = "HTTP 429 Too Many Requests"
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            payload = None
        if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
            text = payload["error"].get("message")
            if isinstance(text, str):
                message = f"HTTP 429: {text}"
        raise RpcRateLimited(message, retry_after_s=retry_after_s)
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        kind = "empty" if not body else "non-JSON"
        raise RpcTransportError(
            f"HTTP {status} with a {kind} body ({len(body)} bytes)", http_status=status
        ) from None
    if not isinstance(payload, dict):
        raise RpcTransportError(
            f"HTTP {status}: expected a JSON object, got {type(payload).__name__}", http_status=status
        )
    if "error" in payload:
        raise error_from_object(payload["error"], retry_after_s=retry_after_s)
    if status != 200:
        raise RpcTransportError(f"HTTP {status} without a JSON-RPC error", http_status=status)
    if payload.get("id") != request_id:
        raise RpcTransportError(f"answer id {payload.get('id')!r} does not match request id {request_id}")
    if "result" not in payload:
        raise RpcTransportError("answer has neither result nor error")
    return payload["result"]


# --- PubSub frames --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reply:
    """The answer to a request sent on the socket (a subscribe, usually)."""

    id: Any
    result: Any
    error: RpcError | None


@dataclass(frozen=True, slots=True)
class LogsFrame:
    subscription: int
    slot: int
    signature: str
    err: Any
    logs: list[str]


@dataclass(frozen=True, slots=True)
class Rejected:
    """A frame that cannot be delivered; `kind` is the metric label (json, shape, ghost, method)."""

    kind: str
    detail: str


Frame = Reply | LogsFrame | Rejected


def parse_frame(raw: bytes | str) -> Frame:
    try:
        msg = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return Rejected("json", f"not JSON ({len(raw)} bytes): {exc}")
    if not isinstance(msg, dict):
        return Rejected("shape", f"frame is a JSON {type(msg).__name__}, not an object")
    method = msg.get("method")
    if method is None:
        if "id" not in msg:
            return Rejected("shape", "frame has neither method nor id")
        error = msg.get("error")
        if error is not None:
            return Reply(msg["id"], None, error_from_object(error))
        return Reply(msg["id"], msg.get("result"), None)
    if method != "logsNotification":
        return Rejected("method", f"unexpected notification method {str(method)[:40]!r}")
    return _logs_frame(msg.get("params"))


def _logs_frame(params: Any) -> Frame:
    try:
        subscription = params["subscription"]
        result = params["result"]
        slot = result["context"]["slot"]
        value = result["value"]
        signature = value["signature"]
    except (KeyError, TypeError):
        return Rejected("shape", "logsNotification without subscription/context.slot/value.signature")
    if not _is_int(subscription) or not _is_int(slot):
        return Rejected("shape", "logsNotification subscription or slot is not an integer")
    if not isinstance(signature, str) or not _SIGNATURE.match(signature):
        return Rejected("shape", f"logsNotification signature is not base58: {str(signature)[:20]!r}")
    if signature == GHOST_SIGNATURE:
        return Rejected("ghost", f"all-ones default signature at slot {slot}")
    logs = value.get("logs")
    if logs is None:
        logs = []
    elif not isinstance(logs, list) or not set(map(type, logs)) <= {str}:
        return Rejected("shape", f"logsNotification logs are not a list of strings ({signature})")
    return LogsFrame(subscription, slot, signature, value.get("err"), logs)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
