"""Prometheus metrics of the ingest pipeline (RPC client metrics live in executor.rpc.metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

NOTIFICATIONS = Counter("pumpflow_ingest_notifications_total", "logsNotifications received", ["program"])
DUPLICATES = Counter(
    "pumpflow_ingest_duplicates_total", "Notifications or fetches for a signature already seen"
)
DECODE_ERRORS = Counter("pumpflow_ingest_decode_errors_total", "Inputs the decoder rejected", ["stage"])
DERIVE_REJECTED = Counter(
    "pumpflow_ingest_rejected_records_total", "Decoded records not storable", ["reason"]
)
TRADES = Counter("pumpflow_ingest_trades_total", "Trade rows written", ["outcome"])
LAUNCHES = Counter("pumpflow_ingest_launches_total", "Token launches recorded")
RISK_FLAGS = Counter("pumpflow_ingest_risk_flags_total", "Risk flags raised")
BUCKETS = Counter("pumpflow_ingest_feature_buckets_total", "Feature buckets written as final", ["kind"])
BATCH_SECONDS = Histogram(
    "pumpflow_ingest_batch_seconds",
    "Time to apply one batch inside its DB transaction",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
BATCH_SIZE = Histogram(
    "pumpflow_ingest_batch_size", "Inputs per batch", buckets=(1, 5, 10, 50, 100, 250, 500, 1000, 2500)
)
DB_RETRIES = Counter(
    "pumpflow_ingest_db_retries_total", "Batches retried after a database error", ["retriable"]
)
QUEUE_DEPTH = Gauge("pumpflow_ingest_queue_depth", "Items waiting", ["queue"])
WORK_QUEUE_DEPTH = QUEUE_DEPTH.labels(queue="work")
FETCHES = Counter("pumpflow_ingest_fetches_total", "getTransaction outcomes", ["outcome", "reason"])
FETCH_LATENCY = Histogram(
    "pumpflow_ingest_fetch_seconds",
    "From scheduling a getTransaction to having the transaction (retries included)",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
GAP_SWEEPS = Counter("pumpflow_ingest_gap_sweeps_total", "getSignaturesForAddress sweeps", ["trigger"])
GAP_FILLED = Counter("pumpflow_ingest_gap_signatures_total", "Signatures a sweep found missing and queued")
GAP_SIZE = Histogram(
    "pumpflow_ingest_gap_size",
    "Missing signatures per sweep",
    buckets=(0, 1, 5, 10, 50, 100, 500, 1000, 10000),
)
WATERMARK_SLOT = Gauge("pumpflow_ingest_watermark_slot", "Durable completeness watermark", ["program"])
LAST_SLOT = Gauge("pumpflow_ingest_last_slot", "Newest slot seen in a notification")
WATERMARK_LAG = Gauge(
    "pumpflow_ingest_watermark_lag_slots", "Newest slot seen minus the completeness watermark"
)
NOTIFY_TO_EVENT = Histogram(
    "pumpflow_ingest_notify_to_commit_seconds",
    "From receiving a notification to its rows and events being committed",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5),
)
TASK_CRASHES = Counter(
    "pumpflow_ingest_task_crashes_total", "Ingest tasks that raised and were restarted", ["task"]
)
POISON_INPUTS = Counter(
    "pumpflow_ingest_poison_inputs_total", "Inputs that failed processing alone; recorded in decode_errors"
)


_NOTIFICATIONS_BY_PROGRAM: dict[str, Counter] = {}


def notifications(program: str) -> Counter:
    """The per-program notification counter, resolved once per program (label lookups are not free)."""
    child = _NOTIFICATIONS_BY_PROGRAM.get(program)
    if child is None:
        child = _NOTIFICATIONS_BY_PROGRAM[program] = NOTIFICATIONS.labels(program=program)
    return child
