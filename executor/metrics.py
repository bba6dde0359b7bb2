"""Prometheus metrics of the executor service layer (served on EXECUTOR_METRICS_PORT at /metrics).

Ingest, RPC and decoder metrics live beside their code; all use the default registry and the
`pumpflow_` prefix.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, Info

BUILD = Info("pumpflow_executor_build", "Executor version, contract and schema revision")
TRADING_DISABLED = Gauge("pumpflow_trading_disabled", "1 while TRADING_DISABLED is set")
EVENTS_PUBLISHED = Counter("pumpflow_events_published_total", "Events written to the outbox", ["kind"])
EVENTS_STREAMED = Counter("pumpflow_events_streamed_total", "Events delivered to stream subscribers")
STREAM_SUBSCRIBERS = Gauge("pumpflow_stream_subscribers", "Open StreamEvents calls")
SUBSCRIBER_OVERFLOWS = Counter(
    "pumpflow_subscriber_overflows_total",
    "Live queues dropped because a subscriber was slow (it catches up from the outbox)",
)
CATCHUP_READS = Counter("pumpflow_stream_catchup_reads_total", "Outbox reads made for lagging subscribers")
HEARTBEATS = Counter("pumpflow_heartbeats_total", "Heartbeats broadcast")
INTENTS = Counter("pumpflow_intents_total", "SubmitIntent answers", ["status", "reason"])
INTENTS_INVALID = Counter(
    "pumpflow_intents_invalid_total", "Intents refused with INVALID_ARGUMENT or ALREADY_EXISTS", ["code"]
)
GRPC_ERRORS = Counter(
    "pumpflow_grpc_errors_total", "gRPC calls that ended in an error status", ["method", "code"]
)
OUTBOX_PRUNED = Counter("pumpflow_outbox_pruned_total", "Events deleted by the outbox retention")
DB_ERRORS = Counter("pumpflow_db_errors_total", "Database operations that failed", ["op", "retriable"])
STORE_LATENCY = Histogram("pumpflow_store_seconds", "Latency of store operations", ["op"])
