"""From decoded records to the rows of the derived tables: one code path for live ingest and replay.

Pure: no I/O. Given a DecodedTx and what is known about PumpSwap pools, `derive` returns trade rows,
curve/AMM snapshot rows and the token facts the transaction carries. Every value is a function of
the transaction (plus the pool directory, which only ever grows), so the same raw data gives the same
rows whichever driver runs it and in whatever order the transactions arrive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from executor.decode import AmmPoolCreated, AmmTrade, CurveComplete, CurveTrade, DecodedTx, Launch, Migration
from executor.features import CONTEXT, BucketTrade, price_sol, quantize

WSOL = "So11111111111111111111111111111111111111112"
ZERO_KEY = "11111111111111111111111111111111"
CURVE = "PUMP_CURVE"
AMM = "PUMP_AMM"
# A trade decoded from a better carrier replaces the stored one (same values, more context).
SOURCE_RANK = {"balance_delta": 0, "logs": 1, "cpi": 2}
# Standard bonding-curve constants (pump-protocol notes §7); sold_pct is relative to them.
INITIAL_VIRTUAL_TOKENS = 1_073_000_000_000_000
INITIAL_REAL_TOKENS = 793_100_000_000_000
SCALE_PCT = Decimal("0.000001")
I64_MAX = 2**63 - 1


def sol_quote(quote_mint: str | None) -> str | None:
    """None when the quote is SOL (zero key or WSOL), else the quote mint."""
    return None if quote_mint in (None, ZERO_KEY, WSOL) else quote_mint


def event_time_of(timestamp: int | None, block_time: int | None) -> int | None:
    """The event's own on-chain time (in the log line already), else the block time."""
    if timestamp is not None and timestamp > 0:
        return timestamp
    return block_time


def sold_pct(virtual_token_reserves: int) -> Decimal:
    sold = min(max(INITIAL_VIRTUAL_TOKENS - virtual_token_reserves, 0), INITIAL_REAL_TOKENS)
    return quantize(CONTEXT.divide(Decimal(sold * 100), Decimal(INITIAL_REAL_TOKENS)), SCALE_PCT)


@dataclass(frozen=True, slots=True)
class TradeRow:
    signature: str
    event_index: int
    slot: int
    block_time: int | None
    event_time: int
    venue: str
    mint: str | None
    pool: str | None
    quote_mint: str | None
    trader: str
    is_buy: bool
    sol_amount: int
    token_amount: int
    user_sol_amount: int | None
    virtual_sol_reserves: int | None
    virtual_token_reserves: int | None
    real_sol_reserves: int | None
    real_token_reserves: int | None
    fee: int | None
    fee_bps: int | None
    creator_fee: int | None
    creator_fee_bps: int | None
    creator: str | None
    ix_name: str | None
    price_sol: Decimal | None
    layout_version: str
    source: str

    @property
    def key(self) -> tuple[str, int]:
        return (self.signature, self.event_index)

    @property
    def counts_as_sol_flow(self) -> bool:
        """Trades that enter features_1m: a known mint, quoted in SOL."""
        return self.mint is not None and self.quote_mint is None

    def bucket_trade(self) -> BucketTrade:
        return BucketTrade(
            self.signature,
            self.event_index,
            self.slot,
            self.event_time,
            self.trader,
            self.is_buy,
            self.sol_amount,
            self.price_sol,
        )


@dataclass(frozen=True, slots=True)
class CurveSnapshotRow:
    mint: str
    slot: int
    signature: str
    event_index: int
    block_time: int | None
    virtual_token_reserves: int
    virtual_sol_reserves: int
    real_token_reserves: int | None
    real_sol_reserves: int | None
    complete: bool
    price_sol: Decimal
    sold_pct: Decimal


@dataclass(frozen=True, slots=True)
class AmmSnapshotRow:
    pool: str
    slot: int
    signature: str
    event_index: int
    origin: str
    base_mint: str | None
    quote_mint: str | None
    block_time: int | None
    base_reserves: int
    quote_reserves: int
    lp_supply: int | None
    price_sol: Decimal | None


@dataclass(slots=True)
class PoolDirectory:
    """PumpSwap pool -> (base mint, quote mint), learned from pool creations, migrations and trade
    instructions. It only grows; a pool learned late fixes up the trades stored without a mint."""

    pools: dict[str, tuple[str, str]] = field(default_factory=dict)

    def learn(self, pool: str, base_mint: str, quote_mint: str) -> bool:
        if pool in self.pools:
            return False
        self.pools[pool] = (base_mint, quote_mint)
        return True

    def get(self, pool: str) -> tuple[str, str] | None:
        return self.pools.get(pool)


