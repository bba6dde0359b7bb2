"""Command line of the executor: `python -m executor {run,replay,verify,backfill,decode} ...`."""

from __future__ import annotations

import argparse
import asyncio
import sys

from executor.config import settings_for_command
from pumpflow import logs


def cmd_run(args: argparse.Namespace) -> int:
    settings = settings_for_command("run")
    logs.configure(settings.log_format, settings.log_level, "executor")
    # Imported after logging is configured.
    from executor.ingest.pipeline import ingest_task
    from executor.service import main

    return asyncio.run(main(settings, (ingest_task,) if settings.ingest_enabled else ()))


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m executor",
        description="pumpflow executor: ingest pump.fun activity from Solana RPC, store it, stream it over gRPC.",
    )
    sub = ap.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run",
        help="run the executor service (gRPC + metrics + ingest)",
        description=(
            "Run the executor service. Configuration comes from the environment (and .env): DATABASE_URL, "
            "SOLANA_RPC_HTTP, SOLANA_RPC_WS, EXECUTOR_GRPC_ADDR, EXECUTOR_METRICS_PORT, TRADING_DISABLED, "
            "LOG_FORMAT, LOG_LEVEL and the rest documented in .env.example. The database must already be "
            "migrated (make migrate); SIGINT/SIGTERM stop it gracefully."
        ),
    )
    run.set_defaults(func=cmd_run)
    from executor import backfill, verify
    from executor.replay import cli as replay

    for name, tool in (("replay", replay), ("verify", verify), ("backfill", backfill)):
        tool.add_arguments(sub.add_parser(name, help=tool.HELP))
    sub.add_parser(
        "decode",
        help="decode a getTransaction / logsNotification / account JSON file (- for stdin) to JSON lines",
        add_help=False,
    )
    return ap


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["decode"]:
        # The decoder CLI owns its own options (including --help).
        from executor.decode.cli import main as decode_main

        return decode_main(argv[1:])
    args = parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
