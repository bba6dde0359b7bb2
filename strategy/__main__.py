"""Command line of the strategy service: `python -m strategy {run,send-intent} ...`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid

import asyncpg
import orjson
import structlog
from pydantic import ValidationError

from pumpflow import logs
from pumpflow.schema import SchemaNotAtHead, check_schema
from pumpflow.v1 import executor_pb2 as pb
from strategy.client import ExecutorClient
from strategy.config import StrategySettings
from strategy.errors import IntentRefused, StreamError
from strategy.signal_config import SignalConfigError, env_overrides, load_signal_config


def settings_or_exit() -> StrategySettings:
    try:
        return StrategySettings()
    except ValidationError as exc:
        print(f"strategy: invalid configuration:\n{exc}", file=sys.stderr)
        raise SystemExit(2) from exc


async def schema_ok(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await check_schema(conn)
    finally:
        await conn.close()


def cmd_run(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    logs.configure(settings.log_format, settings.log_level, "strategy")
    if settings.database_url:
        try:
            asyncio.run(schema_ok(settings.database_url))
        except SchemaNotAtHead as exc:
            print(f"strategy: refusing to start: {exc}", file=sys.stderr)
            return 2
    try:
        config = load_signal_config(
            settings.strategy_signals_file,
            enabled=settings.strategy_signals,
            overrides=env_overrides(os.environ),
        )
    except SignalConfigError as exc:
        print(f"strategy: refusing to start: {exc}", file=sys.stderr)
        return 2
    structlog.get_logger("strategy").info("signals", running=config.describe())
    from strategy.service import main

    return asyncio.run(main(settings, config.build_runner()))


def ack_json(ack: pb.IntentAck) -> dict[str, object]:
    return {
        "intent_id": ack.intent_id,
        "status": pb.IntentStatus.Name(ack.status).removeprefix("INTENT_STATUS_"),
        "reason": ack.reason,
        "message": ack.message,
        "duplicate": ack.duplicate,
        "received_at_ms": ack.received_at_ms,
    }


async def send_intent(settings: StrategySettings, intent: pb.TradeIntent) -> tuple[int, dict[str, object]]:
    async with ExecutorClient(settings.executor_grpc_addr, settings.strategy_client_id) as client:
        try:
            ack = await client.submit(intent, settings.intent_timeout_s)
        except IntentRefused as exc:
            return 2, {"intent_id": intent.intent_id, "status": "REFUSED", "error": str(exc)}
        except StreamError as exc:
            return 1, {"intent_id": intent.intent_id, "status": "ERROR", "error": str(exc)}
    return 0, ack_json(ack)


def cmd_send_intent(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    intent = pb.TradeIntent(
        intent_id=args.intent_id or f"manual:{uuid.uuid4().hex}",
        mint=args.mint,
        venue=pb.Venue.Value(f"VENUE_{args.venue.upper()}"),
        side=pb.Side.Value(f"SIDE_{args.side.upper()}"),
        size_lamports=args.lamports,
        max_slippage_bps=args.max_slippage_bps,
        ttl_ms=args.ttl_ms,
        reasons=args.reason or ["MANUAL"],
        signal_id="manual",
        signal_version="cli",
        trigger="cli",
    )
    code, answer = asyncio.run(send_intent(settings, intent))
    print(orjson.dumps(answer).decode())
    return code


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m strategy",
        description="pumpflow strategy service: run signals on the executor's event stream and submit intents.",
    )
    sub = ap.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run",
        help="follow the executor's stream (reconnects and resumes by seq), log heartbeats, serve /metrics",
        description=(
            "Run the strategy service. Configuration from the environment (and .env): EXECUTOR_GRPC_ADDR, "
            "STRATEGY_METRICS_PORT, DATABASE_URL (optional; checked to be at the schema head when set), "
            "LOG_FORMAT, LOG_LEVEL; see .env.example."
        ),
    )
    run.set_defaults(func=cmd_run)
    sub.add_parser(
        "replay",
        help="run the signals over the stored event stream (backtest, parity check); see replay --help",
        add_help=False,
    )
    send = sub.add_parser(
        "send-intent",
        help="send one TradeIntent to the executor and print its answer as JSON",
        description="Send one intent; prints the executor's answer as one JSON line. Exit 0 when answered "
        "(also when REJECTED), 2 when refused as invalid, 1 when the executor is unreachable.",
    )
    send.add_argument("--mint", required=True, help="base58 mint address")
    send.add_argument("--side", required=True, choices=["buy", "sell"])
    send.add_argument("--lamports", required=True, type=int, help="size in lamports (1 SOL = 1e9)")
    send.add_argument("--venue", default="pump_curve", choices=["pump_curve", "pump_amm"])
    send.add_argument("--max-slippage-bps", type=int, default=100)
    send.add_argument("--ttl-ms", type=int, default=30_000)
    send.add_argument("--reason", action="append", help="reason code (repeatable); default MANUAL")
    send.add_argument("--intent-id", help="idempotency key; default a fresh manual:<uuid>")
    send.set_defaults(func=cmd_send_intent)
    return ap


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["replay"]:
        # The replay driver owns its own options (including --help).
        from strategy.replay import main as replay_main

        return replay_main(argv[1:])
    args = parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
