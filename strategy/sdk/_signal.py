"""The `Signal` base class and the rules a subclass must follow (checked at class creation)."""

from __future__ import annotations

import dataclasses
import inspect
import re
import typing
from collections.abc import Sequence
from typing import Any, ClassVar, Final, Generic, TypeAlias, TypeVar

from strategy.sdk._decimal import is_int
from strategy.sdk._events import CurveSnapshot, FeatureBucket, TradeObserved
from strategy.sdk._intent import TradeIntent
from strategy.sdk._params import Params
from strategy.sdk.errors import SignalDefinitionError

if typing.TYPE_CHECKING:
    from strategy.sdk._ctx import Ctx

__all__ = ["HOOKS", "Emit", "Signal"]

P = TypeVar("P", bound=Params)

#: What a hook returns: nothing, one intent, or several (in a deterministic order).
Emit: TypeAlias = TradeIntent | Sequence[TradeIntent] | None

#: The hooks a signal may override, by the event kind that triggers them.
HOOKS: Final = {"feature_bucket": "on_bucket", "trade_observed": "on_trade", "curve_snapshot": "on_curve"}

_ID_RE: Final = re.compile(r"^[a-z][a-z0-9_]{1,47}$")
_REASON_RE: Final = re.compile(r"^[A-Z][A-Z0-9_]{1,63}$")
_MUTABLE: Final = (list, dict, set, bytearray)
_DECLARATIONS: Final = frozenset(
    {
        "id",
        "version",
        "reasons",
        "warmup_buckets",
        "history_buckets",
        "State",
        "default_max_slippage_bps",
        "default_ttl_ms",
    }
)


def _params_type(cls: type) -> type[Params] | None:
    for base in getattr(cls, "__orig_bases__", ()):
        if typing.get_origin(base) is Signal:
            (arg,) = typing.get_args(base)
            if isinstance(arg, type) and issubclass(arg, Params):
                return arg
            if isinstance(arg, TypeVar):
                return None
            raise SignalDefinitionError(f"{cls.__name__}: Signal[...] takes a Params subclass, got {arg!r}")
    for parent in cls.__mro__[1:]:
        found = parent.__dict__.get("_params_type")
        if found is not None:
            return typing.cast(type[Params], found)
    return None


