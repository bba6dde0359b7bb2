"""Deterministic replay: rebuild every derived table from the stored raw rows through the processor
live ingest uses (one code path, two drivers). See docs/replay.md.

`options` (what to replay, the resumable cursor; pure), `source` (raw rows in canonical order,
decoded in worker processes), `target` (fresh tables or in place), `driver` (the run), `cli`.
"""

from executor.replay.driver import ReplayBusy, ReplayConflict, ReplayReport, replay
from executor.replay.options import ReplayOptions

__all__ = ["ReplayBusy", "ReplayConflict", "ReplayOptions", "ReplayReport", "replay"]
