"""Adapter from the decoder's pure observations to Prometheus counters and structlog lines.

The decoder itself never imports this module. Callers (live ingest, replay) hand every decoded
transaction to `DecodeTelemetry.observe` and every DecodeError to `failure`.
"""

from __future__ import annotations

import structlog
from prometheus_client import REGISTRY, CollectorRegistry, Counter

from executor.decode.errors import DecodeError
from executor.decode.model import DecodedTx
from executor.decode.shapes import ShapeRegistry, shapes_of

log = structlog.get_logger("executor.decode")


class DecodeTelemetry:
    def __init__(self, registry: CollectorRegistry = REGISTRY, shapes: ShapeRegistry | None = None) -> None:
        self.shapes = shapes if shapes is not None else ShapeRegistry()
        self.unknown_shapes = Counter(
            "pumpflow_decode_unknown_shapes",
            "Decoded items whose wire shape the layouts do not fully explain",
            ["program", "kind", "reason"],
            registry=registry,
        )
        self.failures = Counter(
            "pumpflow_decode_failures", "Inputs the decoder rejected", ["reason"], registry=registry
        )
        self.anomalies = Counter(
            "pumpflow_decode_anomalies",
            "Anomalies recorded inside decoded transactions",
            ["reason"],
            registry=registry,
        )
        self._failure_reasons_logged: set[str] = set()

    def observe(self, tx: DecodedTx) -> None:
        for anomaly in tx.anomalies:
            self.anomalies.labels(anomaly.reason).inc()
        for shape in shapes_of(tx):
            self.unknown_shapes.labels(shape.program, shape.kind, shape.reason).inc()
            if self.shapes.first_seen(shape):
                log.warning(
                    "decode.new_shape",
                    program=shape.program,
                    kind=shape.kind,
                    discriminator=shape.discriminator,
                    layout_version=shape.layout_version,
                    tail_len=shape.tail_len,
                    reason=shape.reason,
                    signature=tx.signature,
                    slot=tx.slot,
                )

    def failure(self, error: DecodeError, *, signature: str | None = None) -> None:
        self.failures.labels(error.reason).inc()
        if error.reason not in self._failure_reasons_logged:
            self._failure_reasons_logged.add(error.reason)
            log.warning("decode.failure", reason=error.reason, error=str(error), signature=signature)
