"""executor.curve against chain vectors (pump-protocol.md §7) and its invariants."""

from hypothesis import given
from hypothesis import strategies as st

from executor import curve as C


def test_buy_exact_sol_in_matches_a_2026_chain_vector():
    # 2RoRJx…SN5M: create_v2 + buy_exact_sol_in of 3 SOL at 95 + 30 (cashback) bps
    trade = C.buy_exact_sol_in(C.CurveState(), 3_000_000_000, C.CurveFees(95, 0, 30, 5000))
    assert trade.sol_amount == 2_962_962_962
    assert trade.token_amount == 96_449_438_144_093
    assert trade.fee == 28_148_149
    assert trade.cashback == 8_888_889
    assert trade.buyback_fee == 14_074_074
    assert trade.user_sol == 3_000_000_000


def test_fees_round_up_and_buyback_is_a_floor_share_of_the_protocol_fee():
    assert C.fee_of(2_962_962_962, 95) == 28_148_149
    trade = C.buy_exact_tokens(C.CurveState(), 1_000_000_000_000, C.CurveFees(95, 30, 0, 5000))
    assert trade.buyback_fee == trade.fee // 2


def test_buying_every_token_completes_and_migration_moves_the_rest():
    state = C.CurveState()
    trade = C.buy_exact_tokens(state, 10**18, C.CurveFees())
    assert trade.token_amount == C.INITIAL_REAL_TOKEN_RESERVES
    assert trade.after.complete
    mig = C.migration_of(trade.after)
    assert mig.mint_amount == 206_900_000_000_000
    assert mig.sol_amount == trade.after.real_sol_reserves - C.POOL_MIGRATION_FEE


@given(st.lists(st.tuples(st.booleans(), st.integers(1, 50_000_000_000_000)), max_size=40))
def test_curve_invariants_hold_over_any_trade_sequence(steps):
    state = C.CurveState()
    fees = C.CurveFees()
    for is_buy, amount in steps:
        if state.complete:
            break
        try:
            trade = (
                C.buy_exact_tokens(state, amount, fees)
                if is_buy
                else C.sell_exact_tokens(state, amount, fees)
            )
        except C.CurveError:
            continue
        state = trade.after
        assert state.virtual_sol_reserves - state.real_sol_reserves == C.INITIAL_VIRTUAL_SOL_RESERVES
        assert state.virtual_token_reserves - state.real_token_reserves == 279_900_000_000_000
        assert state.real_sol_reserves >= 0


def test_amm_buy_and_sell_match_the_documented_rounding():
    fees = C.AmmFees(20, 5, 5)
    buy = C.amm_buy_exact_base(1_000_000, 5_000, 1_000, fees)
    assert buy.quote_amount == -(-5_000 * 1_000 // 999_000)
    assert buy.user_quote == buy.quote_amount + buy.lp_fee + buy.protocol_fee + buy.creator_fee
    sell = C.amm_sell_exact_base(1_000_000, 5_000_000_000, 1_000, fees)
    assert sell.quote_amount == 5_000_000_000 * 1_000 // 1_001_000
    assert sell.quote_reserve_after == 5_000_000_000 - sell.quote_amount + sell.lp_fee


def test_fee_tiers_follow_pool_market_cap():
    assert C.amm_fees_for(0) == C.AmmFees(2, 93, 30)
    assert C.amm_fees_for(500 * C.LAMPORTS_PER_SOL) == C.AmmFees(20, 5, 95)
