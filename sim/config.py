"""Simulator settings: one frozen object, built from the CLI or directly in tests."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SCENARIOS = ("lifecycle", "recorded")
DEFAULT_BASE_SLOT = 420_000_000
DEFAULT_BASE_TIME = 1_790_000_000  # 2026-09-21T13:33:20Z; fixed so output does not depend on the wall clock
DEFAULT_RETAIN = 200_000
PROCESS_ABOVE_RATE = 200.0  # --generator auto: the lifecycle generator gets its own process above this rate
REAL_SIGNATURES_UP_TO_RATE = 1000.0  # --signatures auto: ed25519 up to this rate, seed-derived bytes above
GENERATORS = ("auto", "process", "inline")
MAX_GENERATORS = 8  # each world gets its own of the 8 fee recipients of each kind


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
    retain: int = DEFAULT_RETAIN
    ws_max_buffer: int = 64 * 1024 * 1024
    generator: str = "auto"  # auto | process | inline
    generators: int = 1  # independent lifecycle worlds (processes), merged by emission time
    replay: Path | None = None  # serve a stream file written by --pregenerate

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
        if self.generator not in GENERATORS:
            raise ValueError("--generator must be auto, process or inline")
        if not 1 <= self.generators <= MAX_GENERATORS:
            raise ValueError(f"--generators must be 1..{MAX_GENERATORS}")
        if self.retain < 1:
            raise ValueError("--retain must be positive")
        if self.replay is not None and self.scenario != "lifecycle":
            raise ValueError("--replay serves generated (lifecycle) traffic")

    def to_json(self) -> str:
        return json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()})

    @classmethod
    def from_json(cls, text: str) -> SimConfig:
        fields: dict[str, Any] = json.loads(text)
        for name in ("manifest", "fixtures", "replay"):
            if fields.get(name) is not None:
                fields[name] = Path(fields[name])
        return cls(**fields)
