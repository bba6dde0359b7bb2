"""pump.fun bonding-curve and PumpSwap constant-product math, with the programs' rounding and fees.

Pure integer arithmetic (lamports, raw token units); no I/O. Shared by the simulator (to
generate trades) and the executor (to price curves and pools). Formulas and their verification
status: shared/docs/pump-protocol.md §7 (math) and §8 (fees).

Bonding curve, on virtual reserves `vs` (SOL) and `vt` (tokens) before the trade:
    buy  exact tokens t:  sol = floor(t * vs / (vt - t)) + 1        (cost rounds up)
    sell exact tokens t:  sol = floor(t * vs / (vt + t))            (proceeds round down)
    each fee = ceil(sol * bps / 10_000), computed on the pre-fee `sol` separately per fee.
PumpSwap, on pool reserves B (base) and Q (quote) before the trade:
    buy  exact base b:    quote = ceil(Q * b / (B - b))
    sell exact base b:    quote = floor(Q * b / (B + b))
    lp / protocol / creator fee = ceil(quote * bps / 10_000) each.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from math import isqrt

BPS = 10_000
LAMPORTS_PER_SOL = 1_000_000_000
TOKEN_DECIMALS = 6

INITIAL_VIRTUAL_TOKEN_RESERVES = 1_073_000_000_000_000
INITIAL_VIRTUAL_SOL_RESERVES = 30_000_000_000
INITIAL_REAL_TOKEN_RESERVES = 793_100_000_000_000
TOKEN_TOTAL_SUPPLY = 1_000_000_000_000_000
POOL_MIGRATION_FEE = 15_000_001
AMM_MINIMUM_LIQUIDITY = 100


class CurveError(ValueError):
    """A trade the program would reject (complete curve, empty reserves, slippage)."""


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def fee_of(amount: int, bps: int) -> int:
    """One fee: ceil(amount * bps / 10_000)."""
    return ceil_div(amount * bps, BPS)


@dataclass(frozen=True, slots=True)
class CurveFees:
    """Bonding-curve fee rates. `buyback_bps` is a share of the protocol fee (5000 = half of it),
    not an extra charge; `cashback_bps` replaces the creator fee on cashback coins."""

    protocol_bps: int = 95
    creator_bps: int = 30
    cashback_bps: int = 0
    buyback_bps: int = 0

    @property
    def total_bps(self) -> int:
        return self.protocol_bps + self.creator_bps + self.cashback_bps


@dataclass(frozen=True, slots=True)
class CurveState:
    virtual_token_reserves: int = INITIAL_VIRTUAL_TOKEN_RESERVES
    virtual_sol_reserves: int = INITIAL_VIRTUAL_SOL_RESERVES
    real_token_reserves: int = INITIAL_REAL_TOKEN_RESERVES
    real_sol_reserves: int = 0
    token_total_supply: int = TOKEN_TOTAL_SUPPLY
    complete: bool = False

    def market_cap_lamports(self) -> int:
        """vs * supply / vt (floor), the figure pump's fee tiers use."""
        if self.virtual_token_reserves == 0:
            return 0
        return self.virtual_sol_reserves * self.token_total_supply // self.virtual_token_reserves

    def progress_bps(self) -> int:
        """Bonding progress in basis points: 1 - real_token / initial real_token."""
        return BPS - self.real_token_reserves * BPS // INITIAL_REAL_TOKEN_RESERVES


@dataclass(frozen=True, slots=True)
class CurveTrade:
    """One curve trade: `sol_amount` excludes fees (as TradeEvent.sol_amount); `after` is the
    state the event reports. `user_sol` is what the buyer pays in total / the seller receives."""

    is_buy: bool
    sol_amount: int
    token_amount: int
    fee: int
    creator_fee: int
    cashback: int
    buyback_fee: int
    user_sol: int
    after: CurveState

    @property
    def completes(self) -> bool:
        return self.is_buy and self.after.complete


def _fees(sol: int, fees: CurveFees) -> tuple[int, int, int, int]:
    protocol = fee_of(sol, fees.protocol_bps)
    creator = fee_of(sol, fees.creator_bps)
    cashback = fee_of(sol, fees.cashback_bps)
    buyback = protocol * fees.buyback_bps // BPS  # a floor share of the protocol fee (chain vectors)
    return protocol, creator, cashback, buyback


def _check_open(state: CurveState) -> None:
    if state.complete:
        raise CurveError("BondingCurveComplete")
    if state.virtual_token_reserves == 0:
        raise CurveError("bonding curve migrated (reserves are zero)")


def buy_cost(state: CurveState, tokens: int) -> int:
    """Lamports into the curve (before fees) for exactly `tokens` out."""
    vs, vt = state.virtual_sol_reserves, state.virtual_token_reserves
    return tokens * vs // (vt - tokens) + 1


