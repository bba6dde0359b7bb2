"""The simulated node: ledger + chain clock + subscriptions + faults, driven by a feed.

No sockets here. The server calls `step()` on a timer (it emits due transactions, releases
notifications as their slots reach each commitment, fires scheduled faults) and `handle_http()`
for each HTTP body. Connections are `Sink`s registered with the pubsub `Registry`.
"""

from __future__ import annotations

import hashlib
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, Any

import orjson
import structlog

from sim import methods
from sim.clock import FINALIZED_LAG, ChainClock, is_skipped
from sim.config import DEFAULT_RETAIN
from sim.errors import RpcError, invalid_request, node_behind, parse_error, too_many_requests
from sim.faults import FaultDice, FaultPlan
from sim.feed import Feed
from sim.ledger import Entry, Ledger
from sim.pubsub import (
    PubSubHandler,
    Registry,
    Sink,
    Subscription,
    account_frame,
    logs_frame,
    signature_frame,
    slot_frame,
)
from sim.txformat import b58encode

log = structlog.get_logger("sim")

GHOST_SIGNATURE = "1" * 64
BEHIND_POLL_S = 0.002  # how soon to look again when the feed has nothing ready yet
STEP_BUDGET_S = 0.02  # emission per step stops after this long (HTTP and writes go on meanwhile)


@dataclass(slots=True)
class HttpReply:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)
    delay_s: float = 0.0


