"""The `--faults` mini-language and the seeded dice that decide when a fault fires.

Grammar (comma-separated list, whitespace ignored)::

    faults    := fault ("," fault)*
    fault     := name ":" arg (":" arg)*      e.g. 429:0.05, slow:0.1:200ms
               | name "@" time ("," time)*    e.g. ws-drop@12s,40s (times after emission start)
    time, dur := number ("ms" | "s" | "m")    a bare number means seconds
    prob      := number in [0, 1] | number "%"
    size      := number ("b" | "kb" | "mb")   a bare number means bytes

Faults:

    ws-drop:DUR | ws-drop@T,...    abort every WebSocket connection every DUR / at the given times
    restart:DUR | restart@T,...    "node restart": drop every connection and reset subscription ids to 0
    idle-timeout:DUR               close a WebSocket that sent nothing (not even a ping) for DUR
    429:PROB[:RETRY_AFTER_S]       HTTP 429, JSON-RPC code 429 and integer Retry-After (default 1 s)
    behind:PROB[:SLOTS]            -32005 "Node is behind by N slots" (numSlotsBehind N, default 40)
    slow:PROB:DUR                  delay the HTTP answer by DUR
    null-tx:K                      getTransaction answers null for the first K tries per signature
    dup:PROB                       send a notification twice
    truncate:PROB                  generated transaction logs capped at 10,000 bytes ("Log truncated")
    malformed:PROB                 send a frame that is not valid JSON before a notification
    oversize:PROB[:SIZE]           pad a notification with whitespace to SIZE (default 2mb)
    ghost:PROB                     a logsNotification for the all-ones default signature

Every probabilistic decision is drawn from a `random.Random` seeded from `--seed` and the fault
name, so a run with the same seed and the same client behaviour makes the same decisions.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field, replace

__all__ = ["FaultDice", "FaultError", "FaultPlan", "parse_faults"]


class FaultError(ValueError):
    """A `--faults` string that does not follow the grammar."""


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """Parsed `--faults`: every field off (0 / None / empty) by default."""

    ws_drop_every_s: float | None = None
    ws_drop_at_s: tuple[float, ...] = ()
    restart_every_s: float | None = None
    restart_at_s: tuple[float, ...] = ()
    idle_timeout_s: float | None = None
    rate_limit_p: float = 0.0
    retry_after_s: int = 1
    behind_p: float = 0.0
    behind_slots: int = 40
    slow_p: float = 0.0
    slow_s: float = 0.0
    null_tx_tries: int = 0
    dup_p: float = 0.0
    truncate_p: float = 0.0
    malformed_p: float = 0.0
    oversize_p: float = 0.0
    oversize_bytes: int = 2 * 1024 * 1024
    ghost_p: float = 0.0
    source: str = field(default="", compare=False)

    @property
    def any_ws_schedule(self) -> bool:
        return bool(self.ws_drop_every_s or self.ws_drop_at_s or self.restart_every_s or self.restart_at_s)


_NUM = r"(\d+(?:\.\d*)?|\.\d+)"
_DUR_RE = re.compile(rf"^{_NUM}(ms|s|m)?$")
_SIZE_RE = re.compile(rf"^{_NUM}(b|kb|mb|kib|mib)?$")


def _duration(text: str, what: str) -> float:
    m = _DUR_RE.match(text.strip().lower())
    if not m:
        raise FaultError(f"{what}: {text!r} is not a duration like 30s, 200ms or 2m")
    value = float(m.group(1))
    return value * {"ms": 0.001, "s": 1.0, "m": 60.0, None: 1.0}[m.group(2)]


def _probability(text: str, what: str) -> float:
    t = text.strip()
    try:
        value = float(t[:-1]) / 100 if t.endswith("%") else float(t)
    except ValueError:
        raise FaultError(f"{what}: {text!r} is not a probability like 0.05 or 5%") from None
    if not 0.0 <= value <= 1.0:
        raise FaultError(f"{what}: probability {text!r} is outside [0, 1]")
    return value


def _count(text: str, what: str) -> int:
    if not text.strip().isdigit():
        raise FaultError(f"{what}: {text!r} is not a non-negative integer")
    return int(text)


def _size(text: str, what: str) -> int:
    m = _SIZE_RE.match(text.strip().lower())
    if not m:
        raise FaultError(f"{what}: {text!r} is not a size like 2mb or 1500kb")
    mult = {"b": 1, None: 1, "kb": 1024, "kib": 1024, "mb": 1024 * 1024, "mib": 1024 * 1024}[m.group(2)]
    return int(float(m.group(1)) * mult)


def _split(text: str) -> list[tuple[str, str, list[str]]]:
    """Tokens as (name, separator, args); a bare time after `name@t` continues its list."""
    items: list[tuple[str, str, list[str]]] = []
    for raw in text.split(","):
        tok = raw.strip()
        if not tok:
            continue
        if items and items[-1][1] == "@" and _DUR_RE.match(tok.lower()):
            items[-1][2].append(tok)
            continue
        if "@" in tok:
            name, _, first = tok.partition("@")
            items.append((name.strip().lower(), "@", [first]))
        elif ":" in tok:
            name, *args = tok.split(":")
            items.append((name.strip().lower(), ":", args))
        else:
            raise FaultError(f"fault {tok!r} needs an argument (name:arg or name@time)")
    return items


def _args(name: str, args: list[str], lo: int, hi: int) -> None:
    if not lo <= len(args) <= hi:
        want = str(lo) if lo == hi else f"{lo} to {hi}"
        raise FaultError(f"{name} takes {want} argument(s), got {len(args)}")


def parse_faults(text: str | None) -> FaultPlan:
    """Parse a `--faults` string; raises `FaultError` with a message naming the bad part."""
    plan = FaultPlan(source=text or "")
    if not text:
        return plan
    for name, sep, args in _split(text):
        if sep == "@":
            times = tuple(sorted(_duration(a, name) for a in args))
            if name == "ws-drop":
                plan = replace(plan, ws_drop_at_s=plan.ws_drop_at_s + times)
            elif name == "restart":
                plan = replace(plan, restart_at_s=plan.restart_at_s + times)
            else:
                raise FaultError(f"{name} does not take @times (only ws-drop and restart do)")
            continue
        if name == "ws-drop":
            _args(name, args, 1, 1)
            plan = replace(plan, ws_drop_every_s=_positive(_duration(args[0], name), name))
        elif name == "restart":
            _args(name, args, 1, 1)
            plan = replace(plan, restart_every_s=_positive(_duration(args[0], name), name))
        elif name == "idle-timeout":
            _args(name, args, 1, 1)
            plan = replace(plan, idle_timeout_s=_positive(_duration(args[0], name), name))
        elif name == "429":
            _args(name, args, 1, 2)
            retry = _count(args[1], name) if len(args) > 1 else 1
            plan = replace(plan, rate_limit_p=_probability(args[0], name), retry_after_s=retry)
        elif name == "behind":
            _args(name, args, 1, 2)
            slots = _count(args[1], name) if len(args) > 1 else 40
            plan = replace(plan, behind_p=_probability(args[0], name), behind_slots=slots)
        elif name == "slow":
            _args(name, args, 2, 2)
            plan = replace(plan, slow_p=_probability(args[0], name), slow_s=_duration(args[1], name))
        elif name == "null-tx":
            _args(name, args, 1, 1)
            plan = replace(plan, null_tx_tries=_count(args[0], name))
        elif name == "dup":
            _args(name, args, 1, 1)
            plan = replace(plan, dup_p=_probability(args[0], name))
        elif name == "truncate":
            _args(name, args, 1, 1)
            plan = replace(plan, truncate_p=_probability(args[0], name))
        elif name == "malformed":
            _args(name, args, 1, 1)
            plan = replace(plan, malformed_p=_probability(args[0], name))
        elif name == "ghost":
            _args(name, args, 1, 1)
            plan = replace(plan, ghost_p=_probability(args[0], name))
        elif name == "oversize":
            _args(name, args, 1, 2)
            size = _size(args[1], name) if len(args) > 1 else plan.oversize_bytes
            plan = replace(plan, oversize_p=_probability(args[0], name), oversize_bytes=size)
        else:
            raise FaultError(f"unknown fault {name!r}")
    return plan


def _positive(value: float, name: str) -> float:
    if value <= 0:
        raise FaultError(f"{name}: the period must be positive")
    return value


class FaultDice:
    """One seeded random stream per fault name, so adding a fault does not shift the others."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._streams: dict[str, random.Random] = {}

    def stream(self, name: str) -> random.Random:
        rng = self._streams.get(name)
        if rng is None:
            digest = hashlib.sha256(f"faults/{self._seed}/{name}".encode()).digest()
            rng = random.Random(int.from_bytes(digest[:8], "little"))
            self._streams[name] = rng
        return rng

    def roll(self, name: str, probability: float) -> bool:
        if probability <= 0.0:
            return False
        return self.stream(name).random() < probability

    def randint(self, name: str, lo: int, hi: int) -> int:
        return self.stream(name).randint(lo, hi)
