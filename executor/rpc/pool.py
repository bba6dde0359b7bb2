"""`RpcPool`: JSON-RPC over HTTP to a set of endpoints, with rate governing, health and failover.

One `call` = up to `max_attempts` attempts. Each attempt waits for a grant from the `Governor` (which
also picks the endpoint: healthiest eligible one that has budget now), sends one request on that
endpoint's keep-alive `httpx.AsyncClient`, and records the outcome in the endpoint's `EndpointStats`.
Retriable errors (transport, 429, node unhealthy) are retried, preferring another endpoint, after a
jittered exponential backoff; a 429 instead cools the endpoint down for Retry-After, which the governor
honours for every call. Non-retriable JSON-RPC errors are raised at once.

While the pool is in use (a call in the last `idle_after_s`) a background task asks every endpoint for
`getSlot` every `slot_poll_interval_s`; that gives the slot lag in the score and probes endpoints that
the governor currently leaves alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import httpx
import structlog

from executor.rpc import metrics, wire
from executor.rpc.backoff import Backoff
from executor.rpc.endpoint import Endpoint, check_unique_labels, install_log_redaction
from executor.rpc.errors import (
    RpcError,
    RpcNodeUnhealthy,
    RpcRateLimited,
    RpcResponseError,
    RpcTransportError,
)
from executor.rpc.governor import EndpointStatus, Governor, Priority
from executor.rpc.health import EndpointHealth, EndpointStats, best_slot
from executor.rpc.log_throttle import LogThrottle

log = structlog.get_logger("executor.rpc")

T = TypeVar("T")
Check = Callable[[Any], T]

MAX_MULTIPLE_ACCOUNTS = 100
REFUSED_COOLDOWN_S = 60.0  # HTTP 401/403: the provider refuses this key or IP


class RpcPool:
    """Resilient JSON-RPC client over one or more endpoints. Use `async with` or call `aclose()`."""

    def __init__(
        self,
        endpoints: Sequence[Endpoint],
        *,
        requests_per_10s: int = 100,
        method_per_10s: int = 40,
        timeout_s: float = 10.0,
        max_attempts: int = 6,
        max_in_flight: int = 8,
        retry_backoff_min_s: float = 0.1,
        retry_backoff_max_s: float = 5.0,
        default_retry_after_s: float = 1.0,
        max_retry_after_s: float = 60.0,
        slot_poll_interval_s: float = 5.0,
        idle_after_s: float = 60.0,
        demote_ratio: float = 0.5,
        max_supported_transaction_version: int = 0,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        if not endpoints:
            raise ValueError("RpcPool needs at least one endpoint")
        check_unique_labels(endpoints)
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        install_log_redaction()
        self._endpoints = {e.label: e for e in endpoints}
        self._stats = {e.label: EndpointStats(e.label) for e in endpoints}
        self._clock = clock
        self._timeout_s = timeout_s
        self._max_attempts = max_attempts
        self._default_retry_after_s = default_retry_after_s
        self._max_retry_after_s = max_retry_after_s
        self._slot_poll_interval_s = slot_poll_interval_s
        self._idle_after_s = idle_after_s
        self._max_tx_version = max_supported_transaction_version
        self._backoff = Backoff(retry_backoff_min_s, retry_backoff_max_s, rng=rng or random.Random())
        self._governor = Governor(
            list(self._endpoints),
            requests_per_window=requests_per_10s,
            method_per_window=method_per_10s,
            window_s=10.0,
            max_in_flight=max_in_flight,
            demote_ratio=demote_ratio,
            clock=clock,
            status=self._status,
        )
        limits = httpx.Limits(max_connections=max_in_flight, max_keepalive_connections=max_in_flight)
        self._clients = {
            label: httpx.AsyncClient(
                http1=True,
                limits=limits,
                timeout=httpx.Timeout(timeout_s, pool=None),
                headers={"content-type": "application/json"},
                transport=transport,
            )
            for label in self._endpoints
        }
        self._ids = itertools.count(1)
        self._throttle = LogThrottle(5.0, clock)
        self._poller: asyncio.Task[None] | None = None
        self._last_use = clock()
        self._closed = False

    async def __aenter__(self) -> RpcPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def endpoints(self) -> list[Endpoint]:
        return list(self._endpoints.values())

    # --- generic call --------------------------------------------------------------------------

    async def call(self, method: str, params: list[Any], *, priority: Priority = Priority.LIVE) -> Any:
        """The JSON-RPC `result` (may be None). Raises `RpcError` when out of attempts or not retriable."""
        return await self._call(method, params, priority, _any)

    async def _call(
        self,
        method: str,
        params: list[Any],
        priority: Priority,
        check: Check[T],
        *,
        pinned: str | None = None,
        attempts: int | None = None,
        internal: bool = False,
    ) -> T:
        if not internal:
            self._touch()
        attempts = attempts or self._max_attempts
        avoid: frozenset[str] = frozenset()
        attempt = 1
        while True:
            label = await self._governor.acquire(method, priority, avoid=avoid, pinned=pinned)
            try:
                return await self._send(label, method, params, check)
            except RpcError as err:
                if not err.retriable or attempt >= attempts or self._closed:
                    metrics.CALL_FAILURES.labels(method, type(err).__name__).inc()
                    if err.retriable and attempts > 1:
                        log.warning(
                            "rpc call failed", method=method, attempts=attempt, error=str(err), endpoint=label
                        )
                    raise
                metrics.RETRIES.labels(method, err.outcome).inc()
                avoid = frozenset({label})
                cooled = isinstance(err, RpcRateLimited)  # the governor already waits out Retry-After
            finally:
                self._governor.release(label)
            if not cooled:
                await asyncio.sleep(self._backoff.delay(attempt - 1))
            attempt += 1

    async def _send(self, label: str, method: str, params: list[Any], check: Check[T]) -> T:
        endpoint = self._endpoints[label]
        request_id = next(self._ids)
        body = wire.encode_request(request_id, method, params)
        started = self._clock()
        try:
            try:
                async with asyncio.timeout(self._timeout_s):
                    response = await self._clients[label].post(endpoint.http_url, content=body)
            except TimeoutError:
                raise RpcTransportError(f"no answer within {self._timeout_s:g} s") from None
            except httpx.HTTPError as exc:
                detail = endpoint.scrub(str(exc)) or "no detail"
                raise RpcTransportError(f"{type(exc).__name__}: {detail}") from None
            result = check(
                wire.decode_response(
                    response.status_code, response.content, request_id, response.headers.get("retry-after")
                )
            )
        except RpcError as err:
            err.endpoint = label
            self._on_error(label, method, err, self._clock() - started)
            raise
        finally:
            metrics.LATENCY.labels(method).observe(self._clock() - started)
        self._on_success(label, method, result, self._clock() - started)
        return result

    def _on_success(self, label: str, method: str, result: Any, latency_s: float) -> None:
        now = self._clock()
        stats = self._stats[label]
        stats.record_success(now, latency_s)
        if method == "getSlot" and isinstance(result, int):
            stats.record_slot(now, result)
        metrics.REQUESTS.labels(method, label, "ok").inc()

    def _on_error(self, label: str, method: str, err: RpcError, latency_s: float) -> None:
        now = self._clock()
        stats = self._stats[label]
        metrics.REQUESTS.labels(method, label, err.outcome).inc()
        if isinstance(err, RpcRateLimited):
            asked = err.retry_after_s
            cooldown = min(self._max_retry_after_s, self._default_retry_after_s if asked is None else asked)
            stats.record_rate_limited(now, cooldown)
            metrics.RATE_LIMITED.labels(label).inc()
            metrics.COOLDOWNS.labels(label, "rate_limited").inc()
            if self._throttle.allow(("429", label)):
                log.info(
                    "rpc rate limited; endpoint cooling down",
                    endpoint=label,
                    method=method,
                    cooldown_s=round(cooldown, 3),
                    retry_after_s=asked,
                    suppressed=self._throttle.take_suppressed(("429", label)),
                )
            return
        if isinstance(err, RpcResponseError):  # the node is fine; the request was not
            stats.record_success(now, latency_s)
            return
        circuit = stats.record_failure(now, latency_s)
        if isinstance(err, RpcNodeUnhealthy):
            metrics.NODE_UNHEALTHY.labels(label, str(err.code)).inc()
            if err.slots_behind is not None:
                stats.record_behind(now, err.slots_behind)
            if err.context_slot is not None:
                stats.record_slot(now, err.context_slot)
        if isinstance(err, RpcTransportError) and err.http_status in (401, 403):
            stats.cool(now, REFUSED_COOLDOWN_S)
            metrics.COOLDOWNS.labels(label, "refused").inc()
            log.error(
                "rpc endpoint refuses requests (check the API key / IP allowance)",
                endpoint=label,
                http_status=err.http_status,
                cooldown_s=REFUSED_COOLDOWN_S,
            )
        elif circuit is not None:
            metrics.COOLDOWNS.labels(label, "circuit").inc()
            log.warning(
                "rpc endpoint failing; circuit open",
                endpoint=label,
                consecutive_failures=stats.consecutive_failures,
                cooldown_s=circuit,
                error=str(err),
            )
        elif self._throttle.allow(("error", label)):
            log.info(
                "rpc request failed",
                endpoint=label,
                method=method,
                error=str(err),
                suppressed=self._throttle.take_suppressed(("error", label)),
            )

    # --- typed helpers -------------------------------------------------------------------------

    async def get_transaction(
        self,
        signature: str,
        *,
        priority: Priority,
        commitment: str = "confirmed",
        encoding: str = "json",
    ) -> dict[str, Any] | None:
        """The transaction, or None while the node does not have it at `commitment` (retry later)."""
        config = {
            "encoding": encoding,
            "commitment": commitment,
            "maxSupportedTransactionVersion": self._max_tx_version,
        }
        result = await self._call("getTransaction", [signature, config], priority, _object_or_none)
        if result is None:
            metrics.TX_NULL.inc()
        return result

    async def get_signatures_for_address(
        self,
        address: str,
        *,
        until: str | None = None,
        before: str | None = None,
        limit: int = 1000,
        priority: Priority,
        commitment: str = "confirmed",
        min_context_slot: int | None = None,
    ) -> list[dict[str, Any]]:
        """One page, newest first; `before`/`until` are exclusive (shared/docs/solana-rpc.md §2.2)."""
        if not 1 <= limit <= 1000:
            raise ValueError("getSignaturesForAddress limit must be 1..1000")
        config: dict[str, Any] = {"limit": limit, "commitment": commitment}
        if until is not None:
            config["until"] = until
        if before is not None:
            config["before"] = before
        if min_context_slot is not None:
            config["minContextSlot"] = min_context_slot
        return await self._call("getSignaturesForAddress", [address, config], priority, _signature_list)

    async def get_slot(self, *, commitment: str = "confirmed", priority: Priority = Priority.LIVE) -> int:
        return await self._call("getSlot", [{"commitment": commitment}], priority, _int)

    async def get_account_info(
        self,
        address: str,
        *,
        commitment: str = "confirmed",
        min_context_slot: int | None = None,
        data_slice: tuple[int, int] | None = None,
        priority: Priority = Priority.LIVE,
    ) -> dict[str, Any]:
        """`{"context": {"slot", ...}, "value": null | {"data": [<base64>, "base64"], ...}}`."""
        config = _account_config(commitment, min_context_slot, data_slice)
        return await self._call("getAccountInfo", [address, config], priority, _context_value)

    async def get_multiple_accounts(
        self,
        addresses: Sequence[str],
        *,
        commitment: str = "confirmed",
        min_context_slot: int | None = None,
        data_slice: tuple[int, int] | None = None,
        priority: Priority = Priority.LIVE,
    ) -> dict[str, Any]:
        """Up to 100 accounts: `{"context": ..., "value": [null | account, ...]}` aligned with `addresses`."""
        if not 1 <= len(addresses) <= MAX_MULTIPLE_ACCOUNTS:
            raise ValueError(f"getMultipleAccounts takes 1..{MAX_MULTIPLE_ACCOUNTS} addresses")
        config = _account_config(commitment, min_context_slot, data_slice)
        return await self._call("getMultipleAccounts", [list(addresses), config], priority, _context_value)

    # --- health --------------------------------------------------------------------------------

    def health(self) -> list[EndpointHealth]:
        """One snapshot per endpoint, in configuration order; also refreshes the score/lag gauges."""
        now = self._clock()
        best = best_slot(list(self._stats.values()), now)
        snapshots = [stats.snapshot(now, best) for stats in self._stats.values()]
        for snap in snapshots:
            metrics.ENDPOINT_SCORE.labels(snap.label).set(snap.score)
            if snap.slot_lag is not None:
                metrics.SLOT_LAG.labels(snap.label).set(snap.slot_lag)
            if snap.slot is not None:
                metrics.ENDPOINT_SLOT.labels(snap.label).set(snap.slot)
        return snapshots

    def ranked(self) -> list[str]:
        """Endpoint labels, best first: not cooling down before cooling down, then by score."""
        now = self._clock()
        status = self._status(now)
        order = {label: i for i, label in enumerate(self._endpoints)}
        return sorted(
            self._endpoints, key=lambda lb: (status[lb].cooling_until > now, -status[lb].score, order[lb])
        )

    def waiting(self, priority: Priority) -> int:
        """Calls of `priority` waiting for the rate governor right now."""
        return self._governor.waiting(priority)

    def _status(self, now: float) -> dict[str, EndpointStatus]:
        stats = list(self._stats.values())
        best = best_slot(stats, now)
        return {st.label: EndpointStatus(st.score(now, best), st.cooling_until) for st in stats}

    # --- background slot probe -----------------------------------------------------------------

    def _touch(self) -> None:
        self._last_use = self._clock()
        if self._closed or (self._poller is not None and not self._poller.done()):
            return
        self._poller = asyncio.create_task(self._poll_slots(), name="rpc-slot-poller")
        self._poller.add_done_callback(_log_crash)

    async def _poll_slots(self) -> None:
        while not self._closed and self._clock() - self._last_use <= self._idle_after_s:
            now = self._clock()
            due = [label for label, st in self._stats.items() if not st.cooling(now)]
            await asyncio.gather(*(self._probe(label) for label in due))
            self.health()
            await asyncio.sleep(self._slot_poll_interval_s)

    async def _probe(self, label: str) -> None:
        # A failure is recorded in the endpoint's health and the request metrics already.
        with contextlib.suppress(RpcError):
            await self._call(
                "getSlot",
                [{"commitment": "confirmed"}],
                Priority.LIVE,
                _int,
                pinned=label,
                attempts=1,
                internal=True,
            )

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._governor.close()
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
        await asyncio.gather(*(client.aclose() for client in self._clients.values()))


# --- result checks (a malformed result is a transport error: retried, preferably elsewhere) -----


def _any(result: Any) -> Any:
    return result


def _int(result: Any) -> int:
    if isinstance(result, bool) or not isinstance(result, int):
        raise RpcTransportError(f"expected an integer result, got {type(result).__name__}")
    return result


def _object_or_none(result: Any) -> dict[str, Any] | None:
    if result is not None and not isinstance(result, dict):
        raise RpcTransportError(f"expected an object or null, got {type(result).__name__}")
    return result


def _signature_list(result: Any) -> list[dict[str, Any]]:
    if not isinstance(result, list) or not all(
        isinstance(item, dict)
        and isinstance(item.get("signature"), str)
        and isinstance(item.get("slot"), int)
        for item in result
    ):
        raise RpcTransportError("expected a list of {signature, slot, ...} objects")
    return result


def _context_value(result: Any) -> dict[str, Any]:
    if not isinstance(result, dict) or "value" not in result or not isinstance(result.get("context"), dict):
        raise RpcTransportError("expected a {context, value} object")
    return result


def _account_config(
    commitment: str, min_context_slot: int | None, data_slice: tuple[int, int] | None
) -> dict[str, Any]:
    config: dict[str, Any] = {"encoding": "base64", "commitment": commitment}
    if min_context_slot is not None:
        config["minContextSlot"] = min_context_slot
    if data_slice is not None:
        config["dataSlice"] = {"offset": data_slice[0], "length": data_slice[1]}
    return config


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("rpc slot poller crashed", error=repr(task.exception()))
