"""Generation's fast paths change nothing: a template renders what compiling that one transaction
renders, and the generator process, the stream wire form and stream files carry exactly the
transactions generated in this process; a served stream is the same bytes either way."""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
import websockets

import sim
from sim.clock import ChainClock
from sim.config import SimConfig
from sim.faults import parse_faults
from sim.feed import FileFeed
from sim.generator import pregenerate
from sim.ledger import Entry, logs_json
from sim.scenario import txbuild
from sim.scenario.body import Generated, to_entry
from sim.scenario.lifecycle import World
from sim.scenario.stream import Packer, Unpacker
from tests.sim.conftest import recv_json, rpc, send_json

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = [
    SimConfig(seed=5, rate=3000, speed=20, faults="truncate:0.05", signatures="fast"),
    SimConfig(seed=6, rate=80, speed=10, layout="v3", signatures="real"),
    SimConfig(seed=7, rate=500, speed=50, layout="v0", faults="truncate:0.02"),
]


def _world(cfg: SimConfig, *, manifest: bool = True) -> World:
    return World(
        cfg, ChainClock(cfg.base_slot, cfg.base_time, cfg.speed), parse_faults(cfg.faults), manifest=manifest
    )


def _served(entry: Entry) -> tuple[Any, ...]:
    """Everything a client can see of a transaction."""
    body = entry.body
    renders = [
        bytes(orjson.dumps(body.render(encoding, version)))
        for encoding in ("json", "base64", "jsonParsed")
        for version in (0, None)
        if version is not None or body.version is None
    ]
    return (
        entry.signature,
        entry.slot,
        entry.block_time,
        entry.keys,
        entry.value,
        entry.manifest_json,
        *renders,
    )


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: f"seed{c.seed}-{c.layout}-{c.signatures}")
def test_template_fills_equal_compiling_each_transaction_alone(cfg, monkeypatch):
    original = txbuild.build
    checked = []

    def build(key: Any, shape_of: Any, values: Any, signers: Any, **kw: Any) -> txbuild.BuiltTx:
        built = original(key, shape_of, values, signers, **kw)
        alone = txbuild.compile_template(txbuild.substitute(shape_of(key), values), values, kw["lookup"])
        filled = alone.fill(values, kw["lookup"], kw["blockhash"], kw["log_limit"])
        assert filled is not None
        keys, message, logs, events, truncated, inner = filled
        assert (built.keys, built.log_truncated, built.inner) == (keys, truncated, inner)
        assert logs_json(built.logs, built.events) == logs_json(logs, events)
        assert built.wire.endswith(message) and built.version == alone.version
        assert (built.units, built.loaded, built.fail_index) == (alone.units, alone.loaded, alone.fail_index)
        checked.append(built.log_truncated)
        return built

    monkeypatch.setattr(txbuild, "build", build)
    world = _world(cfg)
    for _ in range(700):
        world.next()
    assert len(checked) == 700
    if "truncate" in cfg.faults:
        assert any(checked), "no truncated transaction was checked"


def test_stream_wire_form_round_trips():
    world = _world(CONFIGS[0])
    generated = [world.next() for _ in range(900)]
    packer, unpacker = Packer(), Unpacker()
    received: list[Generated] = []
    for i in range(0, len(generated), 256):
        received += unpacker.batch(packer.batch(generated[i : i + 256]))
    assert received == generated


def _read_frames(stream: Any, count: int) -> list[Generated]:
    unpacker = Unpacker()
    out: list[Generated] = []
    while len(out) < count:
        size = int.from_bytes(stream.read(4), "big")
        out += unpacker.batch(stream.read(size))
    return out[:count]


@pytest.mark.slow
def test_generator_process_writes_the_transactions_of_this_process():
    cfg = CONFIGS[0]
    env = {**os.environ, "PYTHONHASHSEED": "4242"}  # another hash seed than this process
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim.generator", cfg.to_json()], cwd=ROOT, stdout=subprocess.PIPE, env=env
    )
    try:
        assert proc.stdout is not None
        from_process = _read_frames(proc.stdout, 800)
    finally:
        proc.kill()
        proc.wait()
    world = _world(cfg)
    assert from_process == [world.next() for _ in range(800)]


def test_no_manifest_generation_differs_only_in_the_manifest():
    with_rows, without = _world(CONFIGS[2]), _world(CONFIGS[2], manifest=False)
    for _ in range(300):
        a, b = with_rows.next(), without.next()
        assert a.manifest_json and not b.manifest_json
        assert a._replace(manifest_json=b"") == b


def test_stream_file_replays_the_live_transactions_and_checks_its_settings(tmp_path: Path):
    cfg = SimConfig(seed=12, rate=600, speed=30, duration=1.5, faults="truncate:0.05")
    path = tmp_path / "s.stream"
    count = pregenerate(cfg, path)
    feed = FileFeed(path, cfg)
    replayed = []
    while True:
        try:
            item = feed.next_ready()
        except StopIteration:
            break
        assert item is not None
        replayed.append(item)
    feed.close()
    world = _world(cfg)
    live = [world.next() for _ in range(count)]
    assert 600 < count == len(replayed)
    assert [t for t, _ in replayed] == [g.t for g in live] and live[-1].t < 1.5
    assert [_served(e) for _, e in replayed] == [_served(to_entry(g)) for g in live]
    with pytest.raises(ValueError, match="seed=12"):
        FileFeed(path, SimConfig(seed=13, rate=600, speed=30, faults="truncate:0.05"))