class Signal(Generic[P]):
    """Base class of every signal. Subclass it as `Signal[MyParams]` and override hooks.

    Class declarations (validated when the class is created):
        id: unique snake_case name, e.g. `"inflow_accel"`.
        version: int >= 1; bump it on any logic change (it is part of every intent id).
        reasons: the closed, non-empty tuple of UPPER_SNAKE reason codes intents may carry.
        warmup_buckets: minutes of bucket history a mint needs before this signal's intents on it
            are released (hooks still run during warm-up; their intents are dropped).
        history_buckets: minutes of history `ctx.history()` exposes (>= the warm-up).
        State: optional dataclass (all fields defaulted) for mutable per-mint state, reached
            through `ctx.state(mint, State)`; prefer none, history covers most needs.
        default_max_slippage_bps, default_ttl_ms: intent defaults when a builder omits them.

    Hooks are synchronous (`async def` is rejected), receive an immutable event and a `Ctx`, and
    return an `Emit`. They must not do I/O or read clocks or randomness; the instance is frozen
    after construction, so all per-mint memory lives in `ctx.state` or in the history.
    """

    id: ClassVar[str]
    version: ClassVar[int]
    reasons: ClassVar[tuple[str, ...]]
    warmup_buckets: ClassVar[int] = 0
    history_buckets: ClassVar[int] = 60
    State: ClassVar[type | None] = None
    default_max_slippage_bps: ClassVar[int] = 500
    default_ttl_ms: ClassVar[int] = 15_000

    _params_type: ClassVar[type[Params] | None] = None
    __slots__ = ("params", "params_hash")

    #: The validated, frozen parameters this instance runs with.
    params: P
    #: `params.params_hash()`, stamped on every intent.
    params_hash: str

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__name__
        if "__init__" in cls.__dict__:
            raise SignalDefinitionError(
                f"{name}: do not override __init__; configure through Params and keep state in ctx.state"
            )
        for attr, value in cls.__dict__.items():
            if attr.startswith("__"):
                continue
            func = value.__func__ if isinstance(value, staticmethod | classmethod) else value
            if inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func):
                raise SignalDefinitionError(
                    f"{name}.{attr}: async methods are not allowed; hooks are synchronous"
                )
            if attr.startswith("on_") and attr not in HOOKS.values():
                raise SignalDefinitionError(
                    f"{name}.{attr}: unknown hook (known hooks: {', '.join(sorted(HOOKS.values()))})"
                )
            if attr in HOOKS.values() and inspect.isgeneratorfunction(func):
                raise SignalDefinitionError(f"{name}.{attr}: a hook must return intents, not yield them")
            if isinstance(value, _MUTABLE):
                raise SignalDefinitionError(
                    f"{name}.{attr}: mutable class attribute ({type(value).__name__}); "
                    "use a tuple/frozenset, or per-mint ctx.state"
                )
        cls._params_type = _params_type(cls)
        if "id" in cls.__dict__:
            cls._validate_declaration()

    @classmethod
    def _validate_declaration(cls) -> None:
        name = cls.__name__
        ident: object = getattr(cls, "id", None)
        if not isinstance(ident, str) or not _ID_RE.match(ident):
            raise SignalDefinitionError(f"{name}.id must match {_ID_RE.pattern}, got {ident!r}")
        version = getattr(cls, "version", None)
        if not is_int(version) or typing.cast(int, version) < 1:
            raise SignalDefinitionError(f"{name}.version must be an int >= 1, got {version!r}")
        reasons = getattr(cls, "reasons", None)
        if not isinstance(reasons, tuple) or not reasons:
            raise SignalDefinitionError(f"{name}.reasons must be a non-empty tuple of reason codes")
        for code in reasons:
            if not isinstance(code, str) or not _REASON_RE.match(code):
                raise SignalDefinitionError(f"{name}.reasons: {code!r} must match {_REASON_RE.pattern}")
        if len(set(reasons)) != len(reasons):
            raise SignalDefinitionError(f"{name}.reasons has duplicates")
        for attr in ("warmup_buckets", "history_buckets", "default_max_slippage_bps", "default_ttl_ms"):
            value = getattr(cls, attr)
            if not is_int(value) or value < 0:
                raise SignalDefinitionError(f"{name}.{attr} must be an int >= 0, got {value!r}")
        if cls.history_buckets < 1 or cls.history_buckets < cls.warmup_buckets:
            raise SignalDefinitionError(f"{name}.history_buckets must be >= 1 and >= warmup_buckets")
        if not 1 <= cls.default_max_slippage_bps <= 10_000 or cls.default_ttl_ms < 1:
            raise SignalDefinitionError(f"{name}: default_max_slippage_bps in 1..10000, default_ttl_ms >= 1")
        state: object = cls.State
        if state is not None:
            if not (isinstance(state, type) and dataclasses.is_dataclass(state)):
                raise SignalDefinitionError(f"{name}.State must be a dataclass")
            try:
                state()
            except TypeError as e:
                raise SignalDefinitionError(f"{name}.State: every field needs a default ({e})") from None
        if cls._params_type is None:
            raise SignalDefinitionError(f"{name}: declare the parameters as `class {name}(Signal[MyParams])`")

    def __init__(self, params: P | None = None) -> None:
        """Bind the signal to validated parameters (default: the declared defaults)."""
        cls = type(self)
        params_type = cls._params_type
        if params_type is None or getattr(cls, "id", None) is None:
            raise SignalDefinitionError(f"{cls.__name__} is not a complete signal (no id or Params declared)")
        if params is None:
            params = typing.cast(P, params_type())
        elif not isinstance(params, params_type):
            raise TypeError(f"{cls.__name__} takes {params_type.__name__}, got {type(params).__name__}")
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "params_hash", params.params_hash())
        warmup = self.warmup()
        if not is_int(warmup) or not 0 <= warmup <= cls.history_buckets:
            raise SignalDefinitionError(
                f"{cls.__name__}.warmup() = {warmup!r} must be an int in 0..history_buckets ({cls.history_buckets})"
            )

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(
            f"{type(self).__name__} instances are frozen; keep per-mint state in ctx.state(mint, State)"
        )

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} instances are frozen")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r}, version={self.version}, params_hash={self.params_hash[:12]})"

    @classmethod
    def params_type(cls) -> type[Params]:
        """The declared `Params` subclass."""
        if cls._params_type is None:
            raise SignalDefinitionError(f"{cls.__name__} declares no Params")
        return cls._params_type

    @classmethod
    def from_mapping(cls, data: typing.Mapping[str, object], *, where: str | None = None) -> Signal[Any]:
        """Build the signal from raw parameter values (e.g. a config table); `ParamsError` on bad input."""
        params = cls.params_type().from_mapping(data, where=where or cls.id)
        return cls(typing.cast(Any, params))

    def warmup(self) -> int:
        """Minutes of history needed before intents are released; override to derive from params."""
        return self.warmup_buckets

    def hooks(self) -> frozenset[str]:
        """The hooks this class actually overrides."""
        return frozenset(h for h in HOOKS.values() if getattr(type(self), h) is not getattr(Signal, h))

    # --- hooks: the defaults do nothing ------------------------------------------------------

    def on_bucket(self, bucket: FeatureBucket, ctx: Ctx[P]) -> Emit:
        """Called for every feature bucket (including re-emitted revisions; see `is_revision`)."""
        return None

    def on_trade(self, trade: TradeObserved, ctx: Ctx[P]) -> Emit:
        """Called for every observed trade."""
        return None

    def on_curve(self, snapshot: CurveSnapshot, ctx: Ctx[P]) -> Emit:
        """Called for every bonding-curve snapshot."""
        return None