class Node:
    """State and behaviour of one simulated RPC endpoint."""

    def __init__(
        self,
        *,
        clock: ChainClock,
        feed: Feed,
        faults: FaultPlan,
        seed: int,
        duration_s: float | None = None,
        manifest: IO[bytes] | None = None,
        start_on_subscribe: bool = True,
        retain: int = DEFAULT_RETAIN,
        history: Iterable[Entry] = (),
        time_fn: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.faults = faults
        self.dice = FaultDice(seed)
        self.seed = seed
        self.duration_s = duration_s
        self.ledger = Ledger(retain)
        self.registry = Registry()
        self.pubsub = PubSubHandler(self.registry, self._on_subscribed)
        self.manifest = manifest
        self.start_on_subscribe = start_on_subscribe
        self._time = time_fn
        self._feed = feed
        self._pending: tuple[float, Entry] | None = None
        self._feed_done = False
        self._feed_behind = False
        self.started_at: float | None = None
        # Entries served (notified) but not yet released at every commitment level.
        self._unreleased: deque[Entry] = deque()
        self._served_total = 0
        self._released = {"processed": 0, "confirmed": 0, "finalized": 0}
        self._preloaded = False
        for entry in history:
            self.ledger.append(entry)
            self._preloaded = True
        self._last_slot_notified = clock.base_slot
        self._null_tries: dict[str, int] = {}
        self._next_drop: float | None = None
        self._drop_times = list(faults.ws_drop_at_s)
        self._restart_times = list(faults.restart_at_s)
        self._next_restart: float | None = None
        self.drop_all: Callable[[str], None] = lambda reason: None
        self.stats = {"served": 0, "notifications": 0, "http_requests": 0}

    # --- time --------------------------------------------------------------------------------

    def t(self) -> float:
        """Seconds since emission started (0 before)."""
        return 0.0 if self.started_at is None else self._time() - self.started_at

    def start_emission(self) -> None:
        if self.started_at is None:
            self.started_at = self._time()
            self._next_drop = self.faults.ws_drop_every_s
            self._next_restart = self.faults.restart_every_s
            log.info("emission started", seed=self.seed, duration_s=self.duration_s)

    @property
    def emitting(self) -> bool:
        if self.started_at is None or self._feed_done:
            return False
        return self.duration_s is None or self.t() < self.duration_s

    def commitment_slot(self, commitment: str) -> int:
        return self.clock.commitment_slot(commitment, self.t())

    def block_height(self, slot: int) -> int:
        return slot - self.clock.base_slot + 300_000_000

    def blockhash(self, slot: int) -> str:
        return b58encode(hashlib.sha256(b"blockhash/%d/%d" % (self.seed, slot)).digest())

    # --- emission ----------------------------------------------------------------------------

    def step(self) -> float:
        """Emit what is due, release notifications, fire faults; seconds until the next event."""
        if self.started_at is None:
            return 0.05
        t = self.t()
        self._fire_scheduled_faults(t)
        served = self._emit_due(t)
        for commitment in ("processed", "confirmed", "finalized"):
            self._release(commitment, self.clock.commitment_slot(commitment, t))
        done = min(self._released.values())
        base = self._served_total - len(self._unreleased)
        while base < done:
            entry = self._unreleased.popleft()
            if not self._preloaded:
                entry.served()
            base += 1
        self._notify_slots(self.clock.tip(t))
        if served and self.manifest is not None:
            self.manifest.flush()
        wait = 0.05
        if self._pending is not None:
            wait = min(wait, max(0.0, self._pending[0] - self.t()))
        elif self._feed_behind:
            wait = BEHIND_POLL_S
        return wait

    def _emit_due(self, t: float) -> int:
        served = 0
        limit = self.duration_s
        deadline = time.perf_counter() + STEP_BUDGET_S
        self._feed_behind = False
        while True:
            if self._pending is None:
                if self._feed_done:
                    break
                try:
                    self._pending = self._feed.next_ready()
                except StopIteration:
                    self._feed_done = True
                    log.info("feed exhausted", served=self.stats["served"])
                    break
                if self._pending is None:  # the generator has not caught up yet
                    self._feed_behind = True
                    break
            due, entry = self._pending
            if limit is not None and due >= limit:
                self._feed_done = True
                self._pending = None
                self._feed.close()
                log.info("emission window over", served=self.stats["served"], duration_s=limit)
                break
            if due > t:
                break
            self._pending = None
            if not self._preloaded:
                self.ledger.append(entry)
            self._unreleased.append(entry)
            self._served_total += 1
            self.clock.observe(entry.slot, t)
            if self.manifest is not None and entry.manifest_json is not None:
                self.manifest.write(entry.manifest_json + b"\n")
            if not self._preloaded:
                entry.manifest_json = None
            served += 1
            if not served % 64 and time.perf_counter() > deadline:  # behind: let I/O run
                break
        self.stats["served"] += served
        return served

    def _release(self, commitment: str, max_slot: int) -> None:
        """Notify subscribers at `commitment` of every served entry whose slot reached it."""
        seq = self._released[commitment]
        end = self._served_total
        base = end - len(self._unreleased)
        unreleased = self._unreleased
        registry = self.registry
        want_logs = bool(registry.logs_all[commitment] or registry.logs_mentions[commitment])
        want_accounts = bool(registry.accounts)
        want_sigs = bool(registry.signatures)
        while seq < end:
            entry = unreleased[seq - base]
            if entry.slot > max_slot:
                break
            if want_logs:
                for sub in registry.logs_targets(commitment, entry.keys):
                    self._send_logs(sub, entry)
            if want_accounts:
                self._send_accounts(commitment, entry)
            if want_sigs:
                for sub in list(registry.signatures.get(entry.signature, ())):
                    if sub.commitment == commitment:
                        self._broadcast(sub, signature_frame(sub.id, entry.slot, entry.err))
                        registry.remove(sub)
            seq += 1
        self._released[commitment] = seq

    def _send_logs(self, sub: Subscription, entry: Entry) -> None:
        frame = logs_frame(sub.id, entry.slot, entry.logs_value())
        plan = self.faults
        dice = self.dice
        for sink in list(sub.sinks):
            if plan.ghost_p and dice.roll("ghost", plan.ghost_p):
                ghost = orjson.dumps({"signature": GHOST_SIGNATURE, "err": None, "logs": []})
                sink.send(logs_frame(sub.id, entry.slot, ghost))
            if plan.malformed_p and dice.roll("malformed", plan.malformed_p):
                sink.send(frame[: len(frame) // 2])
            out = frame
            if plan.oversize_p and dice.roll("oversize", plan.oversize_p):
                out = frame + b" " * max(0, plan.oversize_bytes - len(frame))
            sink.send(out)
            self.stats["notifications"] += 1
            if plan.dup_p and dice.roll("dup", plan.dup_p):
                sink.send(frame)

    def _send_accounts(self, commitment: str, entry: Entry) -> None:
        subs_by_addr = self.registry.accounts
        explicit = dict(entry.accounts)
        touched = [a for a in explicit if a in subs_by_addr]
        touched += [
            a
            for a, _ in zip(entry.keys, entry.balances, strict=False)
            if a in subs_by_addr and a not in explicit
        ]
        for address in touched:
            account = explicit.get(address) or self.ledger.account(address)
            for sub in list(subs_by_addr.get(address, ())):
                if sub.commitment != commitment or account is None:
                    continue
                self._broadcast(
                    sub, account_frame(sub.id, entry.slot, account.to_json(sub.encoding, sub.data_slice))
                )

    def _broadcast(self, sub: Subscription, frame: bytes) -> None:
        for sink in list(sub.sinks):
            sink.send(frame)

    def _notify_slots(self, tip: int) -> None:
        last = self._last_slot_notified
        if tip <= last:
            return
        self._last_slot_notified = tip
        subs = self.registry.slots
        if not subs:
            return
        first = max(last + 1, tip - 64)  # a recorded-data jump notifies only recent slots
        for slot in range(first, tip + 1):
            if is_skipped(self.seed, slot):
                continue
            parent = slot - 1 if not is_skipped(self.seed, slot - 1) else slot - 2
            root = max(self.clock.base_slot, slot - FINALIZED_LAG)
            for sub in list(subs):
                self._broadcast(sub, slot_frame(sub.id, slot, parent, root))

    def _fire_scheduled_faults(self, t: float) -> None:
        plan = self.faults
        restart = False
        while self._restart_times and self._restart_times[0] <= t:
            self._restart_times.pop(0)
            restart = True
        if self._next_restart is not None and plan.restart_every_s and t >= self._next_restart:
            self._next_restart += plan.restart_every_s
            restart = True
        if restart:
            log.info("fault: node restart (subscription ids reset)", t=round(t, 3))
            self.drop_all("restart")
            self.registry.reset()
            return
        drop = False
        while self._drop_times and self._drop_times[0] <= t:
            self._drop_times.pop(0)
            drop = True
        if self._next_drop is not None and plan.ws_drop_every_s and t >= self._next_drop:
            self._next_drop += plan.ws_drop_every_s
            drop = True
        if drop:
            log.info("fault: websocket drop", t=round(t, 3))
            self.drop_all("ws-drop")

    def _on_subscribed(self, sub: Subscription, sink: Sink) -> None:
        if sub.kind == "logs" and self.start_on_subscribe:
            self.start_emission()
        if sub.kind == "signature" and sub.target is not None:
            entry = self.ledger.get(sub.target)
            if entry is not None and entry.slot <= self.commitment_slot(sub.commitment):
                sink.send(signature_frame(sub.id, entry.slot, entry.err))
                self.registry.remove(sub)

    def null_tx_fault(self, signature: str) -> bool:
        k = self.faults.null_tx_tries
        if k <= 0:
            return False
        tries = self._null_tries.get(signature, 0)
        if tries >= k:
            return False
        self._null_tries[signature] = tries + 1
        return True

    # --- HTTP JSON-RPC -----------------------------------------------------------------------

    def handle_http(self, body: bytes) -> HttpReply:
        self.stats["http_requests"] += 1
        plan = self.faults
        delay = plan.slow_s if plan.slow_p and self.dice.roll("slow", plan.slow_p) else 0.0
        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError:
            return HttpReply(200, _error_body(None, parse_error()), delay_s=delay)
        if plan.rate_limit_p and self.dice.roll("429", plan.rate_limit_p):
            req_id = request.get("id") if isinstance(request, dict) else None
            headers = [("Retry-After", str(plan.retry_after_s))]
            return HttpReply(429, _error_body(req_id, too_many_requests()), headers, delay)
        if isinstance(request, list):
            if not request:
                return HttpReply(200, _error_body(None, invalid_request()), delay_s=delay)
            parts = [self._call(item) for item in request]
            answers = [p for p in parts if p is not None]
            return HttpReply(200, b"[" + b",".join(answers) + b"]" if answers else b"", delay_s=delay)
        answer = self._call(request)
        return HttpReply(200, answer or b"", delay_s=delay)

    def _call(self, request: Any) -> bytes | None:
        if not isinstance(request, dict):
            return _error_body(None, invalid_request())
        req_id = request.get("id")
        method = request.get("method")
        if request.get("jsonrpc") != "2.0" or not isinstance(method, str):
            return _error_body(req_id, invalid_request())
        try:
            plan = self.faults
            if plan.behind_p and self.dice.roll("behind", plan.behind_p):
                raise node_behind(plan.behind_slots)
            result = methods.call(self, method, request.get("params"))
        except RpcError as err:
            return None if "id" not in request else _error_body(req_id, err)
        except Exception:  # a handler bug must answer -32603, never kill the connection
            log.exception("internal error", method=method)
            return None if "id" not in request else _error_body(req_id, RpcError(-32603, "Internal error"))
        if "id" not in request:
            return None
        return orjson.dumps({"jsonrpc": "2.0", "result": result, "id": req_id})


def _error_body(req_id: Any, err: RpcError) -> bytes:
    return orjson.dumps({"jsonrpc": "2.0", "error": err.to_json(), "id": req_id})