def sell_proceeds(state: CurveState, tokens: int) -> int:
    """Lamports out of the curve (before fees) for exactly `tokens` in."""
    vs, vt = state.virtual_sol_reserves, state.virtual_token_reserves
    return tokens * vs // (vt + tokens)


def buy_exact_tokens(state: CurveState, tokens: int, fees: CurveFees) -> CurveTrade:
    """`buy`: exact tokens out; a request above the real reserves is clipped to them."""
    _check_open(state)
    tokens = min(tokens, state.real_token_reserves)
    if tokens <= 0:
        raise CurveError("buy of zero tokens")
    sol = buy_cost(state, tokens)
    return _apply_buy(state, sol, tokens, fees)


def buy_exact_sol_in(state: CurveState, spendable: int, fees: CurveFees) -> CurveTrade:
    """`buy_exact_sol_in`: a budget B including fees. Net input s = floor(B * 10000 / (10000 + fee bps))
    (stepped down while s + fees > B); tokens = floor((s - 1) * vt / (vs + s - 1)), so that the
    exact-out cost of those tokens never exceeds s; the curve takes s (verified on a 2026 chain
    vector: sol 2,962,962,962 -> 96,449,438,144,093 tokens). Clipped at the real reserves (then
    the cost is re-priced with the exact-out formula)."""
    _check_open(state)
    s = spendable * BPS // (BPS + fees.total_bps)
    while s > 0 and s + sum(_fees(s, fees)[:3]) > spendable:
        s -= 1
    vs, vt = state.virtual_sol_reserves, state.virtual_token_reserves
    tokens = (s - 1) * vt // (vs + s - 1) if s > 1 else 0
    if tokens <= 0:
        raise CurveError("budget buys zero tokens")
    if tokens > state.real_token_reserves:
        tokens = state.real_token_reserves
        s = buy_cost(state, tokens)
    return _apply_buy(state, s, tokens, fees)


def _apply_buy(state: CurveState, sol: int, tokens: int, fees: CurveFees) -> CurveTrade:
    protocol, creator, cashback, buyback = _fees(sol, fees)
    real_tokens = state.real_token_reserves - tokens
    after = replace(
        state,
        virtual_token_reserves=state.virtual_token_reserves - tokens,
        virtual_sol_reserves=state.virtual_sol_reserves + sol,
        real_token_reserves=real_tokens,
        real_sol_reserves=state.real_sol_reserves + sol,
        complete=real_tokens == 0,
    )
    return CurveTrade(
        True, sol, tokens, protocol, creator, cashback, buyback, sol + protocol + creator + cashback, after
    )


def sell_exact_tokens(state: CurveState, tokens: int, fees: CurveFees) -> CurveTrade:
    """`sell`: exact tokens in, proceeds rounded down, fees taken from the proceeds."""
    _check_open(state)
    if tokens <= 0:
        raise CurveError("sell of zero tokens")
    sol = sell_proceeds(state, tokens)
    if sol > state.real_sol_reserves:
        raise CurveError("sell exceeds the curve's real SOL")
    protocol, creator, cashback, buyback = _fees(sol, fees)
    after = replace(
        state,
        virtual_token_reserves=state.virtual_token_reserves + tokens,
        virtual_sol_reserves=state.virtual_sol_reserves - sol,
        real_token_reserves=state.real_token_reserves + tokens,
        real_sol_reserves=state.real_sol_reserves - sol,
    )
    user = sol - protocol - creator - cashback
    return CurveTrade(False, sol, tokens, protocol, creator, cashback, buyback, user, after)


# --- migration ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Migration:
    """What `migrate` moves into the canonical PumpSwap pool."""

    mint_amount: int
    sol_amount: int
    pool_migration_fee: int
    initial_liquidity: int
    lp_token_amount_out: int


def migration_of(state: CurveState, pool_migration_fee: int = POOL_MIGRATION_FEE) -> Migration:
    """Tokens left in the curve (supply minus those sold) and its SOL minus the migration fee."""
    if not state.complete:
        raise CurveError("curve is not complete")
    sold = INITIAL_REAL_TOKEN_RESERVES - state.real_token_reserves
    mint_amount = state.token_total_supply - sold
    sol_amount = state.real_sol_reserves - pool_migration_fee
    liquidity = isqrt(mint_amount * sol_amount)
    return Migration(
        mint_amount, sol_amount, pool_migration_fee, liquidity, liquidity - AMM_MINIMUM_LIQUIDITY
    )


MIGRATED = CurveState(0, 0, 0, 0, TOKEN_TOTAL_SUPPLY, True)


# --- PumpSwap ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AmmFees:
    lp_bps: int
    protocol_bps: int
    creator_bps: int

    @property
    def total_bps(self) -> int:
        return self.lp_bps + self.protocol_bps + self.creator_bps


