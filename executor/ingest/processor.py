"""Applies batches of decoded inputs to Postgres: raw tables, derived tables, features, risk flags and
stream events, in one transaction per batch. Live ingest and replay both drive this one class.

Derived writes are idempotent and order-independent: trades are keyed by (signature, event_index)
and a row only changes when a better carrier (cpi > logs > balance_delta) or a missing fact (the mint
of a PumpSwap pool learned later, the block time) arrives; token facts keep the earliest value;
feature rows are recomputed from the set of trades in the bucket. Events are emitted for what is new:
a trade inserted, a launch recorded, a bucket that became final or whose final values changed.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from executor.bus import EventBus, Outbox
from executor.decode import DecodedTx, DecodeError, Launch, decode_logs, decode_transaction
from executor.decode.telemetry import DecodeTelemetry
from executor.features import MINUTE, Aggregator, Bucket, BucketTrade, FeatureRow, minute_of
from executor.ingest import events as ev
from executor.ingest import metrics
from executor.ingest.derive import (
    AMM,
    CURVE,
    SOURCE_RANK,
    WSOL,
    AmmSnapshotRow,
    CurveSnapshotRow,
    Derived,
    PoolDirectory,
    TradeRow,
    derive,
)
from executor.risk import Flag, LaunchFact, RiskRules, creator_dumps, serial_launches
from pumpflow.schema import Conn

log = structlog.get_logger("executor.ingest")
TELEMETRY = DecodeTelemetry()

RANK_SQL = "(case {t}.source when 'cpi' then 2 when 'logs' then 1 else 0 end)"
STAGING = (
    "create temp table if not exists stage_raw_logs (like raw_logs including defaults) on commit delete rows",
    "create temp table if not exists stage_transactions (like transactions including defaults) on commit delete rows",
    "create temp table if not exists stage_trades (like trades) on commit delete rows",
    "create temp table if not exists stage_curve_snapshots (like curve_snapshots) on commit delete rows",
    "create temp table if not exists stage_amm_snapshots (like amm_snapshots) on commit delete rows",
)
TRADE_COLUMNS = (
    "signature", "event_index", "slot", "block_time", "event_time", "venue", "mint", "pool", "quote_mint",
    "trader", "is_buy", "sol_amount", "token_amount", "user_sol_amount", "virtual_sol_reserves",
    "virtual_token_reserves", "real_sol_reserves", "real_token_reserves", "fee", "fee_bps", "creator_fee",
    "creator_fee_bps", "creator", "ix_name", "price_sol", "layout_version", "source",
)  # fmt: skip
UPSERT_TRADES = f"""
insert into trades ({", ".join(TRADE_COLUMNS)})
select {", ".join(TRADE_COLUMNS)} from stage_trades
on conflict (signature, event_index) do update set
    {", ".join(f"{c} = excluded.{c}" for c in TRADE_COLUMNS[2:] if c not in ("block_time", "mint"))},
    block_time = coalesce(excluded.block_time, trades.block_time),
    mint = coalesce(excluded.mint, trades.mint)
where {RANK_SQL.format(t="excluded")} > {RANK_SQL.format(t="trades")}
   or (trades.mint is null and excluded.mint is not null)
   or (trades.block_time is null and excluded.block_time is not null)
returning signature, event_index, (xmax = 0) as inserted
"""
FEATURE_COLUMNS = (
    "mint", "minute", "venue", "trades", "buys", "sells", "uniq_signers", "uniq_buyers", "uniq_sellers",
    "buy_sol", "sell_sol", "net_inflow_sol", "avg_trade_sol", "trade_sol_stddev", "whale_share_top5",
    "price_open", "price_high", "price_low", "price_close", "first_slot", "last_slot", "final",
)  # fmt: skip
UPSERT_FEATURES = f"""
insert into features_1m ({", ".join(FEATURE_COLUMNS)})
values ({", ".join(f"${i + 1}" for i in range(len(FEATURE_COLUMNS)))})
on conflict (mint, minute, venue) do update set
    {", ".join(f"{c} = excluded.{c}" for c in FEATURE_COLUMNS[3:])}
