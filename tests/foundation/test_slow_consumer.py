"""A subscriber that stops reading costs bounded memory and still receives every event afterwards."""

from __future__ import annotations

import asyncio
import resource

import grpc

from pumpflow.v1 import executor_pb2 as pb
from pumpflow.v1 import executor_pb2_grpc as pb_grpc
from tests.support import executor_settings, running_executor

QUEUE = 64
MINT = "BRg3aMvmWjQKHetK9FQL62PnKBe9hPPSr6Z5yY7zkTVd"


def padded_trade(n: int) -> pb.Event:
    # ~1 KiB per event so that unbounded buffering would show up in RSS.
    return pb.Event(
        trade_observed=pb.TradeObserved(
            chain=pb.ChainRef(slot=n, signature=f"{n:064d}" * 16), mint=MINT, user="u", sol_amount=n
        )
    )


def rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def test_stalled_subscriber_keeps_a_bounded_queue_and_later_gets_every_event_in_order(
    db_url: str,
) -> None:
    total = 20_000
    async with running_executor(executor_settings(db_url, subscriber_queue_size=QUEUE)) as handle:
        bus = handle.running.bus
        async with grpc.aio.insecure_channel(handle.addr) as channel:
            call = pb_grpc.ExecutorStub(channel).StreamEvents(pb.StreamRequest(exclude_heartbeats=True))
            async with asyncio.timeout(10):
                while not bus._subscribers:
                    await asyncio.sleep(0.05)
            [subscriber] = bus._subscribers
            # The client reads nothing while 20,000 events are published.
            before = rss_kib()
            queue_peak = 0
            for start in range(0, total, 500):
                await bus.publish(padded_trade(n) for n in range(start, start + 500))
                queue_peak = max(queue_peak, subscriber.queued)
            grown = rss_kib() - before
            assert queue_peak <= QUEUE
            assert subscriber.overflows >= 1
            # 20,000 events of ~1 KiB would be ~20 MiB if buffered; gRPC's own windows take far less.
            assert grown < 12_000, f"RSS grew {grown} KiB"
            seqs: list[int] = []
            async with asyncio.timeout(60):
                async for event in call:
                    seqs.append(event.seq)
                    if len(seqs) == total:
                        break
            call.cancel()
    assert seqs == list(range(1, total + 1))
