"""Which signals run, with which parameters: from a TOML file and/or the environment, validated at start.

Sources, later ones winning:

1. No file: every built-in signal with its documented defaults (`strategy/signals.toml` spells the
   same thing out and is a good starting point for your own file).
2. A TOML file (`STRATEGY_SIGNALS_FILE`): one table per signal instance::

       [runner]
       fault_limit = 3              # faults of one (signal, mint) before it is quarantined
       idle_evict_minutes = 360     # forget a mint after this much event time without events

       [signals.inflow_accel]       # instance name; also the built-in id unless `signal` says otherwise
       min_accel_sol = 0.3          # any parameter of the signal's Params
       enabled = true

       [signals.my_fast_inflow]
       signal = "inflow_accel"      # a built-in id, or "package.module:ClassName" for your own
       window = 4

   Floats in the file are read as exact decimals.
3. `STRATEGY_SIGNALS=name,name`: run only these instances (`none` runs none).
4. `STRATEGY_SIGNAL__<NAME>__<PARAM>=value`: override one parameter of one instance, e.g.
   `STRATEGY_SIGNAL__INFLOW_ACCEL__MIN_ACCEL_SOL=0.3`.

Every problem is collected and reported at once in a `SignalConfigError`, before anything runs.
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from strategy.runner import SignalRunner
from strategy.sdk import Params, ParamsError, Signal
from strategy.signals import BUILTINS

__all__ = [
    "ENV_ENABLED",
    "ENV_FILE",
    "ENV_PARAM_PREFIX",
    "SignalConfig",
    "SignalConfigError",
    "SignalSpec",
    "default_config",
    "env_overrides",
    "load_signal_config",
    "load_signals",
    "parse_signal_config",
]

#: Environment variable naming the TOML file.
ENV_FILE: Final = "STRATEGY_SIGNALS_FILE"
#: Environment variable restricting the instances that run (comma-separated names, or `none`).
ENV_ENABLED: Final = "STRATEGY_SIGNALS"
#: Prefix of per-parameter overrides: `STRATEGY_SIGNAL__<NAME>__<PARAM>`.
ENV_PARAM_PREFIX: Final = "STRATEGY_SIGNAL__"

_RESERVED: Final = frozenset({"signal", "enabled"})
_RUNNER_KEYS: Final = {"fault_limit": (1, 1_000_000), "idle_evict_minutes": (1, 10_000_000)}
_DEFAULT_FAULT_LIMIT: Final = 3
_DEFAULT_IDLE_EVICT_MINUTES: Final = 360


class SignalConfigError(ValueError):
    """The signal configuration is invalid; the message lists every problem with its location."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid signal configuration ({source}):\n{lines}")


@dataclass(frozen=True, slots=True)
class SignalSpec:
    """One configured signal instance."""

    name: str
    signal: Signal[Any]

    @property
    def label(self) -> str:
        """`name (id@version, params <hash prefix>)` for logs."""
        s = self.signal
        return f"{self.name} ({s.id}@{s.version}, params {s.params_hash[:12]})"


@dataclass(frozen=True, slots=True)
class SignalConfig:
    """The validated configuration: signal instances plus runner settings."""

    signals: tuple[SignalSpec, ...]
    fault_limit: int = _DEFAULT_FAULT_LIMIT
    idle_evict_minutes: int = _DEFAULT_IDLE_EVICT_MINUTES
    source: str = "built-in defaults"

    def build_runner(self) -> SignalRunner:
        """A fresh `SignalRunner` for these signals."""
        return SignalRunner(
            {spec.name: spec.signal for spec in self.signals},
            fault_limit=self.fault_limit,
            idle_evict_seconds=self.idle_evict_minutes * 60,
        )

    def describe(self) -> list[str]:
        """One line per signal, for the start-up log."""
        return [spec.label for spec in self.signals]


def default_config() -> SignalConfig:
    """Every built-in signal with its default parameters."""
    return SignalConfig(tuple(SignalSpec(sid, cls()) for sid, cls in BUILTINS.items()))


def _resolve(name: str, ref: object, problems: list[str]) -> type[Signal[Any]] | None:
    where = f"signals.{name}"
    if ref is None:
        ref = name
    if not isinstance(ref, str) or not ref:
        problems.append(f"{where}.signal: expected a built-in id or 'module:Class', got {ref!r}")
        return None
    if ref in BUILTINS:
        return BUILTINS[ref]
    if ":" not in ref:
        problems.append(
            f"{where}: unknown signal {ref!r} (built-ins: {', '.join(BUILTINS)}; "
            'or set signal = "package.module:ClassName")'
        )
        return None
    module_name, _, class_name = ref.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as e:  # noqa: BLE001 - any import failure is a configuration problem to report
        problems.append(f"{where}.signal: cannot import {module_name!r}: {type(e).__name__}: {e}")
        return None
    found = getattr(module, class_name, None)
    if not (isinstance(found, type) and issubclass(found, Signal)):
        problems.append(f"{where}.signal: {ref!r} is not a Signal subclass")
        return None
    return found


