"""Signal configuration: built-in defaults with no file, the shipped TOML equal to them, env
restrictions and overrides, your own classes by import path, and every error reported at once."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from strategy.signal_config import (
    SignalConfigError,
    default_config,
    env_overrides,
    load_signal_config,
    load_signals,
)
from strategy.signals import BUILTINS

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "strategy" / "signals.toml"


def hashes(config: object) -> dict[str, str]:
    return {s.name: s.signal.params_hash for s in config.signals}  # type: ignore[attr-defined]


def test_no_file_and_no_env_runs_every_builtin_with_its_defaults() -> None:
    config = load_signal_config(env={})
    assert [s.name for s in config.signals] == list(BUILTINS)
    assert hashes(config) == {sid: cls().params_hash for sid, cls in BUILTINS.items()}
    assert config.source == "built-in defaults"
    assert list(load_signals().signals) == sorted(BUILTINS)


def test_the_shipped_signals_toml_spells_out_exactly_the_defaults() -> None:
    shipped = load_signal_config(SHIPPED)
    assert hashes(shipped) == hashes(default_config())
    assert (shipped.fault_limit, shipped.idle_evict_minutes) == (3, 360)


def test_a_file_selects_instances_and_reads_floats_as_exact_decimals(tmp_path: Path) -> None:
    path = tmp_path / "signals.toml"
    path.write_text(
        "[runner]\nfault_limit = 5\n\n"
        "[signals.inflow_accel]\nmin_accel_sol = 0.3\n\n"
        '[signals.fast_inflow]\nsignal = "inflow_accel"\nwindow = 4\n\n'
        "[signals.price_trend]\nenabled = false\n"
    )
    config = load_signal_config(path)
    assert [s.name for s in config.signals] == ["inflow_accel", "fast_inflow"]
    assert config.signals[0].signal.params.min_accel_sol == Decimal("0.3")
    assert config.signals[1].signal.params.window == 4
    assert config.fault_limit == 5
    assert list(config.build_runner().signals) == ["fast_inflow", "inflow_accel"]


def test_env_restricts_the_instances_and_overrides_single_parameters() -> None:
    env = {
        "STRATEGY_SIGNALS": "inflow_accel, flow_composite",
        "STRATEGY_SIGNAL__INFLOW_ACCEL__MIN_ACCEL_SOL": "0.25",
        "STRATEGY_SIGNAL__FLOW_COMPOSITE__MIN_CONFIRMATIONS": "3",
    }
    config = load_signal_config(env=env)
    assert [s.name for s in config.signals] == ["inflow_accel", "flow_composite"]
    assert config.signals[0].signal.params.min_accel_sol == Decimal("0.25")
    assert config.signals[1].signal.params.min_confirmations == 3
    assert load_signal_config(env={"STRATEGY_SIGNALS": "none"}).signals == ()


def test_env_file_variable_points_at_the_file(tmp_path: Path) -> None:
    path = tmp_path / "one.toml"
    path.write_text("[signals.buyer_growth]\n")
    assert [s.name for s in load_signal_config(env={"STRATEGY_SIGNALS_FILE": str(path)}).signals] == [
        "buyer_growth"
    ]


def test_every_problem_is_reported_at_once_with_its_location(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        "extra = 1\n"
        "[runner]\nfault_limit = 0\nspeed = 2\n\n"
        "[signals.inflow_accel]\nwindow = 99\nmin_accel = 1\n\n"
        "[signals.nonsense]\n\n"
        '[signals.mine]\nsignal = "no_such_module_xyz:Thing"\n'
    )
    with pytest.raises(SignalConfigError) as caught:
        load_signal_config(path, env={"STRATEGY_SIGNAL__GHOST__X": "1"})
    text = str(caught.value)
    assert text.startswith(f"invalid signal configuration ({path}):")
    for needle in (
        "extra: unknown top-level key",
        "runner.fault_limit: expected an integer in 1..1000000, got 0",
        "runner.speed: unknown key",
        "signals.inflow_accel.window: Input should be less than or equal to 30 (got 99)",
        "signals.inflow_accel.min_accel: unknown parameter",
        "signals.nonsense: unknown signal 'nonsense' (built-ins: inflow_accel, buyer_growth",
        "signals.mine.signal: cannot import 'no_such_module_xyz'",
        "STRATEGY_SIGNAL__GHOST__*: no signal instance named 'ghost'",
    ):
        assert needle in text, needle
    assert len(caught.value.problems) == 8


def test_unreadable_and_malformed_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(SignalConfigError, match="cannot read the file"):
        load_signal_config(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[signals.inflow_accel\n")
    with pytest.raises(SignalConfigError, match="not valid TOML"):
        load_signal_config(broken)


def test_a_malformed_override_variable_is_an_error() -> None:
    with pytest.raises(SignalConfigError, match="STRATEGY_SIGNAL__<NAME>__<PARAM>"):
        env_overrides({"STRATEGY_SIGNAL__ONLYNAME": "1"})


def test_your_own_signal_class_loads_by_import_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "my_signals_for_config_test.py").write_text(
        "from strategy.sdk import Params, Signal, param\n"
        "class P(Params):\n    k: int = param(1, ge=1)\n"
        "class Mine(Signal[P]):\n    id = 'mine'\n    version = 1\n    reasons = ('GO',)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    path = tmp_path / "signals.toml"
    path.write_text('[signals.mine]\nsignal = "my_signals_for_config_test:Mine"\nk = 3\n')
    (spec,) = load_signal_config(path).signals
    assert (spec.signal.id, spec.signal.params.k) == ("mine", 3)
    assert spec.label.startswith("mine (mine@1, params ")


def test_the_same_signal_twice_with_identical_params_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dup.toml"
    path.write_text('[signals.a]\nsignal = "inflow_accel"\n[signals.b]\nsignal = "inflow_accel"\n')
    with pytest.raises(SignalConfigError, match="same signal with the same parameters"):
        load_signal_config(path)
