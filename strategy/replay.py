"""Replay driver: feed the executor's stored event stream (the `events` table) to the signal runner.

Replay reads exactly what the live stream delivered (the executor persists every event, with its
`seq`, before streaming it) and runs the same `SignalRunner`, so it reproduces live intents byte
for byte. It never recomputes features and never talks to the executor.

    python -m strategy.replay                       # all held events, built-in signals
    python -m strategy.replay --from-seq 5000 --report-from-seq 9000 --out intents.jsonl
    python -m strategy.replay --check-stored        # parity: every stored intent of these signals
                                                    # must be reproduced exactly

Warm-up: the runner needs history before a signal may act on a mint. Start the feed
(`--from-seq`, default the oldest held event) well before the window you care about and report
only from `--report-from-seq`; intents inside the window do not depend on how much earlier you
start, as long as it is at least the signals' warm-up (tests/strategy check this property).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import inspect
import json
import os
import sys
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import asyncpg

from pumpflow.v1 import executor_pb2 as pb
from strategy.runner import SignalFault, SignalRunner
from strategy.sdk import Side, TradeIntent, Venue, fingerprint
from strategy.signal_config import SignalConfig, SignalConfigError, load_signal_config

__all__ = ["ReplayError", "ReplayReport", "compare_with_stored", "main", "replay", "stored_events"]

_EVENTS_SQL = "select seq, payload from events where seq >= $1 and ($2::bigint is null or seq <= $2) order by seq limit $3"
_INTENTS_SQL = """
select intent_id, signal_id, signal_version, params_hash, mint, venue, side, size_lamports,
       max_slippage_bps, ttl_ms, reasons, trigger, as_of, evidence::text as evidence
