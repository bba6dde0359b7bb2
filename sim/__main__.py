"""`python -m sim`: a Solana RPC node (HTTP JSON-RPC + WebSocket PubSub on one port) serving
recorded or generated pump.fun traffic, with injectable faults. See docs/simulator.md."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import signal
import sys
import time
from pathlib import Path

import structlog

from sim import faults as faults_module
from sim.app import build_node, open_feed
from sim.config import (
    DEFAULT_BASE_SLOT,
    DEFAULT_BASE_TIME,
    DEFAULT_RETAIN,
    GENERATORS,
    MAX_GENERATORS,
    PROCESS_ABOVE_RATE,
    REAL_SIGNATURES_UP_TO_RATE,
    SCENARIOS,
    SimConfig,
)
from sim.faults import FaultError, parse_faults
from sim.feed import MergedFeed, ProcessFeed
from sim.generator import pregenerate
from sim.server import SimServer

GC_THRESHOLDS = (50_000, 20, 100)
_EPILOG = (
    "fault grammar (--faults):\n"
    + "\n".join("  " + line for line in (faults_module.__doc__ or "").split("Grammar")[1].splitlines()[1:])
    + "\nexamples:\n"
    "  python -m sim --rate 500 --speed 10\n"
    "  python -m sim --scenario recorded --rate 5 --manifest /tmp/m.jsonl\n"
    "  python -m sim --faults ws-drop:30s,429:0.05,null-tx:2 --duration 60\n"
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m sim",
        description=__doc__,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument(
        "--port", type=int, default=8899, help="HTTP and WebSocket port; 0 picks a free one (default 8899)"
    )
    p.add_argument(
        "--seed", type=int, default=1, help="seed of everything random: traffic, keys, faults (default 1)"
    )
    p.add_argument("--rate", type=float, default=50.0, help="transactions per wall-clock second (default 50)")
    p.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="chain time runs N times faster than wall time (slots, block times)",
    )
    p.add_argument(
        "--scenario",
        choices=SCENARIOS,
        default="lifecycle",
        help="lifecycle: generated pump.fun life cycles (default); recorded: replay shared/fixtures",
    )
    p.add_argument("--faults", default="", help="fault list in the mini-language below (default none)")
    p.add_argument("--manifest", type=Path, help="write one JSON line per served transaction (ground truth)")
    p.add_argument(
        "--duration",
        type=float,
        help="stop emitting N seconds after emission started; keep serving (default never)",
    )
    p.add_argument(
        "--start",
        choices=("subscribe", "immediate"),
        default="subscribe",
        help="start the chain clock at the first logsSubscribe (default) or at once",
    )
    p.add_argument(
        "--fixtures",
        type=Path,
        help="fixtures folder for --scenario recorded (default <repo>/../shared/fixtures)",
    )
    p.add_argument(
        "--layout",
        default="v8",
        help="TradeEvent layout of generated trades: v0..v8 (default v8, the current one)",
    )
    p.add_argument(
        "--signatures",
        choices=("real", "fast", "auto"),
        default="auto",
        help="real: ed25519-signed with seed-derived keys; fast: seed-derived 64-byte values; "
        f"auto: real up to --rate {REAL_SIGNATURES_UP_TO_RATE:g}, fast above (default)",
    )
    p.add_argument("--base-slot", type=int, default=DEFAULT_BASE_SLOT, help="first slot of generated chains")
    p.add_argument("--base-time", type=int, default=DEFAULT_BASE_TIME, help="unix block time of --base-slot")
    p.add_argument(
        "--retain",
        type=int,
        default=DEFAULT_RETAIN,
        help="newest transactions kept for getTransaction and getSignaturesForAddress "
        f"(default {DEFAULT_RETAIN:,}; about 5 KB each)",
    )
    p.add_argument(
        "--generator",
        choices=GENERATORS,
        default="auto",
        help="lifecycle generation in its own process (process) or in the server's event loop "
        f"(inline); auto: a process above --rate {PROCESS_ABOVE_RATE:g} (default)",
    )
    p.add_argument(
        "--ws-max-buffer",
        type=int,
        default=64 * 1024 * 1024,
        help="unsent bytes before a slow client is dropped",
    )
    p.add_argument(
        "--generators",
        type=int,
        default=1,
        help=f"lifecycle worlds generated in parallel processes (1..{MAX_GENERATORS}), each at --rate/N "
        "with its own wallets, markets and fee recipients, merged by time; N changes the stream "
        "(the same N and seed give the same one) (default 1)",
    )
    p.add_argument(
        "--pregenerate",
        type=Path,
        metavar="FILE",
        help="write the lifecycle transactions of the first --duration seconds to FILE and exit",
    )
    p.add_argument(
        "--replay",
        type=Path,
        metavar="FILE",
        help="serve a --pregenerate FILE (same generation options) instead of generating live",
    )
    p.add_argument("--log-level", default="info", help="debug, info, warning (default info)")
    return p


def config_from_args(argv: list[str] | None = None) -> SimConfig:
    return _config(parser(), argv)[0]


def _config(p: argparse.ArgumentParser, argv: list[str] | None) -> tuple[SimConfig, argparse.Namespace]:
    args = p.parse_args(argv)
    try:
        parse_faults(args.faults)
        cfg = SimConfig(
            host=args.host,
            port=args.port,
            seed=args.seed,
            rate=args.rate,
            speed=args.speed,
            scenario=args.scenario,
            faults=args.faults,
            manifest=args.manifest,
            duration=args.duration,
            start=args.start,
            fixtures=args.fixtures,
            layout=args.layout,
            signatures=args.signatures,
            base_slot=args.base_slot,
            base_time=args.base_time,
            retain=args.retain,
            ws_max_buffer=args.ws_max_buffer,
            generator=args.generator,
            generators=args.generators,
            replay=args.replay,
        )
        if args.pregenerate is not None and (cfg.scenario != "lifecycle" or cfg.duration is None):
            raise ValueError("--pregenerate writes lifecycle traffic and needs --duration")
        return cfg, args
    except (FaultError, ValueError) as exc:
        p.error(str(exc))


async def serve(cfg: SimConfig) -> None:
    manifest = cfg.manifest.open("wb") if cfg.manifest is not None else None
    feed = await open_feed(cfg, manifest=manifest is not None)
    try:
        node = build_node(cfg, manifest, feed)
        server = SimServer(node, cfg.host, cfg.port, ws_max_buffer=cfg.ws_max_buffer)
        await server.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await server.close()
        structlog.get_logger("sim").info("stopped", **node.stats)
    finally:
        if isinstance(feed, ProcessFeed | MergedFeed):
            await feed.aclose()
        elif feed is not None:
            feed.close()
        if manifest is not None:
            manifest.close()


def main(argv: list[str] | None = None) -> int:
    args_level = "info"
    argv = sys.argv[1:] if argv is None else argv
    if "--log-level" in argv:
        args_level = argv[argv.index("--log-level") + 1]
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(
            getattr(logging, args_level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    cfg, args = _config(parser(), argv)
    if args.pregenerate is not None:
        started = time.monotonic()
        count = pregenerate(cfg, args.pregenerate)
        structlog.get_logger("sim").info(
            "pregenerated",
            path=str(args.pregenerate),
            transactions=count,
            seconds=round(time.monotonic() - started, 1),
            bytes=args.pregenerate.stat().st_size,
        )
        return 0
    # Retained transactions are millions of long-lived objects: collect the young generation
    # less often, or the collector's passes cost more than serving (see docs, Performance).
    gc.set_threshold(*GC_THRESHOLDS)
    asyncio.run(serve(cfg))
    return 0


if __name__ == "__main__":
    sys.exit(main())
