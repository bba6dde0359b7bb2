"""Exact arithmetic helpers and decimal conversions: exact results, one rounding, no floats."""

from __future__ import annotations

from decimal import Context, Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategy.sdk import (
    canonical_decimal,
    curvature,
    diffs,
    growth,
    lamports,
    mean,
    parse_decimal,
    quantize,
    second_diff,
    slope,
    sol,
)


def test_second_diff_is_the_discrete_acceleration_of_ints_and_decimals() -> None:
    assert second_diff([0, 1, 4]) == 2
    assert second_diff([5, 0, 1, 4]) == 2
    assert second_diff([Decimal("0.1"), Decimal("0.3"), Decimal("0.6")]) == Decimal("0.1")
    with pytest.raises(ValueError, match="at least 3"):
        second_diff([1, 2])


def test_diffs_are_first_differences() -> None:
    assert diffs([1, 4, 9]) == (3, 5)
    assert diffs([]) == ()


def test_slope_of_a_line_is_exact() -> None:
    assert slope([1, 3, 5]) == Decimal(2)
    assert slope([Decimal("0.000000028"), Decimal("0.000000030")]) == Decimal("0.000000002")
    assert slope([10, 40], xs=[0, 3]) == Decimal(10)


def test_slope_and_curvature_refuse_too_few_distinct_positions() -> None:
    with pytest.raises(ValueError, match="2 distinct"):
        slope([1], xs=[0])
    with pytest.raises(ValueError, match="3 distinct"):
        curvature([1, 2, 3], xs=[0, 1, 1])


def test_curvature_of_three_equally_spaced_points_equals_the_second_difference() -> None:
    assert curvature([3, -1, 8]) == Decimal(second_diff([3, -1, 8]))


@given(
    a=st.integers(-(10**6), 10**6),
    b=st.integers(-(10**6), 10**6),
    c=st.integers(-(10**6), 10**6),
    xs=st.lists(st.integers(-50, 50), min_size=3, max_size=12, unique=True),
)
def test_curvature_and_slope_recover_an_exact_parabola(a: int, b: int, c: int, xs: list[int]) -> None:
    ys = [a * x * x + b * x + c for x in xs]
    assert curvature(ys, xs) == 2 * a
    if a == 0:
        assert slope(ys, xs) == b


def test_results_do_not_depend_on_the_callers_decimal_context() -> None:
    values = [Decimal(1), Decimal(2), Decimal(4), Decimal(7)]
    expected = (slope(values), curvature(values), mean(values), growth(3, 4))
    with localcontext(Context(prec=3)):
        assert (slope(values), curvature(values), mean(values), growth(3, 4)) == expected
    assert mean([1, 2]) == Decimal("1.5")
    assert growth(3, 4) == Decimal("0." + "3" * 34)  # 34 significant digits, rounded once


def test_growth_is_relative_change_and_none_from_zero() -> None:
    assert growth(10, 15) == Decimal("0.5")
    assert growth(-4, -2) == Decimal("0.5")
    assert growth(0, 5) is None


def test_helpers_refuse_floats() -> None:
    with pytest.raises(TypeError):
        slope([0.1, 0.2])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        lamports(0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        sol(1.5)  # type: ignore[arg-type]


def test_lamport_conversions_are_exact_and_refuse_sub_lamport_amounts() -> None:
    assert lamports(Decimal("0.1")) == 100_000_000
    assert lamports(2) == 2_000_000_000
    assert sol(1_500_000_000) == Decimal("1.5")
    with pytest.raises(ValueError, match="whole number of lamports"):
        lamports(Decimal("0.0000000001"))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("0.50"), "0.5"),
        (Decimal("5E-1"), "0.5"),
        (Decimal("5E+1"), "50"),
        (Decimal("-0.0"), "0"),
        (Decimal("0.000000027958993855"), "0.000000027958993855"),
        (12, "12"),
    ],
)
def test_canonical_decimal_renders_equal_values_identically(value: Decimal | int, text: str) -> None:
    assert canonical_decimal(value) == text


def test_parse_decimal_accepts_proto_strings_and_refuses_junk() -> None:
    assert parse_decimal("") == 0
    assert parse_decimal("0.000000027958993855") == Decimal("0.000000027958993855")
    with pytest.raises(ValueError, match="price"):
        parse_decimal("abc", field="price")
    with pytest.raises(ValueError, match="finite"):
        parse_decimal("NaN")


def test_quantize_rounds_half_even_to_places() -> None:
    assert quantize(Decimal("1.2345"), 3) == Decimal("1.234")
    assert quantize(Decimal("1.2355"), 3) == Decimal("1.236")
