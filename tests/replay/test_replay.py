"""Replay against live ingest of simulated traffic (the simulator in its own process, real sockets,
real Postgres): byte-identical derived tables, twice, by range, by mint, after an interruption."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import orjson
import pytest

from executor.ingest.pipeline import ingest_config, ingest_task
from executor.replay import ReplayBusy, ReplayOptions, replay
from tests.replay.conftest import LATENESS, Copies, digests, executor_cli
from tests.support import ROOT, executor_settings, fetch, running_executor

pytestmark = pytest.mark.slow
CONFIG = ingest_config(executor_settings("postgresql://unused", features_lateness_s=LATENESS)).processor


async def test_replay_after_a_faulty_live_run_reproduces_every_derived_table_and_keeps_the_outbox(
    live_db: str, copies: Copies
) -> None:
    url = await copies.of(live_db)
    before = executor_cli(url, "verify", "--events")
    assert before.returncode == 0, before.stderr
    trades_line = before.stdout.splitlines()[1]
    assert int(trades_line.split()[1].removeprefix("rows=")) > 500, (
        "the live run should have stored many trades"
    )
    done = executor_cli(url, "replay")
    assert done.returncode == 0, done.stderr
    summary = orjson.loads(done.stdout)
    assert summary["options"] == "into=fresh events=keep chunk=2000"
    assert summary["trades_inserted"] > 500
    after = executor_cli(url, "verify", "--events")
    assert after.stdout == before.stdout
    assert not await fetch(url, "select key from ingest_state where key like 'replay:%'")


async def test_replaying_twice_in_either_target_gives_the_same_tables_and_the_same_rebuilt_outbox(
    live_db: str, copies: Copies
) -> None:
    live = await digests(await copies.of(live_db))
    a, b = await copies.of(live_db), await copies.of(live_db)
    first = await replay(a, ReplayOptions(into="in-place", events="rebuild", workers=0), CONFIG)
    await replay(b, ReplayOptions(into="fresh", events="rebuild", workers=2), CONFIG)
    assert first.events > first.trades_inserted > 500
    once = await digests(a, events=True)
    assert once == await digests(b, events=True)
    await replay(a, ReplayOptions(events="rebuild", workers=1), CONFIG)
    assert await digests(a, events=True) == once
    assert {t: d for t, d in once.items() if t != "events"} == live
    seqs = [r["seq"] for r in await fetch(a, "select seq from events order by seq")]
    assert seqs == list(range(1, len(seqs) + 1)), "the rebuilt outbox is gap-free from 1"


async def test_a_slot_range_replay_repairs_its_range_to_what_a_full_replay_gives(
    live_db: str, copies: Copies
) -> None:
    url = await copies.of(live_db)
    full = await digests(url)
    lo, hi = (
        await fetch(
            url,
            "select min(slot) + (max(slot) - min(slot)) / 3, min(slot) + 2 * (max(slot) - min(slot)) / 3 from raw_logs",
        )
    )[0]
    row = (await fetch(url, "select signature, event_index from trades where slot < $1 limit 1", lo))[0]
    outside = (str(row["signature"]), int(row["event_index"]))
    for damage in (
        "update trades set sol_amount = sol_amount + 1 where slot between $1 and $2",
        "delete from curve_snapshots where slot between $1 and $2 and signature like '1%'",
        "update features_1m set trades = 0 where last_slot between $1 and $2",
        "delete from risk_flags where slot between $1 and $2",
        "update tokens set name = 'x', status = 'bonding' where launched_slot between $1 and $2",
    ):
        await fetch(url, damage, lo, hi)
    await fetch(url, "update trades set trader = 'x' where signature = $1 and event_index = $2", *outside)
    # A trade no stored input yields (as after a decoder change), alone in its bucket: replay drops both.
    await fetch(
        url,
        "insert into trades select 'phantom', 0, slot, block_time, event_time, venue, 'PHANTOM', pool, quote_mint, "
        "trader, is_buy, sol_amount, token_amount, user_sol_amount, virtual_sol_reserves, virtual_token_reserves, "
        "real_sol_reserves, real_token_reserves, fee, fee_bps, creator_fee, creator_fee_bps, creator, ix_name, "
        "price_sol, layout_version, source from trades where slot between $1 and $2 and venue = 'PUMP_CURVE' limit 1",
        lo,
        hi,
    )
    await fetch(
        url,
        "insert into features_1m select 'PHANTOM', minute, venue, trades, buys, sells, uniq_signers, uniq_buyers, "
        "uniq_sellers, buy_sol, sell_sol, net_inflow_sol, avg_trade_sol, trade_sol_stddev, whale_share_top5, "
        "price_open, price_high, price_low, price_close, first_slot, last_slot, true from features_1m "
        "where minute = (select date_trunc('minute', event_time) from trades where signature = 'phantom') limit 1",
    )
    report = await replay(url, ReplayOptions(from_slot=lo, to_slot=hi, workers=0), CONFIG)
    assert report.options.target == "in-place" and report.rows > 0
    assert report.stale_buckets == 1, "the phantom trade's bucket was deleted"
    still = await fetch(url, "select trader from trades where signature = $1 and event_index = $2", *outside)
    assert still[0]["trader"] == "x", "rows outside the range are left alone"
    await fetch(
        url,
        "update trades set trader = $3 where signature = $1 and event_index = $2",
        *outside,
        await original_trader(live_db, copies, outside),
    )
    assert await digests(url) == full


async def original_trader(live_db: str, copies: Copies, key: tuple[str, int]) -> str:
    rows = await fetch(
        await copies.of(live_db), "select trader from trades where signature = $1 and event_index = $2", *key
    )
    return str(rows[0]["trader"])


async def test_a_mint_replay_rebuilds_that_mint_on_both_venues(live_db: str, copies: Copies) -> None:
    url = await copies.of(live_db)
    full = await digests(url)
    migrated = await fetch(
        url, "select mint, pool from tokens where status = 'migrated' order by mint limit 1"
    )
    mint = (
        migrated[0]["mint"]
        if migrated
        else (await fetch(url, "select mint from tokens order by mint limit 1"))[0]["mint"]
    )
    for damage in (
        "delete from trades where mint = $1",
        "delete from features_1m where mint = $1",
        "delete from tokens where mint = $1",
        "delete from risk_flags where mint = $1",
        "update curve_snapshots set price_sol = 0 where mint = $1",
    ):
        await fetch(url, damage, mint)
    report = await replay(url, ReplayOptions(mints=(mint,), into="fresh", workers=2), CONFIG)
    assert 0 < report.inputs_applied < report.rows
    assert await digests(url) == full


async def test_an_interrupted_replay_resumes_to_the_result_of_an_uninterrupted_one(
    live_db: str, copies: Copies
) -> None:
    whole, cut = await copies.of(live_db), await copies.of(live_db)
    options = ReplayOptions(events="rebuild", chunk=150, workers=2)
    await replay(whole, options, CONFIG)
    stopped = await replay(cut, options, CONFIG, stop_after_chunks=4)
    assert stopped.chunks == 4
    cursor = await fetch(cut, "select value from ingest_state where key = 'replay:cursor'")
    assert orjson.loads(cursor[0]["value"])["chunks_done"] == 4
    conflict = await asyncio.to_thread(executor_cli, cut, "replay", "--chunk", "99")
    assert conflict.returncode == 2 and "--restart" in conflict.stderr
    resumed = await replay(cut, ReplayOptions(events="rebuild", chunk=150, workers=0), CONFIG)
    assert resumed.resumed_after_rows == 600 and resumed.rows > 600
    assert await digests(cut, events=True) == await digests(whole, events=True)


async def test_ctrl_c_stops_the_command_and_the_same_command_resumes(live_db: str, copies: Copies) -> None:
    whole, cut = await copies.of(live_db), await copies.of(live_db)
    args = ("replay", "--into", "in-place", "--chunk", "25", "--workers", "1")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "executor", *args, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, "DATABASE_URL": cut, "FEATURES_LATENESS_S": str(LATENESS)},
    )  # fmt: skip
    async with asyncio.timeout(60):
        while not await fetch(
            cut,
            "select 1 from ingest_state where key = 'replay:cursor' and (value->>'chunks_done')::int >= 3",
        ):
            await asyncio.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = await proc.communicate()
    assert proc.returncode == 130, err.decode()[-500:]
    assert b"run the same command again to resume" in err
    again = await asyncio.to_thread(executor_cli, cut, *args)
    assert again.returncode == 0, again.stderr
    assert orjson.loads(again.stdout)["resumed_after_rows"] > 0
    await replay(whole, ReplayOptions(into="in-place", chunk=25, workers=1), CONFIG)
    assert await digests(cut) == await digests(whole)


async def test_replay_refuses_while_a_live_executor_holds_the_writer_lock(db_url: str) -> None:
    async with running_executor(executor_settings(db_url), (ingest_task,)):
        async with asyncio.timeout(10):
            while not await fetch(db_url, "select 1 from pg_locks where locktype = 'advisory' and granted"):
                await asyncio.sleep(0.05)
        with pytest.raises(ReplayBusy):
            await replay(db_url, ReplayOptions(workers=0), CONFIG)
        refused = await asyncio.to_thread(executor_cli, db_url, "replay")
        assert refused.returncode == 2 and "writer lock" in refused.stderr
    await replay(db_url, ReplayOptions(workers=0), CONFIG)
