"""The strategy's stream client reconnects after the executor restarts and resumes by seq, exactly once."""

from __future__ import annotations

import asyncio
import os
import sys

from pumpflow.v1 import executor_pb2 as pb
from strategy.client import ExecutorClient, ResumingStream
from tests.support import ROOT, ExecutorHandle, executor_settings, running_executor


def launch(n: int) -> pb.Event:
    return pb.Event(
        token_launched=pb.TokenLaunched(chain=pb.ChainRef(slot=n, signature=f"s{n}"), mint=f"m{n}")
    )


async def test_stream_survives_an_executor_restart_without_loss_or_duplicates(db_url: str) -> None:
    settings = executor_settings(db_url)
    seen: list[int] = []
    async with ExecutorClient(settings.executor_grpc_addr) as client:
        stream = ResumingStream(client, from_seq=1, min_backoff_s=0.05, max_backoff_s=0.2)

        async def consume() -> None:
            async for event in stream.events():
                if event.WhichOneof("body") != "heartbeat":
                    seen.append(event.seq)
                if len(seen) == 10:
                    return

        consumer = asyncio.create_task(consume())
        async with running_executor(settings) as first:
            await first.running.bus.publish(launch(n) for n in range(4))
            await asyncio.wait_for(stream.connected.wait(), 10)
            await asyncio.sleep(0.3)
        async with running_executor(settings) as second:
            await second.running.bus.publish(launch(n) for n in range(4, 10))
            await asyncio.wait_for(consumer, 20)
    assert seen == list(range(1, 11))


async def test_send_intent_cli_prints_the_rejection_as_json_and_exits_0(executor: ExecutorHandle) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "strategy", "send-intent",
        "--mint", "BRg3aMvmWjQKHetK9FQL62PnKBe9hPPSr6Z5yY7zkTVd", "--side", "buy", "--lamports", "100000000",
        cwd=ROOT,
        env={**os.environ, "EXECUTOR_GRPC_ADDR": executor.addr},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err
    line = out.decode().strip().splitlines()[-1]
    assert '"status":"REJECTED"' in line and '"reason":"TRADING_DISABLED"' in line
