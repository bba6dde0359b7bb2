"""Wiring: config -> feed (in this process, or the generator process) + node + server, and
`running()` for tests and other processes."""

from __future__ import annotations

import contextlib
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

import orjson

from sim.clock import FINALIZED_LAG, ChainClock
from sim.config import PROCESS_ABOVE_RATE, SimConfig
from sim.faults import parse_faults
from sim.feed import Feed, FileFeed, IteratorFeed, MergedFeed, ProcessFeed
from sim.ledger import Account, Entry
from sim.node import Node
from sim.recorded import default_fixtures_dir, load_accounts, recorded_feed
from sim.server import SimServer


def build_node(cfg: SimConfig, manifest: IO[bytes] | None, feed: Feed | None = None) -> Node:
    """The node of `cfg`; `feed` replaces the in-process one (see `open_feed`)."""
    faults = parse_faults(cfg.faults)
    history: list[Entry] = []
    accounts: dict[str, Account] = {}
    if cfg.scenario == "recorded":
        fixtures = cfg.fixtures or default_fixtures_dir()
        items, history = recorded_feed(fixtures, cfg.rate)
        feed = feed or IteratorFeed(items)
        last_slot = max((e.slot for e in history), default=0)
        clock = ChainClock(base_slot=last_slot + FINALIZED_LAG, base_time=cfg.base_time, speed=cfg.speed)
        accounts = load_accounts(fixtures)
    else:
        clock = ChainClock(base_slot=cfg.base_slot, base_time=cfg.base_time, speed=cfg.speed)
        if feed is None:
            from sim.scenario import lifecycle_feed

            items, accounts = lifecycle_feed(cfg, clock, faults)
            feed = IteratorFeed(items)
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


def generates_in_process(cfg: SimConfig) -> bool:
    """Whether the lifecycle generator runs in a process of its own (`--generator`)."""
    if cfg.scenario != "lifecycle" or cfg.generator == "inline":
        return False
    return cfg.generator == "process" or cfg.rate > PROCESS_ABOVE_RATE or cfg.generators > 1


async def open_feed(cfg: SimConfig, *, manifest: bool) -> ProcessFeed | MergedFeed | FileFeed | None:
    """The feed of a stream file (`--replay`) or of the generator process(es) when `cfg` wants
    them (started: the first transactions are ready), else None (the node generates in its own
    loop). `manifest`: rows are wanted."""
    if cfg.replay is not None:
        return FileFeed(cfg.replay, cfg)
    if not generates_in_process(cfg):
        return None
    buffered = max(2048, min(20_000, int(cfg.rate / cfg.generators)))
    feeds = [
        ProcessFeed(cfg, max_buffered=buffered, manifest=manifest, shard=i) for i in range(cfg.generators)
    ]
    feed: ProcessFeed | MergedFeed = feeds[0] if len(feeds) == 1 else MergedFeed(feeds)
    await feed.start()
    return feed


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
    feed = await open_feed(cfg, manifest=True)
    try:
        node = build_node(cfg, handle, feed)
        server = SimServer(node, cfg.host, cfg.port, ws_max_buffer=cfg.ws_max_buffer)
        await server.start()
        try:
            yield RunningSim(node, server, cfg.manifest, buffer)
        finally:
            await server.close()
    finally:
        if isinstance(feed, ProcessFeed | MergedFeed):
            await feed.aclose()
        elif feed is not None:
            feed.close()
        if buffer is None:
            handle.close()
