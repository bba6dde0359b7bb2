"""Chain time: slots of ~400 ms (some skipped), block times that follow, `--speed` scaling.

Pure arithmetic over "emission seconds" (wall seconds since emission started); the server feeds
it `time.monotonic()` differences. Commitment levels lag the tip the way a healthy mainnet node's
do: confirmed 1 slot, finalized 32 slots.
"""

from __future__ import annotations

from dataclasses import dataclass

SLOT_MS = 400
CONFIRMED_LAG = 1
FINALIZED_LAG = 32
COMMITMENTS = ("processed", "confirmed", "finalized")
_MIX = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1


def is_skipped(seed: int, slot: int, per_mille: int = 40) -> bool:
    """Deterministic ~4 % of slots have no block (leader skipped); never two in a row."""
    if _skip_hash(seed, slot) >= per_mille:
        return False
    return _skip_hash(seed, slot - 1) >= per_mille


def _skip_hash(seed: int, slot: int) -> int:
    h = ((slot ^ (seed * 0x2545F4914F6CDD1D)) * _MIX) & _MASK
    h ^= h >> 29
    return ((h * _MIX) & _MASK) % 1000


@dataclass(slots=True)
class ChainClock:
    """The node's tip slot as a function of emission time, re-anchored when data jumps ahead."""

    base_slot: int
    base_time: int
    speed: float = 1.0
    anchor_slot: int = 0
    anchor_s: float = 0.0

    def __post_init__(self) -> None:
        self.anchor_slot = self.base_slot

    def slots_per_second(self) -> float:
        return 1000.0 * self.speed / SLOT_MS

    def tip(self, t: float) -> int:
        """Processed slot at emission time `t` (seconds; t <= 0 means not started)."""
        if t <= self.anchor_s:
            return self.anchor_slot
        return self.anchor_slot + int((t - self.anchor_s) * self.slots_per_second())

    def observe(self, slot: int, t: float) -> None:
        """Recorded data may jump far ahead: the tip never stays behind a served slot."""
        if slot > self.tip(t):
            self.anchor_slot, self.anchor_s = slot, t

    def commitment_slot(self, commitment: str, t: float) -> int:
        tip = self.tip(t)
        if commitment == "processed":
            return tip
        lag = CONFIRMED_LAG if commitment == "confirmed" else FINALIZED_LAG
        return max(self.base_slot, tip - lag)

    def block_time(self, slot: int) -> int:
        return self.base_time + (slot - self.base_slot) * SLOT_MS // 1000

    def emission_time_of_slot(self, slot: int) -> float:
        """Emission second at which `slot` starts, on the unanchored schedule (generated mode)."""
        return (slot - self.base_slot) / self.slots_per_second()
