"""1-minute flow features: exact, order-independent aggregation of trades per (mint, minute, venue).

Pure: no I/O. Live ingest and replay feed the same `Bucket`s; a bucket's row is a function of the
*set* of trades in it (keyed by (signature, event_index)), never of the order they arrived in, so the
same trades in any arrival order give identical rows. Money stays in lamports (ints); the ratios use
one decimal context and are quantized to the scale of their Postgres column.

Finality: a bucket [m, m+60) is final once the event-time watermark (the newest event time seen)
passes m + 60 + the allowed lateness. A trade for a final bucket re-opens it; ingest re-emits it.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass, field
from decimal import Decimal

MINUTE = 60
# One context for every ratio computed here: enough digits that quantizing is the only rounding.
CONTEXT = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_EVEN)
SCALE_LAMPORTS = Decimal("0.000001")  # avg_trade_sol, trade_sol_stddev: numeric(38, 6)
SCALE_SHARE = Decimal("0.000000001")  # whale_share_top5: numeric(12, 9)
SCALE_PRICE = Decimal("0.000000000000000001")  # prices: numeric(38, 18)
TOP_WALLETS = 5
LAMPORTS_PER_SOL = 10**9
TOKEN_UNITS = 10**6  # pump coins have 6 decimals


def minute_of(event_time: int) -> int:
    return event_time - event_time % MINUTE


def quantize(value: Decimal, scale: Decimal) -> Decimal:
    return value.quantize(scale, context=CONTEXT)


def price_sol(quote_lamports: int, token_units: int) -> Decimal | None:
    """SOL per whole token from a lamport amount and a token base-unit amount (6 decimals)."""
    if token_units <= 0 or quote_lamports < 0:
        return None
    ratio = CONTEXT.divide(Decimal(quote_lamports * TOKEN_UNITS), Decimal(token_units * LAMPORTS_PER_SOL))
    return quantize(ratio, SCALE_PRICE)


@dataclass(frozen=True, slots=True)
class BucketTrade:
    """What a bucket needs of one trade. `order` is the canonical key (slot, signature, event_index)."""

    signature: str
    event_index: int
    slot: int
    event_time: int
    trader: str
    is_buy: bool
    sol_amount: int
    price: Decimal | None

    @property
    def key(self) -> tuple[str, int]:
        return (self.signature, self.event_index)

    @property
    def order(self) -> tuple[int, str, int]:
        return (self.slot, self.signature, self.event_index)


@dataclass(frozen=True, slots=True)
class FeatureRow:
    mint: str
    minute: int
    venue: str
    trades: int
    buys: int
    sells: int
    uniq_signers: int
    uniq_buyers: int
    uniq_sellers: int
    buy_sol: int
    sell_sol: int
    net_inflow_sol: int
    avg_trade_sol: Decimal
    trade_sol_stddev: Decimal
    whale_share_top5: Decimal
    price_open: Decimal | None
    price_high: Decimal | None
    price_low: Decimal | None
    price_close: Decimal | None
    first_slot: int
    last_slot: int
    final: bool


def sqrt_exact_ratio(numerator: int, denominator: int) -> Decimal:
    """sqrt(numerator / denominator) in CONTEXT, from integers."""
    return CONTEXT.sqrt(CONTEXT.divide(Decimal(numerator), Decimal(denominator)))


@dataclass(slots=True)
class Bucket:
    mint: str
    minute: int
    venue: str
    trades: dict[tuple[str, int], BucketTrade] = field(default_factory=dict)

    def add(self, trade: BucketTrade) -> bool:
        """Add a trade; False when it was already counted (a second carrier of the same event)."""
        if trade.key in self.trades:
            return False
        self.trades[trade.key] = trade
        return True

    def row(self, final: bool) -> FeatureRow:
        trades = sorted(self.trades.values(), key=lambda t: t.order)
        if not trades:
            raise ValueError("an empty bucket has no row")
        buys = [t for t in trades if t.is_buy]
        sells = [t for t in trades if not t.is_buy]
        buy_sol = sum(t.sol_amount for t in buys)
        sell_sol = sum(t.sol_amount for t in sells)
        n = len(trades)
        volume = buy_sol + sell_sol
        square_sum = sum(t.sol_amount * t.sol_amount for t in trades)
        # Population variance as an exact fraction: (n*sum(x^2) - sum(x)^2) / n^2.
        variance_num = n * square_sum - volume * volume
        by_wallet: dict[str, int] = {}
        for t in trades:
            by_wallet[t.trader] = by_wallet.get(t.trader, 0) + t.sol_amount
        top = sum(sorted(by_wallet.values(), reverse=True)[:TOP_WALLETS])
        prices = [t.price for t in trades if t.price is not None]
        return FeatureRow(
            mint=self.mint,
            minute=self.minute,
            venue=self.venue,
            trades=n,
            buys=len(buys),
            sells=len(sells),
            uniq_signers=len(by_wallet),
            uniq_buyers=len({t.trader for t in buys}),
            uniq_sellers=len({t.trader for t in sells}),
            buy_sol=buy_sol,
            sell_sol=sell_sol,
            net_inflow_sol=buy_sol - sell_sol,
            avg_trade_sol=quantize(CONTEXT.divide(Decimal(volume), Decimal(n)), SCALE_LAMPORTS),
            trade_sol_stddev=quantize(sqrt_exact_ratio(variance_num, n * n), SCALE_LAMPORTS),
            whale_share_top5=(
                quantize(CONTEXT.divide(Decimal(top), Decimal(volume)), SCALE_SHARE) if volume else Decimal(0)
            ),
            price_open=prices[0] if prices else None,
            price_high=max(prices) if prices else None,
            price_low=min(prices) if prices else None,
            price_close=prices[-1] if prices else None,
            first_slot=trades[0].slot,
            last_slot=trades[-1].slot,
            final=final,
        )


@dataclass(slots=True)
class Aggregator:
    """Open buckets plus the event-time watermark that closes them.

    `add` returns the bucket key the trade landed in when it was new. `close_due` pops the buckets
    that became final; a trade for a bucket that is no longer open is reported by `add` as late and
    the caller rebuilds that bucket from storage (the trades table is the authority).
    """

    lateness_s: int
    watermark: int = 0
    open: dict[tuple[str, int, str], Bucket] = field(default_factory=dict)
    closed_through: int = -1  # minutes <= this were closed; a trade there is late

    def is_late(self, minute: int) -> bool:
        return minute <= self.closed_through

    def add(self, mint: str, venue: str, event_time: int, trade: BucketTrade) -> tuple[str, int, str] | None:
        key = (mint, minute_of(event_time), venue)
        bucket = self.open.get(key)
        if bucket is None:
            bucket = self.open[key] = Bucket(mint, key[1], venue)
        return key if bucket.add(trade) else None

    def advance(self, event_time: int) -> None:
        self.watermark = max(self.watermark, event_time)

    def final_minute(self) -> int:
        """The newest minute start whose bucket is final at the current watermark."""
        return minute_of(self.watermark - self.lateness_s) - MINUTE

    def close_due(self) -> list[Bucket]:
        limit = self.final_minute()
        due = [b for key, b in self.open.items() if key[1] <= limit]
        for b in due:
            del self.open[(b.mint, b.minute, b.venue)]
        self.closed_through = max(self.closed_through, limit)
        return sorted(due, key=lambda b: (b.minute, b.mint, b.venue))
