"""The wire form of generated transactions between the generator process and the server.

A transaction's keys travel as numbers: the generator numbers every key the first time it sends
it and ships the new ones with the batch; the server keeps the same table. So the keys are one
`bytes` (4 bytes per key) instead of some 25 strings to pickle and unpickle, and the server holds
one string per address however many retained transactions list it.

Log lines travel the same way: a transaction of a compiled shape carries its shape's constant
JSON parts (`ledger.LogParts`, one shared tuple per shape), which are sent once and then named
by number.

A batch is `pickle.dumps((new_addresses, new_log_parts, [packed transaction, ...]))`; `Packer`
and `Unpacker` are the two ends. `frames` cuts a generator's output into length-prefixed batches,
for the generator process's pipe and for stream files (`--pregenerate`), which start with a
header naming the settings they were generated with.
"""

from __future__ import annotations

import json
import pickle
import time
from array import array
from collections.abc import Callable, Iterator
from typing import Any

from sim.config import SimConfig
from sim.faults import parse_faults
from sim.ledger import LogParts
from sim.scenario.body import Generated


class _Numbers(dict[str, int]):
    """address -> number, numbering new addresses on first use and remembering them."""

    def __init__(self) -> None:
        super().__init__()
        self.new: list[str] = []

    def __missing__(self, address: str) -> int:
        number = self[address] = len(self)
        self.new.append(address)
        return number


class Packer:
    def __init__(self) -> None:
        self._numbers = _Numbers()
        self._logs: dict[int, tuple[int, LogParts]] = {}  # id(parts) -> (number, parts kept alive)
        self._new_logs: list[LogParts] = []

    def _log_number(self, parts: bytes | LogParts) -> bytes | int:
        if isinstance(parts, bytes):
            return parts
        known = self._logs.get(id(parts))
        if known is None:
            known = self._logs[id(parts)] = (len(self._logs), parts)
            self._new_logs.append(parts)
        return known[0]

    def batch(self, transactions: list[Generated]) -> bytes:
        number = self._numbers.__getitem__
        logs = self._log_number
        packed = [(*g[:5], array("I", map(number, g[5])).tobytes(), logs(g[6]), *g[7:]) for g in transactions]
        new, self._numbers.new = self._numbers.new, []
        new_logs, self._new_logs = self._new_logs, []
        return pickle.dumps((new, new_logs, packed), protocol=pickle.HIGHEST_PROTOCOL)


class Unpacker:
    def __init__(self) -> None:
        self._addresses: list[str] = []
        self._logs: list[LogParts] = []

    def batch(self, data: bytes) -> list[Generated]:
        # the generator's output (our own child process), not untrusted input
        new, new_logs, packed = pickle.loads(data)  # noqa: S301
        self._addresses += new
        self._logs += new_logs
        address = self._addresses.__getitem__
        logs = self._logs
        make = Generated._make
        return [
            make(
                (
                    *p[:5],
                    tuple(map(address, array("I", p[5]))),
                    p[6] if p[6].__class__ is bytes else logs[p[6]],
                    *p[7:],
                )
            )
            for p in packed
        ]


# --- frames and stream files ---------------------------------------------------------------------

NO_MANIFEST = "--no-manifest"  # the generator process's flag: nobody reads manifest rows
SHARD = "--shard"  # the generator process's flag: which world of --generators N it runs
BATCH = 256
BATCH_S = 0.02  # a partial batch goes out after this long
FILE_MAGIC = b"pumpflow-sim stream 1\n"


def frames(generate: Callable[[], Generated], *, until_s: float | None = None) -> Iterator[bytes]:
    """Length-prefixed (4 bytes, big-endian) batches of up to `BATCH` transactions from
    `generate` (a `World.next`), in generation order, until emission second `until_s` (forever
    without it)."""
    packer = Packer()
    batch: list[Generated] = []
    started = time.monotonic()
    while True:
        g = generate()
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
        "generators": cfg.generators,
    }


def file_header(cfg: SimConfig) -> bytes:
    header = json.dumps(generation_settings(cfg)).encode()
    return FILE_MAGIC + len(header).to_bytes(4, "big") + header


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
