"""Decoder throughput: `python -m bench.decode [--seconds S] [--runs N] [--sim N]`.

Live ingest calls `decode_logs` once per logsNotification; this measures it on one core, in CPU
time of this process (other load on a shared machine does not count against it), and reports
the median of `--runs` runs. Target: >= 50,000 log notifications per second per core.

* **Fixture mix**: the `meta.logMessages` of every recorded fixture transaction (57 real
  transactions of 2024-2026, 72 lines and 1.4 events each on average), decoded in a loop.
  *Warm* is the steady state: after the first two sights of a notification its log template is
  learned and its event shapes are compiled, so the loop measures the hot path. *Cold* clears the
  templates before every notification: each one is scanned line by line, as a notification of a
  never-seen shape is (compiled event plans stay). The split per stage comes from running the
  hot path's steps cumulatively (match the template, or scan; + base64; + events and records
  through their plans; + the rest of `decode_logs`) and taking differences.
* **Simulator traffic**: `--sim N` notifications of the simulator's `lifecycle` generator (seed 1,
  the current TradeEvent layout `v8`, curve and PumpSwap trades, launches, migrations), parsed
  from the notification JSON beforehand. *Live order* decodes each once, in order, starting from
  empty caches (templates, plans, pubkeys), as ingest would after a restart; *steady state*
  decodes the same stream again. Also printed: how many notifications matched a learned
  template, how many events went through a compiled plan, and how often a pubkey had been seen
  before in the stream (what the base58 cache saves).
* `decode_logs_reference` (the slow path the hot path is tested against) and `decode_transaction`
  on the full getTransaction results, for scale.
"""

from __future__ import annotations

import argparse
import binascii
import json
import statistics
import time
import timeit
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

import orjson

from executor.decode import decode_logs, decode_transaction, logtemplate, plans
from executor.decode.base58 import pubkey_cache
from executor.decode.idl import Prim
from executor.decode.layouts import EVENTS
from executor.decode.logs import decode_logs_reference, scan_logs
from executor.decode.model import DecodedTx
from executor.decode.plans import decode_logged_event
from sim.recorded import default_fixtures_dir

FIXTURES = default_fixtures_dir()
TARGET_NOTIFICATIONS_PER_SECOND = 50_000
DATA = "Program data: "

# (signature, slot, logs, err)
Notification = tuple[str, int, list[str], Any]
T = TypeVar("T")


def load_transactions(fixtures: Path) -> list[dict[str, Any]]:
    index = json.loads((fixtures / "INDEX.json").read_text("utf-8"))
    results = []
    for row in index:
        if row["kind"] == "transaction" and row["file"].count(".") == 1:
            results.append(json.loads((fixtures / row["file"]).read_text("utf-8"))["result"])
    return results


def measure(
    work: Callable[[Sequence[T]], int], prepare: Callable[[], Sequence[T]], seconds: float
) -> tuple[float, float]:
    """Notifications and records per CPU second of `work`, repeated for about `seconds` of CPU
    time. Each repetition gets a fresh copy of its input from `prepare` (not timed): every
    notification off the socket is a new object, and strings hash anew."""
    items = records = 0
    elapsed = 0.0
    while elapsed < seconds:
        notes = prepare()
        start = time.process_time()
        records += work(notes)
        elapsed += time.process_time() - start
        items += len(notes)
    return items / elapsed, records / elapsed


def copies(notes: Sequence[Notification]) -> Callable[[], list[Notification]]:
    """A `prepare` giving fresh copies of `notes` (parsed again from JSON)."""
    blob = orjson.dumps([[sig, slot, logs, err] for sig, slot, logs, err in notes])
    return lambda: [(sig, slot, logs, err) for sig, slot, logs, err in orjson.loads(blob)]


def clear_caches() -> None:
    logtemplate.clear()
    plans.clear()
    pubkey_cache.clear()


# --- the hot path's steps, cumulatively (they mirror decode_logs; the differences are the stages)


def _scan(logs: list[str]) -> list[tuple[str, str, int, int | None]]:
    """(program, data line, frame, inner index) of each event line: template match, else scan."""
    template = logtemplate.find(logs) if logs else None
    if template is not None:
        return [(program, logs[at], frame, inner) for at, program, frame, inner in template.events]
    return [(e.program, logs[e.line], e.frame, e.inner_index) for e in scan_logs(logs).events]


def _stage_scan(notes: Sequence[Notification]) -> int:
    return sum(len(_scan(logs)) for _, _, logs, _ in notes)


