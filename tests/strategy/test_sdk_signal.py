"""The Signal base class: declaration rules checked at class creation, frozen instances, and the
intent builders' validation (closed reason codes, exact sizes, bounded evidence)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from strategy.sdk import (
    Ctx,
    Emit,
    FeatureBucket,
    IntentError,
    Params,
    Side,
    Signal,
    SignalDefinitionError,
    TradeIntent,
    Venue,
    param,
)
from strategy.sdk.testing import make_buckets_from_inflows, mint_address, run_signal


class NoParams(Params):
    pass


class SizeParams(Params):
    size_sol: Decimal = param(Decimal("0.1"), gt=Decimal(0))


def define(body: str, **names: Any) -> type:
    """Create a Signal subclass from source (so class-creation errors can be asserted)."""
    scope: dict[str, Any] = {"Signal": Signal, "NoParams": NoParams, "dataclass": dataclass, **names}
    exec(
        f"class Demo(Signal[NoParams]):\n    id = 'demo'\n    version = 1\n    reasons = ('GO',)\n{body}",
        scope,
    )
    return scope["Demo"]  # type: ignore[no-any-return]


def test_a_minimal_signal_declares_id_version_reasons_and_params() -> None:
    cls = define("    pass\n")
    sig = cls()
    assert (sig.id, sig.version, sig.reasons) == ("demo", 1, ("GO",))
    assert sig.hooks() == frozenset()
    assert len(sig.params_hash) == 64


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("    async def on_bucket(self, b, ctx):\n        return None\n", "async methods are not allowed"),
        ("    async def helper(self):\n        return None\n", "async methods are not allowed"),
        ("    def on_buckets(self, b, ctx):\n        return None\n", "unknown hook"),
        ("    def on_trade(self, t, ctx):\n        yield None\n", "must return intents, not yield"),
        ("    seen = []\n", "mutable class attribute"),
        ("    def __init__(self):\n        pass\n", "do not override __init__"),
        ("    State = dict\n", "State must be a dataclass"),
        ("    warmup_buckets = 90\n", "history_buckets must be >= 1 and >= warmup_buckets"),
    ],
)
def test_declaration_errors_are_raised_when_the_class_is_created(body: str, message: str) -> None:
    with pytest.raises(SignalDefinitionError, match=message):
        define(body)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (
            "class D(Signal[NoParams]):\n    id = 'Bad-Id'\n    version = 1\n    reasons = ('GO',)\n",
            "id must match",
        ),
        (
            "class D(Signal[NoParams]):\n    id = 'd'\n    version = 1\n    reasons = ('GO',)\n",
            "id must match",
        ),
        (
            "class D(Signal[NoParams]):\n    id = 'dd'\n    version = 0\n    reasons = ('GO',)\n",
            "version must be",
        ),
        ("class D(Signal[NoParams]):\n    id = 'dd'\n    version = 1\n    reasons = ()\n", "non-empty tuple"),
        ("class D(Signal[NoParams]):\n    id = 'dd'\n    version = 1\n    reasons = ('go',)\n", "must match"),
        (
            "class D(Signal[NoParams]):\n    id = 'dd'\n    version = 1\n    reasons = ('GO', 'GO')\n",
            "duplicates",
        ),
        (
            "class D(Signal):\n    id = 'dd'\n    version = 1\n    reasons = ('GO',)\n",
            "declare the parameters",
        ),
    ],
)
def test_identity_declarations_are_validated(header: str, message: str) -> None:
    with pytest.raises(SignalDefinitionError, match=message):
        exec(header, {"Signal": Signal, "NoParams": NoParams})


def test_state_needs_defaults_for_every_field() -> None:
    @dataclass
    class NeedsValue:
        count: int

    with pytest.raises(SignalDefinitionError, match="every field needs a default"):
        define("    State = NeedsValue\n", NeedsValue=NeedsValue)


def test_instances_are_frozen_after_construction() -> None:
    sig = define("    pass\n")()
    with pytest.raises(AttributeError, match="frozen"):
        sig.cache = {}
    with pytest.raises(AttributeError, match="frozen"):
        del sig.params


def test_params_must_be_of_the_declared_type() -> None:
    cls = define("    pass\n")
    with pytest.raises(TypeError, match="takes NoParams"):
        cls(SizeParams())


class Builder(Signal[SizeParams]):
    """Builds whatever intent the test puts in `plan` (a class-level tuple of kwargs)."""

    id = "builder"
    version = 2
    reasons = ("GO", "ALSO")
    plan: tuple[tuple[str, Any], ...] = ()

    def on_bucket(self, bucket: FeatureBucket, ctx: Ctx[SizeParams]) -> Emit:
        return ctx.buy(bucket.mint, **dict(self.plan))


def build(**kwargs: Any) -> TradeIntent:
    cls = type("B", (Builder,), {"plan": tuple(kwargs.items())})
    result = run_signal(cls, None, make_buckets_from_inflows("MINT", ["1"]))
    if result.faults:
        raise IntentError(result.faults[0].message)
    (intent,) = result.intents
    return intent


def test_buy_builds_a_complete_intent_with_defaults() -> None:
    intent = build(size_sol=Decimal("0.25"), reason="GO", evidence={"x": Decimal("1.50"), "n": 3, "tag": "a"})
    assert intent.side is Side.BUY
    assert intent.venue is Venue.PUMP_CURVE
    assert intent.size_lamports == 250_000_000
    assert (intent.max_slippage_bps, intent.ttl_ms) == (500, 15_000)
    assert intent.reasons == ("GO",)
    assert dict(intent.evidence) == {"n": "3", "tag": "a", "x": "1.5"}
    assert (intent.signal_id, intent.signal_version, intent.trigger) == ("builder", 2, "seq:1")
    assert intent.mint == mint_address("MINT")
    assert intent.intent_id.count("-") == 4


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size_sol": Decimal("0.1"), "reason": "NOPE"}, "not declared"),
        ({"size_sol": Decimal("0.1"), "reason": []}, "at least one reason"),
        ({"size_sol": Decimal("0.1"), "reason": ["GO", "GO"]}, "duplicate reason"),
        ({"reason": "GO"}, "exactly one of size_sol and size_lamports"),
        ({"size_sol": Decimal("0.1"), "size_lamports": 5, "reason": "GO"}, "exactly one"),
        ({"size_lamports": 0, "reason": "GO"}, "size must be positive"),
        ({"size_sol": Decimal("0.0000000001"), "reason": "GO"}, "whole number of lamports"),
        ({"size_sol": 0.1, "reason": "GO"}, "Decimal or int"),
        ({"size_sol": Decimal("0.1"), "reason": "GO", "evidence": {"x": 0.5}}, "floats are inexact"),
        ({"size_sol": Decimal("0.1"), "reason": "GO", "evidence": {"x": Decimal("1E-70")}}, "quantize"),
        (
            {"size_sol": Decimal("0.1"), "reason": "GO", "evidence": {str(i): i for i in range(33)}},
            "at most 32",
        ),
        ({"size_sol": Decimal("0.1"), "reason": "GO", "max_slippage_bps": 0}, "max_slippage_bps"),
        ({"size_sol": Decimal("0.1"), "reason": "GO", "ttl_ms": 0}, "ttl_ms"),
        ({"size_sol": Decimal("0.1"), "reason": "GO", "venue": Venue.UNSPECIFIED}, "needs a venue"),
    ],
)
def test_invalid_intents_are_refused_with_a_clear_message(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(IntentError, match=message):
        build(**kwargs)


def test_several_reasons_keep_their_order_primary_first() -> None:
    assert build(size_lamports=1, reason=["ALSO", "GO"]).reasons == ("ALSO", "GO")
