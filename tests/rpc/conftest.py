"""Helpers for the RPC tests: simulators as endpoints, metric readers."""

from __future__ import annotations

from prometheus_client import REGISTRY

import sim
from executor.rpc import Endpoint

API_KEY = "abcdefghijklmnopqrstuvwxyz123456"


def endpoint_of(node: sim.RunningSim, *, key: str | None = None) -> Endpoint:
    suffix = f"/v2/{key}" if key else ""
    return Endpoint(node.http_url + suffix, node.ws_url + suffix)


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def requests(endpoint: Endpoint, method: str, outcome: str = "ok") -> float:
    return metric("pumpflow_rpc_requests_total", method=method, endpoint=endpoint.label, outcome=outcome)