@dataclass(slots=True)
class Derived:
    trades: list[TradeRow] = field(default_factory=list)
    curve_snapshots: list[CurveSnapshotRow] = field(default_factory=list)
    amm_snapshots: list[AmmSnapshotRow] = field(default_factory=list)
    launches: list[Launch] = field(default_factory=list)
    completes: list[CurveComplete] = field(default_factory=list)
    migrations: list[Migration] = field(default_factory=list)
    # pools learned from this transaction: (pool, base mint, quote mint)
    pools: list[tuple[str, str, str]] = field(default_factory=list)
    # records dropped because a value does not fit the schema (u64 above i64): (event_index, reason)
    rejected: list[tuple[int, str]] = field(default_factory=list)


def fits(*values: int | None) -> bool:
    return all(v is None or 0 <= v <= I64_MAX for v in values)


def curve_trade(r: CurveTrade) -> tuple[TradeRow, CurveSnapshotRow | None] | None:
    when = event_time_of(r.timestamp, r.block_time)
    if when is None:
        return None
    price = (
        price_sol(r.virtual_sol_reserves, r.virtual_token_reserves)
        if r.virtual_sol_reserves is not None and r.virtual_token_reserves is not None
        else None
    )
    user_sol = None
    if r.fee is not None and not r.cashback:
        fees = r.fee + (r.creator_fee or 0)
        user_sol = r.sol_amount + fees if r.is_buy else max(r.sol_amount - fees, 0)
    row = TradeRow(
        signature=r.signature,
        event_index=r.event_index,
        slot=r.slot,
        block_time=r.block_time,
        event_time=when,
        venue=CURVE,
        mint=r.mint,
        pool=None,
        quote_mint=sol_quote(r.quote_mint),
        trader=r.user,
        is_buy=r.is_buy,
        sol_amount=r.sol_amount,
        token_amount=r.token_amount,
        user_sol_amount=user_sol,
        virtual_sol_reserves=r.virtual_sol_reserves,
        virtual_token_reserves=r.virtual_token_reserves,
        real_sol_reserves=r.real_sol_reserves,
        real_token_reserves=r.real_token_reserves,
        fee=r.fee,
        fee_bps=r.fee_basis_points,
        creator_fee=r.creator_fee,
        creator_fee_bps=r.creator_fee_basis_points,
        creator=r.creator if r.creator not in (None, ZERO_KEY) else None,
        ix_name=r.ix_name,
        price_sol=price,
        layout_version=r.layout_version,
        source=r.source,
    )
    snapshot = None
    if price is not None and r.virtual_sol_reserves is not None and r.virtual_token_reserves is not None:
        complete = (
            r.real_token_reserves == 0
            if r.real_token_reserves is not None
            else r.virtual_token_reserves <= INITIAL_VIRTUAL_TOKENS - INITIAL_REAL_TOKENS
        )
        snapshot = CurveSnapshotRow(
            mint=r.mint,
            slot=r.slot,
            signature=r.signature,
            event_index=r.event_index,
            block_time=r.block_time,
            virtual_token_reserves=r.virtual_token_reserves,
            virtual_sol_reserves=r.virtual_sol_reserves,
            real_token_reserves=r.real_token_reserves,
            real_sol_reserves=r.real_sol_reserves,
            complete=complete,
            price_sol=price,
            sold_pct=sold_pct(r.virtual_token_reserves),
        )
    return row, snapshot


def amm_reserves_after(r: AmmTrade) -> tuple[int, int] | None:
    """Pool (base, quote) after the trade: the event states them before. LP fees stay in the pool."""
    base, quote = r.pool_base_token_reserves, r.pool_quote_token_reserves
    if base is None or quote is None or r.quote_amount is None:
        return None
    lp_fee = r.lp_fee or 0
    if r.is_buy:
        return base - r.base_amount, quote + r.quote_amount + lp_fee
    return base + r.base_amount, quote - r.quote_amount + lp_fee


