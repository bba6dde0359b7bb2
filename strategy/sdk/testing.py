"""Testing kit for signal authors: event builders and a pure in-memory run.

::

    from decimal import Decimal
    from strategy.sdk.testing import make_buckets_from_inflows, run_signal

    events = make_buckets_from_inflows("PEPE", ["0.1", "0.2", "1.5", "4"])
    result = run_signal(MySignal, {"min_inflow_sol": "1"}, events)
    assert [i.reasons for i in result.intents] == [("BIG_INFLOW",), ("BIG_INFLOW",)]

`run_signal` drives the very `SignalRunner` the live and replay drivers use, so what passes here
behaves the same against the executor. Builders fill every field with consistent, realistic
values; override any of them by keyword. Mints are given as labels and turned into valid base58
public keys (`mint_address`), because the executor refuses intents on malformed mints.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, TypeVar

from solders.pubkey import Pubkey

from strategy.sdk._ctx import SignalNote
from strategy.sdk._decimal import DECIMAL_CONTEXT, lamports
from strategy.sdk._events import (
    ChainRef,
    CurveSnapshot,
    FeatureBucket,
    RiskFlag,
    Severity,
    StreamEvent,
    TokenLaunched,
    TradeObserved,
    Venue,
)
from strategy.sdk._intent import TradeIntent, fingerprint
from strategy.sdk._params import Params
from strategy.sdk._signal import Signal

__all__ = [
    "T0",
    "RunResult",
    "StreamBuilder",
    "make_bucket",
    "make_buckets_from_inflows",
    "mint_address",
    "resequence",
    "run_signal",
    "run_signals",
]

#: Default start of synthetic time: a minute-aligned unix timestamp (2024-01-01T00:00:00Z).
T0: Final = 1_704_067_200
_DEFAULT_PRICE: Final = Decimal("0.000000028")
_SLOTS_PER_MINUTE: Final = 150
E = TypeVar("E", bound=StreamEvent)


def mint_address(label: str) -> str:
    """A valid base58 public key derived from `label` (already-valid keys pass through unchanged)."""
    try:
        return str(Pubkey.from_string(label))
    except ValueError:
        return str(Pubkey(hashlib.sha256(label.encode()).digest()))


def _signature(label: str) -> str:
    # A 64-byte base58 string shaped like a transaction signature.
    digest = hashlib.sha512(label.encode()).digest()
    return str(Pubkey(digest[:32])) + str(Pubkey(digest[32:]))


def _slot(unix: int) -> int:
    return unix * _SLOTS_PER_MINUTE // 60


def _sol(value: Decimal | int | str) -> int:
    return lamports(Decimal(value) if isinstance(value, str) else value)


def make_bucket(
    mint: str,
    minute_start: int,
    *,
    seq: int = 0,
    net_inflow_sol: Decimal | int | str = 0,
    uniq_buyers: int | None = None,
    price_close: Decimal | str | None = None,
    **overrides: Any,
) -> FeatureBucket:
    """One consistent `FeatureBucket`; `mint` may be a label, SOL amounts are in SOL (not lamports).

    Derived defaults: buys/sells and buy_sol/sell_sol add up to `net_inflow_sol`, prices default
    to a flat curve price. Any field can be overridden by keyword (lamports for `*_sol` fields).
    """
    net = _sol(net_inflow_sol)
    base_sell = lamports(Decimal("0.5"))
    buy_sol = base_sell + max(net, 0)
    sell_sol = base_sell + max(-net, 0)
    buyers = uniq_buyers if uniq_buyers is not None else 3
    buys, sells = max(buyers, 1), 2
    close = Decimal(price_close) if price_close is not None else _DEFAULT_PRICE
    trades = buys + sells
    fields: dict[str, Any] = {
        "seq": seq,
        "mint": mint_address(mint),
        "venue": Venue.PUMP_CURVE,
        "minute_start": minute_start,
        "closes_at": minute_start + 60,
        "trades": trades,
        "buys": buys,
        "sells": sells,
        "uniq_signers": buyers + 1,
        "uniq_buyers": buyers,
        "uniq_sellers": 1,
        "buy_sol": buy_sol,
        "sell_sol": sell_sol,
        "net_inflow_sol": buy_sol - sell_sol,
        "avg_trade_sol": DECIMAL_CONTEXT.divide(Decimal(buy_sol + sell_sol), Decimal(trades)),
        "trade_sol_stddev": Decimal(0),
        "whale_share_top5": Decimal(1),
        "price_open": close,
        "price_high": close,
        "price_low": close,
        "price_close": close,
        "first_slot": _slot(minute_start),
        "last_slot": _slot(minute_start + 59),
        "bucket_version": 1,
    }
    unknown = set(overrides) - set(fields)
    if unknown:
        raise TypeError(f"make_bucket: unknown fields {sorted(unknown)}")
    fields.update(overrides)
    return FeatureBucket(**fields)


def make_buckets_from_inflows(
    mint: str,
    inflows_sol: Sequence[Decimal | int | str],
    *,
    start_seq: int = 1,
    start_minute: int = T0,
    buyers: Sequence[int] | None = None,
    prices: Sequence[Decimal | str] | None = None,
) -> list[FeatureBucket]:
    """Consecutive one-minute buckets of one mint from per-minute net inflows (SOL), seqs ascending.

    `buyers` and `prices` (same length) set `uniq_buyers` and `price_close` per minute.
    """
    for name, extra in (("buyers", buyers), ("prices", prices)):
        if extra is not None and len(extra) != len(inflows_sol):
            raise ValueError(f"{name} has {len(extra)} values for {len(inflows_sol)} inflows")
    return [
        make_bucket(
            mint,
            start_minute + 60 * i,
            seq=start_seq + i,
            net_inflow_sol=inflow,
            uniq_buyers=buyers[i] if buyers is not None else None,
            price_close=prices[i] if prices is not None else None,
        )
        for i, inflow in enumerate(inflows_sol)
    ]


def resequence(events: Iterable[E], *, start: int = 1) -> list[E]:
    """The same events, in the given order, renumbered `start, start+1, ...` (gap-free)."""
    return [dataclasses.replace(e, seq=start + i) for i, e in enumerate(events)]


class StreamBuilder:
    """Builds a gap-free event stream in the order you add events (seq assigned as you go).

    ::

        s = StreamBuilder()
        s.launch("PEPE")
        s.bucket("PEPE", minute=0, net_inflow_sol="1.2", uniq_buyers=6)
        s.risk_flag("PEPE", "CREATOR_DUMP", Severity.HIGH)
        events = s.events
    """

    def __init__(self, *, start_seq: int = 1, start_time: int = T0) -> None:
        self.events: list[StreamEvent] = []
        self._next_seq = start_seq
        self.start_time = start_time

    def _seq(self) -> int:
        seq = self._next_seq
        self._next_seq += 1
        return seq

    def _chain(self, at: int, label: str) -> ChainRef:
        return ChainRef(
            slot=_slot(at),
            signature=_signature(f"{label}:{self._next_seq}"),
            block_time=at,
            event_time=at,
            event_index=0,
        )

    def add(self, event: StreamEvent) -> StreamEvent:
        """Append a prebuilt event, renumbered to the next seq."""
        renumbered = dataclasses.replace(event, seq=self._seq())
        self.events.append(renumbered)
        return renumbered

    def bucket(self, mint: str, minute: int, **fields: Any) -> FeatureBucket:
        """A bucket for minute number `minute` after `start_time` (see `make_bucket` for fields)."""
        b = make_bucket(mint, self.start_time + 60 * minute, seq=self._seq(), **fields)
        self.events.append(b)
        return b

    def launch(self, mint: str, *, at: int = 0) -> TokenLaunched:
        """A `TokenLaunched` at `start_time + at` seconds."""
        when = self.start_time + at
        address = mint_address(mint)
        event = TokenLaunched(
            seq=self._seq(),
            chain=self._chain(when, f"launch:{address}"),
            mint=address,
            bonding_curve=mint_address(f"curve:{address}"),
            creator=mint_address(f"creator:{address}"),
            user=mint_address(f"creator:{address}"),
            name=mint,
            symbol=mint[:6].upper(),
            uri=f"https://example.invalid/{mint}.json",
            is_mayhem_mode=False,
            virtual_token_reserves=1_073_000_000_000_000,
            virtual_sol_reserves=30_000_000_000,
            real_token_reserves=793_100_000_000_000,
            token_total_supply=1_000_000_000_000_000,
        )
        self.events.append(event)
        return event

    def trade(
        self,
        mint: str,
        *,
        at: int = 0,
        is_buy: bool = True,
        sol: Decimal | str = "0.5",
        price: Decimal | str | None = None,
    ) -> TradeObserved:
        """A curve trade of `sol` SOL at `start_time + at` seconds."""
        when = self.start_time + at
        address = mint_address(mint)
        amount = _sol(sol)
        event = TradeObserved(
            seq=self._seq(),
            chain=self._chain(when, f"trade:{address}"),
            venue=Venue.PUMP_CURVE,
            mint=address,
            user=mint_address(f"user:{self._next_seq}"),
            is_buy=is_buy,
            sol_amount=amount,
            token_amount=amount * 30,
            virtual_sol_reserves=30_000_000_000,
            virtual_token_reserves=1_073_000_000_000_000,
            real_sol_reserves=0,
            real_token_reserves=793_100_000_000_000,
            fee=amount // 100,
            fee_bps=95,
            creator_fee=amount // 200,
            creator_fee_bps=5,
            creator=mint_address(f"creator:{address}"),
            pool="",
            user_sol_amount=amount + amount // 100,
            price_sol=Decimal(price) if price is not None else _DEFAULT_PRICE,
        )
        self.events.append(event)
        return event

    def curve(
        self, mint: str, *, at: int = 0, price: Decimal | str | None = None, complete: bool = False
    ) -> CurveSnapshot:
        """A curve snapshot at `start_time + at` seconds."""
        when = self.start_time + at
        address = mint_address(mint)
        event = CurveSnapshot(
            seq=self._seq(),
            chain=self._chain(when, f"curve:{address}"),
            mint=address,
            bonding_curve=mint_address(f"curve:{address}"),
            virtual_token_reserves=1_073_000_000_000_000,
            virtual_sol_reserves=30_000_000_000,
            real_token_reserves=793_100_000_000_000,
            real_sol_reserves=0,
            token_total_supply=1_000_000_000_000_000,
            complete=complete,
            price_sol=Decimal(price) if price is not None else _DEFAULT_PRICE,
            sold_pct=Decimal(0),
            origin="account",
        )
        self.events.append(event)
        return event

    def risk_flag(
        self, mint: str, flag: str, severity: Severity = Severity.HIGH, *, active: bool = True, at: int = 0
    ) -> RiskFlag:
        """A risk flag raised (or, with `active=False`, cleared) at `start_time + at` seconds."""
        when = self.start_time + at
        address = mint_address(mint)
        event = RiskFlag(
            seq=self._seq(),
            chain=self._chain(when, f"flag:{address}:{flag}"),
            mint=address,
            flag=flag,
            severity=severity,
            active=active,
        )
        self.events.append(event)
        return event


@dataclass(frozen=True, slots=True)
class RunResult:
    """Outcome of an in-memory run."""

    intents: tuple[TradeIntent, ...]
    #: Faults as `runner.SignalFault` values (typed loosely to keep the SDK free of the runner).
    faults: tuple[Any, ...]
    notes: tuple[tuple[str, SignalNote], ...]
    warmup_dropped: int

    @property
    def fingerprint(self) -> str:
        """sha256 over the canonical intents, in order."""
        return fingerprint(self.intents)

    def reasons(self) -> list[tuple[str, ...]]:
        """The reason tuple of every intent, in order."""
        return [i.reasons for i in self.intents]


def run_signals(
    signals: Mapping[str, Signal[Any]] | Sequence[Signal[Any]], events: Iterable[StreamEvent]
) -> RunResult:
    """Run several signals over `events` with the production runner; collect everything."""
    from strategy.runner import SignalRunner  # the runner imports the SDK, so import it lazily

    runner = SignalRunner(signals)
    intents: list[TradeIntent] = []
    faults: list[Any] = []
    notes: list[tuple[str, SignalNote]] = []
    dropped = 0
    for event in events:
        step = runner.step(event)
        intents.extend(step.intents)
        faults.extend(step.faults)
        notes.extend(step.notes)
        dropped += step.warmup_dropped
    return RunResult(tuple(intents), tuple(faults), tuple(notes), dropped)


def run_signal(
    signal: type[Signal[Any]] | Signal[Any],
    params: Params | Mapping[str, object] | None = None,
    events: Iterable[StreamEvent] = (),
) -> RunResult:
    """Run one signal (a class plus params, or an instance) over `events`.

    `params` may be a `Params` instance, a mapping of raw values (validated like a config file),
    or None for the defaults.
    """
    if isinstance(signal, Signal):
        if params is not None:
            raise TypeError("run_signal: pass params with the class, not with an instance")
        instance = signal
    elif params is None or isinstance(params, Params):
        instance = signal(params)
    else:
        instance = signal.from_mapping(params)
    return run_signals([instance], events)
