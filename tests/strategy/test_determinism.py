"""Determinism contract of the runner and built-ins: golden fingerprint, no lookahead, warm-up
invariance, and identical output across processes with different hash seeds."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from strategy.sdk import Signal, StreamEvent, TradeIntent, fingerprint
from strategy.sdk.testing import T0, run_signals
from strategy.signals import BUILTINS, FlowComposite
from tests.strategy.streams import builtin_fingerprint, golden_stream

ROOT = Path(__file__).resolve().parents[2]

#: sha256 over the canonical intents of every built-in (default params) on `golden_stream()`.
#: It changes only when signal logic, defaults, the intent encoding or the golden stream change;
#: update it deliberately (and bump the signal's `version` when its logic changed).
GOLDEN_FINGERPRINT = "85a1ae86229dcda53c80bd4e368ce24bc61ff779f5444cf08750c2cdf71c423e"
GOLDEN_COUNTS = {"inflow_accel": 40, "buyer_growth": 19, "price_trend": 18, "flow_composite": 17}


def run_builtins(events: list[StreamEvent]) -> list[TradeIntent]:
    return list(run_signals({sid: cls() for sid, cls in BUILTINS.items()}, events).intents)


def trigger_seq(intent: TradeIntent) -> int:
    return int(intent.trigger.removeprefix("seq:"))


@pytest.fixture(name="golden", scope="module")
def _golden() -> list[StreamEvent]:
    return golden_stream()


@pytest.fixture(name="golden_intents", scope="module")
def _golden_intents(golden: list[StreamEvent]) -> list[TradeIntent]:
    return run_builtins(golden)


def test_golden_stream_gives_the_committed_fingerprint(golden_intents: list[TradeIntent]) -> None:
    counts = Counter(i.signal_id for i in golden_intents)
    assert dict(counts) == GOLDEN_COUNTS
    assert fingerprint(golden_intents) == GOLDEN_FINGERPRINT


def test_every_builtin_and_every_reason_code_occurs_on_the_golden_stream(
    golden_intents: list[TradeIntent],
) -> None:
    seen = {(i.signal_id, r) for i in golden_intents for r in i.reasons}
    declared = {(sid, r) for sid, cls in BUILTINS.items() for r in cls.reasons}
    assert seen == declared


def test_running_twice_in_one_process_gives_identical_bytes(golden: list[StreamEvent]) -> None:
    first = [i.canonical_bytes() for i in run_builtins(golden)]
    second = [i.canonical_bytes() for i in run_builtins(golden)]
    assert first == second


@pytest.mark.parametrize("cut", [1, 50, 97, 200, 333, 404, 500, 611])
def test_prefix_invariance_intents_up_to_a_cut_do_not_depend_on_later_events(
    golden: list[StreamEvent], golden_intents: list[TradeIntent], cut: int
) -> None:
    last_seq = golden[cut - 1].seq
    expected = [i for i in golden_intents if trigger_seq(i) <= last_seq]
    assert run_builtins(golden[:cut]) == expected


def _index_of_minute(events: list[StreamEvent], minute: int) -> int:
    """Index of the first event at or after the start of golden minute `minute`."""
    return next(i for i, e in enumerate(events) if e.as_of >= T0 + 60 * minute)


def windowed_signals() -> dict[str, Signal[Any]]:
    """Every built-in, with the composite's launch requirement off: these depend on a bounded
    window of history only, so the full warm-up-invariance property applies to them."""
    signals: dict[str, Signal[Any]] = {sid: cls() for sid, cls in BUILTINS.items()}
    signals["flow_composite"] = FlowComposite.from_mapping({"require_launch": False})
    return signals


@pytest.mark.parametrize("start_minute", [1, 4, 7, 10])
def test_warmup_invariance_intents_in_a_window_do_not_depend_on_where_the_run_started(
    golden: list[StreamEvent], start_minute: int
) -> None:
    # The largest default warm-up is 6 minutes; the window starts 8+ minutes after every start.
    window_from = golden[_index_of_minute(golden, 18)].seq
    full = run_signals(windowed_signals(), golden).intents
    expected = [i for i in full if trigger_seq(i) >= window_from]
    late = run_signals(windowed_signals(), golden[_index_of_minute(golden, start_minute) :]).intents
    assert [i for i in late if trigger_seq(i) >= window_from] == expected
    assert {i.signal_id for i in expected} == set(BUILTINS), "every signal must be exercised in the window"


@pytest.mark.parametrize("start_minute", [1, 4, 7, 10])
def test_a_late_start_can_only_drop_composite_intents_on_mints_launched_before_it(
    golden: list[StreamEvent], golden_intents: list[TradeIntent], start_minute: int
) -> None:
    start = _index_of_minute(golden, start_minute)
    window_from = golden[_index_of_minute(golden, 18)].seq
    late = [i for i in run_builtins(golden[start:]) if trigger_seq(i) >= window_from]
    expected = [i for i in golden_intents if trigger_seq(i) >= window_from]
    seen_launch = {e.mint for e in golden[start:] if e.kind == "token_launched"}
    assert [i for i in late if i.signal_id != "flow_composite"] == [
        i for i in expected if i.signal_id != "flow_composite"
    ]
    assert [i for i in late if i.signal_id == "flow_composite"] == [
        i for i in expected if i.signal_id == "flow_composite" and i.mint in seen_launch
    ]


def test_a_late_start_emits_nothing_until_the_smallest_warmup_has_passed(golden: list[StreamEvent]) -> None:
    # The smallest default warm-up is 4 minutes (inflow_accel); the first bucket a run can see is
    # the previous minute's, so no intent can close earlier than 3 minutes after the start minute.
    start = _index_of_minute(golden, 10)
    late = run_builtins(golden[start:])
    assert late
    assert min(i.as_of for i in late) >= T0 + 60 * (10 + 3)


@pytest.mark.slow
def test_same_fingerprint_in_separate_processes_under_different_hash_seeds() -> None:
    outputs = set()
    for seed in ("0", "1", "4242", "random"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-m", "tests.strategy.streams"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        outputs.add(done.stdout.strip())
    assert outputs == {GOLDEN_FINGERPRINT}
    assert builtin_fingerprint() == GOLDEN_FINGERPRINT
