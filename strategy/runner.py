"""The pure signal runner: `SignalRunner.feed(event) -> list[TradeIntent]`.

One synchronous core shared by every driver. The live driver (`strategy.service`) feeds it the
executor's gRPC stream and submits what it returns; the replay driver (`strategy.replay`) feeds it
the stored `events` table; tests feed it built events. Same events in the same `seq` order give the
same intents, byte for byte.

Per event the runner:

1. drops it when its `seq` is not past the last one fed (a redelivery after a reconnect), and
   counts a gap when `seq` jumps;
2. folds it into the per-mint state (bucket history with re-emitted buckets replaced, last curve,
   launch, risk flags), so a hook sees the world *including* the event and nothing after it;
3. calls the matching hook of every signal, in signal-name order, under the SDK decimal context;
4. checks and finalises what each hook returned (deterministic `intent_id`), drops intents on a
   mint still in the signal's warm-up, and turns any exception into a `SignalFault` for that
   (signal, mint) pair; after `fault_limit` faults the pair is quarantined (its hook is no longer
   called for that mint). Faults never stop the stream.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import localcontext
from typing import Any, Final

from pumpflow.v1 import executor_pb2 as pb
from strategy.events import event_from_pb
from strategy.sdk import (
    DECIMAL_CONTEXT,
    HOOKS,
    CurveSnapshot,
    FeatureBucket,
    IntentError,
    Signal,
    SignalNote,
    StreamEvent,
    TradeIntent,
    TradeObserved,
    derive_intent_id,
)
from strategy.sdk._ctx import Ctx
from strategy.sdk._market import Market

__all__ = ["DECODE_SIGNAL", "FeedResult", "RunnerStats", "SignalFault", "SignalRunner"]

#: Name used in faults raised while converting a wire event (no signal involved).
DECODE_SIGNAL: Final = "<decode>"
_MINUTE: Final = 60


@dataclass(frozen=True, slots=True)
class SignalFault:
    """An exception raised by a hook (or an invalid return value), isolated to (signal, mint)."""

    signal: str
    signal_id: str
    mint: str
    seq: int
    hook: str
    error_type: str
    message: str
    #: True when this fault reached the limit: the hook is no longer called for this mint.
    quarantined: bool

    def as_log(self) -> dict[str, object]:
        """Fields for one structured log line."""
        return {
            "signal": self.signal,
            "signal_id": self.signal_id,
            "mint": self.mint,
            "seq": self.seq,
            "hook": self.hook,
            "error_type": self.error_type,
            "error": self.message,
            "quarantined": self.quarantined,
        }


@dataclass(frozen=True, slots=True)
class FeedResult:
    """Everything one event produced."""

    seq: int
    intents: tuple[TradeIntent, ...] = ()
    faults: tuple[SignalFault, ...] = ()
    #: `(signal name, note)` for every `ctx.log` call.
    notes: tuple[tuple[str, SignalNote], ...] = ()
    #: Intents dropped because their mint was still in the signal's warm-up.
    warmup_dropped: int = 0
    #: True when the event was not processed (redelivered seq, heartbeat, or not a signal event).
    skipped: bool = False


@dataclass(slots=True)
class RunnerStats:
    """Counters since the runner was built (the live driver exports them as metrics)."""

    events: int = 0
    skipped: int = 0
    redelivered: int = 0
    gaps: int = 0
    missing_seqs: int = 0
    stale_buckets: int = 0
    evicted_mints: int = 0
    #: (signal name, primary reason) -> intents released.
    intents: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: (signal name, error type) -> faults.
    faults: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: signal name -> intents dropped in warm-up.
    warmup_dropped: Counter[str] = field(default_factory=Counter)


@dataclass(slots=True)
class _Entry:
    name: str
    signal: Signal[Any]
    hooks: frozenset[str]
    warmup: int
    states: dict[str, Any] = field(default_factory=dict)
    fault_counts: dict[str, int] = field(default_factory=dict)
    quarantined: set[str] = field(default_factory=set)


class SignalRunner:
    """Feeds events to signals and collects their intents. Pure and synchronous.

    Args:
        signals: the signals to run, by name (a mapping), or a sequence (named by their `id`).
        fault_limit: faults of one (signal, mint) pair after which its hooks are skipped for that mint.
        idle_evict_seconds: forget a mint (history, flags, signal state) after this much *event time*
            without an event about it; keeps memory bounded on an endless live stream.
    """

    def __init__(
        self,
        signals: Mapping[str, Signal[Any]] | Sequence[Signal[Any]],
        *,
        fault_limit: int = 3,
        idle_evict_seconds: int = 6 * 3600,
    ) -> None:
        if isinstance(signals, Mapping):
            named = dict(signals)
        else:
            named = {}
            for sig in signals:
                if sig.id in named:
                    raise ValueError(f"two signals with id {sig.id!r}; pass a mapping to name them apart")
                named[sig.id] = sig
        if fault_limit < 1:
            raise ValueError("fault_limit must be >= 1")
        seen: dict[tuple[str, int, str], str] = {}
        entries: list[_Entry] = []
        for name in sorted(named):
            sig = named[name]
            if not isinstance(sig, Signal):
                raise TypeError(f"{name}: not a Signal instance: {sig!r}")
            key = (sig.id, sig.version, sig.params_hash)
            if key in seen:
                raise ValueError(
                    f"signals {seen[key]!r} and {name!r} are the same signal with the same parameters "
                    "(they would emit identical intent ids)"
                )
            seen[key] = name
            entries.append(_Entry(name=name, signal=sig, hooks=sig.hooks(), warmup=sig.warmup()))
        self._entries = tuple(entries)
        self.fault_limit = fault_limit
        retain = max((type(e.signal).history_buckets for e in entries), default=1)
        self._market = Market(retain_minutes=retain, idle_evict_seconds=idle_evict_seconds)
        self._evicted_at_minute = 0
        self.last_seq: int | None = None
        self.stats = RunnerStats()

    @property
    def signals(self) -> Mapping[str, Signal[Any]]:
        """The signals by name, in the order they are called."""
        return {e.name: e.signal for e in self._entries}

    @property
    def tracked_mints(self) -> int:
        """Mints currently held in memory."""
        return len(self._market)

    def feed(self, event: StreamEvent) -> list[TradeIntent]:
        """Process one event; return the intents it released (faults are in `stats`/`step`)."""
        return list(self.step(event).intents)

    def feed_pb(self, event: pb.Event) -> list[TradeIntent]:
        """`feed` for a wire event."""
        return list(self.step_pb(event).intents)

    def step_pb(self, event: pb.Event) -> FeedResult:
        """`step` for a wire event; heartbeats and AMM snapshots are skipped, bad payloads are faults."""
        if event.WhichOneof("body") == "heartbeat":
            self.stats.skipped += 1
            return FeedResult(seq=event.seq, skipped=True)
        try:
            converted = event_from_pb(event)
        except ValueError as e:
            self._advance(event.seq)
            mint = _pb_mint(event)
            fault = SignalFault(
                DECODE_SIGNAL, DECODE_SIGNAL, mint, event.seq, "decode", "ValueError", str(e), False
            )
            self.stats.faults[(DECODE_SIGNAL, "ValueError")] += 1
            return FeedResult(seq=event.seq, faults=(fault,))
        if converted is None:
            self._advance(event.seq)
            self.stats.skipped += 1
            return FeedResult(seq=event.seq, skipped=True)
        return self.step(converted)

    def _advance(self, seq: int) -> bool:
        last = self.last_seq
        if last is not None and seq <= last:
            self.stats.redelivered += 1
            return False
        if last is not None and seq > last + 1:
            self.stats.gaps += 1
            self.stats.missing_seqs += seq - last - 1
        self.last_seq = seq
        return True

    def step(self, event: StreamEvent) -> FeedResult:
        """Process one event and return everything it produced."""
        if not self._advance(event.seq):
            return FeedResult(seq=event.seq, skipped=True)
        self.stats.events += 1
        if not self._market.apply(event):
            # A stale re-emission (version not newer) or a bucket older than the retention window.
            self.stats.stale_buckets += 1
            return FeedResult(seq=event.seq)
        hook = HOOKS.get(event.kind)
        intents: list[TradeIntent] = []
        faults: list[SignalFault] = []
        notes: list[tuple[str, SignalNote]] = []
        dropped = 0
        if hook is not None:
            for entry in self._entries:
                if hook not in entry.hooks or event.mint in entry.quarantined:
                    continue
                released, fault, entry_notes, n_dropped = self._call(entry, hook, event)
                intents.extend(released)
                notes.extend((entry.name, n) for n in entry_notes)
                dropped += n_dropped
                if fault is not None:
                    faults.append(fault)
        self._maybe_evict()
        return FeedResult(
            seq=event.seq,
            intents=tuple(intents),
            faults=tuple(faults),
            notes=tuple(notes),
            warmup_dropped=dropped,
        )

    def _call(
        self, entry: _Entry, hook: str, event: StreamEvent
    ) -> tuple[list[TradeIntent], SignalFault | None, list[SignalNote], int]:
        signal = entry.signal
        notes: list[SignalNote] = []
        ctx: Ctx[Any] = Ctx(
            signal=signal,
            market=self._market,
            seq=event.seq,
            mint=event.mint,
            as_of=event.as_of,
            states=entry.states,
            notes=notes,
        )
        try:
            with localcontext(DECIMAL_CONTEXT):
                emitted = _dispatch(signal, hook, event, ctx)
            drafts = _normalise(emitted, signal, ctx.trigger)
        except Exception as e:  # noqa: BLE001 - isolation is the point: any hook error becomes a fault
            return [], self._fault(entry, hook, event, e), notes, 0
        released: list[TradeIntent] = []
        dropped = 0
        for ordinal, draft in enumerate(drafts):
            history = self._market.history(draft.mint, draft.venue, type(signal).history_buckets)
            if history.minutes_covered < entry.warmup:
                dropped += 1
                continue
            intent_id = derive_intent_id(
                signal.id, signal.version, signal.params_hash, draft.trigger, ordinal
            )
            intent = replace(draft, intent_id=intent_id)
            released.append(intent)
            self.stats.intents[(entry.name, intent.reasons[0])] += 1
        if dropped:
            self.stats.warmup_dropped[entry.name] += dropped
        return released, None, notes, dropped

    def _fault(self, entry: _Entry, hook: str, event: StreamEvent, error: Exception) -> SignalFault:
        count = entry.fault_counts.get(event.mint, 0) + 1
        entry.fault_counts[event.mint] = count
        quarantined = count >= self.fault_limit
        if quarantined:
            entry.quarantined.add(event.mint)
        error_type = type(error).__name__
        self.stats.faults[(entry.name, error_type)] += 1
        return SignalFault(
            signal=entry.name,
            signal_id=entry.signal.id,
            mint=event.mint,
            seq=event.seq,
            hook=hook,
            error_type=error_type,
            message=str(error)[:500],
            quarantined=quarantined,
        )

    def _maybe_evict(self) -> None:
        minute = self._market.watermark // _MINUTE
        if minute == self._evicted_at_minute:
            return
        self._evicted_at_minute = minute
        gone = self._market.evict_idle()
        if not gone:
            return
        self.stats.evicted_mints += len(gone)
        for entry in self._entries:
            for mint in gone:
                entry.states.pop(mint, None)
                entry.fault_counts.pop(mint, None)
                entry.quarantined.discard(mint)


def _dispatch(signal: Signal[Any], hook: str, event: StreamEvent, ctx: Ctx[Any]) -> object:
    if hook == "on_bucket" and isinstance(event, FeatureBucket):
        return signal.on_bucket(event, ctx)
    if hook == "on_trade" and isinstance(event, TradeObserved):
        return signal.on_trade(event, ctx)
    if hook == "on_curve" and isinstance(event, CurveSnapshot):
        return signal.on_curve(event, ctx)
    raise AssertionError(f"no hook {hook} for {type(event).__name__}")  # pragma: no cover


def _normalise(emitted: object, signal: Signal[Any], trigger: str) -> list[TradeIntent]:
    if emitted is None:
        return []
    items = [emitted] if isinstance(emitted, TradeIntent) else emitted
    if not isinstance(items, list | tuple):
        raise IntentError(
            f"a hook must return None, a TradeIntent or a list/tuple of them, got {type(items).__name__}"
        )
    out: list[TradeIntent] = []
    for item in items:
        if not isinstance(item, TradeIntent):
            raise IntentError(f"a hook returned {type(item).__name__} where a TradeIntent was expected")
        if (
            item.intent_id
            or item.trigger != trigger
            or item.signal_id != signal.id
            or item.params_hash != signal.params_hash
        ):
            raise IntentError("a hook returned an intent it did not build with this event's ctx.buy/ctx.sell")
        out.append(item)
    return out


def _pb_mint(event: pb.Event) -> str:
    which = event.WhichOneof("body")
    if which is None:
        return ""
    body = getattr(event, which)
    return str(getattr(body, "mint", "") or getattr(body, "base_mint", ""))
