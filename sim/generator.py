"""The `lifecycle` generator outside the server's event loop: in a process of its own
(`python -m sim.generator CONFIG_JSON [--no-manifest] [--shard I]`), or ahead of time into a file
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
import os
import sys
from pathlib import Path

from sim.clock import ChainClock
from sim.config import SimConfig
from sim.faults import parse_faults
from sim.scenario.lifecycle import World, merged
from sim.scenario.stream import NO_MANIFEST, SHARD, file_header, frames

PIPE_BYTES = 1 << 20  # ask for a 1 MiB pipe (Linux F_SETPIPE_SZ); the default is 64 KiB


def world_of(cfg: SimConfig, *, manifest: bool, shard: int = 0) -> World:
    clock = ChainClock(cfg.base_slot, cfg.base_time, cfg.speed)
    return World(cfg, clock, parse_faults(cfg.faults), manifest=manifest, shard=shard)


# --- ahead of time: a stream file ----------------------------------------------------------------


def pregenerate(cfg: SimConfig, path: Path) -> int:
    """Write the transactions of the first `cfg.duration` emission seconds to `path`; returns
    how many."""
    if cfg.duration is None:
        raise ValueError("--pregenerate needs --duration (the emission seconds to generate)")
    shards = [world_of(cfg, manifest=True, shard=i) for i in range(cfg.generators)]
    with path.open("wb") as out:
        out.write(file_header(cfg))
        for frame in frames(merged(shards).__next__, until_s=cfg.duration):
            out.write(frame)
    return sum(w.count for w in shards) - cfg.generators  # each generated one past the end


# --- in a process of its own -----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    cfg = SimConfig.from_json(args[0])
    shard = int(args[args.index(SHARD) + 1]) if SHARD in args else 0
    world = world_of(cfg, manifest=NO_MANIFEST not in args, shard=shard)
    fd = sys.stdout.fileno()
    _grow_pipe(fd)
    try:
        for frame in frames(world.next):
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
