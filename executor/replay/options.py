"""What a replay does, as plain data: options, the resumable cursor, and the input filters.

Pure: no I/O. A replay's result is a function of the raw rows and of the options in
`ReplayOptions.identity()` (range, mints, target, events, chunk size); a cursor saved by an
interrupted run only resumes a run with the same identity.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from executor.decode import AmmPoolCreated, AmmTrade, CurveComplete, CurveTrade, DecodedTx, Launch, Migration

Into = Literal["fresh", "in-place"]
EventsMode = Literal["keep", "rebuild"]

CURSOR_KEY = "replay:cursor"
BUILD_SCHEMA = "replay_build"
DEFAULT_CHUNK = 2000
CURSOR_VERSION = 1


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


@dataclass(frozen=True, slots=True)
class ReplayOptions:
    from_slot: int | None = None
    to_slot: int | None = None
    mints: tuple[str, ...] = ()
    into: Into | None = None  # None: fresh for a full replay, in-place for a partial one
    events: EventsMode = "keep"
    chunk: int = DEFAULT_CHUNK
    workers: int = field(default_factory=default_workers)
    restart: bool = False

    @property
    def partial(self) -> bool:
        return self.from_slot is not None or self.to_slot is not None or bool(self.mints)

    @property
    def target(self) -> Into:
        if self.into is not None:
            return self.into
        return "in-place" if self.partial else "fresh"

    def problems(self) -> list[str]:
        out = []
        if self.chunk < 1:
            out.append("--chunk must be at least 1")
        if self.workers < 0:
            out.append("--workers must be >= 0")
        if self.events == "rebuild" and self.partial:
            out.append(
                "--events rebuild renumbers the whole outbox, so it needs a full replay "
                "(no --from/--to/--mint)"
            )
        if self.from_slot is not None and self.to_slot is not None and self.from_slot > self.to_slot:
            out.append(f"the range is empty: from slot {self.from_slot} is after to slot {self.to_slot}")
        return out

    def identity(self) -> dict[str, Any]:
        """The options that define the result (worker count and --restart do not)."""
        return {
            "version": CURSOR_VERSION,
            "from_slot": self.from_slot,
            "to_slot": self.to_slot,
            "mints": sorted(self.mints),
            "into": self.target,
            "events": self.events,
            "chunk": self.chunk,
        }

    def describe(self) -> str:
        parts = [f"into={self.target}", f"events={self.events}", f"chunk={self.chunk}"]
        if self.from_slot is not None or self.to_slot is not None:
            parts.append(
                f"slots={self.from_slot if self.from_slot is not None else ''}..{self.to_slot if self.to_slot is not None else ''}"
            )
        if self.mints:
            parts.append(f"mints={','.join(sorted(self.mints))}")
        return " ".join(parts)


Key = tuple[int, str]  # (slot, signature): the canonical order of raw rows


@dataclass(frozen=True, slots=True)
class Cursor:
    """Progress of a replay, stored in ingest_state under CURSOR_KEY in the chunk's transaction."""

    identity: dict[str, Any]
    after: Key | None  # the last raw row applied; None before the first chunk
    rows_done: int
    chunks_done: int

    def value(self) -> dict[str, Any]:
        return {"identity": self.identity, "rows_done": self.rows_done, "chunks_done": self.chunks_done}

    @classmethod
    def from_row(cls, slot: int | None, signature: str | None, value: dict[str, Any]) -> Cursor:
        after = (slot, signature) if slot is not None and signature is not None else None
        return cls(
            dict(value.get("identity") or {}),
            after,
            int(value.get("rows_done", 0)),
            int(value.get("chunks_done", 0)),
        )


def lower_bound(options: ReplayOptions, cursor: Cursor | None) -> Key:
    """The key every row of the next chunk is strictly greater than."""
    if cursor is not None and cursor.after is not None:
        return cursor.after
    return ((options.from_slot if options.from_slot is not None else 0) - 1, "")


# Mint filter -------------------------------------------------------------------------------------------


@dataclass(slots=True)
class MintFilter:
    """Which decoded transactions concern a set of mints. AMM trades decoded from logs name only
    their pool, so the pools of the mints are tracked as the replay meets their migrations."""

    mints: frozenset[str]
    pools: set[str] = field(default_factory=set)

    def learn(self, tx: DecodedTx) -> None:
        for r in tx.records:
            if (isinstance(r, Migration) and r.mint in self.mints) or (
                isinstance(r, AmmPoolCreated) and r.base_mint in self.mints
            ):
                self.pools.add(r.pool)

    def wants(self, tx: DecodedTx | None) -> bool:
        if tx is None:
            return False
        self.learn(tx)
        return any(self._mentions(r) for r in tx.records)

    def _mentions(self, r: object) -> bool:
        if isinstance(r, (CurveTrade, Launch, CurveComplete, Migration)):
            return r.mint in self.mints
        if isinstance(r, AmmPoolCreated):
            return r.base_mint in self.mints
        if isinstance(r, AmmTrade):
            return r.base_mint in self.mints or r.pool in self.pools
        return False


def mint_filter(mints: Iterable[str], pools: Iterable[str]) -> MintFilter | None:
    wanted = frozenset(mints)
    return MintFilter(wanted, set(pools)) if wanted else None
