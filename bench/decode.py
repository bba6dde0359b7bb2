"""Decoder throughput: `python -m bench.decode [--seconds S] [--runs N]`.

Decodes the `meta.logMessages` of every recorded fixture transaction with `decode_logs`, in a
loop on one core, as live ingest does for each logsNotification, and prints log notifications
and records per CPU second (median of the runs). A second figure covers
`decode_transaction` on the full getTransaction results. Target: >= 50,000 log notifications
per second per core.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from executor.decode import decode_logs, decode_transaction
from executor.decode.logs import scan_logs

FIXTURES = Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures"
TARGET_NOTIFICATIONS_PER_SECOND = 50_000


def load_transactions(fixtures: Path) -> list[dict[str, Any]]:
    index = json.loads((fixtures / "INDEX.json").read_text("utf-8"))
    results = []
    for row in index:
        if row["kind"] == "transaction" and row["file"].count(".") == 1:
            results.append(json.loads((fixtures / row["file"]).read_text("utf-8"))["result"])
    return results


def measure(work: Callable[[], int], items: int, seconds: float) -> tuple[float, float]:
    """Items and records per CPU second of repeating `work` for about `seconds` of CPU time.

    CPU time of this process (not wall time) keeps other load on a shared machine from
    counting against the decoder; the work is single-threaded, so it is one core's figure.
    """
    loops = records = 0
    start = time.process_time()
    deadline = start + seconds
    while True:
        records += work()
        loops += 1
        now = time.process_time()
        if now >= deadline:
            break
    elapsed = now - start
    return loops * items / elapsed, records / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.decode", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one run")
    parser.add_argument("--runs", type=int, default=5, help="runs; the median is reported")
    parser.add_argument("--fixtures", type=Path, default=FIXTURES)
    args = parser.parse_args(argv)

    results = load_transactions(args.fixtures)
    notifications = [
        (
            r["transaction"]["signatures"][0] if isinstance(r["transaction"], dict) else "",
            r["slot"],
            r["meta"]["logMessages"],
        )
        for r in results
    ]
    lines = sum(len(logs) for _, _, logs in notifications)

    def decode_all_logs() -> int:
        return sum(len(decode_logs(sig, slot, logs, None).records) for sig, slot, logs in notifications)

    def decode_all_transactions() -> int:
        return sum(len(decode_transaction(result).records) for result in results)

    def scan_only() -> int:
        return sum(len(scan_logs(logs).events) for _, _, logs in notifications)

    print(
        f"fixtures: {len(notifications)} transactions, {lines} log lines ({lines / len(notifications):.0f} per tx)"
    )
    for name, work, items in (
        ("decode_logs", decode_all_logs, len(notifications)),
        ("decode_transaction", decode_all_transactions, len(results)),
    ):
        runs = [measure(work, items, args.seconds) for _ in range(args.runs)]
        per_second = statistics.median(r[0] for r in runs)
        records = statistics.median(r[1] for r in runs)
        unit = "log notifications/s" if name == "decode_logs" else "transactions/s"
        spread = ", ".join(f"{r[0]:,.0f}" for r in runs)
        print(
            f"{name}: {per_second:,.0f} {unit}, {records:,.0f} records/s (median of {args.runs}; runs: {spread})"
        )
        if name == "decode_logs":
            verdict = "meets" if per_second >= TARGET_NOTIFICATIONS_PER_SECOND else "MISSES"
            print(f"  {verdict} the target of {TARGET_NOTIFICATIONS_PER_SECOND:,} log notifications/s/core")
            scan_rate = statistics.median(
                measure(scan_only, items, args.seconds)[0] for _ in range(args.runs)
            )
            total_us, scan_us = 1e6 / per_second, 1e6 / scan_rate
            print(
                f"  per notification: {total_us:.1f} us CPU, of which finding and attributing the "
                f"data lines {scan_us:.1f} us, decoding events and building records {total_us - scan_us:.1f} us"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
