"""Declared, validated, frozen signal parameters.

A signal's parameters are a `Params` subclass: a frozen pydantic model that rejects unknown keys,
accepts only `int`, `Decimal`, `bool` and `str` fields (every one with a default), refuses floats
(inexact) and bools where a number is expected, and hashes canonically (`params_hash`) so that an
intent proves which parameter values produced it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticUndefined

from strategy.sdk._decimal import canonical_decimal
from strategy.sdk.errors import ParamsError, SignalDefinitionError

__all__ = ["ParamInfo", "Params", "param"]

_ALLOWED_TYPES: tuple[type, ...] = (int, Decimal, bool, str)
_BOUND_NAMES = ("gt", "ge", "lt", "le")


def param(
    default: int | Decimal | bool | str,
    *,
    ge: int | Decimal | None = None,
    gt: int | Decimal | None = None,
    le: int | Decimal | None = None,
    lt: int | Decimal | None = None,
    search: bool = False,
    doc: str = "",
) -> Any:
    """Declare a parameter: its default, inclusive/exclusive bounds and a one-line doc.

    `search=True` marks it as tunable within its bounds (`Params.search_space()` lists those), for
    a future optimiser; it does not change validation.
    """
    if isinstance(default, float):
        raise SignalDefinitionError("param(): float defaults are not allowed; use Decimal('...')")
    bounds: dict[str, Any] = {
        k: v for k, v in {"ge": ge, "gt": gt, "le": le, "lt": lt}.items() if v is not None
    }
    for name, bound in bounds.items():
        if isinstance(bound, float):
            raise SignalDefinitionError(f"param(): float bound {name}={bound!r}; use Decimal('...')")
    return Field(default, description=doc or None, json_schema_extra={"search": search}, **bounds)


@dataclass(frozen=True, slots=True)
class ParamInfo:
    """Description of one declared parameter (for docs, config errors and search tools)."""

    name: str
    type: str
    default: int | Decimal | bool | str
    bounds: Mapping[str, int | Decimal]
    search: bool
    doc: str


class Params(BaseModel):
    """Base class for a signal's parameters.

    Subclass it and declare fields with `param(...)`::

        class MyParams(Params):
            lookback: int = param(5, ge=3, le=30, doc="minutes in the fit")
            min_accel_sol: Decimal = param(Decimal("0.5"), ge=Decimal(0))

    Instances are frozen. Build them with keyword arguments, or with `from_mapping` which turns
    validation failures into a `ParamsError` listing every bad field.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        for name, info in cls.model_fields.items():
            if info.annotation not in _ALLOWED_TYPES:
                raise SignalDefinitionError(
                    f"{cls.__name__}.{name}: parameter type must be int, Decimal, bool or str, "
                    f"got {info.annotation!r}"
                )
            if info.default is PydanticUndefined:
                raise SignalDefinitionError(f"{cls.__name__}.{name}: every parameter needs a default")

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_inexact(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, float):
            raise ValueError("floats are not accepted (inexact); write the number as a string or integer")
        annotation = cls.model_fields[info.field_name].annotation if info.field_name else None
        if isinstance(value, bool) and annotation is not bool:
            raise ValueError("expected a number, got a bool")
        return value

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], *, where: str | None = None) -> Self:
        """Validate `data` into parameters; raise `ParamsError` listing every problem.

        `where` names the owner in the message (e.g. the signal's config key).
        """
        try:
            return cls.model_validate(dict(data))
        except ValidationError as e:
            known = ", ".join(cls.model_fields) or "none"
            problems: list[str] = []
            for err in e.errors():
                loc = ".".join(str(p) for p in err["loc"]) or "(parameters)"
                if err["type"] == "extra_forbidden":
                    problems.append(f"{loc}: unknown parameter (known: {known})")
                else:
                    msg = str(err["msg"]).removeprefix("Value error, ")
                    problems.append(f"{loc}: {msg} (got {err['input']!r})")
            raise ParamsError(where or cls.__name__, problems) from None

    def canonical(self) -> dict[str, int | bool | str]:
        """The values as JSON-safe canonical scalars (Decimals as canonical strings)."""
        out: dict[str, int | bool | str] = {}
        for name in sorted(type(self).model_fields):
            value = getattr(self, name)
            out[name] = canonical_decimal(value) if isinstance(value, Decimal) else value
        return out

    def params_hash(self) -> str:
        """sha256 (hex) of the canonical JSON of the values; equal values give equal hashes."""
        text = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256(text.encode("ascii")).hexdigest()

    @classmethod
    def describe(cls) -> tuple[ParamInfo, ...]:
        """Every declared parameter with its type, default, bounds and doc, in declaration order."""
        out: list[ParamInfo] = []
        for name, info in cls.model_fields.items():
            bounds: dict[str, int | Decimal] = {}
            for meta in info.metadata:
                for bound in _BOUND_NAMES:
                    value = getattr(meta, bound, None)
                    if value is not None:
                        bounds[bound] = value
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            annotation = info.annotation
            out.append(
                ParamInfo(
                    name=name,
                    type=annotation.__name__ if isinstance(annotation, type) else str(annotation),
                    default=info.default,
                    bounds=bounds,
                    search=bool(extra.get("search", False)),
                    doc=info.description or "",
                )
            )
        return tuple(out)

    @classmethod
    def search_space(cls) -> dict[str, Mapping[str, int | Decimal]]:
        """The bounds of the parameters declared with `search=True`."""
        return {p.name: p.bounds for p in cls.describe() if p.search}
