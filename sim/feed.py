"""Feeds: the transactions a node serves, in serving order, each with its emission second.

`IteratorFeed` wraps an iterator in this process (the recorded fixtures; the lifecycle generator
at low rates). `ProcessFeed` reads the lifecycle generator running in its own process
(`python -m sim.generator`) over a pipe, so generation uses another core and never stalls the
event loop. It buffers at most `max_buffered` transactions; when the buffer is full it stops
reading, the pipe fills and the generator waits. `FileFeed` reads a stream file written ahead of
time (`--pregenerate`), and `MergedFeed` interleaves the processes of `--generators N`. All give
the same transactions: the generator is the same deterministic `World`.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections import deque
from pathlib import Path
from typing import Any, Protocol

import structlog

from sim.config import SimConfig
from sim.ledger import Entry
from sim.scenario.body import Generated, to_entry
from sim.scenario.stream import NO_MANIFEST, SHARD, Unpacker, read_header

log = structlog.get_logger("sim.feed")

Item = tuple[float, Entry]
_ROOT = Path(__file__).resolve().parent.parent


class Feed(Protocol):
    def next_ready(self) -> Item | None:
        """The next transaction if it is available now, None if not yet; StopIteration when
        there will be no more."""

    def close(self) -> None: ...


class IteratorFeed:
    def __init__(self, items: Any) -> None:
        self._items = iter(items)

    def next_ready(self) -> Item | None:
        item: Item = next(self._items)
        return item

    def close(self) -> None:
        pass


class ProcessFeed:
    """The lifecycle generator in a child process; `await start()` before use."""

    def __init__(self, cfg: SimConfig, *, max_buffered: int, manifest: bool = True, shard: int = 0) -> None:
        self.cfg = cfg
        self.max_buffered = max_buffered
        self.manifest = manifest
        self.shard = shard
        self._buffer: deque[Generated] = deque()
        self._unpacker = Unpacker()
        self._space = asyncio.Event()
        self._ready = asyncio.Event()
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ended = False

    async def start(self) -> None:
        """Start the generator and wait for its first transactions."""
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "sim.generator",
            self.cfg.to_json(),
            *([] if self.manifest else [NO_MANIFEST]),
            *(SHARD, str(self.shard)),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            cwd=_ROOT,
        )
        self._reader = asyncio.create_task(self._read(self._proc), name="sim-generator-reader")
        await self._ready.wait()
        if not self._buffer:
            raise RuntimeError(
                f"the generator process exited ({self._proc.returncode}) before it produced anything"
            )
        log.info(
            "generator process started", pid=self._proc.pid, shard=self.shard, max_buffered=self.max_buffered
        )

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        stream = proc.stdout
        try:
            while True:
                size = int.from_bytes(await stream.readexactly(4), "big")
                self._buffer.extend(self._unpacker.batch(await stream.readexactly(size)))
                self._ready.set()
                while len(self._buffer) >= self.max_buffered:
                    self._space.clear()
                    await self._space.wait()
        except (asyncio.IncompleteReadError, ConnectionError):
            self._ended = True
            self._ready.set()
            code = await proc.wait()
            if code not in (0, -15, -9):
                log.error("generator process failed", returncode=code)

    def next_ready(self) -> Item | None:
        g = self.next_generated()
        return None if g is None else (g.t, to_entry(g))

    def next_generated(self) -> Generated | None:
        buffer = self._buffer
        if not buffer:
            if self._ended:
                raise StopIteration
            return None
        g = buffer.popleft()
        if len(buffer) < self.max_buffered // 2:
            self._space.set()
        return g

    def close(self) -> None:
        """Stop generating (the node will not serve more)."""
        if self._reader is not None:
            self._reader.cancel()
        if self._proc is not None and self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()
        self._buffer.clear()

    async def aclose(self) -> None:
        self.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._proc is not None:
            # read the pipe to its end: a paused pipe never reports the exit wait() waits for
            await self._proc.communicate()


class MergedFeed:
    """The generator processes of `--generators N`, interleaved by emission time (ties: the
    lower shard first), as `lifecycle.merged` interleaves them in one process."""

    def __init__(self, feeds: list[ProcessFeed]) -> None:
        self.feeds = feeds
        self._heads: list[Generated | None] = [None] * len(feeds)
        self._done = [False] * len(feeds)

    async def start(self) -> None:
        await asyncio.gather(*(feed.start() for feed in self.feeds))

    def next_ready(self) -> Item | None:
        heads = self._heads
        for i, feed in enumerate(self.feeds):
            if heads[i] is None and not self._done[i]:
                try:
                    heads[i] = feed.next_generated()
                except StopIteration:
                    self._done[i] = True
                if heads[i] is None and not self._done[i]:
                    return None  # the order is not known until every live shard has a head
        live = [(g.t, i) for i, g in enumerate(heads) if g is not None]
        if not live:
            raise StopIteration
        _, first = min(live)
        g = heads[first]
        assert g is not None
        heads[first] = None
        return g.t, to_entry(g)

    def close(self) -> None:
        for feed in self.feeds:
            feed.close()

    async def aclose(self) -> None:
        await asyncio.gather(*(feed.aclose() for feed in self.feeds))


class FileFeed:
    """A stream file written by `python -m sim --pregenerate` (see `generator`), read a batch at
    a time; it must have been generated with the settings `cfg` serves."""

    def __init__(self, path: Path, cfg: SimConfig) -> None:
        self._file = path.open("rb")
        try:
            read_header(self._file, cfg)
        except ValueError:
            self._file.close()
            raise
        self._unpacker = Unpacker()
        self._buffer: deque[Generated] = deque()

    def next_ready(self) -> Item | None:
        if not self._buffer:
            head = self._file.read(4)
            if len(head) < 4:
                raise StopIteration
            self._buffer.extend(self._unpacker.batch(self._file.read(int.from_bytes(head, "big"))))
        g = self._buffer.popleft()
        return g.t, to_entry(g)

    def close(self) -> None:
        self._file.close()