async def _notifications(s: sim.RunningSim, count: int) -> list[Any]:
    async with websockets.connect(s.ws_url, max_size=None) as ws:
        await send_json(ws, {"jsonrpc": "2.0", "id": 1, "method": "logsSubscribe", "params": ["all"]})
        assert (await recv_json(ws))["result"] == 0
        return [await recv_json(ws) for _ in range(count)]


@pytest.mark.slow
async def test_generator_process_serves_the_bytes_the_event_loop_would():
    served = {}
    for generator in ("process", "inline"):
        async with sim.running(seed=31, rate=400, speed=100, generator=generator) as s:
            notes = await _notifications(s, 250)
            rows = s.manifest_rows()[:200]
            sig = rows[150]["signature"]
            config = {"encoding": "json", "maxSupportedTransactionVersion": 0, "commitment": "confirmed"}
            for _ in range(50):
                tx = (await _rpc(s.http_url, "getTransaction", [sig, config]))["result"]
                if tx is not None:
                    break
                await asyncio.sleep(0.1)
            served[generator] = (notes, rows, tx)
    assert served["process"] == served["inline"]
    assert served["inline"][2] is not None


async def _rpc(url: str, method: str, params: Any) -> Any:
    return (await rpc(url, method, params)).json()


@pytest.mark.slow
async def test_oversized_notifications_are_framed_with_a_64_bit_length():
    async with (
        sim.running(seed=3, rate=200, speed=20, faults="oversize:1.0:100kb") as s,
        websockets.connect(s.ws_url, max_size=None) as ws,
    ):
        await send_json(ws, {"jsonrpc": "2.0", "id": 1, "method": "logsSubscribe", "params": ["all"]})
        await recv_json(ws)
        frame = await asyncio.wait_for(ws.recv(), 10)
        assert len(frame) == 100 * 1024 and orjson.loads(frame)["method"] == "logsNotification"


@pytest.mark.slow
def test_fast_traffic_trades_more_in_about_as_many_markets():
    slow, fast = (
        _world(SimConfig(seed=2, rate=rate, speed=200, signatures="fast"), manifest=False)
        for rate in (200, 10_000)
    )
    for _ in range(12_000):
        slow.next()
        fast.next()
    assert len(fast.markets) <= len(slow.markets) + 10
    assert len(fast.active) < 60


@pytest.mark.parametrize("layout", ["v0", "v3", "v5", "v8"])
def test_compiled_encoders_write_the_decoders_bytes(layout, monkeypatch):
    from executor.decode import encode as reference
    from sim.scenario import lifecycle

    seen: set[str] = set()

    def checked(ours: Any, theirs: Any, kind: str) -> Any:
        def encode(*args: Any, **kw: Any) -> bytes:
            data: bytes = ours(*args, **kw)
            assert data == theirs(*args, **kw), (kind, args[0])
            seen.add(f"{kind}:{args[0] if kind != 'instruction' else args[1]}")
            return data

        return encode

    monkeypatch.setattr(
        lifecycle, "encode_event", checked(lifecycle.encode_event, reference.encode_event, "event")
    )
    monkeypatch.setattr(
        lifecycle,
        "encode_instruction",
        checked(lifecycle.encode_instruction, reference.encode_instruction, "instruction"),
    )
    monkeypatch.setattr(
        lifecycle, "encode_account", checked(lifecycle.encode_account, reference.encode_account, "account")
    )
    world = _world(SimConfig(seed=11, rate=80, speed=10, layout=layout, signatures="fast"))
    for _ in range(800):
        world.next()
    assert {"event:TradeEvent", "event:CreateEvent", "instruction:sell", "account:BondingCurve"} <= seen


def test_parallel_worlds_share_no_balance_and_merge_by_time():
    from sim.scenario.lifecycle import merged, worlds

    cfg = SimConfig(seed=8, rate=4000, speed=100, generators=3, signatures="fast")
    shards = worlds(cfg, ChainClock(cfg.base_slot, cfg.base_time, cfg.speed), parse_faults(""))
    stream = list(itertools.islice(merged(shards), 1500))
    assert [g.t for g in stream] == sorted(g.t for g in stream)
    assert len({g.signature for g in stream}) == len(stream)
    recipients = [
        set(w.fee_recipients) | set(w.amm_fee_recipients) | set(w.buyback_recipients) for w in shards
    ]
    assert all(not (a & b) for i, a in enumerate(recipients) for b in recipients[i + 1 :])
    wallets = [{x.address for x in w.wallets} | {m.mint for m in w.markets} for w in shards]
    assert all(not (a & b) for i, a in enumerate(wallets) for b in wallets[i + 1 :])
    # the first world alone is not the one-world stream (its own RNG and keys) ...
    assert shards[0].rng.random() != _world(SimConfig(seed=8, rate=4000, speed=100)).rng.random()


@pytest.mark.slow
async def test_parallel_generator_processes_serve_the_merged_worlds():
    served = {}
    for generator in ("process", "inline"):
        async with sim.running(seed=33, rate=600, speed=100, generators=2, generator=generator) as s:
            notes = await _notifications(s, 200)
            served[generator] = (notes, s.manifest_rows()[:150])
    assert served["process"] == served["inline"]