from intents
where signal_id = any($1::text[]) and params_hash = any($2::text[]) and trigger like 'seq:%'
order by intent_id
"""


class ReplayError(RuntimeError):
    """The stored stream cannot be replayed (e.g. a payload's seq disagrees with its row)."""


@dataclass(slots=True)
class ReplayReport:
    """What a replay saw and produced."""

    signals: list[str]
    first_seq: int | None = None
    last_seq: int | None = None
    events: int = 0
    report_from_seq: int = 0
    intents: list[TradeIntent] = field(default_factory=list)
    faults: list[SignalFault] = field(default_factory=list)
    gaps: int = 0

    @property
    def fingerprint(self) -> str:
        """sha256 over the reported intents' canonical bytes."""
        return fingerprint(self.intents)

    def summary(self) -> dict[str, Any]:
        """A JSON-safe summary (counts per signal and reason, faults, fingerprint)."""
        by_reason = Counter(f"{i.signal_id}:{i.reasons[0]}" for i in self.intents)
        by_fault = Counter(f"{f.signal}:{f.error_type}" for f in self.faults)
        return {
            "signals": self.signals,
            "events": self.events,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "report_from_seq": self.report_from_seq,
            "gaps": self.gaps,
            "intents": len(self.intents),
            "intents_by_signal_reason": dict(sorted(by_reason.items())),
            "faults": dict(sorted(by_fault.items())),
            "fingerprint": self.fingerprint,
        }


async def stored_events(
    conn: asyncpg.Connection, *, from_seq: int = 0, to_seq: int | None = None, batch_size: int = 1000
) -> AsyncIterator[pb.Event]:
    """Stored events with `from_seq <= seq <= to_seq`, in seq order, fetched in keyset batches."""
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    next_seq = from_seq
    while True:
        rows = await conn.fetch(_EVENTS_SQL, next_seq, to_seq, batch_size)
        for row in rows:
            seq = int(row["seq"])
            event = pb.Event.FromString(bytes(row["payload"]))
            if event.seq == 0:
                event.seq = seq
            elif event.seq != seq:
                raise ReplayError(f"events row {seq} holds a payload with seq {event.seq}")
            yield event
        if len(rows) < batch_size:
            return
        next_seq = int(rows[-1]["seq"]) + 1


def code_hash(signal_cls: type) -> str:
    """sha256 (12 hex) of the source of the module defining `signal_cls` (for run headers)."""
    module = sys.modules.get(signal_cls.__module__)
    try:
        source = inspect.getsource(module) if module is not None else ""
    except (OSError, TypeError):
        source = ""
    return hashlib.sha256(source.encode()).hexdigest()[:12]


async def replay(
    conn: asyncpg.Connection,
    runner: SignalRunner,
    *,
    from_seq: int = 0,
    to_seq: int | None = None,
    report_from_seq: int = 0,
    batch_size: int = 1000,
) -> ReplayReport:
    """Feed the stored events to `runner`; keep the intents of events with seq >= `report_from_seq`."""
    report = ReplayReport(
        signals=[
            f"{name}={sig.id}@{sig.version} params {sig.params_hash[:12]} code {code_hash(type(sig))}"
            for name, sig in runner.signals.items()
        ],
        report_from_seq=report_from_seq,
    )
    async for event in stored_events(conn, from_seq=from_seq, to_seq=to_seq, batch_size=batch_size):
        if report.first_seq is None:
            report.first_seq = event.seq
        report.last_seq = event.seq
        report.events += 1
        step = runner.step_pb(event)
        report.faults.extend(step.faults)
        if event.seq >= report_from_seq:
            report.intents.extend(step.intents)
    report.gaps = runner.stats.gaps
    return report


def _stored_intent(row: asyncpg.Record) -> TradeIntent:
    evidence = json.loads(row["evidence"] or "{}")
    return TradeIntent(
        intent_id=row["intent_id"],
        signal_id=row["signal_id"],
        signal_version=int(row["signal_version"]),
        params_hash=row["params_hash"],
        trigger=row["trigger"],
        as_of=int(row["as_of"]),
        mint=row["mint"],
        venue=Venue(row["venue"]),
        side=Side(row["side"]),
        size_lamports=int(row["size_lamports"]),
        max_slippage_bps=int(row["max_slippage_bps"]),
        ttl_ms=int(row["ttl_ms"]),
        reasons=tuple(row["reasons"]),
        evidence=MappingProxyType({str(k): str(v) for k, v in sorted(evidence.items())}),
    )


@dataclass(frozen=True, slots=True)
class Parity:
    """Replayed intents against the intents the executor stored for the same signals and params."""

    stored: int
    matched: int
    #: Stored intents that replay did not reproduce exactly (the parity failures).
    missing: tuple[str, ...]
    #: Stored intents whose id was reproduced with different content.
    different: tuple[str, ...]
    #: Replayed intents never stored (e.g. the live strategy was not running, or still warming up).
    extra: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when every stored intent was reproduced byte for byte."""
        return not self.missing and not self.different


async def compare_with_stored(conn: asyncpg.Connection, report: ReplayReport, runner: SignalRunner) -> Parity:
    """Compare the replayed intents with the `intents` rows of the same (signal_id, params_hash)."""
    ids = sorted({s.id for s in runner.signals.values()})
    hashes = sorted({s.params_hash for s in runner.signals.values()})
    rows = await conn.fetch(_INTENTS_SQL, ids, hashes)
    lo, hi = report.report_from_seq, report.last_seq if report.last_seq is not None else -1
    stored = {}
    for row in rows:
        intent = _stored_intent(row)
        seq = int(intent.trigger.removeprefix("seq:"))
        if lo <= seq <= hi:
            stored[intent.intent_id] = intent
    replayed = {i.intent_id: i for i in report.intents}
    missing = tuple(sorted(k for k in stored if k not in replayed))
    different = tuple(
        sorted(
            k
            for k in stored
            if k in replayed and stored[k].canonical_bytes() != replayed[k].canonical_bytes()
        )
    )
    extra = tuple(sorted(k for k in replayed if k not in stored))
    matched = len(stored) - len(missing) - len(different)
    return Parity(len(stored), matched, missing, different, extra)


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m strategy.replay",
        description="Replay the executor's stored events through the configured signals and print the intents' "
        "fingerprint. Configuration as for `python -m strategy run` (STRATEGY_SIGNALS_FILE, STRATEGY_SIGNALS, "
        "STRATEGY_SIGNAL__<NAME>__<PARAM>).",
    )
    ap.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL", ""), help="default: $DATABASE_URL"
    )
    ap.add_argument(
        "--signals-file",
        default=None,
        help="TOML signal config (default: $STRATEGY_SIGNALS_FILE or built-ins)",
    )
    ap.add_argument("--from-seq", type=int, default=0, help="first event fed (default: the oldest held)")
    ap.add_argument("--to-seq", type=int, default=None, help="last event fed (default: the newest)")
    ap.add_argument(
        "--report-from-seq", type=int, default=0, help="report intents of events from this seq on"
    )
    ap.add_argument("--batch-size", type=int, default=1000)
    ap.add_argument("--out", default=None, help="write the canonical intents here, one JSON per line")
    ap.add_argument(
        "--check-stored",
        action="store_true",
        help="compare with the intents table; exit 1 unless every stored intent of these signals is reproduced",
    )
    return ap


async def _run(args: argparse.Namespace, config: SignalConfig) -> tuple[ReplayReport, Parity | None]:
    runner = config.build_runner()
    conn = await asyncpg.connect(args.database_url)
    try:
        report = await replay(
            conn,
            runner,
            from_seq=args.from_seq,
            to_seq=args.to_seq,
            report_from_seq=args.report_from_seq,
            batch_size=args.batch_size,
        )
        parity = await compare_with_stored(conn, report, runner) if args.check_stored else None
    finally:
        await conn.close()
    return report, parity


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    if not args.database_url:
        print("strategy.replay: set DATABASE_URL or pass --database-url", file=sys.stderr)
        return 2
    try:
        config = load_signal_config(args.signals_file, env=os.environ)
    except SignalConfigError as e:
        print(f"strategy.replay: {e}", file=sys.stderr)
        return 2
    report, parity = asyncio.run(_run(args, config))
    if args.out:
        Path(args.out).write_bytes(b"".join(i.canonical_bytes() + b"\n" for i in report.intents))
    summary = report.summary()
    if parity is not None:
        summary["parity"] = {
            "stored": parity.stored,
            "matched": parity.matched,
            "missing": list(parity.missing[:20]),
            "different": list(parity.different[:20]),
            "extra_not_stored": len(parity.extra),
            "ok": parity.ok,
        }
    print(json.dumps(summary, indent=2, sort_keys=True))
    return 0 if parity is None or parity.ok else 1


if __name__ == "__main__":
    sys.exit(main())
