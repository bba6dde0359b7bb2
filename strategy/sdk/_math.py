"""Exact arithmetic helpers over integer and Decimal series.

Everything is computed with `fractions.Fraction` (exact) and rounded once, at the end, under
`DECIMAL_CONTEXT`. The result therefore depends only on the input values, never on summation
order, platform floats or the caller's decimal context. Least-squares fits use integer x
positions (minute indices), which keeps the normal equations exact.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import TypeVar

from strategy.sdk._decimal import decimal_from_fraction, is_int

__all__ = ["curvature", "diffs", "growth", "mean", "second_diff", "slope"]

N = TypeVar("N", int, Decimal)


def _xs(values: Sequence[int | Decimal], xs: Sequence[int] | None) -> list[int]:
    if xs is None:
        return list(range(len(values)))
    if len(xs) != len(values):
        raise ValueError(f"xs has {len(xs)} positions for {len(values)} values")
    for x in xs:
        if not is_int(x):
            raise TypeError("xs must be integers")
    return list(xs)


def _exact(values: Sequence[int | Decimal]) -> list[Fraction]:
    out: list[Fraction] = []
    for v in values:
        if not (is_int(v) or isinstance(v, Decimal)):
            raise TypeError(f"expected int or Decimal values, got {type(v).__name__}")
        out.append(Fraction(v))
    return out


def diffs(values: Sequence[N]) -> tuple[N, ...]:
    """First differences: `diffs([1, 4, 9]) == (3, 5)`."""
    return tuple(b - a for a, b in itertools.pairwise(values))


def second_diff(values: Sequence[N]) -> N:
    """The last second difference `v[-1] - 2*v[-2] + v[-3]`: discrete acceleration per step².

    Exact for ints and Decimals; raises `ValueError` with fewer than three values.
    `second_diff([0, 1, 4]) == 2`.
    """
    if len(values) < 3:
        raise ValueError("second_diff needs at least 3 values")
    return values[-1] - 2 * values[-2] + values[-3]


def mean(values: Sequence[int | Decimal]) -> Decimal:
    """Arithmetic mean, rounded once; raises `ValueError` on an empty series."""
    if not values:
        raise ValueError("mean of an empty series")
    return decimal_from_fraction(sum(_exact(values), Fraction(0)) / len(values))


def slope(values: Sequence[int | Decimal], xs: Sequence[int] | None = None) -> Decimal:
    """Least-squares slope of `values` against `xs` (default `0..n-1`), in value units per x.

    Needs at least two distinct x positions. `slope([1, 3, 5]) == Decimal(2)`.
    """
    ys = _exact(values)
    px = _xs(values, xs)
    n = len(ys)
    if n < 2 or len(set(px)) < 2:
        raise ValueError("slope needs at least 2 distinct x positions")
    sx = sum(px)
    sxx = sum(x * x for x in px)
    sy = sum(ys, Fraction(0))
    sxy = sum((x * y for x, y in zip(px, ys, strict=True)), Fraction(0))
    return decimal_from_fraction((n * sxy - sx * sy) / (n * sxx - sx * sx))


def curvature(values: Sequence[int | Decimal], xs: Sequence[int] | None = None) -> Decimal:
    """Second derivative (`2a`) of the least-squares parabola `a·x² + b·x + c` through the points.

    Positive means accelerating upward. For three equally spaced points it equals
    `second_diff(values)`. Needs at least three distinct x positions.
    `curvature([0, 1, 4, 9]) == Decimal(2)`.
    """
    ys = _exact(values)
    px = _xs(values, xs)
    if len(set(px)) < 3:
        raise ValueError("curvature needs at least 3 distinct x positions")
    s0 = len(px)
    s1 = sum(px)
    s2 = sum(x**2 for x in px)
    s3 = sum(x**3 for x in px)
    s4 = sum(x**4 for x in px)
    t0 = sum(ys, Fraction(0))
    t1 = sum((x * y for x, y in zip(px, ys, strict=True)), Fraction(0))
    t2 = sum((x * x * y for x, y in zip(px, ys, strict=True)), Fraction(0))
    # Cramer's rule on the normal equations, solving for `a` only.
    det = s4 * (s2 * s0 - s1 * s1) - s3 * (s3 * s0 - s1 * s2) + s2 * (s3 * s1 - s2 * s2)
    det_a = t2 * (s2 * s0 - s1 * s1) - s3 * (t1 * s0 - s1 * t0) + s2 * (t1 * s1 - s2 * t0)
    return decimal_from_fraction(2 * det_a / det)


def growth(old: int | Decimal, new: int | Decimal) -> Decimal | None:
    """Relative change `(new - old) / |old|`; `None` when `old` is zero (growth from nothing).

    `growth(10, 15) == Decimal("0.5")`, `growth(-4, -2) == Decimal("0.5")`.
    """
    a, b = _exact([old, new])
    if a == 0:
        return None
    return decimal_from_fraction((b - a) / abs(a))
