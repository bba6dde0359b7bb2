"""Derived rows and decoded records as pumpflow.v1 stream events. Pure: no I/O."""

from __future__ import annotations

from decimal import Decimal

from executor.decode import CurveComplete, Launch, Migration
from executor.features import MINUTE, FeatureRow
from executor.ingest.derive import AmmSnapshotRow, CurveSnapshotRow, TradeRow
from executor.risk import Flag
from pumpflow.v1 import executor_pb2 as pb

SOURCES = {
    "logs": pb.DECODE_SOURCE_LOGS,
    "cpi": pb.DECODE_SOURCE_CPI,
    "balance_delta": pb.DECODE_SOURCE_BALANCE_DELTA,
}
VENUES = {"PUMP_CURVE": pb.VENUE_PUMP_CURVE, "PUMP_AMM": pb.VENUE_PUMP_AMM}
SEVERITIES = {"LOW": pb.SEVERITY_LOW, "MEDIUM": pb.SEVERITY_MEDIUM, "HIGH": pb.SEVERITY_HIGH}


def dec(value: Decimal | None) -> str:
    """Exact decimal text, never in exponent notation; empty when unknown."""
    return "" if value is None else format(value, "f")


def chain(
    slot: int, signature: str, block_time: int | None, event_time: int | None, event_index: int
) -> pb.ChainRef:
    return pb.ChainRef(
        slot=slot,
        signature=signature,
        block_time=block_time or 0,
        event_time=event_time or block_time or 0,
        event_index=event_index,
    )


def trade_observed(row: TradeRow) -> pb.Event:
    return pb.Event(
        trade_observed=pb.TradeObserved(
            chain=chain(row.slot, row.signature, row.block_time, row.event_time, row.event_index),
            venue=VENUES[row.venue],
            mint=row.mint or "",
            user=row.trader,
            is_buy=row.is_buy,
            sol_amount=row.sol_amount,
            token_amount=row.token_amount,
            virtual_sol_reserves=row.virtual_sol_reserves or 0,
            virtual_token_reserves=row.virtual_token_reserves or 0,
            real_sol_reserves=row.real_sol_reserves or 0,
            real_token_reserves=row.real_token_reserves or 0,
            fee=row.fee or 0,
            fee_bps=row.fee_bps or 0,
            creator_fee=row.creator_fee or 0,
            creator_fee_bps=row.creator_fee_bps or 0,
            creator=row.creator or "",
            pool=row.pool or "",
            ix_name=row.ix_name or "",
            layout_version=row.layout_version,
            source=SOURCES[row.source],
            user_sol_amount=row.user_sol_amount or 0,
            price_sol=dec(row.price_sol),
        )
    )


def token_launched(r: Launch) -> pb.Event:
    return pb.Event(
        token_launched=pb.TokenLaunched(
            chain=chain(r.slot, r.signature, r.block_time, r.timestamp, r.event_index),
            mint=r.mint,
            bonding_curve=r.bonding_curve,
            creator=r.creator or r.user,
            user=r.user,
            name=r.name,
            symbol=r.symbol,
            uri=r.uri,
            token_program=r.token_program or "",
            is_mayhem_mode=bool(r.is_mayhem_mode),
            virtual_token_reserves=r.virtual_token_reserves or 0,
            virtual_sol_reserves=r.virtual_sol_reserves or 0,
            real_token_reserves=r.real_token_reserves or 0,
            token_total_supply=r.token_total_supply or 0,
            ix_name=r.ix_name or "",
            layout_version=r.layout_version,
            source=SOURCES[r.source],
        )
    )


def curve_completed(r: CurveComplete) -> pb.Event:
    return pb.Event(
        curve_completed=pb.CurveCompleted(
            chain=chain(r.slot, r.signature, r.block_time, r.timestamp, r.event_index),
            mint=r.mint,
            bonding_curve=r.bonding_curve,
            user=r.user,
        )
    )


def token_migrated(r: Migration) -> pb.Event:
    return pb.Event(
        token_migrated=pb.TokenMigrated(
            chain=chain(r.slot, r.signature, r.block_time, r.timestamp, r.event_index),
            mint=r.mint,
            pool=r.pool,
            mint_amount=r.mint_amount,
            sol_amount=r.sol_amount,
            pool_migration_fee=r.pool_migration_fee,
            bonding_curve=r.bonding_curve,
            user=r.user,
        )
    )


def curve_snapshot(row: CurveSnapshotRow, event_time: int) -> pb.Event:
    return pb.Event(
        curve_snapshot=pb.CurveSnapshot(
            chain=chain(row.slot, row.signature, row.block_time, event_time, row.event_index),
            mint=row.mint,
            virtual_token_reserves=row.virtual_token_reserves,
            virtual_sol_reserves=row.virtual_sol_reserves,
            real_token_reserves=row.real_token_reserves or 0,
            real_sol_reserves=row.real_sol_reserves or 0,
            complete=row.complete,
            price_sol=dec(row.price_sol),
            sold_pct=dec(row.sold_pct),
            origin="trade_event",
        )
    )


def amm_snapshot(row: AmmSnapshotRow, event_time: int | None) -> pb.Event:
    return pb.Event(
        amm_snapshot=pb.AmmSnapshot(
            chain=chain(row.slot, row.signature, row.block_time, event_time, row.event_index),
            pool=row.pool,
            base_mint=row.base_mint or "",
            quote_mint=row.quote_mint or "",
            base_reserves=row.base_reserves,
            quote_reserves=row.quote_reserves,
            lp_supply=row.lp_supply or 0,
            price_sol=dec(row.price_sol),
            origin=row.origin,
        )
    )


def feature_bucket(row: FeatureRow, version: int) -> pb.Event:
    return pb.Event(
        feature_bucket=pb.FeatureBucket(
            mint=row.mint,
            venue=VENUES[row.venue],
            minute_start=row.minute,
            closes_at=row.minute + MINUTE,
            trades=row.trades,
            buys=row.buys,
            sells=row.sells,
            uniq_signers=row.uniq_signers,
            uniq_buyers=row.uniq_buyers,
            uniq_sellers=row.uniq_sellers,
            buy_sol=row.buy_sol,
            sell_sol=row.sell_sol,
            net_inflow_sol=row.net_inflow_sol,
            avg_trade_sol=dec(row.avg_trade_sol),
            trade_sol_stddev=dec(row.trade_sol_stddev),
            whale_share_top5=dec(row.whale_share_top5),
            price_open=dec(row.price_open),
            price_high=dec(row.price_high),
            price_low=dec(row.price_low),
            price_close=dec(row.price_close),
            first_slot=row.first_slot,
            last_slot=row.last_slot,
            bucket_version=version,
        )
    )


def risk_flag(flag: Flag) -> pb.Event:
    return pb.Event(
        risk_flag=pb.RiskFlagEvent(
            chain=chain(flag.slot, flag.signature, None, flag.event_time, flag.event_index),
            mint=flag.mint,
            flag=flag.flag,
            severity=SEVERITIES[flag.severity],
            active=flag.active,
            details=dict(flag.details),
        )
    )
