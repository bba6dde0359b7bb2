"""The one decimal context of the SDK, and exact conversions between lamports, SOL and strings.

Every Decimal operation a signal performs runs under `DECIMAL_CONTEXT` (the runner enters it around
each hook call, and every helper enters it itself), so results never depend on the caller's
thread-local context. Money stays integral: lamports are `int`, SOL amounts are `Decimal`, and a
conversion that would lose a lamport raises instead of rounding.
"""

from __future__ import annotations

from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from fractions import Fraction
from typing import Final

__all__ = [
    "DECIMAL_CONTEXT",
    "LAMPORTS_PER_SOL",
    "canonical_decimal",
    "decimal_from_fraction",
    "is_int",
    "lamports",
    "parse_decimal",
    "quantize",
    "sol",
]

#: Precision 34 (IEEE decimal128), banker's rounding, and traps on invalid operations, division by
#: zero and overflow: a signal that divides by zero raises (and is isolated by the runner) instead
#: of silently producing Infinity.
DECIMAL_CONTEXT: Final = Context(
    prec=34,
    rounding=ROUND_HALF_EVEN,
    Emin=-999_999,
    Emax=999_999,
    capitals=1,
    clamp=0,
    flags=[],
    traps=[InvalidOperation, DivisionByZero, Overflow],
)

#: Lamports in one SOL.
LAMPORTS_PER_SOL: Final = 1_000_000_000


def is_int(value: object) -> bool:
    """True for a real `int` (not a `bool`, which Python counts as one)."""
    return isinstance(value, int) and not isinstance(value, bool)


def parse_decimal(text: str, *, field: str = "value") -> Decimal:
    """Parse an exact decimal string (as the proto and Postgres numeric write them).

    The empty string parses as zero (proto3 leaves unset strings empty). NaN, infinities and
    anything that is not a decimal number raise `ValueError` naming `field`.
    """
    if text == "":
        return Decimal(0)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{field}: not a decimal string: {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"{field}: not a finite decimal: {text!r}")
    return value


def canonical_decimal(value: Decimal | int) -> str:
    """Render a number as its canonical string: plain notation, no exponent, no trailing zeros.

    `Decimal("0.50")`, `Decimal("5E-1")` and `Decimal("0.5")` all render as `"0.5"`, integers as
    themselves, and negative zero as `"0"`. Used wherever numbers are hashed or compared as text.
    """
    if is_int(value):
        return str(value)
    if not isinstance(value, Decimal):
        raise TypeError(f"canonical_decimal: expected Decimal or int, got {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"canonical_decimal: not finite: {value!r}")
    if value.is_zero():
        return "0"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def decimal_from_fraction(value: Fraction) -> Decimal:
    """Round an exact fraction to a Decimal, once, under `DECIMAL_CONTEXT`."""
    return DECIMAL_CONTEXT.divide(Decimal(value.numerator), Decimal(value.denominator))


def quantize(value: Decimal, places: int) -> Decimal:
    """Round `value` to `places` decimal places (half-even), e.g. for readable evidence."""
    if places < 0:
        raise ValueError("quantize: places must be >= 0")
    with localcontext(DECIMAL_CONTEXT) as ctx:
        ctx.prec = max(ctx.prec, value.adjusted() + places + 2)
        return value.quantize(Decimal(1).scaleb(-places))


def sol(lamport_amount: int) -> Decimal:
    """Convert lamports to SOL, exactly (`sol(1_500_000_000) == Decimal("1.5")`)."""
    if not is_int(lamport_amount):
        raise TypeError(f"sol: expected int lamports, got {type(lamport_amount).__name__}")
    return Decimal(lamport_amount).scaleb(-9, DECIMAL_CONTEXT)


def lamports(sol_amount: Decimal | int) -> int:
    """Convert a SOL amount to lamports, exactly; raise `ValueError` below one lamport of precision.

    `lamports(Decimal("0.1")) == 100_000_000`; `lamports(Decimal("0.0000000001"))` raises.
    Floats are refused (`TypeError`): they cannot express most SOL amounts exactly.
    """
    if not (is_int(sol_amount) or isinstance(sol_amount, Decimal)):
        raise TypeError(f"lamports: expected Decimal or int SOL, got {type(sol_amount).__name__}")
    scaled = Fraction(sol_amount) * LAMPORTS_PER_SOL
    if scaled.denominator != 1:
        raise ValueError(f"lamports: {sol_amount} SOL is not a whole number of lamports")
    return int(scaled)