def _stage_base64(notes: Sequence[Notification]) -> int:
    count = 0
    for _, _, logs, _ in notes:
        for _, line, _, _ in _scan(logs):
            binascii.a2b_base64(line[len(DATA) :])
            count += 1
    return count


def _stage_events(notes: Sequence[Notification]) -> int:
    count = 0
    for signature, slot, logs, err in notes:
        records: list[Any] | None = None if err is not None else []
        anomalies: list[Any] = []
        for index, (program, line, frame, inner) in enumerate(_scan(logs)):
            data = binascii.a2b_base64(line[len(DATA) :])
            decode_logged_event(
                program, data, "logs", index, frame, inner, signature, slot, None, records, anomalies
            )
        count += len(records or ())
    return count


def _decode_all(notes: Sequence[Notification]) -> int:
    return sum(len(decode_logs(sig, slot, logs, err).records) for sig, slot, logs, err in notes)


@dataclass(slots=True)
class Figure:
    per_second: float
    records_per_second: float
    runs: list[float]

    def line(self, unit: str = "log notifications/s") -> str:
        spread = ", ".join(f"{r:,.0f}" for r in self.runs)
        return (
            f"{self.per_second:,.0f} {unit}, {self.records_per_second:,.0f} records/s "
            f"(median of {len(self.runs)}; runs: {spread})"
        )


def figure(
    work: Callable[[Sequence[T]], int], prepare: Callable[[], Sequence[T]], seconds: float, runs: int
) -> Figure:
    results = [measure(work, prepare, seconds) for _ in range(runs)]
    return Figure(
        statistics.median(r[0] for r in results),
        statistics.median(r[1] for r in results),
        [r[0] for r in results],
    )


def stage_split(
    prepare: Callable[[], Sequence[Notification]], total_us: float, seconds: float, runs: int
) -> str:
    """µs per notification of each hot-path stage (cumulative runs, differences; at most three
    runs each, to keep the benchmark short)."""
    rates = [
        figure(work, prepare, seconds, min(runs, 3)).per_second
        for work in (_stage_scan, _stage_base64, _stage_events)
    ]
    cumulative = [1e6 / rate for rate in rates] + [total_us]
    stages = [cumulative[0]] + [b - a for a, b in pairwise(cumulative)]
    names = ("scan (template match / line scan)", "base64", "events + records", "result + rest")
    return " + ".join(f"{name} {us:.1f}" for name, us in zip(names, stages, strict=True))


# --- simulator traffic --------------------------------------------------------------------------


def simulator_values(count: int) -> list[tuple[bytes, int]]:
    """(logsNotification value JSON, slot) of the first `count` generated transactions."""
    from sim.clock import ChainClock  # the simulator is optional here: imported on use
    from sim.config import SimConfig
    from sim.faults import parse_faults
    from sim.scenario.lifecycle import lifecycle_feed

    cfg = SimConfig(rate=500, speed=10)
    feed, _ = lifecycle_feed(
        cfg, ChainClock(cfg.base_slot, cfg.base_time, cfg.speed), parse_faults(cfg.faults)
    )
    values = []
    for _ in range(count):
        _, entry = next(feed)
        value = entry.value
        values.append((value() if callable(value) else value, entry.slot))
    return values


def parse(values: list[tuple[bytes, int]]) -> list[Notification]:
    """Fresh string objects each time, as each notification off the socket has."""
    notes = []
    for raw, slot in values:
        doc = orjson.loads(raw)
        notes.append((doc["signature"], slot, doc["logs"], doc["err"]))
    return notes


def pubkey_repeat_ratio(decoded: list[DecodedTx]) -> float:
    """Share of the pubkeys in the stream's events that occurred earlier in the stream."""
    kinds = {
        (layout.program, layout.name): [f.name for f in layout.all_fields if f.type == Prim("pubkey")]
        for table in EVENTS.values()
        for layout in table.values()
    }
    seen: set[str] = set()
    total = repeated = 0
    for tx in decoded:
        for event in tx.events:
            for name in kinds.get((event.program, event.name), ()):
                key = event.fields.get(name)
                if isinstance(key, str):
                    total += 1
                    repeated += key in seen
                    seen.add(key)
    return repeated / total if total else 0.0


