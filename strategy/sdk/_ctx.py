"""`Ctx`: the one argument through which a hook reads the world and builds intents.

New context fields can be added without breaking existing signals, which is why hooks take a
single `ctx` instead of a growing list of arguments.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from strategy.sdk._decimal import is_int, lamports
from strategy.sdk._events import CurveSnapshot, RiskFlag, Severity, TokenLaunched, TradeObserved, Venue
from strategy.sdk._history import MintHistory
from strategy.sdk._intent import EvidenceValue, Side, TradeIntent, canonical_evidence, evidence_text
from strategy.sdk._market import Market
from strategy.sdk._params import Params
from strategy.sdk.errors import IntentError

if TYPE_CHECKING:
    from strategy.sdk._signal import Signal

__all__ = ["Ctx", "SignalNote"]

P = TypeVar("P", bound=Params)
S = TypeVar("S")

_MAX_SLIPPAGE_BPS = 10_000


@dataclass(frozen=True, slots=True)
class SignalNote:
    """A structured log line a hook wrote with `ctx.log`. Not part of any fingerprint."""

    seq: int
    mint: str
    message: str
    fields: Mapping[str, str]


class Ctx(Generic[P]):
    """Read-only view of the world at the current event, plus intent builders.

    Attributes:
        params: the signal's frozen parameters.
        seq: stream position of the event being handled.
        trigger: canonical key of that event (`"seq:<n>"`), stamped on every intent.
        as_of: event time (unix seconds) of that event: a bucket's close, a trade's block time.
        mint: the mint the event is about.
    """

    __slots__ = ("_market", "_notes", "_signal", "_states", "as_of", "mint", "params", "seq", "trigger")

    def __init__(
        self,
        *,
        signal: Signal[P],
        market: Market,
        seq: int,
        mint: str,
        as_of: int,
        states: MutableMapping[str, Any],
        notes: list[SignalNote],
    ) -> None:
        self._signal = signal
        self._market = market
        self._states = states
        self._notes = notes
        self.params: P = signal.params
        self.seq = seq
        self.trigger = f"seq:{seq}"
        self.as_of = as_of
        self.mint = mint

    # --- reading ---------------------------------------------------------------------------

    def history(self, mint: str, venue: Venue | None = None) -> MintHistory:
        """Bucket history of `mint` up to now, cut to the signal's `history_buckets` minutes.

        `venue` defaults to the venue of the mint's newest bucket (the curve until migration).
        """
        return self._market.history(mint, venue, type(self._signal).history_buckets)

    def last_curve(self, mint: str) -> CurveSnapshot | None:
        """The newest curve snapshot of `mint` seen so far."""
        state = self._market.get(mint)
        return state.last_curve if state else None

    def last_trade(self, mint: str) -> TradeObserved | None:
        """The newest trade of `mint` seen so far."""
        state = self._market.get(mint)
        return state.last_trade if state else None

    def launch(self, mint: str) -> TokenLaunched | None:
        """The launch event of `mint`, when it was seen."""
        state = self._market.get(mint)
        return state.launch if state else None

    def risk_flags(self, mint: str) -> tuple[RiskFlag, ...]:
        """The currently active risk flags of `mint`, sorted by flag code."""
        state = self._market.get(mint)
        if state is None:
            return ()
        return tuple(state.flags[code] for code in sorted(state.flags))

    def has_risk(self, mint: str, *, min_severity: Severity = Severity.HIGH) -> bool:
        """True when `mint` has an active flag of at least `min_severity`."""
        return any(f.severity >= min_severity for f in self.risk_flags(mint))

    def curve_complete(self, mint: str) -> bool:
        """True once `mint`'s bonding curve completed (or it migrated)."""
        state = self._market.get(mint)
        return bool(state and state.completed)

    def state(self, mint: str, kind: type[S]) -> S:
        """The signal's mutable per-mint state, created from its declared `State` on first use.

        `kind` must be the signal's `State` class; it is only there so the result is typed.
        """
        declared = type(self._signal).State
        if declared is None or kind is not declared:
            raise TypeError(f"{type(self._signal).__name__} declares State={declared!r}, asked for {kind!r}")
        current = self._states.get(mint)
        if current is None:
            current = self._states[mint] = declared()
        if not isinstance(current, kind):  # pragma: no cover - guarded above
            raise TypeError("state type mismatch")
        return current

    def log(self, message: str, **fields: EvidenceValue) -> None:
        """Record a structured note (the live driver logs it); never part of a fingerprint."""
        texts = {k: evidence_text(k, v) for k, v in sorted(fields.items())}
        self._notes.append(SignalNote(self.seq, self.mint, message, texts))

    # --- building intents ------------------------------------------------------------------

    def buy(
        self,
        mint: str,
        *,
        reason: str | Sequence[str],
        size_sol: Decimal | None = None,
        size_lamports: int | None = None,
        evidence: Mapping[str, EvidenceValue] | None = None,
        venue: Venue | None = None,
        max_slippage_bps: int | None = None,
        ttl_ms: int | None = None,
    ) -> TradeIntent:
        """Build (not send) a buy intent. Give exactly one of `size_sol` / `size_lamports`.

        `reason` is one code or several (primary first), each from the signal's `reasons`.
        """
        return self._intent(
            Side.BUY, mint, reason, size_sol, size_lamports, evidence, venue, max_slippage_bps, ttl_ms
        )

    def sell(
        self,
        mint: str,
        *,
        reason: str | Sequence[str],
        size_sol: Decimal | None = None,
        size_lamports: int | None = None,
        evidence: Mapping[str, EvidenceValue] | None = None,
        venue: Venue | None = None,
        max_slippage_bps: int | None = None,
        ttl_ms: int | None = None,
    ) -> TradeIntent:
        """Build (not send) a sell intent; the size is the SOL value to sell at the current price."""
        return self._intent(
            Side.SELL, mint, reason, size_sol, size_lamports, evidence, venue, max_slippage_bps, ttl_ms
        )

    def _intent(
        self,
        side: Side,
        mint: str,
        reason: str | Sequence[str],
        size_sol: Decimal | None,
        size_lamports: int | None,
        evidence: Mapping[str, EvidenceValue] | None,
        venue: Venue | None,
        max_slippage_bps: int | None,
        ttl_ms: int | None,
    ) -> TradeIntent:
        cls = type(self._signal)
        mint_value: object = mint
        if not isinstance(mint_value, str) or not mint_value:
            raise IntentError("mint must be a non-empty string")
        reasons = (reason,) if isinstance(reason, str) else tuple(reason)
        if not reasons:
            raise IntentError("an intent needs at least one reason code")
        unknown = [r for r in reasons if r not in cls.reasons]
        if unknown:
            raise IntentError(
                f"{cls.id}: reason codes {unknown} are not declared (declared: {list(cls.reasons)})"
            )
        if len(set(reasons)) != len(reasons):
            raise IntentError(f"{cls.id}: duplicate reason codes {list(reasons)}")
        if (size_sol is None) == (size_lamports is None):
            raise IntentError("give exactly one of size_sol and size_lamports")
        if size_sol is not None:
            try:
                amount = lamports(size_sol)
            except (TypeError, ValueError) as e:
                raise IntentError(str(e)) from None
        else:
            if not is_int(size_lamports):
                raise IntentError("size_lamports must be an int")
            amount = typing.cast(int, size_lamports)
        if amount <= 0:
            raise IntentError(f"size must be positive, got {amount} lamports")
        slippage = cls.default_max_slippage_bps if max_slippage_bps is None else max_slippage_bps
        if not is_int(slippage) or not 1 <= slippage <= _MAX_SLIPPAGE_BPS:
            raise IntentError(f"max_slippage_bps must be an int in 1..{_MAX_SLIPPAGE_BPS}, got {slippage!r}")
        ttl = cls.default_ttl_ms if ttl_ms is None else ttl_ms
        if not is_int(ttl) or ttl <= 0:
            raise IntentError(f"ttl_ms must be a positive int, got {ttl!r}")
        if venue is None:
            venue = self.history(mint).venue
        if venue is Venue.UNSPECIFIED:
            raise IntentError("an intent needs a venue (PUMP_CURVE or PUMP_AMM)")
        try:
            frozen_evidence = canonical_evidence(evidence)
        except (TypeError, ValueError) as e:
            raise IntentError(str(e)) from None
        return TradeIntent(
            intent_id="",
            signal_id=cls.id,
            signal_version=cls.version,
            params_hash=self._signal.params_hash,
            trigger=self.trigger,
            as_of=self.as_of,
            mint=mint,
            venue=venue,
            side=side,
            size_lamports=amount,
            max_slippage_bps=slippage,
            ttl_ms=ttl,
            reasons=reasons,
            evidence=frozen_evidence,
        )
