"""Shared helpers for the simulator tests: a plain JSON-RPC/WebSocket client, not the executor's."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
import websockets

PUMP = "6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P"


async def rpc(url: str, method: str, params: Any = None, req_id: Any = 1) -> httpx.Response:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": req_id, "method": method}
    if params is not None:
        body["params"] = params
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        return await client.post("/", json=body)


async def recv_json(ws: websockets.ClientConnection) -> Any:
    return orjson.loads(await asyncio.wait_for(ws.recv(), 10))


async def send_json(ws: websockets.ClientConnection, msg: Any) -> None:
    await ws.send(orjson.dumps(msg).decode())
