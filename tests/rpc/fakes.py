"""A scripted JSON-RPC node behind httpx.MockTransport, for pool tests that need exact answers."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

Answer = Callable[[dict[str, Any]], httpx.Response]


def ok(result: Any) -> Answer:
    return lambda req: httpx.Response(
        200, content=orjson.dumps({"jsonrpc": "2.0", "result": result, "id": req["id"]})
    )


def error(
    code: int, message: str, data: Any = None, status: int = 200, retry_after: str | None = None
) -> Answer:
    def answer(req: dict[str, Any]) -> httpx.Response:
        err: dict[str, Any] = {"code": code, "message": message}
        if data is not None:
            err["data"] = data
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        body = orjson.dumps({"jsonrpc": "2.0", "error": err, "id": req["id"]})
        return httpx.Response(status, content=body, headers=headers)

    return answer


def raw(status: int, body: bytes) -> Answer:
    return lambda req: httpx.Response(status, content=body)


def connect_error(req: dict[str, Any]) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused")


@dataclass
class Seen:
    host: str
    method: str
    params: list[Any]
    at: float


@dataclass
class FakeNodes:
    """Answers per host: a queue of scripted answers per method, then `default` for that method.

    getSlot answers `slot` unless scripted, so the pool's background probe never eats a script.
    """

    slot: int = 1_000
    scripts: dict[tuple[str, str], list[Answer]] = field(default_factory=dict)
    defaults: dict[tuple[str, str], Answer] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def script(self, host: str, method: str, *answers: Answer) -> None:
        self.scripts.setdefault((host, method), []).extend(answers)

    def default(self, host: str, method: str, answer: Answer) -> None:
        self.defaults[(host, method)] = answer

    def calls(self, method: str, host: str | None = None) -> list[Seen]:
        return [s for s in self.seen if s.method == method and (host is None or s.host == host)]

    def handle(self, request: httpx.Request) -> httpx.Response:
        req = orjson.loads(request.content)
        host = urlsplit(str(request.url)).netloc
        self.seen.append(Seen(host, req["method"], req["params"], time.monotonic()))
        queue = self.scripts.get((host, req["method"]))
        if queue:
            return queue.pop(0)(req)
        answer = self.defaults.get((host, req["method"]))
        if answer is not None:
            return answer(req)
        if req["method"] == "getSlot":
            return ok(self.slot)(req)
        return ok(None)(req)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)
