"""`python -m executor replay`: options, settings and exit codes around `driver.replay`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime

import asyncpg
import orjson

from executor.config import settings_for_command
from executor.errors import ExecutorError
from executor.ingest.pipeline import ingest_config
from executor.progress import Progress
from executor.replay.driver import replay, slots_of_times
from executor.replay.options import DEFAULT_CHUNK, ReplayOptions, default_workers
from pumpflow import logs
from pumpflow.schema import SchemaNotAtHead

HELP = "rebuild the derived tables from raw_logs + transactions (canonical order, resumable)"
DESCRIPTION = """\
Rebuild tokens, trades, curve/amm snapshots, features_1m and risk_flags from the stored raw rows
(raw_logs + transactions) in canonical order (slot, then signature, then event position), through
the same processor live ingest uses. The result is byte-identical to what live ingest wrote (check
with `python -m executor verify`). Interrupted, the same command resumes after the last committed
chunk. It refuses to run while a live executor writes the database. Uses DATABASE_URL and the
processor settings (FEATURES_LATENESS_S, RISK_*) from the environment: use the values live ran with.
See docs/replay.md."""


def parse_time(value: str) -> datetime:
    """An ISO 8601 time; naive means UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from exc
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    lo = parser.add_mutually_exclusive_group()
    lo.add_argument("--from-slot", type=int, metavar="SLOT", help="first slot to replay")
    lo.add_argument(
        "--from-time", type=parse_time, metavar="ISO", help="first chain time to replay (UTC if no offset)"
    )
    hi = parser.add_mutually_exclusive_group()
    hi.add_argument("--to-slot", type=int, metavar="SLOT", help="last slot to replay (inclusive)")
    hi.add_argument("--to-time", type=parse_time, metavar="ISO", help="last chain time to replay (inclusive)")
    parser.add_argument(
        "--mint", action="append", default=[], metavar="MINT", help="replay only these mints (repeatable)"
    )
    parser.add_argument(
        "--into",
        choices=("fresh", "in-place"),
        help="fresh: build new tables and swap them in at the end (default for a full replay); in-place: "
        "rewrite the live tables chunk by chunk (default for a range or mints)",
    )
    parser.add_argument(
        "--events",
        choices=("keep", "rebuild"),
        default="keep",
        help="keep (default): leave the events outbox as live streamed it; rebuild: replace it by the "
        "canonical stream (full replays only; renumbers seq)",
    )
    parser.add_argument(
        "--chunk", type=int, default=DEFAULT_CHUNK, help=f"raw rows per transaction (default {DEFAULT_CHUNK})"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=default_workers(),
        help=f"decoding processes (default {default_workers()}, the cores; 0 decodes in this process)",
    )
    parser.add_argument(
        "--restart", action="store_true", help="discard an interrupted replay instead of resuming it"
    )
    parser.set_defaults(func=command)


async def resolve(url: str, args: argparse.Namespace) -> ReplayOptions:
    from_slot, to_slot = args.from_slot, args.to_slot
    if args.from_time is not None or args.to_time is not None:
        conn = await asyncpg.connect(url)
        try:
            lo, hi = await slots_of_times(conn, args.from_time, args.to_time)
        finally:
            await conn.close()
        from_slot = lo if args.from_time is not None else from_slot
        to_slot = hi if args.to_time is not None else to_slot
    return ReplayOptions(
        from_slot=from_slot,
        to_slot=to_slot,
        mints=tuple(args.mint),
        into=args.into,
        events=args.events,
        chunk=args.chunk,
        workers=args.workers,
        restart=args.restart,
    )


def command(args: argparse.Namespace) -> int:
    settings = settings_for_command("replay", database=True)
    logs.configure(settings.log_format, settings.log_level, "executor")
    config = ingest_config(settings).processor
    try:
        options = asyncio.run(resolve(settings.database_url, args))
        problems = options.problems()
        if problems:
            print("executor replay: " + "; ".join(problems), file=sys.stderr)
            return 2
        report = asyncio.run(
            replay(settings.database_url, options, config, lambda total: Progress("replay", total))
        )
    except KeyboardInterrupt:
        print("executor replay: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    except (ExecutorError, SchemaNotAtHead) as exc:
        print(f"executor replay: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(orjson.dumps(report.summary()).decode() + "\n")
    return 0