# Canonical-pool tiers from 2025-09-01: (market cap threshold in SOL, creator, protocol, lp) bps.
AMM_FEE_TIERS: tuple[tuple[int, AmmFees], ...] = (
    (0, AmmFees(2, 93, 30)),
    (420, AmmFees(20, 5, 95)),
    (1_470, AmmFees(20, 5, 90)),
    (2_460, AmmFees(20, 5, 85)),
    (3_440, AmmFees(20, 5, 80)),
    (4_420, AmmFees(20, 5, 75)),
    (9_820, AmmFees(20, 5, 70)),
    (14_740, AmmFees(20, 5, 65)),
    (19_650, AmmFees(20, 5, 60)),
    (24_560, AmmFees(20, 5, 55)),
    (29_470, AmmFees(20, 5, 50)),
    (34_380, AmmFees(20, 5, 45)),
    (39_300, AmmFees(20, 5, 40)),
    (44_210, AmmFees(20, 5, 35)),
    (49_120, AmmFees(20, 5, 30)),
    (54_030, AmmFees(20, 5, 275)),
)
NON_CANONICAL_FEES = AmmFees(20, 5, 0)


def amm_market_cap_lamports(
    base_reserve: int, quote_reserve: int, base_supply: int = TOKEN_TOTAL_SUPPLY
) -> int:
    return quote_reserve * base_supply // base_reserve if base_reserve else 0


def amm_fees_for(market_cap_lamports: int) -> AmmFees:
    """The tier whose threshold is the highest one <= market cap (first tier below all)."""
    chosen = AMM_FEE_TIERS[0][1]
    for threshold_sol, fees in AMM_FEE_TIERS:
        if market_cap_lamports >= threshold_sol * LAMPORTS_PER_SOL:
            chosen = fees
    return chosen


@dataclass(frozen=True, slots=True)
class AmmTrade:
    """A PumpSwap trade. `quote_amount` is the constant-product amount before fees;
    `user_quote` what the user paid (buy) or received (sell); reserves are before the trade."""

    is_buy: bool
    base_amount: int
    quote_amount: int
    lp_fee: int
    protocol_fee: int
    creator_fee: int
    user_quote: int
    base_reserve_before: int
    quote_reserve_before: int
    base_reserve_after: int
    quote_reserve_after: int

    @property
    def quote_with_lp(self) -> int:
        """quote_amount_in_with_lp_fee (buy) / quote_amount_out_without_lp_fee (sell)."""
        return self.quote_amount + self.lp_fee if self.is_buy else self.quote_amount - self.lp_fee


def amm_buy_exact_base(base_reserve: int, quote_reserve: int, base_out: int, fees: AmmFees) -> AmmTrade:
    if not 0 < base_out < base_reserve:
        raise CurveError("base out of range")
    quote = ceil_div(quote_reserve * base_out, base_reserve - base_out)
    lp, protocol, creator = (
        fee_of(quote, fees.lp_bps),
        fee_of(quote, fees.protocol_bps),
        fee_of(quote, fees.creator_bps),
    )
    return AmmTrade(
        True,
        base_out,
        quote,
        lp,
        protocol,
        creator,
        quote + lp + protocol + creator,
        base_reserve,
        quote_reserve,
        base_reserve - base_out,
        quote_reserve + quote + lp,
    )


def amm_buy_exact_quote_in(base_reserve: int, quote_reserve: int, spendable: int, fees: AmmFees) -> AmmTrade:
    """Largest exact-base buy whose total cost (incl. fees) fits the budget."""
    net = spendable * BPS // (BPS + fees.total_bps)
    base_out = base_reserve * net // (quote_reserve + net)
    while base_out > 0:
        trade = amm_buy_exact_base(base_reserve, quote_reserve, base_out, fees)
        if trade.user_quote <= spendable:
            return trade
        base_out -= max(1, base_out // 10_000)
    raise CurveError("budget buys zero base")


def amm_sell_exact_base(base_reserve: int, quote_reserve: int, base_in: int, fees: AmmFees) -> AmmTrade:
    if base_in <= 0:
        raise CurveError("sell of zero base")
    quote = quote_reserve * base_in // (base_reserve + base_in)
    lp, protocol, creator = (
        fee_of(quote, fees.lp_bps),
        fee_of(quote, fees.protocol_bps),
        fee_of(quote, fees.creator_bps),
    )
    user = quote - lp - protocol - creator
    if user < 0:
        raise CurveError("fees exceed proceeds")
    return AmmTrade(
        False,
        base_in,
        quote,
        lp,
        protocol,
        creator,
        user,
        base_reserve,
        quote_reserve,
        base_reserve + base_in,
        quote_reserve - quote + lp,
    )
