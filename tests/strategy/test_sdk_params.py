"""Declared parameters: validated, frozen, unknown keys and inexact values refused, hashed canonically."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from strategy.sdk import Params, ParamsError, SignalDefinitionError, param
from strategy.signals import BUILTINS


class ExampleParams(Params):
    lookback: int = param(5, ge=3, le=30, search=True, doc="minutes")
    min_accel_sol: Decimal = param(Decimal("0.50"), ge=Decimal(0), search=True)
    label: str = param("x")
    strict: bool = param(False)


def test_defaults_apply_and_values_are_frozen() -> None:
    p = ExampleParams()
    assert (p.lookback, p.min_accel_sol, p.label, p.strict) == (5, Decimal("0.50"), "x", False)
    with pytest.raises(ValidationError):
        p.lookback = 7  # type: ignore[misc]


def test_strings_from_env_or_files_are_parsed_exactly() -> None:
    p = ExampleParams.from_mapping({"lookback": "7", "min_accel_sol": "0.125", "strict": "true"})
    assert (p.lookback, p.min_accel_sol, p.strict) == (7, Decimal("0.125"), True)


def test_from_mapping_lists_every_problem_unknown_keys_bounds_floats_and_bools() -> None:
    with pytest.raises(ParamsError) as caught:
        ExampleParams.from_mapping(
            {"lookback": 31, "min_accel_sol": 0.5, "loockback": 4, "label": True}, where="signals.demo"
        )
    message = str(caught.value)
    assert message.startswith("invalid parameters for signals.demo:")
    assert "lookback: Input should be less than or equal to 30 (got 31)" in message
    assert "min_accel_sol: floats are not accepted" in message
    assert "loockback: unknown parameter (known: lookback, min_accel_sol, label, strict)" in message
    assert len(caught.value.problems) == 4


def test_bools_are_not_numbers() -> None:
    with pytest.raises(ParamsError, match="expected a number, got a bool"):
        ExampleParams.from_mapping({"lookback": True})


def test_non_finite_decimals_are_refused() -> None:
    with pytest.raises(ParamsError, match="finite"):
        ExampleParams.from_mapping({"min_accel_sol": "NaN"})


def test_params_hash_is_canonical_equal_values_hash_equal() -> None:
    assert ExampleParams(min_accel_sol=Decimal("0.5")).params_hash() == ExampleParams().params_hash()
    assert ExampleParams(lookback=6).params_hash() != ExampleParams().params_hash()
    assert ExampleParams().canonical() == {
        "label": "x",
        "lookback": 5,
        "min_accel_sol": "0.5",
        "strict": False,
    }


def test_describe_and_search_space_expose_declarations() -> None:
    info = {p.name: p for p in ExampleParams.describe()}
    assert info["lookback"].bounds == {"ge": 3, "le": 30}
    assert info["lookback"].doc == "minutes"
    assert set(ExampleParams.search_space()) == {"lookback", "min_accel_sol"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("x: float = param(Decimal('1'))", "must be int, Decimal, bool or str"),
        ("x: list[int] = param(1)", "must be int, Decimal, bool or str"),
        ("x: int", "needs a default"),
    ],
)
def test_params_declaration_errors_are_raised_at_class_creation(body: str, message: str) -> None:
    source = f"class Bad(Params):\n    {body}\n"
    with pytest.raises(SignalDefinitionError, match=message):
        exec(source, {"Params": Params, "param": param, "Decimal": Decimal})


def test_float_defaults_and_bounds_are_refused_by_param() -> None:
    with pytest.raises(SignalDefinitionError, match="float defaults"):
        param(0.5)  # type: ignore[arg-type]
    with pytest.raises(SignalDefinitionError, match="float bound"):
        param(Decimal(1), ge=0.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("signal_id", sorted(BUILTINS))
def test_every_builtin_parameter_is_documented_and_bounded_sensibly(signal_id: str) -> None:
    for p in BUILTINS[signal_id].params_type().describe():
        assert p.doc, f"{signal_id}.{p.name} has no doc"
    BUILTINS[signal_id]()  # defaults validate


def test_cross_field_rules_name_the_fields() -> None:
    with pytest.raises(ParamsError, match=r"min_points \(4\) must not exceed window \(3\)"):
        BUILTINS["price_trend"].from_mapping({"window": 3, "min_points": 4})
    with pytest.raises(ParamsError, match="block_severity must be one of"):
        BUILTINS["flow_composite"].from_mapping({"block_severity": "SEVERE"})