def amm_trade(r: AmmTrade, pools: PoolDirectory) -> tuple[TradeRow, AmmSnapshotRow | None] | None:
    when = event_time_of(r.timestamp, r.block_time)
    if when is None:
        return None
    base_mint, quote_mint = r.base_mint, r.quote_mint
    if base_mint is None or quote_mint is None:
        known = pools.get(r.pool)
        if known is not None:
            base_mint, quote_mint = known
    after = amm_reserves_after(r)
    sol_quoted = quote_mint == WSOL
    price = price_sol(after[1], after[0]) if after is not None and sol_quoted else None
    row = TradeRow(
        signature=r.signature,
        event_index=r.event_index,
        slot=r.slot,
        block_time=r.block_time,
        event_time=when,
        venue=AMM,
        mint=base_mint,
        pool=r.pool,
        quote_mint=sol_quote(quote_mint) if quote_mint is not None else None,
        trader=r.user,
        is_buy=r.is_buy,
        sol_amount=r.quote_amount or 0,
        token_amount=r.base_amount,
        user_sol_amount=r.user_quote_amount,
        virtual_sol_reserves=None,
        virtual_token_reserves=None,
        real_sol_reserves=None,
        real_token_reserves=None,
        fee=r.protocol_fee,
        fee_bps=r.protocol_fee_basis_points,
        creator_fee=r.coin_creator_fee,
        creator_fee_bps=r.coin_creator_fee_basis_points,
        creator=r.coin_creator if r.coin_creator not in (None, ZERO_KEY) else None,
        ix_name=r.ix_name,
        price_sol=price,
        layout_version=r.layout_version,
        source=r.source,
    )
    snapshot = None
    if after is not None:
        snapshot = AmmSnapshotRow(
            pool=r.pool,
            slot=r.slot,
            signature=r.signature,
            event_index=r.event_index,
            origin="trade_event",
            base_mint=base_mint,
            quote_mint=quote_mint,
            block_time=r.block_time,
            base_reserves=after[0],
            quote_reserves=after[1],
            lp_supply=None,
            price_sol=price,
        )
    return row, snapshot


def pool_created(r: AmmPoolCreated) -> AmmSnapshotRow:
    return AmmSnapshotRow(
        pool=r.pool,
        slot=r.slot,
        signature=r.signature,
        event_index=r.event_index,
        origin="pool_created",
        base_mint=r.base_mint,
        quote_mint=r.quote_mint,
        block_time=r.block_time,
        base_reserves=r.pool_base_amount,
        quote_reserves=r.pool_quote_amount,
        lp_supply=r.lp_token_amount_out,
        price_sol=price_sol(r.pool_quote_amount, r.pool_base_amount) if r.quote_mint == WSOL else None,
    )


def derive(tx: DecodedTx, pools: PoolDirectory) -> Derived:
    """The derived rows of one decoded transaction. Failed transactions derive nothing."""
    out = Derived()
    if tx.failed:
        return out
    # Pools first: a migration or pool creation in this transaction names the pool its trades use.
    for r in tx.records:
        if isinstance(r, AmmPoolCreated):
            out.pools.append((r.pool, r.base_mint, r.quote_mint))
        elif isinstance(r, Migration):
            out.pools.append((r.pool, r.mint, WSOL))
        elif isinstance(r, AmmTrade) and r.base_mint is not None and r.quote_mint is not None:
            out.pools.append((r.pool, r.base_mint, r.quote_mint))
    for pool, base, quote in out.pools:
        pools.learn(pool, base, quote)
    for r in tx.records:
        if isinstance(r, CurveTrade):
            if not fits(r.sol_amount, r.token_amount, r.virtual_sol_reserves, r.virtual_token_reserves,
                        r.real_sol_reserves, r.real_token_reserves, r.fee, r.creator_fee):  # fmt: skip
                out.rejected.append((r.event_index, "value_out_of_range"))
                continue
            curve = curve_trade(r)
            if curve is None:
                out.rejected.append((r.event_index, "no_event_time"))
                continue
            out.trades.append(curve[0])
            if curve[1] is not None:
                out.curve_snapshots.append(curve[1])
        elif isinstance(r, AmmTrade):
            if not fits(r.base_amount, r.quote_amount, r.user_quote_amount, r.pool_base_token_reserves,
                        r.pool_quote_token_reserves, r.protocol_fee, r.coin_creator_fee, r.lp_fee):  # fmt: skip
                out.rejected.append((r.event_index, "value_out_of_range"))
                continue
            amm = amm_trade(r, pools)
            if amm is None:
                out.rejected.append((r.event_index, "no_event_time"))
                continue
            out.trades.append(amm[0])
            if amm[1] is not None:
                out.amm_snapshots.append(amm[1])
        elif isinstance(r, AmmPoolCreated):
            out.amm_snapshots.append(pool_created(r))
        elif isinstance(r, Launch):
            out.launches.append(r)
        elif isinstance(r, CurveComplete):
            out.completes.append(r)
        elif isinstance(r, Migration):
            out.migrations.append(r)
    return out
