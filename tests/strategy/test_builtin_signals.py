"""Built-in signals as specifications: each fires on the pattern it names, once per onset, never
during warm-up, and the composite never buys into an active high-severity risk flag."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from strategy.sdk import Severity, StreamEvent
from strategy.sdk.testing import StreamBuilder, make_bucket, make_buckets_from_inflows, run_signal
from strategy.signals import BuyerGrowth, FlowComposite, InflowAcceleration, PriceTrend

QUIET = ["0.1"] * 5


def rising_prices(n: int, *, start: str = "0.000000030", step_pct: int = 5) -> list[Decimal]:
    prices, p = [], Decimal(start)
    for i in range(n):
        prices.append(p)
        p = (p * (100 + step_pct + i) / 100).quantize(Decimal("1E-18"))
    return prices


def triggers(
    events: Sequence[StreamEvent], signal: type, params: dict[str, object] | None = None
) -> list[str]:
    result = run_signal(signal, params, events)
    assert result.faults == ()
    return [i.trigger for i in result.intents]


# --- inflow_accel -----------------------------------------------------------------------------------


def test_inflow_accel_fires_once_when_net_inflow_starts_accelerating() -> None:
    events = make_buckets_from_inflows("M", [*QUIET, "1", "3", "6"])
    result = run_signal(InflowAcceleration, None, events)
    (intent,) = result.intents
    assert intent.trigger == "seq:6"  # second difference 1 - 0.2 + 0.1 = 0.9 SOL/min²
    assert intent.reasons == ("INFLOW_ACCEL_UP",)
    assert dict(intent.evidence) == {"accel_sol_per_min2": "0.9", "net_inflow_sol": "1", "window_min": "3"}
    assert intent.size_lamports == 50_000_000


def test_inflow_accel_stays_silent_on_steady_or_decelerating_flow() -> None:
    assert triggers(make_buckets_from_inflows("M", ["2"] * 8), InflowAcceleration) == []
    # 6, 3, 1 has a positive second difference at the end (the decline flattens) but is not rising.
    assert triggers(make_buckets_from_inflows("M", [*QUIET, "6", "3", "1"]), InflowAcceleration) == ["seq:6"]
    assert triggers(make_buckets_from_inflows("M", [*QUIET, "-1", "-3", "-6"]), InflowAcceleration) == []


def test_inflow_accel_respects_its_threshold_parameter() -> None:
    events = make_buckets_from_inflows("M", [*QUIET, "1", "3", "6"])
    assert triggers(events, InflowAcceleration, {"min_accel_sol": "1"}) == ["seq:7"]
    assert triggers(events, InflowAcceleration, {"min_accel_sol": "5"}) == []


def test_inflow_accel_does_not_fire_before_its_warmup() -> None:
    # The surge starts in the mint's third minute: window 3 needs 4 minutes of history.
    assert triggers(make_buckets_from_inflows("M", ["0.1", "1", "4", "9", "9"]), InflowAcceleration) == []


# --- buyer_growth -----------------------------------------------------------------------------------


def test_buyer_growth_fires_when_unique_buyers_surge_against_the_previous_window() -> None:
    events = make_buckets_from_inflows("M", ["0.1"] * 8, buyers=[3, 3, 3, 3, 3, 6, 9, 12])
    result = run_signal(BuyerGrowth, None, events)
    (intent,) = result.intents
    assert intent.trigger == "seq:6"  # recent 3+6=9 vs prior 3+3=6: +50%
    assert dict(intent.evidence) == {"buyer_growth": "0.5", "prior_buyers": "6", "recent_buyers": "9"}


def test_buyer_growth_needs_enough_buyers_and_counts_growth_from_none() -> None:
    few = make_buckets_from_inflows("M", ["0.1"] * 8, buyers=[1, 1, 1, 1, 1, 2, 2, 2])
    assert triggers(few, BuyerGrowth) == []
    from_none = make_buckets_from_inflows("M", ["0"] * 8, buyers=[2, 0, 0, 0, 0, 5, 5, 5])
    assert triggers(from_none, BuyerGrowth) == ["seq:6"]


# --- price_trend ------------------------------------------------------------------------------------


def test_price_trend_fires_on_an_accelerating_uptrend_with_both_reasons() -> None:
    prices = [Decimal("0.000000030")] * 6 + rising_prices(4, start="0.000000031")
    events = make_buckets_from_inflows("M", ["0.1"] * 10, prices=prices)
    result = run_signal(PriceTrend, None, events)
    assert [i.trigger for i in result.intents] == ["seq:8"]
    assert result.intents[0].reasons == ("PRICE_UPTREND", "PRICE_ACCELERATING")
    assert Decimal(result.intents[0].evidence["slope_pct_per_min"]) >= 1


def test_price_trend_ignores_falling_or_flat_prices() -> None:
    falling = list(reversed(rising_prices(10)))
    assert triggers(make_buckets_from_inflows("M", ["0"] * 10, prices=falling), PriceTrend) == []
    flat = [Decimal("0.00000003")] * 10
    assert triggers(make_buckets_from_inflows("M", ["0"] * 10, prices=flat), PriceTrend) == []


def test_price_trend_fits_over_minutes_so_missing_minutes_keep_their_distance() -> None:
    s = StreamBuilder()
    for minute in range(5):
        s.bucket("M", minute, price_close="0.00000003")
    for minute, price in ((5, "0.000000031"), (7, "0.000000034"), (8, "0.000000040")):
        s.bucket("M", minute, price_close=price)
    assert [i.as_of for i in run_signal(PriceTrend, None, s.events).intents] == [s.events[-2].as_of]


# --- flow_composite ---------------------------------------------------------------------------------


def composite_stream(
    flag: Severity | None = None, *, clear: bool = False, price_rises: bool = False
) -> list[StreamEvent]:
    """Quiet minutes, then inflow and buyers surge from minute 5 (and the price, if asked); optionally
    a risk flag on the mint from minute 3 (and cleared again just before the surge)."""
    s = StreamBuilder()
    s.launch("M")
    flat = [Decimal("0.00000003")] * 9
    prices = [*flat[:5], *rising_prices(4, start="0.000000032")] if price_rises else flat
    inflows = [*QUIET, "1", "3", "6", "10"]
    buyers = [3, 3, 3, 3, 3, 8, 12, 20, 30]
    for minute in range(9):
        if minute == 3 and flag is not None:
            s.risk_flag("M", "CREATOR_DUMP", flag, at=60 * minute + 30)
        if minute == 4 and clear:
            s.risk_flag("M", "CREATOR_DUMP", Severity.HIGH, active=False, at=60 * minute + 30)
        s.bucket(
            "M",
            minute,
            net_inflow_sol=inflows[minute],
            uniq_buyers=buyers[minute],
            price_close=prices[minute],
        )
    return s.events


def test_composite_buys_when_two_components_agree_and_lists_them_as_reasons() -> None:
    result = run_signal(FlowComposite, None, composite_stream())
    (intent,) = result.intents
    assert intent.reasons == ("COMPOSITE_BUY", "INFLOW_ACCEL_UP", "BUYER_SURGE")
    assert intent.evidence["confirmations"] == "2"
    assert intent.size_lamports == 100_000_000


def test_composite_never_buys_a_mint_with_an_active_high_severity_flag() -> None:
    result = run_signal(FlowComposite, None, composite_stream(Severity.HIGH))
    assert result.intents == ()
    ((_, note),) = result.notes
    assert note.message == "buy blocked by risk flag"
    assert note.fields["flags"] == "CREATOR_DUMP"


def test_composite_ignores_lower_severities_and_cleared_flags_by_default() -> None:
    assert len(run_signal(FlowComposite, None, composite_stream(Severity.MEDIUM)).intents) == 1
    assert len(run_signal(FlowComposite, None, composite_stream(Severity.HIGH, clear=True)).intents) == 1
    assert (
        run_signal(FlowComposite, {"block_severity": "MEDIUM"}, composite_stream(Severity.MEDIUM)).intents
        == ()
    )


def test_composite_requires_all_three_when_asked() -> None:
    assert run_signal(FlowComposite, {"min_confirmations": 3}, composite_stream()).intents == ()
    (intent,) = run_signal(
        FlowComposite, {"min_confirmations": 3}, composite_stream(price_rises=True)
    ).intents
    assert intent.reasons == ("COMPOSITE_BUY", "INFLOW_ACCEL_UP", "BUYER_SURGE", "PRICE_UPTREND")
    assert intent.evidence["confirmations"] == "3"


def test_composite_does_not_buy_a_mint_whose_launch_it_has_not_seen() -> None:
    # Without the launch the run cannot know whether a risk flag was raised before it started.
    unseen = [e for e in composite_stream() if e.kind != "token_launched"]
    assert run_signal(FlowComposite, None, unseen).intents == ()
    assert len(run_signal(FlowComposite, {"require_launch": False}, unseen).intents) == 1


def test_composite_does_not_buy_on_a_completed_curve() -> None:
    s = StreamBuilder()
    s.curve("M", complete=True)
    for e in composite_stream():
        s.add(e)
    assert run_signal(FlowComposite, None, s.events).intents == ()


# --- shared behaviour -------------------------------------------------------------------------------


def test_revisions_update_history_but_do_not_retrigger() -> None:
    events = make_buckets_from_inflows("M", [*QUIET, "1", "3"])
    revision = make_bucket("M", events[-1].minute_start, seq=8, net_inflow_sol="9", bucket_version=2)
    assert triggers([*events, revision], InflowAcceleration) == ["seq:6"]


def test_each_mint_is_judged_on_its_own_history() -> None:
    s = StreamBuilder()
    inflows = [*QUIET, "1", "3", "6"]
    for minute, inflow in enumerate(inflows):
        s.bucket("HOT", minute, net_inflow_sol=inflow)
        s.bucket("COLD", minute, net_inflow_sol="0.1")
    result = run_signal(InflowAcceleration, None, s.events)
    assert [i.mint for i in result.intents] == [s.events[10].mint]