def simulator_report(count: int, runs: int, seconds: float) -> list[str]:
    try:
        values = simulator_values(count)
    except Exception as exc:  # noqa: BLE001 - the simulator is another team's moving target
        return [f"simulator traffic: skipped ({type(exc).__name__}: {exc})"]
    live: list[float] = []
    through_plans = events = 0
    decoded: list[DecodedTx] = []
    for _ in range(runs):
        notes = parse(values)
        clear_caches()
        generic = plans.generic_decodes()
        start = time.process_time()
        decoded = [decode_logs(sig, slot, logs, err) for sig, slot, logs, err in notes]
        live.append(len(notes) / (time.process_time() - start))
        events = sum(len(tx.events) for tx in decoded)
        through_plans = events - (plans.generic_decodes() - generic)
    templates = logtemplate.size()
    notes = parse(values)
    hits = sum(1 for _, _, logs, _ in notes if logtemplate.find(logs) is not None)
    steady = figure(_decode_all, lambda: parse(values), seconds, runs)
    split = stage_split(lambda: parse(values), 1e6 / steady.per_second, seconds, runs)
    lines_per = statistics.mean(len(logs) for _, _, logs, _ in notes)
    return [
        f"simulator traffic: {len(notes)} notifications ({lines_per:.0f} lines, "
        f"{events / len(notes):.2f} events each; TradeEvent layout v8)",
        f"  live order from empty caches: {statistics.median(live):,.0f} log notifications/s "
        f"(median of {runs}; runs: {', '.join(f'{r:,.0f}' for r in live)})",
        f"    {templates} templates learned, {through_plans / max(events, 1):.0%} of events through "
        f"compiled plans, pubkey repeat ratio {pubkey_repeat_ratio(decoded):.0%}",
        f"  steady state: {steady.line()}; {hits / len(notes):.0%} match a template",
        f"  per notification: {1e6 / steady.per_second:.1f} us = {split}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.decode", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one run")
    parser.add_argument("--runs", type=int, default=5, help="runs; the median is reported")
    parser.add_argument("--fixtures", type=Path, default=FIXTURES)
    parser.add_argument("--sim", type=int, default=3000, help="simulator notifications (0: skip)")
    args = parser.parse_args(argv)

    calibration = (
        min(timeit.repeat("sum(range(1000))", number=2000, repeat=5, timer=time.process_time)) / 2000
    )
    print(
        f"calibration: sum(range(1000)) takes {calibration * 1e6:.1f} us of CPU here (typical laptops: 8-12 us)"
    )
    results = load_transactions(args.fixtures)
    notes: list[Notification] = [
        (
            r["transaction"]["signatures"][0] if isinstance(r["transaction"], dict) else "",
            r["slot"],
            r["meta"]["logMessages"],
            None,
        )
        for r in results
    ]
    lines = sum(len(logs) for _, _, logs, _ in notes)
    events = sum(len(decode_logs_reference(*n).events) for n in notes)
    print(
        f"fixtures: {len(notes)} transactions, {lines} log lines ({lines / len(notes):.0f} per tx), "
        f"{events / len(notes):.2f} events per tx"
    )
    fresh = copies(notes)
    clear_caches()
    _decode_all(fresh())
    _decode_all(fresh())  # the second sight learns the templates and compiles the plans
    warm = figure(_decode_all, fresh, args.seconds, args.runs)
    verdict = "meets" if warm.per_second >= TARGET_NOTIFICATIONS_PER_SECOND else "MISSES"
    print(f"decode_logs, fixture mix, warm: {warm.line()}")
    print(f"  {verdict} the target of {TARGET_NOTIFICATIONS_PER_SECOND:,} log notifications/s/core")
    total_us = 1e6 / warm.per_second
    print(f"  per notification: {total_us:.1f} us = {stage_split(fresh, total_us, args.seconds, args.runs)}")

    def cold(batch: Sequence[Notification]) -> int:
        count = 0
        for sig, slot, logs, err in batch:
            logtemplate.clear()
            count += len(decode_logs(sig, slot, logs, err).records)
        return count

    print(
        "decode_logs, fixture mix, cold (every notification scanned line by line): "
        + figure(cold, fresh, args.seconds, args.runs).line()
    )

    def reference(batch: Sequence[Notification]) -> int:
        return sum(len(decode_logs_reference(*n).records) for n in batch)

    print(
        f"decode_logs_reference (the slow path), fixture mix: {figure(reference, fresh, args.seconds, args.runs).line()}"
    )

    if args.sim > 0:
        for line in simulator_report(args.sim, args.runs, args.seconds):
            print(line)

    def transactions(batch: Sequence[dict[str, Any]]) -> int:
        return sum(len(decode_transaction(result).records) for result in batch)

    tx = figure(transactions, lambda: results, args.seconds, args.runs)
    print(f"decode_transaction (full results, both carriers, balances): {tx.line('transactions/s')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
