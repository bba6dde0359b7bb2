"""Pure conversion between `pumpflow.v1` protobuf messages and the SDK's value objects.

`event_from_pb` turns a stream `Event` into an SDK event (None for heartbeats and AMM snapshots,
which signals do not see); `event_to_pb` is its inverse (used to build stored streams in tests);
`intent_to_pb` / `intent_from_pb` map `TradeIntent` to the wire message `SubmitIntent` takes.
Malformed values (a non-decimal price string, an unknown enum) raise `ValueError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Final

from pumpflow.v1 import executor_pb2 as pb
from strategy.sdk import (
    ChainRef,
    CurveCompleted,
    CurveSnapshot,
    FeatureBucket,
    RiskFlag,
    Severity,
    Side,
    StreamEvent,
    TokenLaunched,
    TokenMigrated,
    TradeIntent,
    TradeObserved,
    Venue,
    canonical_decimal,
    parse_decimal,
)

__all__ = ["event_from_pb", "event_to_pb", "intent_from_pb", "intent_to_pb"]

_VENUE_FROM_PB: Final = {
    pb.VENUE_UNSPECIFIED: Venue.UNSPECIFIED,
    pb.VENUE_PUMP_CURVE: Venue.PUMP_CURVE,
    pb.VENUE_PUMP_AMM: Venue.PUMP_AMM,
}
_VENUE_TO_PB: Final = {v: k for k, v in _VENUE_FROM_PB.items()}
_SIDE_TO_PB: Final = {Side.BUY: pb.SIDE_BUY, Side.SELL: pb.SIDE_SELL}
_SIDE_FROM_PB: Final = {v: k for k, v in _SIDE_TO_PB.items()}


def _venue(value: int) -> Venue:
    try:
        return _VENUE_FROM_PB[value]  # type: ignore[index]
    except KeyError:
        raise ValueError(f"unknown venue enum value {value}") from None


def _severity(value: int) -> Severity:
    try:
        return Severity(value)
    except ValueError:
        raise ValueError(f"unknown severity enum value {value}") from None


def _chain(ref: pb.ChainRef) -> ChainRef:
    return ChainRef(
        slot=ref.slot,
        signature=ref.signature,
        block_time=ref.block_time,
        event_time=ref.event_time,
        event_index=ref.event_index,
    )


def _chain_pb(ref: ChainRef) -> pb.ChainRef:
    return pb.ChainRef(
        slot=ref.slot,
        signature=ref.signature,
        block_time=ref.block_time,
        event_time=ref.event_time,
        event_index=ref.event_index,
    )


def _dec(value: Decimal) -> str:
    return canonical_decimal(value)


def event_from_pb(event: pb.Event) -> StreamEvent | None:
    """Convert one stream event; None for heartbeats, AMM snapshots and empty bodies."""
    seq = event.seq
    which = event.WhichOneof("body")
    if which == "feature_bucket":
        b = event.feature_bucket
        return FeatureBucket(
            seq=seq,
            mint=b.mint,
            venue=_venue(b.venue),
            minute_start=b.minute_start,
            closes_at=b.closes_at,
            trades=b.trades,
            buys=b.buys,
            sells=b.sells,
            uniq_signers=b.uniq_signers,
            uniq_buyers=b.uniq_buyers,
            uniq_sellers=b.uniq_sellers,
            buy_sol=b.buy_sol,
            sell_sol=b.sell_sol,
            net_inflow_sol=b.net_inflow_sol,
            avg_trade_sol=parse_decimal(b.avg_trade_sol, field="avg_trade_sol"),
            trade_sol_stddev=parse_decimal(b.trade_sol_stddev, field="trade_sol_stddev"),
            whale_share_top5=parse_decimal(b.whale_share_top5, field="whale_share_top5"),
            price_open=parse_decimal(b.price_open, field="price_open"),
            price_high=parse_decimal(b.price_high, field="price_high"),
            price_low=parse_decimal(b.price_low, field="price_low"),
            price_close=parse_decimal(b.price_close, field="price_close"),
            first_slot=b.first_slot,
            last_slot=b.last_slot,
            bucket_version=b.bucket_version,
        )
    if which == "trade_observed":
        t = event.trade_observed
        return TradeObserved(
            seq=seq,
            chain=_chain(t.chain),
            venue=_venue(t.venue),
            mint=t.mint,
            user=t.user,
            is_buy=t.is_buy,
            sol_amount=t.sol_amount,
            token_amount=t.token_amount,
            virtual_sol_reserves=t.virtual_sol_reserves,
            virtual_token_reserves=t.virtual_token_reserves,
            real_sol_reserves=t.real_sol_reserves,
            real_token_reserves=t.real_token_reserves,
            fee=t.fee,
            fee_bps=t.fee_bps,
            creator_fee=t.creator_fee,
            creator_fee_bps=t.creator_fee_bps,
            creator=t.creator,
            pool=t.pool,
            user_sol_amount=t.user_sol_amount,
            price_sol=parse_decimal(t.price_sol, field="price_sol"),
        )
    if which == "curve_snapshot":
        c = event.curve_snapshot
        return CurveSnapshot(
            seq=seq,
            chain=_chain(c.chain),
            mint=c.mint,
            bonding_curve=c.bonding_curve,
            virtual_token_reserves=c.virtual_token_reserves,
            virtual_sol_reserves=c.virtual_sol_reserves,
            real_token_reserves=c.real_token_reserves,
            real_sol_reserves=c.real_sol_reserves,
            token_total_supply=c.token_total_supply,
            complete=c.complete,
            price_sol=parse_decimal(c.price_sol, field="price_sol"),
            sold_pct=parse_decimal(c.sold_pct, field="sold_pct"),
            origin=c.origin,
        )
    if which == "token_launched":
        la = event.token_launched
        return TokenLaunched(
            seq=seq,
            chain=_chain(la.chain),
            mint=la.mint,
            bonding_curve=la.bonding_curve,
            creator=la.creator,
            user=la.user,
            name=la.name,
            symbol=la.symbol,
            uri=la.uri,
            is_mayhem_mode=la.is_mayhem_mode,
            virtual_token_reserves=la.virtual_token_reserves,
            virtual_sol_reserves=la.virtual_sol_reserves,
            real_token_reserves=la.real_token_reserves,
            token_total_supply=la.token_total_supply,
        )
    if which == "risk_flag":
        r = event.risk_flag
        return RiskFlag(
            seq=seq,
            chain=_chain(r.chain),
            mint=r.mint,
            flag=r.flag,
            severity=_severity(r.severity),
            active=r.active,
            details=MappingProxyType(dict(sorted(r.details.items()))),
        )
    if which == "curve_completed":
        cc = event.curve_completed
        return CurveCompleted(
            seq=seq, chain=_chain(cc.chain), mint=cc.mint, bonding_curve=cc.bonding_curve, user=cc.user
        )
    if which == "token_migrated":
        m = event.token_migrated
        return TokenMigrated(
            seq=seq,
            chain=_chain(m.chain),
            mint=m.mint,
            pool=m.pool,
            mint_amount=m.mint_amount,
            sol_amount=m.sol_amount,
            pool_migration_fee=m.pool_migration_fee,
            bonding_curve=m.bonding_curve,
            user=m.user,
        )
    return None


def event_to_pb(event: StreamEvent) -> pb.Event:
    """Convert an SDK event back to its wire form (`event_from_pb(event_to_pb(e)) == e`)."""
    match event:
        case FeatureBucket():
            return pb.Event(
                seq=event.seq,
                feature_bucket=pb.FeatureBucket(
                    mint=event.mint,
                    venue=_VENUE_TO_PB[event.venue],
                    minute_start=event.minute_start,
                    closes_at=event.closes_at,
                    trades=event.trades,
                    buys=event.buys,
                    sells=event.sells,
                    uniq_signers=event.uniq_signers,
                    uniq_buyers=event.uniq_buyers,
                    uniq_sellers=event.uniq_sellers,
                    buy_sol=event.buy_sol,
                    sell_sol=event.sell_sol,
                    net_inflow_sol=event.net_inflow_sol,
                    avg_trade_sol=_dec(event.avg_trade_sol),
                    trade_sol_stddev=_dec(event.trade_sol_stddev),
                    whale_share_top5=_dec(event.whale_share_top5),
                    price_open=_dec(event.price_open),
                    price_high=_dec(event.price_high),
                    price_low=_dec(event.price_low),
                    price_close=_dec(event.price_close),
                    first_slot=event.first_slot,
                    last_slot=event.last_slot,
                    bucket_version=event.bucket_version,
                ),
            )
        case TradeObserved():
            return pb.Event(
                seq=event.seq,
                trade_observed=pb.TradeObserved(
                    chain=_chain_pb(event.chain),
                    venue=_VENUE_TO_PB[event.venue],
                    mint=event.mint,
                    user=event.user,
                    is_buy=event.is_buy,
                    sol_amount=event.sol_amount,
                    token_amount=event.token_amount,
                    virtual_sol_reserves=event.virtual_sol_reserves,
                    virtual_token_reserves=event.virtual_token_reserves,
                    real_sol_reserves=event.real_sol_reserves,
                    real_token_reserves=event.real_token_reserves,
                    fee=event.fee,
                    fee_bps=event.fee_bps,
                    creator_fee=event.creator_fee,
                    creator_fee_bps=event.creator_fee_bps,
                    creator=event.creator,
                    pool=event.pool,
                    user_sol_amount=event.user_sol_amount,
                    price_sol=_dec(event.price_sol),
                ),
            )
        case CurveSnapshot():
            return pb.Event(
                seq=event.seq,
                curve_snapshot=pb.CurveSnapshot(
                    chain=_chain_pb(event.chain),
                    mint=event.mint,
                    bonding_curve=event.bonding_curve,
                    virtual_token_reserves=event.virtual_token_reserves,
                    virtual_sol_reserves=event.virtual_sol_reserves,
                    real_token_reserves=event.real_token_reserves,
                    real_sol_reserves=event.real_sol_reserves,
                    token_total_supply=event.token_total_supply,
                    complete=event.complete,
                    price_sol=_dec(event.price_sol),
                    sold_pct=_dec(event.sold_pct),
                    origin=event.origin,
                ),
            )
        case TokenLaunched():
            return pb.Event(
                seq=event.seq,
                token_launched=pb.TokenLaunched(
                    chain=_chain_pb(event.chain),
                    mint=event.mint,
                    bonding_curve=event.bonding_curve,
                    creator=event.creator,
                    user=event.user,
                    name=event.name,
                    symbol=event.symbol,
                    uri=event.uri,
                    is_mayhem_mode=event.is_mayhem_mode,
                    virtual_token_reserves=event.virtual_token_reserves,
                    virtual_sol_reserves=event.virtual_sol_reserves,
                    real_token_reserves=event.real_token_reserves,
                    token_total_supply=event.token_total_supply,
                ),
            )
        case RiskFlag():
            return pb.Event(
                seq=event.seq,
                risk_flag=pb.RiskFlagEvent(
                    chain=_chain_pb(event.chain),
                    mint=event.mint,
                    flag=event.flag,
                    severity=int(event.severity),  # type: ignore[arg-type]
                    active=event.active,
                    details=dict(event.details),
                ),
            )
        case CurveCompleted():
            return pb.Event(
                seq=event.seq,
                curve_completed=pb.CurveCompleted(
                    chain=_chain_pb(event.chain),
                    mint=event.mint,
                    bonding_curve=event.bonding_curve,
                    user=event.user,
                ),
            )
        case TokenMigrated():
            return pb.Event(
                seq=event.seq,
                token_migrated=pb.TokenMigrated(
                    chain=_chain_pb(event.chain),
                    mint=event.mint,
                    pool=event.pool,
                    mint_amount=event.mint_amount,
                    sol_amount=event.sol_amount,
                    pool_migration_fee=event.pool_migration_fee,
                    bonding_curve=event.bonding_curve,
                    user=event.user,
                ),
            )
    raise TypeError(f"not a stream event: {type(event).__name__}")


def intent_to_pb(intent: TradeIntent) -> pb.TradeIntent:
    """The wire form `SubmitIntent` takes. Refuses an intent the runner has not finalised."""
    if not intent.intent_id:
        raise ValueError("intent has no intent_id; only intents returned by SignalRunner can be sent")
    return pb.TradeIntent(
        intent_id=intent.intent_id,
        mint=intent.mint,
        venue=_VENUE_TO_PB[intent.venue],
        side=_SIDE_TO_PB[intent.side],
        size_lamports=intent.size_lamports,
        max_slippage_bps=intent.max_slippage_bps,
        ttl_ms=intent.ttl_ms,
        reasons=list(intent.reasons),
        signal_id=intent.signal_id,
        signal_version=str(intent.signal_version),
        params_hash=intent.params_hash,
        trigger=intent.trigger,
        as_of=intent.as_of,
        evidence=dict(intent.evidence),
    )


def intent_from_pb(msg: pb.TradeIntent) -> TradeIntent:
    """Inverse of `intent_to_pb` (for parity checks against what the executor stored)."""
    try:
        side = _SIDE_FROM_PB[msg.side]
    except KeyError:
        raise ValueError(f"unknown side enum value {msg.side}") from None
    evidence: Mapping[str, str] = MappingProxyType(dict(sorted(msg.evidence.items())))
    return TradeIntent(
        intent_id=msg.intent_id,
        signal_id=msg.signal_id,
        signal_version=int(msg.signal_version),
        params_hash=msg.params_hash,
        trigger=msg.trigger,
        as_of=msg.as_of,
        mint=msg.mint,
        venue=_venue(msg.venue),
        side=side,
        size_lamports=msg.size_lamports,
        max_slippage_bps=msg.max_slippage_bps,
        ttl_ms=msg.ttl_ms,
        reasons=tuple(msg.reasons),
        evidence=evidence,
    )
