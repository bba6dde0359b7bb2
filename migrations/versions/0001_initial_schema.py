"""Initial schema: the eleven seed tables plus trades, fee_policy, ingest_state, events, decode_errors.

Every adaptation of the seed schema is written down in docs/schema.md. Conventions: lamports and token
base units are bigint; ratios are numeric with a fixed scale; chain time is timestamptz (UTC); wall
clock columns are named *_at and never take part in replay comparisons.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE: tuple[str, ...] = (
    # Raw inputs, exactly as the node served them.
    """
    create table raw_logs (
        signature   text primary key,
        slot        bigint not null,
        err         jsonb,
        logs        text[] not null,
        truncated   boolean not null default false,
        source      text not null check (source in ('ws', 'backfill', 'reconcile', 'transaction')),
        endpoint    text,
        received_at timestamptz not null default now()
    )
    """,
    "create index raw_logs_slot_idx on raw_logs (slot, signature)",
    """
    create table transactions (
        signature     text primary key,
        slot          bigint not null,
        block_time    timestamptz,
        version       text not null,
        err           jsonb,
        fee           bigint,
        compute_units bigint,
        encoding      text not null,
        result        jsonb not null,
        fetched_at    timestamptz not null default now()
    )
    """,
    "create index transactions_slot_idx on transactions (slot, signature)",
    # Derived tables: rebuilt by `executor replay` from raw_logs + transactions.
    """
    create table tokens (
        mint               text primary key,
        name               text,
        symbol             text,
        uri                text,
        creator            text,
        launched_by        text,
        bonding_curve      text,
        token_program      text,
        is_mayhem_mode     boolean,
        quote_mint         text,
        launch_signature   text,
        launch_event_index integer,
        launched_slot      bigint,
        launched_at        timestamptz,
        launch_ix          text,
        layout_version     text,
        status             text not null default 'bonding'
                           check (status in ('bonding', 'complete', 'migrated')),
        first_seen_slot    bigint not null,
        complete_slot      bigint,
        complete_signature text,
        migrated_slot      bigint,
        migrated_signature text,
        pool               text
    )
    """,
    "create index tokens_creator_idx on tokens (creator, launched_slot)",
    "create index tokens_launched_slot_idx on tokens (launched_slot)",
    "create unique index tokens_pool_idx on tokens (pool) where pool is not null",
    """
    create table trades (
        signature              text not null,
        event_index            integer not null,
        slot                   bigint not null,
        block_time             timestamptz,
        event_time             timestamptz not null,
        venue                  text not null check (venue in ('PUMP_CURVE', 'PUMP_AMM')),
        mint                   text,
        pool                   text,
        quote_mint             text,
        trader                 text not null,
        is_buy                 boolean not null,
        sol_amount             bigint not null,
        token_amount           bigint not null,
        user_sol_amount        bigint,
        virtual_sol_reserves   bigint,
        virtual_token_reserves bigint,
        real_sol_reserves      bigint,
        real_token_reserves    bigint,
        fee                    bigint,
        fee_bps                bigint,
        creator_fee            bigint,
        creator_fee_bps        bigint,
        creator                text,
        ix_name                text,
        price_sol              numeric(38, 18),
        layout_version         text not null,
        source                 text not null check (source in ('logs', 'cpi', 'balance_delta')),
        primary key (signature, event_index),
        check (venue = 'PUMP_AMM' or mint is not null)
    )
    """,
    "create index trades_mint_slot_idx on trades (mint, slot)",
    "create index trades_slot_idx on trades (slot)",
    "create index trades_trader_idx on trades (trader, slot)",
    "create index trades_bucket_idx on trades (mint, venue, event_time)",
    "create index trades_pool_idx on trades (pool) where pool is not null",
    """
    create table curve_snapshots (
        mint                   text not null,
        slot                   bigint not null,
        signature              text not null,
        event_index            integer not null,
        origin                 text not null check (origin in ('trade_event', 'account')),
        bonding_curve          text,
        block_time             timestamptz,
        virtual_token_reserves bigint not null,
        virtual_sol_reserves   bigint not null,
        real_token_reserves    bigint,
        real_sol_reserves      bigint,
        token_total_supply     bigint,
        complete               boolean not null,
        price_sol              numeric(38, 18) not null,
        sold_pct               numeric(9, 6),
        primary key (mint, slot, signature, event_index)
    )
    """,
    """
    create table amm_snapshots (
        pool           text not null,
        slot           bigint not null,
        signature      text not null,
        event_index    integer not null,
        origin         text not null check (origin in ('trade_event', 'pool_created', 'account')),
        base_mint      text,
        quote_mint     text,
        block_time     timestamptz,
        base_reserves  bigint not null,
        quote_reserves bigint not null,
        lp_supply      bigint,
        price_sol      numeric(38, 18),
        primary key (pool, slot, signature, event_index)
    )
    """,
    "create index amm_snapshots_base_mint_idx on amm_snapshots (base_mint, slot)",
    """
    create table features_1m (
        mint             text not null,
        minute           timestamptz not null,
        venue            text not null check (venue in ('PUMP_CURVE', 'PUMP_AMM')),
        trades           integer not null,
        buys             integer not null,
        sells            integer not null,
        uniq_signers     integer not null,
        uniq_buyers      integer not null,
        uniq_sellers     integer not null,
        buy_sol          bigint not null,
        sell_sol         bigint not null,
        net_inflow_sol   bigint not null,
        avg_trade_sol    numeric(38, 6) not null,
        trade_sol_stddev numeric(38, 6) not null,
        whale_share_top5 numeric(12, 9) not null,
        price_open       numeric(38, 18),
        price_high       numeric(38, 18),
        price_low        numeric(38, 18),
        price_close      numeric(38, 18),
        first_slot       bigint not null,
        last_slot        bigint not null,
        final            boolean not null,
        primary key (mint, minute, venue)
    )
    """,
    "create index features_1m_minute_idx on features_1m (minute)",
    """
    create table holder_snapshots (
        mint          text not null,
        slot          bigint not null,
        rank          integer not null,
        token_account text not null,
        owner         text,
        amount        bigint not null,
        observed_at   timestamptz not null default now(),
        primary key (mint, slot, rank)
    )
    """,
    """
    create table risk_flags (
        mint       text not null,
        flag       text not null,
        slot       bigint not null,
        signature  text not null,
        severity   text not null check (severity in ('LOW', 'MEDIUM', 'HIGH')),
        active     boolean not null,
        event_time timestamptz,
        details    jsonb not null default '{}',
        primary key (mint, flag, slot, signature)
    )
    """,
    "create index risk_flags_active_idx on risk_flags (mint) where active",
    # Event outbox: makes the gRPC stream's seq durable and replayable.
    """
    create table events (
        seq        bigint primary key,
        kind       text not null,
        mint       text,
        slot       bigint,
        signature  text,
        key        text not null,
        payload    bytea not null,
        created_at timestamptz not null default now()
    )
    """,
    "create index events_mint_seq_idx on events (mint, seq)",
    "create index events_kind_key_idx on events (kind, key)",
    # Strategy intents and (future) execution.
    """
    create table intents (
        intent_id        text primary key,
        received_at      timestamptz not null default now(),
        signal_id        text not null,
        signal_version   text not null,
        params_hash      text not null,
        mint             text not null,
        venue            text not null check (venue in ('PUMP_CURVE', 'PUMP_AMM')),
        side             text not null check (side in ('BUY', 'SELL')),
        size_lamports    bigint not null check (size_lamports > 0),
        max_slippage_bps integer not null,
        ttl_ms           integer not null,
        reasons          text[] not null,
        trigger          text not null,
        as_of            bigint not null,
        evidence         jsonb not null default '{}',
        request_sha256   text not null,
        status           text not null
                         check (status in ('ACCEPTED', 'REJECTED', 'CANCELLED', 'EXPIRED', 'FILLED')),
        reject_reason    text,
        check (status <> 'REJECTED' or reject_reason is not null)
    )
    """,
    "create index intents_mint_idx on intents (mint, received_at)",
    "create index intents_signal_idx on intents (signal_id, received_at)",
    """
    create table orders (
        order_id     bigint generated always as identity primary key,
        intent_id    text not null references intents (intent_id),
        venue        text not null,
        side         text not null,
        status       text not null check (status in ('PENDING', 'SENT', 'CONFIRMED', 'FAILED', 'EXPIRED')),
        signature    text unique,
        created_at   timestamptz not null default now(),
        updated_at   timestamptz not null default now()
    )
    """,
    "create index orders_intent_idx on orders (intent_id)",
    """
    create table fills (
        fill_id      bigint generated always as identity primary key,
        order_id     bigint not null references orders (order_id),
        signature    text not null,
        event_index  integer not null,
        slot         bigint not null,
        sol_amount   bigint not null,
        token_amount bigint not null,
        fee          bigint not null,
        created_at   timestamptz not null default now(),
        unique (signature, event_index)
    )
    """,
    # Reference data and bookkeeping.
    """
    create table fee_policy (
        venue                text not null check (venue in ('PUMP_CURVE', 'PUMP_AMM')),
        effective_from       timestamptz not null,
        min_mcap_lamports    numeric(30, 0) not null default 0,
        protocol_fee_bps     numeric(8, 3) not null,
        creator_fee_bps      numeric(8, 3) not null,
        lp_fee_bps           numeric(8, 3) not null,
        source               text not null,
        primary key (venue, effective_from, min_mcap_lamports)
    )
    """,
    """
    create table ingest_state (
        key        text primary key,
        slot       bigint,
        signature  text,
        value      jsonb not null default '{}',
        updated_at timestamptz not null default now()
    )
    """,
    """
    create table fetch_queue (
        signature   text primary key,
        slot        bigint not null,
        reason      text not null,
        priority    smallint not null,
        err         jsonb,
        attempts    integer not null default 0,
        enqueued_at timestamptz not null default now()
    )
    """,
    """
    create table decode_errors (
        signature   text not null,
        ordinal     integer not null,
        slot        bigint not null,
        stage       text not null,
        reason      text not null,
        program     text,
        detail      text not null,
        created_at  timestamptz not null default now(),
        primary key (signature, stage, ordinal)
    )
    """,
    "create index decode_errors_reason_idx on decode_errors (reason)",
    # Fee history from docs/pump-protocol notes (announced dates; see docs/schema.md).
    """
    insert into fee_policy (venue, effective_from, min_mcap_lamports, protocol_fee_bps, creator_fee_bps,
                            lp_fee_bps, source) values
        ('PUMP_CURVE', '2024-01-01T00:00:00Z', 0, 100, 0, 0, 'pump docs Global dump (1% protocol fee)'),
        ('PUMP_CURVE', '2025-05-12T11:00:00Z', 0, 95, 5, 0, 'creator-fee upgrade'),
        ('PUMP_CURVE', '2025-09-01T20:00:00Z', 0, 95, 30, 0, 'Pump Fees FeeConfig, bonding-curve row'),
        ('PUMP_AMM', '2025-03-20T00:00:00Z', 0, 5, 0, 20, 'PumpSwap GlobalConfig at launch (date approximate)'),
        ('PUMP_AMM', '2025-05-12T11:00:00Z', 0, 5, 5, 20, 'creator-fee upgrade (canonical pools)'),
        ('PUMP_AMM', '2025-09-01T20:00:00Z', 0, 93, 30, 2, 'fee tiers: < 420 SOL'),
        ('PUMP_AMM', '2025-09-01T20:00:00Z', 420000000000, 5, 95, 20, 'fee tiers: 420-1470 SOL'),
        ('PUMP_AMM', '2025-09-01T20:00:00Z', 1470000000000, 5, 90, 20, 'fee tiers: 1470-2460 SOL'),
        ('PUMP_AMM', '2025-09-01T20:00:00Z', 2460000000000, 5, 85, 20, 'fee tiers: 2460-3440 SOL'),
        ('PUMP_AMM', '2025-09-01T20:00:00Z', 3440000000000, 5, 80, 20, 'fee tiers: 3440-4420 SOL'),
        ('PUMP_AMM', '2025-09-01T20:00:00Z', 4420000000000, 5, 75, 20, 'fee tiers: 4420-9820 SOL'),
        ('PUMP_AMM', '2025-09-01T20:00:00Z', 9820000000000, 5, 70, 20, 'fee tiers: 9820-14740 SOL'),
        ('PUMP_AMM', '2025-09-01T20:00:00Z', 14740000000000, 5, 65, 20, 'fee tiers: 14740-19650 SOL'),
        ('PUMP_AMM', '2025-09-01T20:00:00Z', 19650000000000, 5, 60, 20, 'fee tiers: 19650-24560 SOL'),
        ('PUMP_AMM', '2025-09-01T20:00:00Z', 24560000000000, 5, 55, 20, 'fee tiers: 24560-29470 SOL'),
        ('PUMP_AMM', '2025-09-01T20:00:00Z', 29470000000000, 5, 50, 20, 'fee tiers: 29470-34380 SOL'),
        ('PUMP_AMM', '2025-09-01T20:00:00Z', 34380000000000, 5, 45, 20, 'fee tiers: 34380-39300 SOL'),
        ('PUMP_AMM', '2025-09-01T20:00:00Z', 39300000000000, 5, 40, 20, 'fee tiers: 39300-44210 SOL'),
        ('PUMP_AMM', '2025-09-01T20:00:00Z', 44210000000000, 5, 35, 20, 'fee tiers: 44210-49120 SOL'),
        ('PUMP_AMM', '2025-09-01T20:00:00Z', 49120000000000, 5, 30, 20, 'fee tiers: 49120-54030 SOL'),
        ('PUMP_AMM', '2025-09-01T20:00:00Z', 54030000000000, 5, 27.5, 20, 'fee tiers: 54030-58940 SOL'),
        ('PUMP_AMM', '2025-09-01T20:00:00Z', 58940000000000, 5, 25, 20, 'fee tiers: 58940-63860 SOL'),
        ('PUMP_AMM', '2025-09-01T20:00:00Z', 63860000000000, 5, 22.5, 20, 'fee tiers: 63860-68770 SOL'),
        ('PUMP_AMM', '2025-09-01T20:00:00Z', 68770000000000, 5, 20, 20, 'fee tiers: 68770-73681 SOL'),
        ('PUMP_AMM', '2025-09-01T20:00:00Z', 73681000000000, 5, 17.5, 20, 'fee tiers: 73681-78590 SOL'),
        ('PUMP_AMM', '2025-09-01T20:00:00Z', 78590000000000, 5, 15, 20, 'fee tiers: 78590-83500 SOL'),
        ('PUMP_AMM', '2025-09-01T20:00:00Z', 83500000000000, 5, 12.5, 20, 'fee tiers: 83500-88400 SOL'),
        ('PUMP_AMM', '2025-09-01T20:00:00Z', 88400000000000, 5, 10, 20, 'fee tiers: 88400-93330 SOL'),
        ('PUMP_AMM', '2025-09-01T20:00:00Z', 93330000000000, 5, 7.5, 20, 'fee tiers: 93330-98240 SOL'),
        ('PUMP_AMM', '2025-09-01T20:00:00Z', 98240000000000, 5, 5, 20, 'fee tiers: >= 98240 SOL')
    """,
)

DOWNGRADE: tuple[str, ...] = (
    "drop table decode_errors",
    "drop table fetch_queue",
    "drop table ingest_state",
    "drop table fee_policy",
    "drop table fills",
    "drop table orders",
    "drop table intents",
    "drop table events",
    "drop table risk_flags",
    "drop table holder_snapshots",
    "drop table features_1m",
    "drop table amm_snapshots",
    "drop table curve_snapshots",
    "drop table trades",
    "drop table tokens",
    "drop table transactions",
    "drop table raw_logs",
)


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
