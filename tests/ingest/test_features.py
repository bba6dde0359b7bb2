"""features_1m aggregation is exact and depends on the set of trades, not their arrival order."""

from __future__ import annotations

import random
from decimal import Decimal

from executor.features import Aggregator, Bucket, BucketTrade, minute_of, price_sol

MINT = "Mint111111111111111111111111111111111111111"


def trade(
    n: int, trader: str, is_buy: bool, sol: int, slot: int | None = None, price: str | None = None
) -> BucketTrade:
    return BucketTrade(
        signature=f"sig{n:04d}",
        event_index=0,
        slot=slot if slot is not None else 1000 + n,
        event_time=1_780_000_000 + n,
        trader=trader,
        is_buy=is_buy,
        sol_amount=sol,
        price=Decimal(price) if price else None,
    )


def bucket_of(trades: list[BucketTrade]) -> Bucket:
    b = Bucket(MINT, 1_780_000_000, "PUMP_CURVE")
    for t in trades:
        b.add(t)
    return b


def test_bucket_values_match_a_hand_computation() -> None:
    trades = [
        trade(0, "alice", True, 1_000_000_000, price="0.000000030000000000"),
        trade(1, "bob", True, 3_000_000_000, price="0.000000031000000000"),
        trade(2, "alice", False, 500_000_000, price="0.000000029000000000"),
    ]
    row = bucket_of(trades).row(final=True)
    assert (row.trades, row.buys, row.sells) == (3, 2, 1)
    assert (row.uniq_signers, row.uniq_buyers, row.uniq_sellers) == (2, 2, 1)
    assert (row.buy_sol, row.sell_sol, row.net_inflow_sol) == (4_000_000_000, 500_000_000, 3_500_000_000)
    assert row.avg_trade_sol == Decimal("1500000000.000000")
    # population stddev of (1e9, 3e9, 0.5e9): sqrt(((−0.5)^2 + 1.5^2 + 1^2)/3) e9 = sqrt(3.5/3) e9
    assert row.trade_sol_stddev == Decimal("1080123449.734643")
    assert row.whale_share_top5 == Decimal("1.000000000")
    assert (row.price_open, row.price_close) == (
        Decimal("0.000000030000000000"),
        Decimal("0.000000029000000000"),
    )
    assert (row.price_high, row.price_low) == (
        Decimal("0.000000031000000000"),
        Decimal("0.000000029000000000"),
    )
    assert (row.first_slot, row.last_slot) == (1000, 1002)


def test_whale_share_counts_only_the_five_largest_wallets() -> None:
    trades = [trade(i, f"w{i}", True, (i + 1) * 100) for i in range(7)]
    row = bucket_of(trades).row(final=True)
    # volumes 100..700, total 2800, top five 300..700 = 2500
    assert row.whale_share_top5 == Decimal("0.892857143")


def test_any_arrival_order_and_duplicates_give_the_same_row() -> None:
    rng = random.Random(7)
    trades = [
        trade(
            n,
            f"w{rng.randrange(12)}",
            rng.random() < 0.6,
            rng.randrange(1, 10**10),
            price=f"0.0000000{rng.randrange(10, 99)}",
        )
        for n in range(200)
    ]
    expected = bucket_of(trades).row(final=True)
    for _ in range(5):
        shuffled = trades + rng.sample(trades, 30)  # second carriers of some trades
        rng.shuffle(shuffled)
        assert bucket_of(shuffled).row(final=True) == expected


def test_price_is_sol_per_whole_token_at_18_places() -> None:
    # 30 SOL of virtual reserves over 1,073,000,000 tokens: the initial pump.fun price
    assert price_sol(30_000_000_000, 1_073_000_000_000_000) == Decimal("0.000000027958993476")
    assert price_sol(1, 0) is None


def test_a_bucket_closes_once_the_watermark_passes_its_end_plus_lateness() -> None:
    agg = Aggregator(lateness_s=30)
    start = 1_780_000_020 - 1_780_000_020 % 60
    agg.add(MINT, "PUMP_CURVE", start + 5, trade(1, "a", True, 10))
    agg.advance(start + 60 + 29)
    assert agg.close_due() == []
    agg.advance(start + 60 + 30)
    [closed] = agg.close_due()
    assert closed.minute == start
    assert agg.is_late(minute_of(start + 5))
    assert not agg.is_late(start + 60)
