"""Wiring: config -> feed + node + server, and `running()` for tests and other processes."""

from __future__ import annotations

import contextlib
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

import orjson

from sim.clock import FINALIZED_LAG, ChainClock
from sim.config import SimConfig
from sim.faults import parse_faults
from sim.ledger import Entry
from sim.node import Feed, Node
from sim.recorded import default_fixtures_dir, load_accounts, recorded_feed
from sim.server import SimServer


def build_node(cfg: SimConfig, manifest: IO[bytes] | None) -> Node:
    faults = parse_faults(cfg.faults)
    feed: Feed
    history: list[Entry] = []
    if cfg.scenario == "recorded":
        fixtures = cfg.fixtures or default_fixtures_dir()
        feed, history = recorded_feed(fixtures, cfg.rate)
        last_slot = max((e.slot for e in history), default=0)
        clock = ChainClock(base_slot=last_slot + FINALIZED_LAG, base_time=cfg.base_time, speed=cfg.speed)
        accounts = load_accounts(fixtures)
    else:
        from sim.scenario import lifecycle_feed

        clock = ChainClock(base_slot=cfg.base_slot, base_time=cfg.base_time, speed=cfg.speed)
        feed, accounts = lifecycle_feed(cfg, clock, faults)
    node = Node(
        clock=clock,
        feed=feed,
        faults=faults,
        seed=cfg.seed,
        duration_s=cfg.duration,
        manifest=manifest,
        start_on_subscribe=cfg.start == "subscribe",
        retain=cfg.retain,
        history=history,
    )
    node.ledger.accounts.update(accounts)
    if cfg.start == "immediate":
        node.start_emission()
    return node


@dataclass(slots=True)
class RunningSim:
    """A simulator serving in this process (see `running`)."""

    node: Node
    server: SimServer
    manifest_path: Path | None
    _buffer: io.BytesIO | None

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def http_url(self) -> str:
        return f"http://{self.server.host}:{self.server.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.server.host}:{self.server.port}"

    def manifest_rows(self) -> list[dict[str, Any]]:
        """Every manifest row written so far, in serving order."""
        raw = self._buffer.getvalue() if self._buffer is not None else b""
        if self.manifest_path is not None and self.manifest_path.exists():
            raw = self.manifest_path.read_bytes()
        return [orjson.loads(line) for line in raw.splitlines() if line.strip()]

    def start_emission(self) -> None:
        self.node.start_emission()


@contextlib.asynccontextmanager
async def running(config: SimConfig | None = None, **overrides: Any) -> AsyncIterator[RunningSim]:
    """Serve a simulator on `config.host` (port 0 = any free port) for the duration of the block.

    `async with sim.running(seed=3, scenario="recorded", faults="null-tx:2", port=0) as s:`
    gives `s.http_url`, `s.ws_url`, `s.manifest_rows()`. Without `manifest=` rows are kept in memory.
    """
    cfg = replace(config or SimConfig(port=0), **overrides)
    buffer: io.BytesIO | None = None
    handle: IO[bytes]
    if cfg.manifest is not None:
        handle = cfg.manifest.open("wb")
    else:
        buffer = io.BytesIO()
        handle = buffer
    node = build_node(cfg, handle)
    server = SimServer(node, cfg.host, cfg.port, ws_max_buffer=cfg.ws_max_buffer)
    await server.start()
    try:
        yield RunningSim(node, server, cfg.manifest, buffer)
    finally:
        await server.close()
        if buffer is None:
            handle.close()
