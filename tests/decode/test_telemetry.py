"""Upgrade awareness: every unknown shape is counted, and logged once."""

from __future__ import annotations

from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from executor.decode import PUMP, DecodeError, ShapeRegistry, decode_logs, shapes_of
from executor.decode.encode import encode_event, program_data_line
from executor.decode.telemetry import DecodeTelemetry

USER = "4DdrfiDHpmx55i4SPssxVzS9ZaKLb8qr45NKY9Er9nNh"
COMPLETE = {"user": USER, "mint": USER, "bonding_curve": USER, "timestamp": 1, "quote_mint": USER}


def tx_with(*blobs: bytes) -> object:
    lines = [f"Program {PUMP} invoke [1]", *(program_data_line(b) for b in blobs), f"Program {PUMP} success"]
    return decode_logs("sig", 1, lines, None)


def test_shape_registry_reports_a_shape_only_the_first_time_and_stays_bounded() -> None:
    registry = ShapeRegistry(limit=1)
    (shape,) = shapes_of(tx_with(encode_event("CompleteEvent", COMPLETE, tail=b"\0" * 3)))  # type: ignore[arg-type]
    assert (shape.kind, shape.reason, shape.tail_len, shape.layout_version) == (
        "CompleteEvent",
        "unknown_tail",
        3,
        "k1",
    )
    assert registry.first_seen(shape) and not registry.first_seen(shape)
    (other,) = shapes_of(tx_with(b"\x09" * 8))  # type: ignore[arg-type]
    assert other.reason == "unknown_discriminator" and not registry.first_seen(other), "full registry"
    assert len(registry) == 1


def test_known_shapes_are_not_reported() -> None:
    assert list(shapes_of(tx_with(encode_event("CompleteEvent", COMPLETE)))) == []  # type: ignore[arg-type]


def test_telemetry_counts_every_occurrence_and_logs_each_new_shape_once() -> None:
    registry = CollectorRegistry()
    telemetry = DecodeTelemetry(registry)
    tx = tx_with(b"\x09" * 8, encode_event("CompleteEvent", COMPLETE, tail=b"\1"))
    with capture_logs() as logs:
        telemetry.observe(tx)  # type: ignore[arg-type]
        telemetry.observe(tx)  # type: ignore[arg-type]
    assert [entry["event"] for entry in logs] == ["decode.new_shape", "decode.new_shape"]
    labels = {"program": PUMP, "kind": "Unknown", "reason": "unknown_discriminator"}
    assert registry.get_sample_value("pumpflow_decode_unknown_shapes_total", labels) == 2
    assert registry.get_sample_value("pumpflow_decode_anomalies_total", {"reason": "unknown_tail"}) == 2


def test_failures_are_counted_by_reason_and_logged_once_per_reason() -> None:
    registry = CollectorRegistry()
    telemetry = DecodeTelemetry(registry)
    with capture_logs() as logs:
        telemetry.failure(DecodeError("bad", reason="unsupported_input"))
        telemetry.failure(DecodeError("worse", reason="unsupported_input"))
    assert registry.get_sample_value("pumpflow_decode_failures_total", {"reason": "unsupported_input"}) == 2
    assert len(logs) == 1 and logs[0]["log_level"] == "warning"
