"""Endpoint labels and every log path keep API keys out of logs, errors and metric labels."""

from __future__ import annotations

import logging

import pytest

from executor.rpc.endpoint import (
    Endpoint,
    RedactingFilter,
    endpoints_from_urls,
    scrub_text,
    url_secrets,
)

KEY = "abcdefghijklmnopqrstuvwxyz123456"


def test_label_is_host_and_port_only() -> None:
    endpoint = Endpoint(f"https://rpc.example.com/v2/{KEY}", f"wss://rpc.example.com/v2/{KEY}")
    assert endpoint.label == "rpc.example.com"
    assert KEY not in repr(endpoint)
    assert Endpoint("http://127.0.0.1:8899", "ws://127.0.0.1:8900").label == "127.0.0.1:8899"


def test_secrets_cover_path_keys_query_values_and_user_info() -> None:
    assert url_secrets(f"https://x.example/v2/{KEY}") == {KEY}
    assert url_secrets(f"https://x.example/?api-key={KEY}") == {KEY}
    assert url_secrets("https://user:hunter2pass@x.example/") == {"user", "hunter2pass"}
    assert url_secrets("https://api.mainnet-beta.solana.com") == frozenset()


def test_scrub_masks_raw_urls_and_bare_keys() -> None:
    endpoint = Endpoint(f"http://127.0.0.1:1/v2/{KEY}", f"ws://127.0.0.1:1/v2/{KEY}")
    text = endpoint.scrub(f"failed to reach http://127.0.0.1:1/v2/{KEY} (path /v2/{KEY})")
    assert KEY not in text
    assert "127.0.0.1:1" in text


def test_pairs_get_unique_labels() -> None:
    endpoints = endpoints_from_urls(
        [
            f"https://a.example/v2/{KEY}",
            "https://a.example/v2/other-key-0123456789",
            "https://b.example:8899",
        ],
        ["wss://a.example/x", "wss://a.example/y", "wss://b.example:8900"],
    )
    assert [e.label for e in endpoints] == ["a.example", "a.example#2", "b.example:8899"]
    with pytest.raises(ValueError, match="pair in order"):
        endpoints_from_urls(["https://a.example"], [])


def test_bad_urls_and_leaky_labels_are_refused() -> None:
    with pytest.raises(ValueError, match="HTTP URL"):
        Endpoint("ftp://a.example", "wss://a.example")
    with pytest.raises(ValueError, match="WebSocket URL"):
        Endpoint("https://a.example", "https://a.example")
    with pytest.raises(ValueError, match="credentials"):
        Endpoint(f"https://a.example/v2/{KEY}", "wss://a.example", label=f"a-{KEY}")


def test_log_filter_rewrites_third_party_records() -> None:
    Endpoint(f"http://127.0.0.1:2/v2/{KEY}", f"ws://127.0.0.1:2/v2/{KEY}")
    record = logging.LogRecord(
        "httpx",
        logging.INFO,
        __file__,
        1,
        "HTTP Request: %s %s",
        ("POST", f"http://127.0.0.1:2/v2/{KEY}"),
        None,
    )
    assert RedactingFilter().filter(record)
    assert KEY not in record.getMessage()
    ws_record = logging.LogRecord(
        "websockets", logging.DEBUG, __file__, 1, "> GET %s HTTP/1.1", (f"/v2/{KEY}",), None
    )
    RedactingFilter().filter(ws_record)
    assert KEY not in ws_record.getMessage()
    assert KEY not in scrub_text(f"wss://h.example/v2/{KEY}")
