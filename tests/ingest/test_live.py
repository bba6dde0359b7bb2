"""Live ingest against the simulator (its own process, real HTTP + WebSocket) into real Postgres."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import defaultdict
from collections.abc import AsyncIterator
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from pathlib import Path
from typing import Any

import orjson
import pytest
from prometheus_client import REGISTRY

from executor.ingest.pipeline import ingest_task
from executor.ingest.processor import Input, Processor, ProcessorConfig, logs_input, tx_input
from pumpflow.v1 import executor_pb2 as pb
from tests.support import (
    ExecutorHandle,
    PgProxy,
    executor_settings,
    fetch,
    running_executor,
    sim_process,
    until_ingested,
)

pytestmark = pytest.mark.slow
WSOL = "So11111111111111111111111111111111111111112"
LATENESS = 30


@contextlib.asynccontextmanager
async def ingesting(db_url: str, http: str, ws: str, **overrides: Any) -> AsyncIterator[ExecutorHandle]:
    settings = executor_settings(
        db_url, solana_rpc_http=(http,), solana_rpc_ws=(ws,), reconcile_interval_s=2.0,
        features_lateness_s=LATENESS, **overrides,
    )  # fmt: skip
    async with running_executor(settings, (ingest_task,)) as handle:
        yield handle


def manifest_trades(rows: list[dict[str, Any]]) -> dict[tuple[str, int], dict[str, Any]]:
    out = {}
    for row in rows:
        if row.get("err") is not None:
            continue
        for rec in row.get("records", []):
            if rec["kind"] in ("curve_trade", "amm_trade"):
                out[(row["signature"], rec["event_index"])] = {
                    **rec,
                    "slot": row["slot"],
                    "block_time": row["block_time"],
                }
    return out


def q(value: Fraction, places: int) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 80
        return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
            Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN
        )


def reference_features(
    trades: dict[tuple[str, int], dict[str, Any]],
) -> dict[tuple[str, int, str], dict[str, Any]]:
    """features_1m recomputed from the manifest with plain fractions, independent of executor.features."""
    buckets: dict[tuple[str, int, str], list[tuple[tuple[int, str, int], dict[str, Any]]]] = defaultdict(list)
    newest = 0
    for (sig, idx), t in trades.items():
        if t["kind"] == "curve_trade":
            mint, venue, sol = t["mint"], "PUMP_CURVE", t["sol_amount"]
            price = Fraction(t["virtual_sol_reserves"] * 10**6, t["virtual_token_reserves"] * 10**9)
        else:
            if t.get("quote_mint") != WSOL:
                continue
            mint, venue, sol = t["base_mint"], "PUMP_AMM", t["quote_amount"]
            lp = t.get("lp_fee") or 0
            if t["is_buy"]:
                base = t["pool_base_token_reserves"] - t["base_amount"]
                quote = t["pool_quote_token_reserves"] + t["quote_amount"] + lp
            else:
                base = t["pool_base_token_reserves"] + t["base_amount"]
                quote = t["pool_quote_token_reserves"] - t["quote_amount"] + lp
            price = Fraction(quote * 10**6, base * 10**9)
        when = t["block_time"]
        newest = max(newest, when)
        buckets[(mint, when - when % 60, venue)].append(
            ((t["slot"], sig, idx), {**t, "sol": sol, "price": price})
        )
    final_through = (newest - LATENESS) - (newest - LATENESS) % 60 - 60
    out = {}
    for key, items in buckets.items():
        items.sort(key=lambda x: x[0])
        ts = [t for _, t in items]
        sizes = [t["sol"] for t in ts]
        n, total = len(ts), sum(sizes)
        wallets: dict[str, int] = defaultdict(int)
        for t in ts:
            wallets[t["user"]] += t["sol"]
        variance = Fraction(sum(s * s for s in sizes), n) - Fraction(total, n) ** 2
        with localcontext() as ctx:
            ctx.prec = 80
            stddev = (Decimal(variance.numerator) / Decimal(variance.denominator)).sqrt()
        prices = [q(t["price"], 18) for t in ts]
        out[key] = {
            "trades": n,
            "buys": sum(t["is_buy"] for t in ts),
            "sells": sum(not t["is_buy"] for t in ts),
            "uniq_signers": len(wallets),
            "uniq_buyers": len({t["user"] for t in ts if t["is_buy"]}),
            "uniq_sellers": len({t["user"] for t in ts if not t["is_buy"]}),
            "buy_sol": sum(t["sol"] for t in ts if t["is_buy"]),
            "sell_sol": sum(t["sol"] for t in ts if not t["is_buy"]),
            "net_inflow_sol": sum(t["sol"] if t["is_buy"] else -t["sol"] for t in ts),
            "avg_trade_sol": q(Fraction(total, n), 6),
            "trade_sol_stddev": stddev.quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN),
            "whale_share_top5": q(Fraction(sum(sorted(wallets.values(), reverse=True)[:5]), total), 9)
            if total
            else Decimal(0),
            "price_open": prices[0],
            "price_high": max(prices),
            "price_low": min(prices),
            "price_close": prices[-1],
            "first_slot": items[0][0][0],
            "last_slot": items[-1][0][0],
            "final": key[1] <= final_through,
        }
    return out


async def stored_features(db_url: str) -> dict[tuple[str, int, str], dict[str, Any]]:
    rows = await fetch(db_url, "select * from features_1m")
    return {
        (r["mint"], int(r["minute"].timestamp()), r["venue"]): {
            k: v for k, v in dict(r).items() if k not in ("mint", "minute", "venue")
        }
        for r in rows
    }


async def test_features_equal_an_independent_recomputation_from_the_manifest(
    db_url: str, tmp_path: Path
) -> None:
    async with (
        sim_process(tmp_path, "--seed", "21", "--rate", "120", "--speed", "30", "--duration", "12") as (
            http,
            ws,
            manifest,
        ),
        ingesting(db_url, http, ws),
    ):
        rows = await until_ingested(db_url, manifest)
    trades = manifest_trades(rows)
    expected = reference_features(trades)
    stored = await stored_features(db_url)
    assert len(expected) >= 20, "the scenario should produce many active buckets"
    assert set(stored) == set(expected)
    for key, values in expected.items():
        assert stored[key] == values, key


async def test_every_final_bucket_streams_the_snapshot_after_its_last_trade(
    db_url: str, tmp_path: Path
) -> None:
    async with (
        sim_process(tmp_path, "--seed", "21", "--rate", "120", "--speed", "30", "--duration", "8") as (
            http,
            ws,
            manifest,
        ),
        ingesting(db_url, http, ws),
    ):
        await until_ingested(db_url, manifest)
    events = [
        pb.Event.FromString(r["payload"])
        for r in await fetch(
            db_url,
            "select payload from events where kind in ('FEATURE_BUCKET', 'CURVE_SNAPSHOT', 'AMM_SNAPSHOT') order by seq",
        )
    ]
    final = {
        (e.feature_bucket.mint, e.feature_bucket.minute_start, e.feature_bucket.venue)
        for e in events
        if e.HasField("feature_bucket")  # emitted once final
    }
    last_trades = {
        (r["mint"], r["minute"], r["venue"]): (r["signature"], r["event_index"], r["pool"])
        for r in await fetch(
            db_url,
            "select distinct on (mint, minute, venue) mint, venue, signature, event_index, pool, "
            "(extract(epoch from date_trunc('minute', event_time)))::bigint as minute from trades "
            "where mint is not null and quote_mint is null "
            'order by mint, minute, venue, slot desc, signature collate "C" desc, event_index desc',
        )
    }
    amm_final = {(m, minute) for m, minute, venue in final if venue == pb.VENUE_PUMP_AMM}
    curve_final = {(m, minute) for m, minute, venue in final if venue == pb.VENUE_PUMP_CURVE}
    assert amm_final and curve_final, "the scenario should close buckets on both venues"
    amm = [e.amm_snapshot for e in events if e.HasField("amm_snapshot")]
    curve = [e.curve_snapshot for e in events if e.HasField("curve_snapshot")]
    assert len(amm) >= len(amm_final) and len(curve) >= len(curve_final)
    lasts = {
        (v[0], v[1]): v[2] for k, v in last_trades.items() if (k[0], k[1]) in amm_final and k[2] == "PUMP_AMM"
    }
    for snap in amm:
        assert snap.origin == "trade_event"
        assert lasts.get((snap.chain.signature, snap.chain.event_index)) == snap.pool


async def test_every_served_signature_and_trade_is_stored_exactly_once_under_faults(
    db_url: str, tmp_path: Path
) -> None:
    faults = "ws-drop:3s,dup:0.05,429:0.05,null-tx:2"
    async with (
        sim_process(
            tmp_path, "--seed", "5", "--rate", "80", "--speed", "10", "--duration", "15", "--faults", faults
        ) as (http, ws, manifest),
        ingesting(db_url, http, ws),
    ):
        rows = await until_ingested(db_url, manifest)
    served = [r["signature"] for r in rows]
    stored = [r["signature"] for r in await fetch(db_url, "select signature from raw_logs")]
    assert sorted(stored) == sorted(set(served))
    trades = manifest_trades(rows)
    keys = [
        (r["signature"], r["event_index"])
        for r in await fetch(db_url, "select signature, event_index from trades")
    ]
    assert sorted(keys) == sorted(trades)
    stored_values = {
        (r["signature"], r["event_index"]): (r["trader"], r["is_buy"], r["sol_amount"], r["token_amount"])
        for r in await fetch(db_url, "select * from trades")
    }
    for key, t in trades.items():
        amount = t["sol_amount"] if t["kind"] == "curve_trade" else t["quote_amount"]
        tokens = t["token_amount"] if t["kind"] == "curve_trade" else t["base_amount"]
        assert stored_values[key] == (t["user"], t["is_buy"], amount, tokens), key


async def test_nothing_is_lost_across_an_executor_restart(db_url: str, tmp_path: Path) -> None:
    async with sim_process(tmp_path, "--seed", "8", "--rate", "80", "--speed", "10", "--duration", "14") as (
        http,
        ws,
        manifest,
    ):
        async with ingesting(db_url, http, ws):
            await asyncio.sleep(5)
        await asyncio.sleep(3)  # the chain moves on while no executor listens
        async with ingesting(db_url, http, ws):
            rows = await until_ingested(db_url, manifest)
    stored = {r["signature"] for r in await fetch(db_url, "select signature from raw_logs")}
    assert {r["signature"] for r in rows} <= stored
    keys = {
        (r["signature"], r["event_index"])
        for r in await fetch(db_url, "select signature, event_index from trades")
    }
    assert keys == set(manifest_trades(rows))


async def test_traffic_moves_to_the_healthy_endpoint_when_the_other_is_unhealthy(
    db_url: str, tmp_path: Path
) -> None:
    # Same seed, both chains running from the start: two endpoints of one chain, one always behind.
    common = ("--seed", "9", "--rate", "60", "--speed", "10", "--duration", "10", "--start", "immediate")
    async with (
        sim_process(tmp_path, *common, "--faults", "behind:1.0") as (bad_http, bad_ws, _),
        sim_process(tmp_path, *common) as (http, ws, manifest),
    ):
        settings = executor_settings(
            db_url, solana_rpc_http=(bad_http, http), solana_rpc_ws=(bad_ws, ws), reconcile_interval_s=2.0,
            ingest_initial_backfill=1000,
        )  # fmt: skip
        async with running_executor(settings, (ingest_task,)):
            rows = await until_ingested(db_url, manifest)
    stored = {r["signature"] for r in await fetch(db_url, "select signature from raw_logs")}
    assert {r["signature"] for r in rows} <= stored
    good, bad = http.removeprefix("http://"), bad_http.removeprefix("http://")
    assert ok_requests(good, "getTransaction") > 0
    assert ok_requests(bad, "getTransaction") == 0
    assert ok_requests(good, "getSignaturesForAddress") > 0


def ok_requests(endpoint: str, method: str) -> float:
    value = REGISTRY.get_sample_value(
        "pumpflow_rpc_requests_total", {"endpoint": endpoint, "method": method, "outcome": "ok"}
    )
    return value or 0.0


async def test_nothing_is_lost_when_postgres_goes_away_mid_ingest(db_url: str, tmp_path: Path) -> None:
    async with (
        PgProxy(db_url) as proxy,
        sim_process(tmp_path, "--seed", "13", "--rate", "80", "--speed", "10", "--duration", "16") as (
            http,
            ws,
            manifest,
        ),
        ingesting(proxy.url, http, ws),
    ):
        await asyncio.sleep(4)
        await proxy.outage(5)
        rows = await until_ingested(db_url, manifest)
    stored = [r["signature"] for r in await fetch(db_url, "select signature from raw_logs")]
    assert sorted(stored) == sorted({r["signature"] for r in rows})
    keys = {
        (r["signature"], r["event_index"])
        for r in await fetch(db_url, "select signature, event_index from trades")
    }
    assert keys == set(manifest_trades(rows))
    seqs = [r["seq"] for r in await fetch(db_url, "select seq from events order by seq")]
    assert seqs == list(range(1, len(seqs) + 1)), "the outbox seq stays gap-free across the outage"


async def test_shuffled_arrival_order_gives_identical_derived_tables(
    db_url: str, other_db_url: str, tmp_path: Path
) -> None:
    async with (
        sim_process(tmp_path, "--seed", "17", "--rate", "100", "--speed", "30", "--duration", "10") as (
            http,
            ws,
            manifest,
        ),
        ingesting(db_url, http, ws, fetch_policy="all"),
    ):
        await until_ingested(db_url, manifest)
    raw = await fetch(
        db_url,
        "select r.signature, r.slot, r.err, r.logs, t.result from raw_logs r left join transactions t using (signature)",
    )
    inputs: list[Input] = []
    for r in raw:
        inputs.append(logs_input(r["signature"], r["slot"], r["err"], list(r["logs"]), "ws", None))
        if r["result"] is not None:
            inputs.append(tx_input(orjson.loads(r["result"]), "json", "transaction", None))
    random.Random(3).shuffle(inputs)
    async with running_executor(executor_settings(other_db_url, features_lateness_s=LATENESS)) as handle:
        processor = Processor(handle.running.bus, ProcessorConfig(lateness_s=LATENESS))
        async with handle.running.store.pool.acquire() as conn:
            await processor.prepare(conn)
            for start in range(0, len(inputs), 37):
                async with handle.running.bus.transaction(conn) as (tx, outbox):
                    await processor.apply(tx, outbox, inputs[start : start + 37], persist_raw=True)
            async with handle.running.bus.transaction(conn) as (tx, outbox):
                await processor.flush_open(tx, outbox, force=True)
    for table, order in DERIVED.items():
        live = await fetch(db_url, f"select * from {table} order by {order}")
        shuffled = await fetch(other_db_url, f"select * from {table} order by {order}")
        assert len(live) == len(shuffled), table
        for a, b in zip(live, shuffled, strict=True):
            assert dict(a) == dict(b), table


DERIVED = {
    "features_1m": "mint, minute, venue",
    "trades": "signature, event_index",
    "curve_snapshots": "mint, slot, signature, event_index",
    "amm_snapshots": "pool, slot, signature, event_index",
    "risk_flags": "mint, flag, slot, signature",
}
