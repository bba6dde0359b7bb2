"""JSON-RPC answers and PubSub frames map to results, the right error class, or a counted rejection."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from executor.rpc.errors import (
    RpcNodeUnhealthy,
    RpcRateLimited,
    RpcResponseError,
    RpcTransportError,
)
from executor.rpc.wire import (
    GHOST_SIGNATURE,
    LogsFrame,
    Rejected,
    Reply,
    decode_response,
    encode_request,
    parse_frame,
    parse_retry_after,
)

SIG = "5h6xBEauJ3PK6SWCZ1PGjBvj8vDdWG3KpwATGy1ARAXFSDwt8GFXM7W5Ncn16wmqokgpiKRLuS83KUxyZyv2sUYv"


def body(payload: object) -> bytes:
    return orjson.dumps(payload)


def test_request_envelope_is_jsonrpc_2() -> None:
    assert orjson.loads(encode_request(7, "getSlot", [{"commitment": "confirmed"}])) == {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "getSlot",
        "params": [{"commitment": "confirmed"}],
    }


def test_result_is_returned_including_null() -> None:
    assert decode_response(200, body({"jsonrpc": "2.0", "result": 42, "id": 1}), 1) == 42
    assert decode_response(200, body({"jsonrpc": "2.0", "result": None, "id": 1}), 1) is None


def test_http_429_with_the_public_endpoint_body_carries_retry_after() -> None:
    answer = {"jsonrpc": "2.0", "error": {"code": 429, "message": "Too many requests"}, "id": 1}
    with pytest.raises(RpcRateLimited) as caught:
        decode_response(429, body(answer), 1, retry_after="3")
    assert caught.value.retry_after_s == 3.0
    assert caught.value.retriable


def test_code_429_in_a_200_answer_is_rate_limiting_too() -> None:
    answer = {"jsonrpc": "2.0", "error": {"code": 429, "message": "slow down"}, "id": 1}
    with pytest.raises(RpcRateLimited) as caught:
        decode_response(200, body(answer), 1)
    assert caught.value.retry_after_s is None


def test_429_with_a_non_json_body_is_still_rate_limiting() -> None:
    with pytest.raises(RpcRateLimited):
        decode_response(429, b"<html>slow down</html>", 1)


@pytest.mark.parametrize(
    ("error", "slots_behind", "context_slot"),
    [
        ({"code": -32005, "message": "Node is behind by 40 slots", "data": {"numSlotsBehind": 40}}, 40, None),
        ({"code": -32005, "message": "Node is unhealthy", "data": {"numSlotsBehind": None}}, None, None),
        (
            {
                "code": -32016,
                "message": "Minimum context slot has not been reached",
                "data": {"contextSlot": 9},
            },
            None,
            9,
        ),
        ({"code": -32004, "message": "Block not available for slot 5"}, None, None),
        ({"code": -32014, "message": "Block status not yet available for slot 5"}, None, None),
    ],
)
def test_node_unhealthy_codes_are_retriable_and_keep_their_data(
    error: dict[str, object], slots_behind: int | None, context_slot: int | None
) -> None:
    with pytest.raises(RpcNodeUnhealthy) as caught:
        decode_response(200, body({"jsonrpc": "2.0", "error": error, "id": 1}), 1)
    assert caught.value.retriable
    assert caught.value.code == error["code"]
    assert (caught.value.slots_behind, caught.value.context_slot) == (slots_behind, context_slot)


def test_other_jsonrpc_errors_are_not_retriable() -> None:
    error = {"code": -32602, "message": "Invalid param: WrongSize", "data": {"x": 1}}
    with pytest.raises(RpcResponseError) as caught:
        decode_response(200, body({"jsonrpc": "2.0", "error": error, "id": 1}), 1)
    assert not caught.value.retriable
    assert (caught.value.code, caught.value.data) == (-32602, {"x": 1})
    assert "-32602" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "raw", "match"),
    [
        (200, b"{not json", "non-JSON"),
        (502, b"<html>Bad Gateway</html>", "HTTP 502"),
        (200, b"", "empty"),
        (200, b"[1, 2]", "expected a JSON object"),
        (200, body({"jsonrpc": "2.0", "result": 1, "id": 99}), "does not match"),
        (200, body({"jsonrpc": "2.0", "id": 1}), "neither result nor error"),
        (503, body({"jsonrpc": "2.0", "result": 1, "id": 1}), "HTTP 503"),
        (200, body({"jsonrpc": "2.0", "error": "boom", "id": 1}), "not an object"),
    ],
)
def test_garbage_answers_are_retriable_transport_errors(status: int, raw: bytes, match: str) -> None:
    with pytest.raises(RpcTransportError, match=match) as caught:
        decode_response(status, raw, 1)
    assert caught.value.retriable


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("2", now) == 2.0
    assert parse_retry_after(" 1.5 ", now) == 1.5
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:07 GMT", now) == 7.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None
    assert parse_retry_after("nan", now) is None


def notification(signature: str = SIG, **value: object) -> bytes:
    return body(
        {
            "jsonrpc": "2.0",
            "method": "logsNotification",
            "params": {
                "result": {
                    "context": {"slot": 5208469},
                    "value": {"signature": signature, "err": None, "logs": ["Program log: hi"], **value},
                },
                "subscription": 24040,
            },
        }
    )


def test_logs_notification_is_parsed() -> None:
    assert parse_frame(notification()) == LogsFrame(24040, 5208469, SIG, None, ["Program log: hi"])


def test_failed_transaction_with_null_logs_is_delivered_with_empty_logs() -> None:
    err = {"InstructionError": [0, {"Custom": 6003}]}
    frame = parse_frame(notification(err=err, logs=None))
    assert frame == LogsFrame(24040, 5208469, SIG, err, [])


def test_subscribe_ack_and_error_reply() -> None:
    assert parse_frame(b'{"jsonrpc":"2.0","result":7,"id":1}') == Reply(1, 7, None)
    reply = parse_frame(
        b'{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid Request: Only 1 address supported"},"id":2}'
    )
    assert isinstance(reply, Reply)
    assert isinstance(reply.error, RpcResponseError)


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (b'{"jsonrpc":"2.0","method":"logsNotif', "json"),
        (b"[1]", "shape"),
        (b'{"jsonrpc":"2.0"}', "shape"),
        (b'{"jsonrpc":"2.0","method":"slotNotification","params":{}}', "method"),
        (b'{"jsonrpc":"2.0","method":"logsNotification","params":{"subscription":1}}', "shape"),
        (notification(signature="not-base58!"), "shape"),
        (notification(signature=GHOST_SIGNATURE), "ghost"),
        (notification(logs="Program log: hi"), "shape"),
    ],
)
def test_bad_frames_are_rejected_with_a_kind(raw: bytes, kind: str) -> None:
    frame = parse_frame(raw)
    assert isinstance(frame, Rejected)
    assert frame.kind == kind
