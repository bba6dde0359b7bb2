"""What a running executor shares with its long-lived tasks (ingest): settings, store, bus, status."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from executor.bus import EventBus
from executor.config import ExecutorSettings
from executor.store import Store


@dataclass
class IngestStatus:
    """What ingest reports for heartbeats; updated in place by the ingest pipeline."""

    last_slot_seen: int = 0
    last_block_time: int = 0
    lag_slots: int = 0


# Extra long-running tasks (ingest) register here: each gets the running context and is cancelled on stop.
TaskFactory = Callable[["Running"], Coroutine[Any, Any, None]]


@dataclass
class Running:
    settings: ExecutorSettings
    store: Store
    bus: EventBus
    status: IngestStatus
    revision: str
    grpc_port: int
