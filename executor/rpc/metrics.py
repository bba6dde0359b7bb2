"""Prometheus metrics of the RPC layer (default registry, `pumpflow_rpc_` prefix).

The `endpoint` label is always `Endpoint.label` (redacted host:port), never a URL.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_WAIT_BUCKETS = (0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

# --- HTTP JSON-RPC ---------------------------------------------------------------------------
REQUESTS = Counter(
    "pumpflow_rpc_requests_total",
    "JSON-RPC requests sent, by outcome (ok, rate_limited, node_unhealthy, transport_error, rpc_error)",
    ["method", "endpoint", "outcome"],
)
LATENCY = Histogram(
    "pumpflow_rpc_request_seconds",
    "Time from sending a JSON-RPC request to its answer (every outcome)",
    ["method"],
    buckets=_LATENCY_BUCKETS,
)
RATE_LIMITED = Counter("pumpflow_rpc_rate_limited_total", "HTTP 429 / code 429 answers", ["endpoint"])
RETRIES = Counter("pumpflow_rpc_retries_total", "Calls retried after a retriable error", ["method", "reason"])
NODE_UNHEALTHY = Counter(
    "pumpflow_rpc_node_unhealthy_total",
    "Node-unhealthy answers (-32005 behind, -32016 minContextSlot, -32004/-32014/-32019)",
    ["endpoint", "code"],
)
CALL_FAILURES = Counter(
    "pumpflow_rpc_call_failures_total",
    "Calls that raised to the caller (out of attempts or not retriable)",
    ["method", "error"],
)
COOLDOWNS = Counter(
    "pumpflow_rpc_cooldowns_total",
    "Endpoint cooldowns started (rate_limited: Retry-After; circuit: consecutive failures)",
    ["endpoint", "reason"],
)
TX_NULL = Counter(
    "pumpflow_rpc_get_transaction_null_total",
    "getTransaction answers that were null (not yet visible at the commitment; the caller retries)",
)
ENDPOINT_SCORE = Gauge("pumpflow_rpc_endpoint_score", "Health score of the endpoint (0..1)", ["endpoint"])
SLOT_LAG = Gauge("pumpflow_rpc_slot_lag", "Slots the endpoint is behind the best endpoint", ["endpoint"])
ENDPOINT_SLOT = Gauge(
    "pumpflow_rpc_endpoint_slot", "Last confirmed slot reported by the endpoint", ["endpoint"]
)

# --- rate governor -------------------------------------------------------------------------
GOVERNOR_WAIT = Histogram(
    "pumpflow_rpc_governor_wait_seconds",
    "Time a call waited for rate-limit tokens, a free connection or a cooled-down endpoint",
    ["priority"],
    buckets=_WAIT_BUCKETS,
)
GOVERNOR_WAITING = Gauge("pumpflow_rpc_governor_waiting", "Calls waiting in the rate governor", ["priority"])

# --- WebSocket logsSubscribe ----------------------------------------------------------------
WS_CONNECTED = Gauge("pumpflow_rpc_ws_connected", "1 while a subscribed logs connection is up", ["endpoint"])
WS_RECONNECTS = Counter(
    "pumpflow_rpc_ws_reconnects_total",
    "Logs connections ended or failed, by reason (dropped, server_close, ping_timeout, stall, oversize, ...)",
    ["endpoint", "reason"],
)
WS_STALLS = Counter(
    "pumpflow_rpc_ws_stall_reconnects_total",
    "Reconnects because slots advanced but no notification arrived",
    ["endpoint"],
)
WS_NOTIFICATIONS = Counter(
    "pumpflow_rpc_ws_notifications_total", "logsNotification frames received", ["endpoint", "program"]
)
WS_DUPLICATES = Counter(
    "pumpflow_rpc_ws_duplicates_total",
    "Notifications dropped because the same (program, signature) was delivered recently",
    ["endpoint"],
)
WS_MALFORMED = Counter(
    "pumpflow_rpc_ws_malformed_frames_total",
    "Frames not delivered: json, shape, method, ghost, unknown_subscription, oversize",
    ["endpoint", "kind"],
)
WS_QUEUE_DEPTH = Gauge(
    "pumpflow_rpc_ws_queue_depth", "Notifications read from the socket, not yet delivered", ["endpoint"]
)
