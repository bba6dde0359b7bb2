"""A plain websockets/httpx client checks agave's wire shapes against a simulator in this process."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest
import websockets

import sim
from tests.sim.conftest import PUMP, recv_json, rpc, send_json

pytestmark = pytest.mark.slow


async def _logs_subscribe(ws, req_id=1, commitment="confirmed", mention=PUMP):
    await send_json(
        ws,
        {
            "jsonrpc": "2.0",
            "id": req_id,
            "method": "logsSubscribe",
            "params": [{"mentions": [mention]}, {"commitment": commitment}],
        },
    )
    return await recv_json(ws)


async def _next_notification(ws, method="logsNotification"):
    while True:
        msg = await recv_json(ws)
        if msg.get("method") == method:
            return msg


async def test_subscribe_notify_unsubscribe_shapes_and_node_wide_ids():
    async with (
        sim.running(seed=3, rate=100, speed=5) as s,
        websockets.connect(s.ws_url) as ws,
        websockets.connect(s.ws_url) as other,
    ):
        ack = await _logs_subscribe(ws)
        assert ack == {"jsonrpc": "2.0", "result": 0, "id": 1}
        assert (await _logs_subscribe(other, req_id=9)) == {
            "jsonrpc": "2.0",
            "result": 0,
            "id": 9,
        }  # deduplicated
        assert (await _logs_subscribe(ws, req_id=2, commitment="finalized"))["result"] == 1
        note = await _next_notification(ws)
        assert set(note) == {"jsonrpc", "method", "params"}
        params = note["params"]
        assert params["subscription"] in (0, 1)
        assert set(params["result"]) == {"context", "value"}
        assert set(params["result"]["context"]) == {"slot"}  # no apiVersion on pubsub
        assert set(params["result"]["value"]) == {"signature", "err", "logs"}
        await send_json(ws, {"jsonrpc": "2.0", "id": 3, "method": "logsUnsubscribe", "params": [0]})
        await send_json(ws, {"jsonrpc": "2.0", "id": 4, "method": "logsUnsubscribe", "params": [0]})
        replies = {}
        while len(replies) < 2:
            msg = await recv_json(ws)
            if "id" in msg:
                replies[msg["id"]] = msg
        assert replies[3] == {"jsonrpc": "2.0", "result": True, "id": 3}
        assert replies[4]["error"] == {"code": -32602, "message": "Invalid subscription id."}


async def test_subscribe_errors_follow_agave():
    async with sim.running(seed=3, rate=5) as s, websockets.connect(s.ws_url) as ws:
        await send_json(
            ws, {"jsonrpc": "2.0", "id": 1, "method": "logsSubscribe", "params": [{"mentions": [PUMP, PUMP]}]}
        )
        assert (await recv_json(ws))["error"] == {
            "code": -32602,
            "message": "Invalid Request: Only 1 address supported",
        }
        await send_json(
            ws, {"jsonrpc": "2.0", "id": 2, "method": "logsSubscribe", "params": [{"mentions": ["xyz"]}]}
        )
        assert (await recv_json(ws))["error"]["message"] == "Invalid Request: Invalid mentions provided"
        await send_json(ws, {"jsonrpc": "2.0", "id": 3, "method": "blockSubscribe", "params": ["all"]})
        assert (await recv_json(ws))["error"]["code"] == -32601
        await ws.send("{not json")
        assert (await recv_json(ws))["error"]["code"] == -32700


async def test_slot_and_account_notifications():
    async with (
        sim.running(seed=4, rate=50, speed=10, start="immediate") as s,
        websockets.connect(s.ws_url) as ws,
    ):
        await send_json(ws, {"jsonrpc": "2.0", "id": 1, "method": "slotSubscribe"})
        sub = (await recv_json(ws))["result"]
        note = await _next_notification(ws, "slotNotification")
        assert note["params"]["subscription"] == sub
        assert set(note["params"]["result"]) == {"parent", "root", "slot"}
        curve = next(a for e in s.node.ledger.entries() for a, acc in e.accounts if acc.owner == PUMP)
        await send_json(
            ws,
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "accountSubscribe",
                "params": [curve, {"encoding": "base64", "commitment": "processed"}],
            },
        )
        assert isinstance((await recv_json(ws))["result"], int)


async def test_http_batch_errors_health_and_version():
    async with sim.running(seed=3, rate=5) as s, httpx.AsyncClient(base_url=s.http_url) as client:
        batch = [
            {"jsonrpc": "2.0", "id": 1, "method": "getSlot"},
            {"jsonrpc": "2.0", "id": "b", "method": "getHealth"},
            {"jsonrpc": "2.0", "method": "getSlot"},
        ]
        answer = (await client.post("/", json=batch)).json()
        assert sorted(str(a["id"]) for a in answer) == ["1", "b"]
        assert (await client.post("/", json={"jsonrpc": "2.0", "id": 3, "method": "nope"})).json()[
            "error"
        ] == {"code": -32601, "message": "Method not found"}
        assert (
            await client.post("/", content=b"{oops", headers={"content-type": "application/json"})
        ).json() == {"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": None}
        bad = (await rpc(s.http_url, "getSignaturesForAddress", [PUMP, {"limit": 0}])).json()
        assert bad["error"] == {"code": -32602, "message": "Invalid limit; max 1000"}
        bad = (await rpc(s.http_url, "getTransaction", ["1" * 64, {"commitment": "processed"}])).json()
        assert bad["error"]["message"] == "Method does not support commitment below `confirmed`"
        assert (await client.get("/health")).text == "ok"
        info = (await rpc(s.http_url, "getAccountInfo", [PUMP])).json()["result"]
        assert info == {
            "context": {"apiVersion": info["context"]["apiVersion"], "slot": info["context"]["slot"]},
            "value": None,
        }
        assert "solana-core" in (await rpc(s.http_url, "getVersion")).json()["result"]


async def test_429_carries_retry_after_and_code_429():
    async with sim.running(seed=3, rate=5, faults="429:1.0:2") as s:
        resp = await rpc(s.http_url, "getSlot", req_id=7)
        assert resp.status_code == 429
        assert resp.headers["retry-after"] == "2"
        assert resp.json()["error"]["code"] == 429
        assert resp.json()["id"] == 7


async def test_behind_fault_answers_32005_with_num_slots_behind():
    async with sim.running(seed=3, rate=5, faults="behind:1.0:55") as s:
        err = (await rpc(s.http_url, "getSlot")).json()["error"]
        assert err == {
            "code": -32005,
            "message": "Node is behind by 55 slots",
            "data": {"numSlotsBehind": 55},
        }


async def test_transaction_is_null_for_k_tries_then_present_and_history_pages():
    async with sim.running(seed=5, rate=200, speed=20, faults="null-tx:2", start="immediate") as s:
        await asyncio.sleep(1.0)
        sigs = (await rpc(s.http_url, "getSignaturesForAddress", [PUMP, {"commitment": "confirmed"}])).json()[
            "result"
        ]
        assert len(sigs) > 20
        slots = [x["slot"] for x in sigs]
        assert slots == sorted(slots, reverse=True)
        sig = sigs[-1]["signature"]
        cfg = {"commitment": "confirmed", "maxSupportedTransactionVersion": 0}
        answers = [(await rpc(s.http_url, "getTransaction", [sig, cfg])).json()["result"] for _ in range(3)]
        assert answers[0] is None and answers[1] is None
        assert answers[2]["transaction"]["signatures"][0] == sig
        page = (
            await rpc(
                s.http_url,
                "getSignaturesForAddress",
                [
                    PUMP,
                    {
                        "commitment": "confirmed",
                        "before": sigs[4]["signature"],
                        "until": sigs[10]["signature"],
                        "limit": 100,
                    },
                ],
            )
        ).json()["result"]
        assert [x["signature"] for x in page] == [x["signature"] for x in sigs[5:10]]


async def test_emission_waits_for_the_first_logs_subscription_and_duration_stops_it():
    async with sim.running(seed=6, rate=200, speed=10, duration=0.5) as s:
        await asyncio.sleep(0.3)
        assert s.manifest_rows() == []
        async with websockets.connect(s.ws_url, close_timeout=0.5) as ws:
            await _logs_subscribe(ws)
            await asyncio.sleep(1.2)
        served = len(s.manifest_rows())
        assert 40 < served < 200
        await asyncio.sleep(0.3)
        assert len(s.manifest_rows()) == served


async def test_ws_drop_closes_connections_and_restart_resets_ids():
    async with sim.running(seed=7, rate=50, faults="restart@0.5s", start="immediate") as s:
        ws = await websockets.connect(s.ws_url)
        assert (await _logs_subscribe(ws, commitment="processed"))["result"] == 0
        assert (await _logs_subscribe(ws, req_id=2))["result"] == 1

        async def drain():
            for _ in range(100_000):
                await asyncio.wait_for(ws.recv(), 5)

        with pytest.raises(websockets.ConnectionClosed):
            await drain()
        async with websockets.connect(s.ws_url) as again:
            assert (await _logs_subscribe(again))["result"] == 0


async def test_dup_fault_repeats_notifications():
    async with sim.running(seed=8, rate=100, faults="dup:1.0") as s, websockets.connect(s.ws_url) as ws:
        await _logs_subscribe(ws)
        first = await _next_notification(ws)
        second = await _next_notification(ws)
        assert orjson.dumps(first) == orjson.dumps(second)
