"""Upgrade awareness: which wire shapes a decoded transaction contains that the layouts do not
fully explain (an unknown discriminator, an unknown tail length, a known item that failed to
decode). Pure: `ShapeRegistry.first_seen` says whether a shape is new; `telemetry` turns that
into a metric and one log line per new shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from executor.decode.model import UNKNOWN, DecodedTx


@dataclass(frozen=True, slots=True)
class Shape:
    program: str
    kind: str  # event / instruction name, or "Unknown"
    discriminator: str
    layout_version: str | None
    tail_len: int
    reason: str  # "unknown_discriminator", "unknown_tail" or "decode_error"


def shapes_of(tx: DecodedTx) -> Iterator[Shape]:
    for event in tx.events:
        if event.name == UNKNOWN:
            yield Shape(
                event.program, UNKNOWN, event.discriminator, None, len(event.tail), "unknown_discriminator"
            )
        elif event.error is not None:
            yield Shape(event.program, event.name, event.discriminator, None, len(event.tail), "decode_error")
        elif event.tail:
            yield Shape(
                event.program,
                event.name,
                event.discriminator,
                event.layout_version,
                len(event.tail),
                "unknown_tail",
            )
    for ix in tx.instructions:
        if ix.name == UNKNOWN:
            yield Shape(ix.program, UNKNOWN, ix.discriminator, None, len(ix.tail), "unknown_discriminator")
        elif ix.error is not None:
            yield Shape(ix.program, ix.name, ix.discriminator, None, len(ix.tail), "decode_error")
        elif ix.tail:
            yield Shape(
                ix.program, ix.name, ix.discriminator, ix.layout_version, len(ix.tail), "unknown_tail"
            )


class ShapeRegistry:
    """Remembers shapes; bounded so that a flood of garbage cannot grow it without limit."""

    def __init__(self, limit: int = 10_000) -> None:
        self._seen: set[Shape] = set()
        self._limit = limit

    def first_seen(self, shape: Shape) -> bool:
        """True the first time `shape` is seen (and while the registry is full, never)."""
        if shape in self._seen or len(self._seen) >= self._limit:
            return False
        self._seen.add(shape)
        return True

    def __len__(self) -> int:
        return len(self._seen)
