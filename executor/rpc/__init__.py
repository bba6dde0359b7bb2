"""The executor's RPC client layer: a resilient JSON-RPC pool and a logsSubscribe stream.

`RpcPool` spreads calls over endpoints by health, under per-endpoint and per-method rate limits with
LIVE-before-BACKFILL priority, retries what is retriable and honours Retry-After.
`LogsSubscription` keeps one PubSub connection subscribed to the given programs, calls `on_connect`
after every (re)subscribe so the caller can close the gap, and hands every notification to
`on_notice`. See docs/rpc.md.
"""

from executor.rpc.endpoint import Endpoint, endpoints_from_urls
from executor.rpc.errors import (
    RpcError,
    RpcNodeUnhealthy,
    RpcRateLimited,
    RpcResponseError,
    RpcTransportError,
)
from executor.rpc.governor import Priority
from executor.rpc.health import EndpointHealth
from executor.rpc.pool import RpcPool
from executor.rpc.subscription import LogsNotice, LogsSubscription

__all__ = [
    "Endpoint",
    "EndpointHealth",
    "LogsNotice",
    "LogsSubscription",
    "Priority",
    "RpcError",
    "RpcNodeUnhealthy",
    "RpcPool",
    "RpcRateLimited",
    "RpcResponseError",
    "RpcTransportError",
    "endpoints_from_urls",
]
