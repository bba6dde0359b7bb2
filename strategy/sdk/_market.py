"""What the runner knows about each mint so far: bucket histories, last curve, launch, risk flags.

Runner-internal and mutable; signals only reach it through `Ctx`'s read-only accessors. All of it
is driven by the event stream alone (event time, never wall time), so the same stream always
rebuilds the same state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from strategy.sdk._events import (
    CurveCompleted,
    CurveSnapshot,
    FeatureBucket,
    RiskFlag,
    StreamEvent,
    TokenLaunched,
    TokenMigrated,
    TradeObserved,
    Venue,
)
from strategy.sdk._history import BucketStore, MintHistory

__all__ = ["Market", "MintState"]


@dataclass(slots=True)
class MintState:
    """Everything known about one mint."""

    stores: dict[Venue, BucketStore] = field(default_factory=dict)
    latest_venue: Venue | None = None
    launch: TokenLaunched | None = None
    last_curve: CurveSnapshot | None = None
    last_trade: TradeObserved | None = None
    flags: dict[str, RiskFlag] = field(default_factory=dict)
    completed: bool = False
    migration: TokenMigrated | None = None
    last_event_time: int = 0


class Market:
    """Per-mint state for every mint seen, with deterministic eviction by event time."""

    __slots__ = ("_mints", "idle_evict_seconds", "retain_minutes", "watermark")

    def __init__(self, *, retain_minutes: int, idle_evict_seconds: int) -> None:
        self.retain_minutes = retain_minutes
        self.idle_evict_seconds = idle_evict_seconds
        self.watermark = 0
        self._mints: dict[str, MintState] = {}

    def __len__(self) -> int:
        return len(self._mints)

    def get(self, mint: str) -> MintState | None:
        """The state of `mint`, or None when never seen (or evicted)."""
        return self._mints.get(mint)

    def apply(self, event: StreamEvent) -> bool:
        """Fold one event into the state; return False for a stale or out-of-window bucket."""
        state = self._mints.get(event.mint)
        if state is None:
            state = self._mints[event.mint] = MintState()
        state.last_event_time = max(state.last_event_time, event.as_of)
        self.watermark = max(self.watermark, event.as_of)
        match event:
            case FeatureBucket():
                store = state.stores.get(event.venue)
                if store is None:
                    store = state.stores[event.venue] = BucketStore(event.venue)
                changed = store.upsert(event, self.retain_minutes)
                newest = max(state.stores.values(), key=lambda s: (s.newest_minute, s.venue.value))
                state.latest_venue = newest.venue
                return changed
            case TradeObserved():
                state.last_trade = event
            case CurveSnapshot():
                state.last_curve = event
                state.completed = state.completed or event.complete
            case TokenLaunched():
                state.launch = event
            case RiskFlag():
                if event.active:
                    state.flags[event.flag] = event
                else:
                    state.flags.pop(event.flag, None)
            case CurveCompleted():
                state.completed = True
            case TokenMigrated():
                state.completed = True
                state.migration = event
        return True

    def history(self, mint: str, venue: Venue | None, limit_minutes: int) -> MintHistory:
        """History view of `mint` (default venue: the one with the newest bucket)."""
        state = self._mints.get(mint)
        chosen = venue or (state.latest_venue if state else None) or Venue.PUMP_CURVE
        store = state.stores.get(chosen) if state else None
        if store is None:
            return MintHistory(mint, chosen, ())
        return store.view(mint, limit_minutes)

    def evict_idle(self) -> list[str]:
        """Forget mints with no event for `idle_evict_seconds` of event time; return their names."""
        horizon = self.watermark - self.idle_evict_seconds
        gone = [m for m, s in self._mints.items() if s.last_event_time < horizon]
        for mint in gone:
            del self._mints[mint]
        return gone
