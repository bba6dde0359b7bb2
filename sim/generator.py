"""The `lifecycle` generator outside the server's event loop: in a process of its own
(`python -m sim.generator CONFIG_JSON [--no-manifest]`), or ahead of time into a file
(`python -m sim --pregenerate FILE`, served later with `--replay FILE`).

Either way the output is a stream of frames: a 4-byte big-endian length, then a batch of up to
`BATCH` generated transactions in the wire form of `scenario.stream`, in generation order. The
process writes to stdout and runs as far ahead as the pipe lets it: the server stops reading
when it holds enough, and the process then blocks in `write`; it exits when the reader goes
away. Output depends only on the configuration, so every path serves the same transactions the
server would generate in its own loop.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sim.clock import ChainClock
from sim.config import SimConfig
from sim.faults import parse_faults
from sim.scenario.body import Generated
from sim.scenario.lifecycle import World
from sim.scenario.stream import Packer

NO_MANIFEST = "--no-manifest"  # nobody reads manifest rows: skip building them
BATCH = 256
BATCH_S = 0.02  # a partial batch goes out after this long
PIPE_BYTES = 1 << 20  # ask for a 1 MiB pipe (Linux F_SETPIPE_SZ); the default is 64 KiB
FILE_MAGIC = b"pumpflow-sim stream 1\n"


def world_of(cfg: SimConfig, *, manifest: bool) -> World:
    return World(
        cfg, ChainClock(cfg.base_slot, cfg.base_time, cfg.speed), parse_faults(cfg.faults), manifest=manifest
    )


def frames(world: World, *, until_s: float | None = None) -> Iterator[bytes]:
    """Length-prefixed batches of generated transactions (`scenario.stream`), until emission
    second `until_s` (forever without it)."""
    packer = Packer()
    batch: list[Generated] = []
    started = time.monotonic()
    while True:
        g = world.next()
        done = until_s is not None and g.t >= until_s
        if not done:
            batch.append(g)
        if batch and (done or len(batch) >= BATCH or time.monotonic() - started >= BATCH_S):
            data = packer.batch(batch)
            yield len(data).to_bytes(4, "big") + data
            batch = []
            started = time.monotonic()
        if done:
            return


# --- ahead of time: a stream file ----------------------------------------------------------------


def generation_settings(cfg: SimConfig) -> dict[str, Any]:
    """The options that decide the generated transactions (a replay must be run with the same)."""
    return {
        "seed": cfg.seed,
        "rate": cfg.rate,
        "speed": cfg.speed,
        "layout": cfg.layout,
        "signatures": cfg.signatures,
        "base_slot": cfg.base_slot,
        "base_time": cfg.base_time,
        "truncate": parse_faults(cfg.faults).truncate_p,
    }


def pregenerate(cfg: SimConfig, path: Path) -> int:
    """Write the transactions of the first `cfg.duration` emission seconds to `path`; returns
    how many."""
    if cfg.duration is None:
        raise ValueError("--pregenerate needs --duration (the emission seconds to generate)")
    world = world_of(cfg, manifest=True)
    with path.open("wb") as out:
        header = json.dumps(generation_settings(cfg)).encode()
        out.write(FILE_MAGIC + len(header).to_bytes(4, "big") + header)
        for frame in frames(world, until_s=cfg.duration):
            out.write(frame)
    return world.count - 1


def read_header(stream: Any, cfg: SimConfig) -> None:
    """Check a stream file's magic and that it was generated with `cfg`'s settings."""
    if stream.read(len(FILE_MAGIC)) != FILE_MAGIC:
        raise ValueError("not a simulator stream file (made by python -m sim --pregenerate)")
    size = int.from_bytes(stream.read(4), "big")
    recorded = json.loads(stream.read(size))
    wanted = generation_settings(cfg)
    differ = sorted(k for k in wanted if recorded.get(k) != wanted[k])
    if differ:
        found = ", ".join(f"{k}={recorded.get(k)!r}" for k in differ)
        raise ValueError(f"stream file was generated with other settings: {found}")


# --- in a process of its own -----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    cfg = SimConfig.from_json(args[0])
    world = world_of(cfg, manifest=NO_MANIFEST not in args)
    fd = sys.stdout.fileno()
    _grow_pipe(fd)
    try:
        for frame in frames(world):
            view = memoryview(frame)
            while view:
                view = view[os.write(fd, view) :]
    except (BrokenPipeError, KeyboardInterrupt):
        return 0
    return 0


def _grow_pipe(fd: int) -> None:
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)  # Linux only
    if set_size is not None:
        # not a pipe, or above /proc/sys/fs/pipe-max-size: the default size works too
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, set_size, PIPE_BYTES)


if __name__ == "__main__":
    sys.exit(main())
