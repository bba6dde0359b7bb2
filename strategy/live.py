"""The live driver: the executor's stream through the pure SignalRunner, intents back to the executor.

The runner is the same one the replay driver uses (`strategy.replay`); this module only adds the I/O:
submitting intents, metrics and log lines. Submission policy: an answer from the executor is final
(REJECTED / TRADING_DISABLED or a duplicate is never retried); a refusal (INVALID_ARGUMENT) is a signal
bug, logged and counted; only an unreachable executor is retried, with the same intent_id, a bounded
number of times.
"""

from __future__ import annotations

import asyncio

import structlog
from prometheus_client import Counter, Gauge

from pumpflow.v1 import executor_pb2 as pb
from strategy.client import ExecutorClient
from strategy.errors import IntentRefused, StreamError
from strategy.events import intent_to_pb
from strategy.runner import SignalRunner
from strategy.sdk import TradeIntent

log = structlog.get_logger("strategy.live")

INTENTS = Counter(
    "pumpflow_strategy_intents_total",
    "Intents by signal, primary reason and answer",
    ["signal", "reason", "status"],
)
SIGNAL_FAULTS = Counter(
    "pumpflow_strategy_signal_faults_total", "Exceptions isolated in signal hooks", ["signal", "error"]
)
WARMUP_DROPPED = Counter(
    "pumpflow_strategy_warmup_dropped_total", "Intents dropped while a mint was warming up"
)
TRACKED_MINTS = Gauge("pumpflow_strategy_tracked_mints", "Mints the runner keeps history for")
SUBMIT_RETRIES = Counter(
    "pumpflow_strategy_submit_retries_total", "SubmitIntent retries after the executor was unreachable"
)

SUBMIT_ATTEMPTS = 5


class LiveDriver:
    def __init__(self, runner: SignalRunner, client: ExecutorClient, timeout_s: float) -> None:
        self.runner = runner
        self.client = client
        self.timeout_s = timeout_s

    async def handle(self, event: pb.Event) -> None:
        step = self.runner.step_pb(event)
        for fault in step.faults:
            SIGNAL_FAULTS.labels(signal=fault.signal, error=fault.error_type).inc()
            log.warning("signal fault", **fault.as_log())
        for name, note in step.notes:
            log.info(note.message, signal=name, mint=note.mint, seq=note.seq, **note.fields)
        WARMUP_DROPPED.inc(step.warmup_dropped)
        for intent in step.intents:
            await self.submit(intent)
        TRACKED_MINTS.set(self.runner.tracked_mints)

    async def submit(self, intent: TradeIntent) -> None:
        reason = intent.reasons[0] if intent.reasons else ""
        message = intent_to_pb(intent)
        for attempt in range(1, SUBMIT_ATTEMPTS + 1):
            try:
                ack = await self.client.submit(message, self.timeout_s)
            except IntentRefused as exc:
                INTENTS.labels(signal=intent.signal_id, reason=reason, status="REFUSED").inc()
                log.error(
                    "executor refused an intent (signal bug)", intent_id=intent.intent_id, error=str(exc)
                )
                return
            except StreamError as exc:
                if attempt == SUBMIT_ATTEMPTS:
                    INTENTS.labels(signal=intent.signal_id, reason=reason, status="UNSENT").inc()
                    log.error("intent not delivered; giving up", intent_id=intent.intent_id, error=str(exc))
                    return
                SUBMIT_RETRIES.inc()
                await asyncio.sleep(min(0.25 * 2**attempt, 5.0))
                continue
            status = pb.IntentStatus.Name(ack.status).removeprefix("INTENT_STATUS_")
            INTENTS.labels(signal=intent.signal_id, reason=reason, status=status).inc()
            log.info(
                "intent answered",
                intent_id=intent.intent_id,
                signal=intent.signal_id,
                mint=intent.mint,
                reasons=list(intent.reasons),
                status=status,
                reason=ack.reason,
                duplicate=ack.duplicate,
            )
            return