"""


def ts(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def epoch(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


@dataclass(frozen=True, slots=True)
class LogsInput:
    """A logsNotification (or a backfilled signature's logs): raw_logs row + records from the logs."""

    signature: str
    slot: int
    err: object
    logs: list[str]
    source: str
    endpoint: str | None
    decoded: DecodedTx | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class TxInput:
    """A getTransaction result: transactions row (+ raw_logs row when the logs were never seen)."""

    signature: str
    slot: int
    result: dict[str, Any]
    encoding: str
    decoded: DecodedTx | None
    raw_source: str
    endpoint: str | None
    error: str | None = None


Input = LogsInput | TxInput


@dataclass(slots=True)
class BatchResult:
    new_signatures: list[str] = field(default_factory=list)
    new_transactions: list[str] = field(default_factory=list)
    trades_inserted: int = 0
    trades_updated: int = 0
    events: int = 0
    buckets_final: int = 0
    buckets_reopened: int = 0
    # Stored inputs derived again because a pool they trade on became known in this batch.
    rederived: int = 0
    # Facts the pipeline's fetch policy looks at.
    launches: int = 0


@dataclass(slots=True)
class StepClock:
    last: float
    laps: dict[str, float] = field(default_factory=dict)

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round((now - self.last) * 1000, 1)
        self.last = now


@dataclass(frozen=True, slots=True)
class ProcessorConfig:
    lateness_s: int = 30
    open_flush_interval_s: float = 5.0
    risk: RiskRules = field(default_factory=RiskRules)


class Processor:
    def __init__(self, bus: EventBus, config: ProcessorConfig, *, emit: bool = True) -> None:
        self.bus = bus
        self.config = config
        self.emit = emit
        self.pools = PoolDirectory()
        self.features = Aggregator(config.lateness_s)
        self.dirty_open: set[tuple[str, int, str]] = set()
        self.last_open_flush = 0.0
        # Trade keys stored new by the current batch (their snapshots are new too).
        self.new_trade_keys: set[tuple[str, int]] = set()
        # Milliseconds per step of the last batch, for the pipeline's slow-batch log line.
        self.last_timings: dict[str, float] = {}

    # State -------------------------------------------------------------------------------------------

    async def prepare(self, conn: Conn) -> None:
        """Create the session's staging tables and load what the processor remembers between batches:
        the pool directory, the event-time watermark and the still-open feature buckets."""
        for statement in STAGING:
            await conn.execute(statement)
        rows = await conn.fetch(
            "select distinct on (pool) pool, base_mint, quote_mint from amm_snapshots "
            "where base_mint is not null and quote_mint is not null order by pool, slot"
        )
        for r in rows:
            self.pools.learn(r["pool"], r["base_mint"], r["quote_mint"])
        for r in await conn.fetch("select pool, mint from tokens where pool is not null"):
            self.pools.learn(r["pool"], r["mint"], WSOL)
        watermark = await conn.fetchval(
            "select max(event_time) from trades where mint is not null and quote_mint is null"
        )
        self.features = Aggregator(self.config.lateness_s)
        if watermark is not None:
            self.features.advance(int(watermark.timestamp()))
            self.features.closed_through = self.features.final_minute()
            open_from = ts(self.features.closed_through + MINUTE)
            for r in await conn.fetch(
                "select mint, venue, event_time, signature, event_index, slot, trader, is_buy, sol_amount, "
                "price_sol from trades where mint is not null and quote_mint is null and event_time >= $1",
                open_from,
            ):
                trade = bucket_trade(r)
                self.features.add(r["mint"], r["venue"], trade.event_time, trade)
        log.info(
            "processor state loaded",
            pools=len(self.pools.pools),
            watermark=self.features.watermark,
            open_buckets=len(self.features.open),
        )

    # One batch -----------------------------------------------------------------------------------------

    async def apply(
        self, conn: Conn, outbox: Outbox, inputs: Sequence[Input], *, persist_raw: bool
    ) -> BatchResult:
        """Write one batch inside the caller's transaction (bus.transaction)."""
        result = BatchResult()
        started = time.perf_counter()
        if persist_raw:
            await self._raw(conn, inputs, result)
        derived: list[tuple[DecodedTx, Derived]] = []
        for item in inputs:
            if item.decoded is not None:
                TELEMETRY.observe(item.decoded)
                derived.append((item.decoded, derive(item.decoded, self.pools)))
        clock = StepClock(started)
        await self._decode_errors(conn, inputs, derived)
        new_pools = [p for _, d in derived for p in d.pools]
        trades = best_trades(t for _, d in derived for t in d.trades)
        clock.lap("raw+derive")
        touched = await self._trades(conn, outbox, trades, result)
        clock.lap("trades")
        await self._snapshots(conn, derived)
        clock.lap("snapshots")
        await self._tokens(conn, outbox, derived, result)
        await self._creator_dumps(conn, outbox, touched)
        clock.lap("tokens+risk")
        await self._features(conn, outbox, touched, result)
        clock.lap("features")
        self.last_timings = clock.laps
        if new_pools:
            await self._rederive_orphans(conn, outbox, [p[0] for p in new_pools], result)
        metrics.BATCH_SECONDS.observe(time.perf_counter() - started)
        result.events = len(outbox.published)
        return result

    async def flush_open(self, conn: Conn, outbox: Outbox, force: bool = False) -> int:
        """Write the still-open buckets touched since the last flush (final = false)."""
        now = time.monotonic()
        if not self.dirty_open or (
            not force and now - self.last_open_flush < self.config.open_flush_interval_s
        ):
            return 0
        rows = [
            self.features.open[k].row(final=False) for k in sorted(self.dirty_open) if k in self.features.open
        ]
        self.dirty_open.clear()
        self.last_open_flush = now
        await write_features(conn, rows)
        return len(rows)

    # Steps ---------------------------------------------------------------------------------------------

    async def _raw(self, conn: Conn, inputs: Sequence[Input], result: BatchResult) -> None:
        raw_rows: dict[str, tuple[Any, ...]] = {}
        tx_rows: dict[str, tuple[Any, ...]] = {}
        for item in inputs:
            if isinstance(item, LogsInput):
                truncated = item.decoded.truncated if item.decoded is not None else False
                raw_rows.setdefault(
                    item.signature,
                    (item.signature, item.slot, item.err, item.logs, truncated, item.source, item.endpoint),
                )
            else:
                meta = item.result.get("meta") or {}
                logs = meta.get("logMessages") or []
                truncated = item.decoded.truncated if item.decoded is not None else False
                raw_rows.setdefault(
                    item.signature,
                    (
                        item.signature,
                        item.slot,
                        meta.get("err"),
                        logs,
                        truncated,
                        item.raw_source,
                        item.endpoint,
                    ),
                )
                tx_rows.setdefault(
                    item.signature, tx_record(item.signature, item.slot, item.result, item.encoding)
                )
        if raw_rows:
            result.new_signatures = await insert_new(conn, "raw_logs", RAW_COLUMNS, raw_rows)
            # Stored now: a sweep's queued fetch for its logs (or for a failed transaction) is moot.
            await conn.execute(
                "delete from fetch_queue where signature = any($1::text[]) and reason in ('backfill', 'failed')",
                sorted(raw_rows),
            )
        if tx_rows:
            result.new_transactions = await insert_new(conn, "transactions", TX_COLUMNS, tx_rows)
            await conn.execute("delete from fetch_queue where signature = any($1::text[])", sorted(tx_rows))

    async def _decode_errors(
        self, conn: Conn, inputs: Sequence[Input], derived: list[tuple[DecodedTx, Derived]]
    ) -> None:
        rows: list[tuple[Any, ...]] = []
        for item in inputs:
            if item.error is not None:
                stage = "logs" if isinstance(item, LogsInput) else "transaction"
                rows.append((item.signature, 0, item.slot, stage, "decode_error", None, item.error[:2000]))
                metrics.DECODE_ERRORS.labels(stage=stage).inc()
        for tx, d in derived:
            for a in tx.anomalies:
                if a.reason in ("event_decode_error", "unknown_event", "instruction_decode_error"):
                    rows.append(
                        (
                            tx.signature,
                            a.event_index or 0,
                            tx.slot,
                            "event",
                            a.reason,
                            a.program,
                            a.detail[:2000],
                        )
                    )
            for index, reason in d.rejected:
                rows.append((tx.signature, index, tx.slot, "derive", reason, None, ""))
                metrics.DERIVE_REJECTED.labels(reason=reason).inc()
        if rows:
            await conn.executemany(
                "insert into decode_errors (signature, ordinal, slot, stage, reason, program, detail) "
                "values ($1, $2, $3, $4, $5, $6, $7) on conflict do nothing",
                rows,
            )

    async def _trades(
        self, conn: Conn, outbox: Outbox, trades: list[TradeRow], result: BatchResult
    ) -> list[TradeRow]:
        """Upsert trades; returns the rows that were inserted or changed (new facts for features/risk).

        A key already stored is only rewritten when this carrier ranks higher or brings a missing fact
        (block time, the mint of a pool learned later): the upsert's WHERE clause."""
        self.new_trade_keys = set()
        if not trades:
            return []
        await conn.copy_records_to_table(
            "stage_trades", records=[trade_record(t) for t in trades], columns=TRADE_COLUMNS
        )
        changed = await conn.fetch(UPSERT_TRADES)
        by_key = {t.key: t for t in trades}
        touched = []
        for r in changed:
            row = by_key[(r["signature"], r["event_index"])]
            touched.append(row)
            if r["inserted"]:
                self.new_trade_keys.add(row.key)
                if self.emit:
                    outbox.add(ev.trade_observed(row))
        result.trades_inserted += len(self.new_trade_keys)
        result.trades_updated += len(touched) - len(self.new_trade_keys)
        metrics.TRADES.labels(outcome="inserted").inc(len(self.new_trade_keys))
        metrics.TRADES.labels(outcome="updated").inc(len(touched) - len(self.new_trade_keys))
        return touched

    async def _snapshots(self, conn: Conn, derived: list[tuple[DecodedTx, Derived]]) -> None:
        """Snapshots of trades stored new in this batch are new too (same key, same transaction):
        COPY them; the rest go through an upsert that only fills missing facts."""
        fresh = self.new_trade_keys
        # One row per key; of two carriers of the same event keep the one that knows more.
        curve: dict[tuple[str, int, str, int], CurveSnapshotRow] = {}
        for _, d in derived:
            for c in d.curve_snapshots:
                key = (c.mint, c.slot, c.signature, c.event_index)
                if key not in curve or (curve[key].block_time is None and c.block_time is not None):
                    curve[key] = c
        await write_snapshots(
            conn,
            "curve_snapshots",
            CURVE_COLUMNS,
            [curve_record(c) for c in curve.values() if (c.signature, c.event_index) in fresh],
            [curve_record(c) for c in curve.values() if (c.signature, c.event_index) not in fresh],
            "(mint, slot, signature, event_index) do update set block_time = excluded.block_time "
            "where curve_snapshots.block_time is null and excluded.block_time is not null",
        )
        amm: dict[tuple[str, int, str, int], AmmSnapshotRow] = {}
        for _, d in derived:
            for s in d.amm_snapshots:
                key = (s.pool, s.slot, s.signature, s.event_index)
                held = amm.get(key)
                if held is None or (held.base_mint is None, held.block_time is None) > (
                    s.base_mint is None,
                    s.block_time is None,
                ):
                    amm[key] = s
        # Pool creations are never keyed by a trade: always through the upsert.
        direct_amm = {
            k for k, s in amm.items() if s.origin == "trade_event" and (s.signature, s.event_index) in fresh
        }
        await write_snapshots(
            conn,
            "amm_snapshots",
            AMM_COLUMNS,
            [amm_record(s) for k, s in amm.items() if k in direct_amm],
            [amm_record(s) for k, s in amm.items() if k not in direct_amm],
            "(pool, slot, signature, event_index) do update set "
            "base_mint = coalesce(amm_snapshots.base_mint, excluded.base_mint), "
            "quote_mint = coalesce(amm_snapshots.quote_mint, excluded.quote_mint), "
            "price_sol = coalesce(amm_snapshots.price_sol, excluded.price_sol), "
            "block_time = coalesce(amm_snapshots.block_time, excluded.block_time) "
            "where (amm_snapshots.base_mint is null and excluded.base_mint is not null) "
            "or (amm_snapshots.block_time is null and excluded.block_time is not null)",
        )

    async def _tokens(
        self, conn: Conn, outbox: Outbox, derived: list[tuple[DecodedTx, Derived]], result: BatchResult
    ) -> None:
        seen: dict[str, int] = {}
        for _, d in derived:
            for t in d.trades:
                if t.mint is not None and t.venue == CURVE:
                    seen[t.mint] = min(seen.get(t.mint, t.slot), t.slot)
            for launch in d.launches:
                seen[launch.mint] = min(seen.get(launch.mint, launch.slot), launch.slot)
            for c in d.completes:
                seen[c.mint] = min(seen.get(c.mint, c.slot), c.slot)
            for m in d.migrations:
                seen[m.mint] = min(seen.get(m.mint, m.slot), m.slot)
        if seen:
            await conn.execute(
                "insert into tokens (mint, first_seen_slot) select * from unnest($1::text[], $2::bigint[]) "
                "on conflict (mint) do update set first_seen_slot = excluded.first_seen_slot "
                "where excluded.first_seen_slot < tokens.first_seen_slot",
                list(seen),
                list(seen.values()),
            )
        # Per mint the earliest launch; of two carriers of it, the one that knows the instruction.
        launches: dict[str, Launch] = {}
        for _, d in derived:
            for r in d.launches:
                if r.mint not in launches or launch_rank(r) < launch_rank(launches[r.mint]):
                    launches[r.mint] = r
        if launches:
            columns = launch_columns(launches.values())
            rows = await conn.fetch(
                """
                update tokens set name = l.name, symbol = l.symbol, uri = l.uri, creator = l.creator,
                    launched_by = l.launched_by, bonding_curve = l.bonding_curve, token_program = l.token_program,
                    is_mayhem_mode = l.is_mayhem_mode, quote_mint = l.quote_mint, launch_signature = l.signature,
                    launch_event_index = l.event_index, launched_slot = l.slot, launched_at = l.launched_at,
                    launch_ix = l.launch_ix, layout_version = l.layout_version
                from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                            $8::text[], $9::boolean[], $10::text[], $11::text[], $12::int[], $13::bigint[],
                            $14::timestamptz[], $15::text[], $16::text[])
                    as l(mint, name, symbol, uri, creator, launched_by, bonding_curve, token_program,
                         is_mayhem_mode, quote_mint, signature, event_index, slot, launched_at, launch_ix,
                         layout_version)
                where tokens.mint = l.mint
                  and (tokens.launch_signature is null
                       or (l.slot, l.signature) < (tokens.launched_slot, tokens.launch_signature))
                returning tokens.mint
                """,
                *columns,
            )
            # The creating instruction, and for old layouts without an event timestamp the launch time,
            # are only known from a fetched transaction: when the logs of the same launch were stored
            # first, fill them in (not a new launch), as if the transaction had come first.
            filled = await conn.fetch(
                "update tokens set launch_ix = coalesce(tokens.launch_ix, l.launch_ix), "
                "launched_at = coalesce(tokens.launched_at, l.launched_at) "
                "from unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[], $5::text[]) "
                "as l(mint, signature, event_index, launched_at, launch_ix) where tokens.mint = l.mint "
                "and tokens.launch_signature = l.signature and tokens.launch_event_index = l.event_index "
                "and ((tokens.launch_ix is null and l.launch_ix is not null) "
                "or (tokens.launched_at is null and l.launched_at is not null)) "
                "returning tokens.mint",
                *(columns[i] for i in (0, 10, 11, 13, 14)),
            )
            fresh = {r["mint"] for r in rows}
            result.launches = len(fresh)
            metrics.LAUNCHES.inc(len(fresh))
            if self.emit:
                for mint in sorted(
                    fresh, key=lambda m: (launches[m].slot, launches[m].signature, launches[m].event_index)
                ):
                    outbox.add(ev.token_launched(launches[mint]))
            # A launch time filled in counts for the serial-launcher rule like a new launch.
            await self._serial_launchers(
                conn,
                outbox,
                {launches[m].creator or launches[m].user for m in fresh | {r["mint"] for r in filled}},
            )
        completes = {
            r.mint: r for _, d in derived for r in sorted(d.completes, key=lambda c: (c.slot, c.signature))
        }
        if completes:
            rows = await conn.fetch(
                """
                update tokens set complete_slot = c.slot, complete_signature = c.signature,
                    status = case when tokens.status = 'migrated' then 'migrated' else 'complete' end
                from unnest($1::text[], $2::bigint[], $3::text[]) as c(mint, slot, signature)
                where tokens.mint = c.mint
                  and (tokens.complete_slot is null or (c.slot, c.signature) < (tokens.complete_slot, tokens.complete_signature))
                returning tokens.mint, tokens.complete_slot
                """,
                list(completes),
                [c.slot for c in completes.values()],
                [c.signature for c in completes.values()],
            )
            await self._emit_firsts(conn, outbox, rows, completes, ev.curve_completed, "CURVE_COMPLETED")
        migrations = {
            r.mint: r for _, d in derived for r in sorted(d.migrations, key=lambda m: (m.slot, m.signature))
        }
        if migrations:
            rows = await conn.fetch(
                """
                update tokens set migrated_slot = m.slot, migrated_signature = m.signature, pool = m.pool,
                    status = 'migrated'
                from unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) as m(mint, slot, signature, pool)
                where tokens.mint = m.mint
                  and (tokens.migrated_slot is null or (m.slot, m.signature) < (tokens.migrated_slot, tokens.migrated_signature))
                returning tokens.mint
                """,
                list(migrations),
                [m.slot for m in migrations.values()],
                [m.signature for m in migrations.values()],
                [m.pool for m in migrations.values()],
            )
            await self._emit_firsts(conn, outbox, rows, migrations, ev.token_migrated, "TOKEN_MIGRATED")

    async def _emit_firsts(
        self, conn: Conn, outbox: Outbox, rows: Sequence[Any], records: dict[str, Any], make: Any, kind: str
    ) -> None:
        """Emit once per mint: the first time the fact is recorded (the outbox knows if an event of
        `kind` was emitted)."""
        if not self.emit or not rows:
            return
        mints = sorted(r["mint"] for r in rows)
        done = {
            r["key"]
            for r in await conn.fetch(
                "select key from events where kind = $1 and key = any($2::text[])", kind, mints
            )
        }
        for mint in mints:
            if mint not in done:
                outbox.add(make(records[mint]))

    async def _serial_launchers(self, conn: Conn, outbox: Outbox, creators: set[str]) -> None:
        if not creators:
            return
        rows = await conn.fetch(
            "select mint, creator, launched_slot, launch_signature, launch_event_index, launched_at from tokens "
            "where creator = any($1::text[]) and launched_at is not null",
            sorted(creators),
        )
        by_creator: dict[str, list[LaunchFact]] = defaultdict(list)
        for r in rows:
            by_creator[r["creator"]].append(
                LaunchFact(
                    r["mint"],
                    r["creator"],
                    r["launched_slot"],
                    r["launch_signature"],
                    r["launch_event_index"] or 0,
                    epoch(r["launched_at"]) or 0,
                )
            )
        flags: list[Flag] = []
        for launches in by_creator.values():
            if len(launches) >= self.config.risk.serial_launch_count:
                flags.extend(serial_launches(launches, self.config.risk))
        await self._flags(conn, outbox, flags)

    async def _creator_dumps(self, conn: Conn, outbox: Outbox, touched: list[TradeRow]) -> None:
        await self._flags(conn, outbox, creator_dumps(touched, self.config.risk))

    async def _flags(self, conn: Conn, outbox: Outbox, raised: list[Flag]) -> None:
        # One row per key: of two flags in one transaction, the first event raises it.
        by_key: dict[tuple[str, str, int, str], Flag] = {}
        for f in sorted(raised, key=lambda f: f.event_index, reverse=True):
            by_key[(f.mint, f.flag, f.slot, f.signature)] = f
        flags = [by_key[k] for k in sorted(by_key)]
        if not flags:
            return
        rows = await conn.fetch(
            """
            insert into risk_flags (mint, flag, slot, signature, severity, active, event_time, details)
            select * from unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::boolean[],
                                 $7::timestamptz[], $8::jsonb[])
            on conflict (mint, flag, slot, signature) do update set
                severity = excluded.severity, active = excluded.active, event_time = excluded.event_time,
                details = excluded.details
            where (risk_flags.severity, risk_flags.active, risk_flags.details)
                  is distinct from (excluded.severity, excluded.active, excluded.details)
            returning mint, flag, slot, signature, (xmax = 0) as inserted
            """,
            [f.mint for f in flags],
            [f.flag for f in flags],
            [f.slot for f in flags],
            [f.signature for f in flags],
            [f.severity for f in flags],
            [f.active for f in flags],
            [ts(f.event_time) for f in flags],
            [dict(f.details) for f in flags],
        )
        # Evidence can change when a late fact arrives (a serial launcher's count); only new flags emit.
        fresh = {(r["mint"], r["flag"], r["slot"], r["signature"]) for r in rows if r["inserted"]}
        metrics.RISK_FLAGS.inc(len(fresh))
        if self.emit:
            for f in flags:
                if (f.mint, f.flag, f.slot, f.signature) in fresh:
                    outbox.add(ev.risk_flag(f))

    async def _features(
        self, conn: Conn, outbox: Outbox, touched: list[TradeRow], result: BatchResult
    ) -> None:
        agg = self.features
        reopened: set[tuple[str, int, str]] = set()
        newest = 0
        for t in touched:
            if not t.counts_as_sol_flow or t.mint is None:
                continue
            minute = minute_of(t.event_time)
            newest = max(newest, t.event_time)
            if agg.is_late(minute):
                reopened.add((t.mint, minute, t.venue))
            else:
                key = agg.add(t.mint, t.venue, t.event_time, t.bucket_trade())
                if key is not None:
                    self.dirty_open.add(key)
        if newest:
            agg.advance(newest)
        closed = agg.close_due()
        final_rows = [b.row(final=True) for b in closed]
        for b in closed:
            self.dirty_open.discard((b.mint, b.minute, b.venue))
        late_rows = []
        for mint, minute, venue in sorted(reopened):
            bucket = await load_bucket(conn, mint, minute, venue)
            if bucket is not None:
                row = bucket.row(final=True)
                if await stored_feature(conn, row) != row:
                    late_rows.append(row)
        result.buckets_final = len(final_rows)
        result.buckets_reopened = len(late_rows)
        metrics.BUCKETS.labels(kind="final").inc(len(final_rows))
        metrics.BUCKETS.labels(kind="reopened").inc(len(late_rows))
        rows = final_rows + late_rows
        if not rows:
            return
        await write_features(conn, rows)
        if self.emit:
            versions = await emitted_versions(conn, rows)
            for row in rows:
                emitted = versions.get(f"{row.mint}:{row.minute}:{row.venue}", 0)
                outbox.add(ev.feature_bucket(row, emitted + 1))
            await self._curve_closes(conn, outbox, [b for b in closed if b.venue == CURVE])
            await self._amm_closes(conn, outbox, [b for b in closed if b.venue == AMM])

    async def _curve_closes(self, conn: Conn, outbox: Outbox, closed: list[Bucket]) -> None:
        """One CurveSnapshot per closed bonding-curve bucket: the curve after the bucket's last trade."""
        if not closed:
            return
        lasts = [max(b.trades.values(), key=lambda t: t.order) for b in closed]
        rows = await conn.fetch(
            f"select {', '.join(CURVE_COLUMNS)} from curve_snapshots s join unnest($1::text[], $2::bigint[], "
            "$3::text[], $4::int[]) as k(mint, slot, signature, event_index) using (mint, slot, signature, event_index)",
            [b.mint for b in closed],
            [t.slot for t in lasts],
            [t.signature for t in lasts],
            [t.event_index for t in lasts],
        )
        found = {(r["mint"], r["signature"], r["event_index"]): r for r in rows}
        for b, t in zip(closed, lasts, strict=True):
            r = found.get((b.mint, t.signature, t.event_index))
            if r is not None:
                outbox.add(ev.curve_snapshot(curve_row(r), t.event_time))

    async def _amm_closes(self, conn: Conn, outbox: Outbox, closed: list[Bucket]) -> None:
        """One AmmSnapshot per closed PumpSwap bucket: the pool as the bucket's last trade event
        states it (the trade row names the pool)."""
        if not closed:
            return
        lasts = [max(b.trades.values(), key=lambda t: t.order) for b in closed]
        rows = await conn.fetch(
            f"select {', '.join('s.' + c for c in AMM_COLUMNS)} from unnest($1::text[], $2::int[]) "
            "as k(signature, event_index) join trades t using (signature, event_index) "
            "join amm_snapshots s on (s.pool, s.slot, s.signature, s.event_index) = "
            "(t.pool, t.slot, t.signature, t.event_index)",
            [t.signature for t in lasts],
            [t.event_index for t in lasts],
        )
        found = {(r["signature"], r["event_index"]): r for r in rows}
        for t in lasts:
            r = found.get(t.key)
            if r is not None:
                outbox.add(ev.amm_snapshot(amm_row(r), t.event_time))

    async def _rederive_orphans(
        self, conn: Conn, outbox: Outbox, pools: list[str], result: BatchResult
    ) -> None:
        """Trades stored without a mint because their PumpSwap pool was not known yet: now it is, so
        their stored inputs are decoded and derived again (same code, same transaction)."""
        rows = await conn.fetch(
            "select distinct signature from trades where pool = any($1::text[]) and mint is null",
            sorted(set(pools)),
        )
        if not rows:
            return
        inputs = await stored_inputs(conn, sorted(r["signature"] for r in rows))
        again = await self.apply(conn, outbox, inputs, persist_raw=False)
        result.rederived += len(inputs) + again.rederived
        log.info("re-derived trades of newly known pools", signatures=len(inputs))


# Inputs --------------------------------------------------------------------------------------------------


def logs_input(
    signature: str, slot: int, err: object, logs: list[str], source: str, endpoint: str | None
) -> LogsInput:
    try:
        return LogsInput(
            signature, slot, err, logs, source, endpoint, decode_logs(signature, slot, logs, err)
        )
    except DecodeError as exc:
        return LogsInput(signature, slot, err, logs, source, endpoint, None, str(exc))


def tx_input(
    result: dict[str, Any], encoding: str, raw_source: str, endpoint: str | None, signature: str | None = None
) -> TxInput:
    signatures = (
        (result.get("transaction") or {}).get("signatures")
        if isinstance(result.get("transaction"), dict)
        else None
    )
    sig = signature or (signatures[0] if signatures else "")
    slot = int(result.get("slot") or 0)
    try:
        decoded = decode_transaction(result)
        return TxInput(decoded.signature or sig, slot, result, encoding, decoded, raw_source, endpoint)
    except DecodeError as exc:
        return TxInput(sig, slot, result, encoding, None, raw_source, endpoint, str(exc))


async def stored_inputs(conn: Conn, signatures: Sequence[str]) -> list[Input]:
    """The raw inputs stored for `signatures`: the transaction where fetched, else the logs."""
    rows = await conn.fetch(
        "select r.signature, r.slot, r.err, r.logs, t.result, t.encoding from raw_logs r "
        "left join transactions t using (signature) where r.signature = any($1::text[]) order by r.slot, r.signature",
        list(signatures),
    )
    return [
        tx_input(r["result"], r["encoding"], "transaction", None, r["signature"])
        if r["result"] is not None
        else logs_input(r["signature"], r["slot"], r["err"], list(r["logs"]), "ws", None)
        for r in rows
    ]


# Row helpers ---------------------------------------------------------------------------------------------

RAW_COLUMNS = ("signature", "slot", "err", "logs", "truncated", "source", "endpoint")
TX_COLUMNS = (
    "signature",
    "slot",
    "block_time",
    "version",
    "err",
    "fee",
    "compute_units",
    "encoding",
    "result",
)


def tx_record(signature: str, slot: int, result: dict[str, Any], encoding: str) -> tuple[Any, ...]:
    """The transactions row (TX_COLUMNS) of a getTransaction result."""
    meta = result.get("meta") or {}
    return (
        signature, slot, ts(result.get("blockTime")), str(result.get("version", "legacy")), meta.get("err"),
        meta.get("fee"), meta.get("computeUnitsConsumed"), encoding, result,
    )  # fmt: skip


async def insert_new(
    conn: Conn, table: str, columns: Sequence[str], rows: dict[str, tuple[Any, ...]]
) -> list[str]:
    """Insert rows keyed by signature that the table does not hold yet; returns those signatures.
    (COPY into a staging table, then one INSERT ... ON CONFLICT DO NOTHING: measured cheaper than a
    lookup followed by a COPY into the indexed table.)"""
    await conn.copy_records_to_table(
        f"stage_{table}", records=[rows[k] for k in sorted(rows)], columns=columns
    )
    new = await conn.fetch(
        f"insert into {table} ({', '.join(columns)}) select {', '.join(columns)} from stage_{table} "
        "on conflict do nothing returning signature"
    )
    return sorted(r["signature"] for r in new)


async def write_snapshots(
    conn: Conn,
    table: str,
    columns: Sequence[str],
    direct: list[tuple[Any, ...]],
    staged: list[tuple[Any, ...]],
    on_conflict: str,
) -> None:
    """Snapshot rows of trades new in this batch (`direct`: their keys cannot be stored yet) are COPYed
    into `table`; the rest go through its staging table and `insert ... on conflict <on_conflict>`."""
    if direct:
        await conn.copy_records_to_table(table, records=direct, columns=columns)
    if staged:
        await conn.copy_records_to_table(f"stage_{table}", records=staged, columns=columns)
        await conn.execute(
            f"insert into {table} ({', '.join(columns)}) select {', '.join(columns)} from stage_{table} "
            f"on conflict {on_conflict}"
        )


CURVE_COLUMNS = (
    "mint", "slot", "signature", "event_index", "origin", "block_time", "virtual_token_reserves",
    "virtual_sol_reserves", "real_token_reserves", "real_sol_reserves", "complete", "price_sol", "sold_pct",
)  # fmt: skip
AMM_COLUMNS = (
    "pool", "slot", "signature", "event_index", "origin", "base_mint", "quote_mint", "block_time",
    "base_reserves", "quote_reserves", "lp_supply", "price_sol",
)  # fmt: skip


def carrier_rank(t: TradeRow) -> tuple[int, bool]:
    return (SOURCE_RANK[t.source], t.mint is not None)


def best_trades(trades: Iterable[TradeRow]) -> list[TradeRow]:
    """One row per (signature, event_index): the best carrier, then the one that knows the mint."""
    best: dict[tuple[str, int], TradeRow] = {}
    for t in trades:
        held = best.get(t.key)
        if held is None or carrier_rank(t) > carrier_rank(held):
            best[t.key] = t
    return [best[k] for k in sorted(best)]


def trade_record(t: TradeRow) -> tuple[Any, ...]:
    return (
        t.signature, t.event_index, t.slot, ts(t.block_time), ts(t.event_time), t.venue, t.mint, t.pool,
        t.quote_mint, t.trader, t.is_buy, t.sol_amount, t.token_amount, t.user_sol_amount,
        t.virtual_sol_reserves, t.virtual_token_reserves, t.real_sol_reserves, t.real_token_reserves, t.fee,
        t.fee_bps, t.creator_fee, t.creator_fee_bps, t.creator, t.ix_name, t.price_sol, t.layout_version, t.source,
    )  # fmt: skip


def curve_record(s: CurveSnapshotRow) -> tuple[Any, ...]:
    return (
        s.mint, s.slot, s.signature, s.event_index, "trade_event", ts(s.block_time), s.virtual_token_reserves,
        s.virtual_sol_reserves, s.real_token_reserves, s.real_sol_reserves, s.complete, s.price_sol, s.sold_pct,
    )  # fmt: skip


def curve_row(r: Any) -> CurveSnapshotRow:
    return CurveSnapshotRow(
        mint=r["mint"],
        slot=r["slot"],
        signature=r["signature"],
        event_index=r["event_index"],
        block_time=epoch(r["block_time"]),
        virtual_token_reserves=r["virtual_token_reserves"],
        virtual_sol_reserves=r["virtual_sol_reserves"],
        real_token_reserves=r["real_token_reserves"],
        real_sol_reserves=r["real_sol_reserves"],
        complete=r["complete"],
        price_sol=r["price_sol"],
        sold_pct=r["sold_pct"],
    )


def amm_row(r: Any) -> AmmSnapshotRow:
    return AmmSnapshotRow(
        pool=r["pool"],
        slot=r["slot"],
        signature=r["signature"],
        event_index=r["event_index"],
        origin=r["origin"],
        base_mint=r["base_mint"],
        quote_mint=r["quote_mint"],
        block_time=epoch(r["block_time"]),
        base_reserves=r["base_reserves"],
        quote_reserves=r["quote_reserves"],
        lp_supply=r["lp_supply"],
        price_sol=r["price_sol"],
    )


def amm_record(s: AmmSnapshotRow) -> tuple[Any, ...]:
    return (
        s.pool, s.slot, s.signature, s.event_index, s.origin, s.base_mint, s.quote_mint, ts(s.block_time),
        s.base_reserves, s.quote_reserves, s.lp_supply, s.price_sol,
    )  # fmt: skip


def launch_rank(r: Launch) -> tuple[int, str, int, bool, bool]:
    """Earliest launch first; of two carriers of one launch, the one that knows more."""
    return (r.slot, r.signature, r.event_index, r.ix_name is None, (r.timestamp or r.block_time) is None)


def launch_columns(launches: Iterable[Launch]) -> list[list[Any]]:
    ls = sorted(launches, key=lambda r: r.mint)
    return [
        [r.mint for r in ls],
        [r.name for r in ls],
        [r.symbol for r in ls],
        [r.uri for r in ls],
        [r.creator or r.user for r in ls],
        [r.user for r in ls],
        [r.bonding_curve for r in ls],
        [r.token_program for r in ls],
        [r.is_mayhem_mode for r in ls],
        [r.quote_mint for r in ls],
        [r.signature for r in ls],
        [r.event_index for r in ls],
        [r.slot for r in ls],
        [ts(r.timestamp or r.block_time) for r in ls],
        [r.ix_name for r in ls],
        [r.layout_version for r in ls],
    ]


def bucket_trade(r: Any) -> BucketTrade:
    return BucketTrade(
        signature=r["signature"],
        event_index=r["event_index"],
        slot=r["slot"],
        event_time=int(r["event_time"].timestamp()),
        trader=r["trader"],
        is_buy=r["is_buy"],
        sol_amount=r["sol_amount"],
        price=r["price_sol"],
    )


async def load_bucket(conn: Conn, mint: str, minute: int, venue: str) -> Bucket | None:
    rows = await conn.fetch(
        "select signature, event_index, slot, event_time, trader, is_buy, sol_amount, price_sol from trades "
        "where mint = $1 and venue = $2 and event_time >= $3 and event_time < $4 and quote_mint is null",
        mint,
        venue,
        ts(minute),
        ts(minute + MINUTE),
    )
    if not rows:
        return None
    bucket = Bucket(mint, minute, venue)
    for r in rows:
        bucket.add(bucket_trade(r))
    return bucket


def feature_record(row: FeatureRow) -> tuple[Any, ...]:
    return (
        row.mint, ts(row.minute), row.venue, row.trades, row.buys, row.sells, row.uniq_signers, row.uniq_buyers,
        row.uniq_sellers, row.buy_sol, row.sell_sol, row.net_inflow_sol, row.avg_trade_sol, row.trade_sol_stddev,
        row.whale_share_top5, row.price_open, row.price_high, row.price_low, row.price_close, row.first_slot,
        row.last_slot, row.final,
    )  # fmt: skip


async def write_features(conn: Conn, rows: list[FeatureRow]) -> None:
    if rows:
        await conn.executemany(UPSERT_FEATURES, [feature_record(r) for r in rows])


async def stored_feature(conn: Conn, row: FeatureRow) -> FeatureRow | None:
    r = await conn.fetchrow(
        f"select {', '.join(FEATURE_COLUMNS)} from features_1m where mint = $1 and minute = $2 and venue = $3",
        row.mint,
        ts(row.minute),
        row.venue,
    )
    if r is None:
        return None
    values = dict(r)
    values["minute"] = epoch(values["minute"])
    return FeatureRow(**values)


async def emitted_versions(conn: Conn, rows: list[FeatureRow]) -> dict[str, int]:
    keys = [f"{r.mint}:{r.minute}:{r.venue}" for r in rows]
    found = await conn.fetch(
        "select key, count(*) as n from events where kind = 'FEATURE_BUCKET' and key = any($1::text[]) group by key",
        keys,
    )
    return {r["key"]: int(r["n"]) for r in found}
