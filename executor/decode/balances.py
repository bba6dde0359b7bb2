"""The balance-delta view of a trade: what `pre/postBalances` and `pre/postTokenBalances` say a
pump or PumpSwap trade instruction moved. Used as a fallback when a trade instruction has no
decodable event, and as a cross-check of the events when both exist.

Deltas are per transaction, not per instruction, so an inference is only made when exactly one
trade instruction of the transaction touches that bonding curve or pool (and no migrate does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from executor.decode.idl import PUMP, PUMP_AMM
from executor.decode.model import DecodedInstruction

CURVE_TRADES = frozenset({"buy", "sell", "buy_exact_sol_in", "buy_v2", "sell_v2", "buy_exact_quote_in_v2"})
AMM_TRADES = frozenset({"buy", "sell", "buy_exact_quote_in"})
_CURVE_DRAINS = frozenset({"migrate", "migrate_v2", "withdraw"})
# v2 curve trades may be quoted in USDC or a coin: the curve's lamports say nothing about them
_SOL_QUOTED = frozenset({"buy", "sell", "buy_exact_sol_in"})


@dataclass(frozen=True, slots=True)
class TokenBalance:
    mint: str
    owner: str | None
    amount: int


@dataclass(frozen=True, slots=True)
class Balances:
    lamports_pre: dict[str, int]
    lamports_post: dict[str, int]
    tokens_pre: dict[str, TokenBalance]
    tokens_post: dict[str, TokenBalance]

    def token_delta(self, account: str | None, mint: str | None) -> int | None:
        """Post minus pre of one token account (a missing side counts as 0), None if unseen."""
        if account is None or mint is None:
            return None
        pre, post = self.tokens_pre.get(account), self.tokens_post.get(account)
        if pre is None and post is None:
            return None
        if (pre is not None and pre.mint != mint) or (post is not None and post.mint != mint):
            return None
        return (post.amount if post else 0) - (pre.amount if pre else 0)

    def owner_delta(self, owner: str | None, mint: str | None) -> int | None:
        if owner is None or mint is None:
            return None
        accounts = {
            account
            for table in (self.tokens_pre, self.tokens_post)
            for account, balance in table.items()
            if balance.owner == owner and balance.mint == mint
        }
        if not accounts:
            return None
        return sum(self.token_delta(account, mint) or 0 for account in accounts)

    def lamport_delta(self, account: str | None) -> int | None:
        if account is None or account not in self.lamports_pre or account not in self.lamports_post:
            return None
        return self.lamports_post[account] - self.lamports_pre[account]


def read_balances(meta: dict[str, Any], keys: tuple[str, ...]) -> Balances:
    def lamports(name: str) -> dict[str, int]:
        values = meta.get(name) or []
        return {keys[i]: int(v) for i, v in enumerate(values) if i < len(keys)}

    def tokens(name: str) -> dict[str, TokenBalance]:
        out: dict[str, TokenBalance] = {}
        for entry in meta.get(name) or []:
            index = entry.get("accountIndex")
            if not isinstance(index, int) or index >= len(keys):
                continue
            amount = (entry.get("uiTokenAmount") or {}).get("amount")
            if amount is None:
                continue
            out[keys[index]] = TokenBalance(str(entry.get("mint")), entry.get("owner"), int(amount))
        return out

    return Balances(
        lamports("preBalances"),
        lamports("postBalances"),
        tokens("preTokenBalances"),
        tokens("postTokenBalances"),
    )


@dataclass(frozen=True, slots=True)
class TradeDelta:
    """What the balances say: side, token (base) amount and, where it can be told, SOL amount."""

    is_buy: bool
    token_amount: int
    sol_amount: int | None = None
    quote_amount: int | None = None  # pool quote-vault change (AMM), fees kept in the pool included


def is_trade(ix: DecodedInstruction) -> bool:
    names = CURVE_TRADES if ix.program == PUMP else AMM_TRADES if ix.program == PUMP_AMM else frozenset()
    return ix.name in names and ix.error is None


def market_of(ix: DecodedInstruction) -> str | None:
    """The bonding curve or pool a pump/PumpSwap instruction works on."""
    return ix.account("bonding_curve") if ix.program == PUMP else ix.account("pool")


def trades_by_market(instructions: tuple[DecodedInstruction, ...]) -> dict[str, list[DecodedInstruction]]:
    """Trade instructions per curve or pool, leaving out markets a migration also touches."""
    trades: dict[str, list[DecodedInstruction]] = {}
    drained: set[str] = set()
    for ix in instructions:
        market = market_of(ix)
        if market is None:
            continue
        if is_trade(ix):
            trades.setdefault(market, []).append(ix)
        elif ix.program == PUMP and ix.name in _CURVE_DRAINS:
            drained.add(market)
    return {market: ixs for market, ixs in trades.items() if market not in drained}


def exclusive_markets(instructions: tuple[DecodedInstruction, ...]) -> frozenset[str]:
    """Curves and pools touched by exactly one trade instruction and no migration."""
    return frozenset(m for m, ixs in trades_by_market(instructions).items() if len(ixs) == 1)


@dataclass(frozen=True, slots=True)
class Flow:
    """Net movement of one curve or pool: base tokens out of its vault, quote into it (lamports
    for a SOL curve, quote tokens for a pool). None where it cannot be told."""

    tokens_out: int | None
    quote_in: int | None


def market_flow(ix: DecodedInstruction, balances: Balances) -> Flow:
    """What the balances say moved through the market `ix` trades on, over the whole transaction."""
    if ix.program == PUMP:
        vault = ix.account("associated_bonding_curve") or ix.account("associated_base_bonding_curve")
        delta = balances.token_delta(vault, ix.account("mint") or ix.account("base_mint"))
        curve = ix.account("bonding_curve")
        existed = (
            vault in balances.tokens_pre and curve is not None and balances.lamports_pre.get(curve, 0) > 0
        )
        sol = balances.lamport_delta(curve) if existed and ix.name in _SOL_QUOTED else None
        return Flow(None if delta is None or not existed else -delta, sol)
    base = balances.token_delta(ix.account("pool_base_token_account"), ix.account("base_mint"))
    quote = balances.token_delta(ix.account("pool_quote_token_account"), ix.account("quote_mint"))
    return Flow(None if base is None else -base, quote)


def curve_delta(ix: DecodedInstruction, balances: Balances) -> TradeDelta | None:
    mint = ix.account("mint") or ix.account("base_mint")
    curve = ix.account("bonding_curve")
    vault = ix.account("associated_bonding_curve") or ix.account("associated_base_bonding_curve")
    vault_created = vault is not None and vault not in balances.tokens_pre
    vault_delta = None if vault_created else balances.token_delta(vault, mint)
    if vault_delta is not None:
        user_gain = -vault_delta
    else:
        owner_delta = balances.owner_delta(ix.account("user"), mint)
        if owner_delta is None:
            return None
        user_gain = owner_delta
    if user_gain == 0:
        return None
    sol = balances.lamport_delta(curve)
    curve_existed = curve is not None and balances.lamports_pre.get(curve, 0) > 0
    sol_amount = abs(sol) if sol is not None and curve_existed and ix.name in _SOL_QUOTED else None
    return TradeDelta(is_buy=user_gain > 0, token_amount=abs(user_gain), sol_amount=sol_amount)


def amm_delta(ix: DecodedInstruction, balances: Balances) -> TradeDelta | None:
    base = balances.token_delta(ix.account("pool_base_token_account"), ix.account("base_mint"))
    if not base:
        return None
    quote = balances.token_delta(ix.account("pool_quote_token_account"), ix.account("quote_mint"))
    return TradeDelta(is_buy=base < 0, token_amount=abs(base), quote_amount=quote)
