"""An API key inside the endpoint URLs never reaches a log line, a metric label or an error message."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import traceback
from collections.abc import Iterator

import pytest
import structlog
from prometheus_client import REGISTRY

import sim
from executor.decode import PUMP
from executor.rpc import Endpoint, LogsSubscription, RpcError, RpcPool, RpcTransportError
from tests.rpc.conftest import API_KEY, endpoint_of
from tests.support import free_port, needs_fixtures

pytestmark = needs_fixtures  # the simulator serves the recorded scenario


@contextlib.contextmanager
def structlog_into(buffer: io.StringIO) -> Iterator[None]:
    structlog.configure(
        processors=[structlog.processors.add_log_level, structlog.processors.JSONRenderer()],
        logger_factory=structlog.PrintLoggerFactory(file=buffer),
        cache_logger_on_first_use=False,
    )
    try:
        yield
    finally:
        structlog.reset_defaults()


def every_label_value() -> Iterator[str]:
    for family in REGISTRY.collect():
        for sample in family.samples:
            yield from sample.labels.values()


async def test_api_key_never_appears_in_logs_metrics_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    for name in ("httpx", "httpcore", "websockets", "executor.rpc.websockets"):
        caplog.set_level(logging.DEBUG, logger=name)
    buffer = io.StringIO()
    dead_port = free_port()
    dead = Endpoint(f"http://127.0.0.1:{dead_port}/v2/{API_KEY}", f"ws://127.0.0.1:{dead_port}/v2/{API_KEY}")
    errors: list[RpcError] = []
    faults = "429:0.15:1,ws-drop:1s,malformed:0.3"
    with structlog_into(buffer):
        async with sim.running(scenario="recorded", port=0, rate=20, faults=faults) as node:
            good = endpoint_of(node, key=API_KEY)
            async with RpcPool([dead, good], max_attempts=3, retry_backoff_min_s=0.01) as pool:
                for _ in range(6):
                    try:
                        await pool.get_slot()
                    except RpcError as exc:
                        errors.append(exc)
                async with RpcPool([dead], max_attempts=2, retry_backoff_min_s=0.01) as dead_pool:
                    with pytest.raises(RpcTransportError) as caught:
                        await dead_pool.get_slot()
                    errors.append(caught.value)

                async def ignore(*_: object) -> None:
                    return None

                subs = [
                    LogsSubscription(pool, [PUMP], backoff_min_s=0.05, healthy_after_s=0.2),
                    LogsSubscription([dead], [PUMP], backoff_min_s=0.05),
                ]
                tasks = [asyncio.create_task(sub.run(ignore, ignore)) for sub in subs]
                await asyncio.sleep(2.5)
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    ours = buffer.getvalue()
    # the simulator's own server-side records (it logs the request path it received) are not ours
    client_records = [r for r in caplog.records if not r.name.startswith(("websockets.server", "sim"))]
    theirs = "\n".join(record.getMessage() for record in client_records)
    # the capture is not vacuous: our lines and the libraries' request lines were all seen
    assert "logs subscription connected" in ours
    assert "logs subscription connect failed" in ours
    assert "rpc call failed" in ours
    assert any(r.name == "httpx" and "HTTP Request" in r.getMessage() for r in caplog.records)
    assert any(r.name == "executor.rpc.websockets" and "> GET" in r.getMessage() for r in caplog.records)
    assert errors
    assert API_KEY not in ours
    assert API_KEY not in theirs
    for error in errors:
        assert API_KEY not in "".join(traceback.format_exception(error))
        assert API_KEY not in repr(error)
    assert all(API_KEY not in value for value in every_label_value())
    assert API_KEY not in repr(good) + repr(dead)