def parse_signal_config(
    data: Mapping[str, Any],
    *,
    source: str,
    enabled: Sequence[str] | None = None,
    overrides: Mapping[str, Mapping[str, str]] | None = None,
) -> SignalConfig:
    """Validate a parsed TOML document (plus the env restrictions and overrides) into a config."""
    problems: list[str] = []
    for key in data:
        if key not in {"signals", "runner"}:
            problems.append(f"{key}: unknown top-level key (expected [signals.<name>] tables and [runner])")
    runner_table = data.get("runner", {})
    runner_values = {"fault_limit": _DEFAULT_FAULT_LIMIT, "idle_evict_minutes": _DEFAULT_IDLE_EVICT_MINUTES}
    if not isinstance(runner_table, Mapping):
        problems.append("runner: expected a table")
        runner_table = {}
    for key, value in runner_table.items():
        if key not in _RUNNER_KEYS:
            problems.append(f"runner.{key}: unknown key (known: {', '.join(_RUNNER_KEYS)})")
            continue
        low, high = _RUNNER_KEYS[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            problems.append(f"runner.{key}: expected an integer in {low}..{high}, got {value!r}")
            continue
        runner_values[key] = value
    tables = data.get("signals", {})
    if not isinstance(tables, Mapping):
        problems.append("signals: expected tables [signals.<name>]")
        tables = {}
    overrides = {k.lower(): v for k, v in (overrides or {}).items()}
    for name in overrides:
        if name not in tables:
            problems.append(f"{ENV_PARAM_PREFIX}{name.upper()}__*: no signal instance named {name!r}")
    wanted = None if enabled is None else [n.strip().lower() for n in enabled if n.strip()]
    if wanted is not None:
        for name in wanted:
            if name not in tables:
                problems.append(
                    f"{ENV_ENABLED}: no signal instance named {name!r} (configured: {', '.join(tables)})"
                )
    specs: list[SignalSpec] = []
    for name, table in tables.items():
        where = f"signals.{name}"
        if not isinstance(table, Mapping):
            problems.append(f"{where}: expected a table")
            continue
        cls = _resolve(name, table.get("signal"), problems)
        active = table.get("enabled", True)
        if not isinstance(active, bool):
            problems.append(f"{where}.enabled: expected true or false, got {active!r}")
            continue
        values: dict[str, object] = {k: v for k, v in table.items() if k not in _RESERVED}
        values.update(overrides.get(name, {}))
        if cls is None:
            continue
        try:
            params: Params = cls.params_type().from_mapping(values, where=where)
            signal = cls(params)
        except ParamsError as e:
            problems.extend(f"{where}.{p}" for p in e.problems)
            continue
        except (TypeError, ValueError) as e:
            problems.append(f"{where}: {e}")
            continue
        selected = name in wanted if wanted is not None else active
        if selected:
            specs.append(SignalSpec(name, signal))
    if problems:
        raise SignalConfigError(source, problems)
    config = SignalConfig(
        tuple(specs), runner_values["fault_limit"], runner_values["idle_evict_minutes"], source
    )
    try:
        config.build_runner()
    except (TypeError, ValueError) as e:
        raise SignalConfigError(source, [str(e)]) from None
    return config


def env_overrides(env: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """`STRATEGY_SIGNAL__<NAME>__<PARAM>=value` variables as `{name: {param: value}}` (lowercased)."""
    out: dict[str, dict[str, str]] = {}
    for key in sorted(env):
        if not key.upper().startswith(ENV_PARAM_PREFIX):
            continue
        rest = key[len(ENV_PARAM_PREFIX) :]
        name, sep, param_name = rest.partition("__")
        if not sep or not name or not param_name:
            raise SignalConfigError("environment", [f"{key}: expected {ENV_PARAM_PREFIX}<NAME>__<PARAM>"])
        out.setdefault(name.lower(), {})[param_name.lower()] = env[key]
    return out


def _default_document() -> dict[str, Any]:
    return {"signals": {sid: {} for sid in BUILTINS}}


def load_signal_config(
    path: Path | str | None = None,
    *,
    enabled: str | Sequence[str] | None = None,
    overrides: Mapping[str, Mapping[str, str]] | None = None,
    env: Mapping[str, str] | None = None,
) -> SignalConfig:
    """Load and validate the configuration.

    Args:
        path: TOML file; None (or empty) means the built-in defaults.
        enabled: instance names to run (a comma-separated string or a list); `"none"` runs none.
        overrides: per-instance parameter overrides, `{name: {param: value}}`.
        env: an environment mapping to read `STRATEGY_SIGNALS_FILE`, `STRATEGY_SIGNALS` and
            `STRATEGY_SIGNAL__*` from, for whatever the explicit arguments leave unset.

    Raises:
        SignalConfigError: listing every problem (unreadable file, TOML syntax, unknown signal or
            parameter, out-of-bounds value, ...).
    """
    env = env or {}
    if path is None or path == "":
        path = env.get(ENV_FILE) or None
    if enabled is None:
        raw = env.get(ENV_ENABLED, "").strip()
        enabled = raw or None
    if isinstance(enabled, str):
        enabled = [] if enabled.strip().lower() == "none" else enabled.split(",")
    if overrides is None:
        overrides = env_overrides(env)
    if path is None:
        document: Mapping[str, Any] = _default_document()
        source = "built-in defaults"
    else:
        source = str(path)
        try:
            with Path(path).open("rb") as fh:
                document = tomllib.load(fh, parse_float=Decimal)
        except OSError as e:
            raise SignalConfigError(source, [f"cannot read the file: {e.strerror or e}"]) from None
        except tomllib.TOMLDecodeError as e:
            raise SignalConfigError(source, [f"not valid TOML: {e}"]) from None
    return parse_signal_config(document, source=source, enabled=enabled, overrides=overrides)


def load_signals(config: SignalConfig | None = None) -> SignalRunner:
    """A runner for `config` (default: every built-in with its defaults)."""
    return (config or default_config()).build_runner()
