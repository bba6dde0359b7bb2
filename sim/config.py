"""Simulator settings: one frozen object, built from the CLI or directly in tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SCENARIOS = ("lifecycle", "recorded")
DEFAULT_BASE_SLOT = 420_000_000
DEFAULT_BASE_TIME = 1_790_000_000  # 2026-09-21T13:33:20Z; fixed so output does not depend on the wall clock


@dataclass(frozen=True, slots=True)
class SimConfig:
    host: str = "127.0.0.1"
    port: int = 8899
    seed: int = 1
    rate: float = 50.0
    speed: float = 1.0
    scenario: str = "lifecycle"
    faults: str = ""
    manifest: Path | None = None
    duration: float | None = None
    start: str = "subscribe"  # or "immediate"
    fixtures: Path | None = None
    layout: str = "v8"
    signatures: str = "auto"  # real | fast | auto
    base_slot: int = DEFAULT_BASE_SLOT
    base_time: int = DEFAULT_BASE_TIME
    retain: int = 2_000_000
    ws_max_buffer: int = 64 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {self.scenario!r}; choose one of {', '.join(SCENARIOS)}")
        if self.rate <= 0:
            raise ValueError("--rate must be positive")
        if self.speed <= 0:
            raise ValueError("--speed must be positive")
        if self.start not in ("subscribe", "immediate"):
            raise ValueError("--start must be 'subscribe' or 'immediate'")
        if self.signatures not in ("real", "fast", "auto"):
            raise ValueError("--signatures must be real, fast or auto")
        if self.duration is not None and self.duration < 0:
            raise ValueError("--duration must be >= 0")
