"""The `lifecycle` scenario: a deterministic pump.fun economy driven by one seeded RNG.

Launches (create / create_v2, often with the creator's first buy), buy/sell flow from a wallet
population (retail with log-normal sizes, a few whales, sniping bots, serial launchers), curves
that complete and get migrated to PumpSwap by a keeper, AMM trading after that, creator dumps,
failed transactions (slippage) and aggregator-routed trades (pump as an inner instruction of a
router). Every transaction's economics are decided here: its shape key (`shapes`), the values
behind the shape's names, its events and balance effects; `chain.finish` builds it, and its
intended decoded values go to the manifest in the decoder's record vocabulary.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import random
import struct
from array import array
from bisect import bisect_left, insort
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, overload

import orjson

from executor import curve as C
from sim import addresses as A
from sim.clock import ChainClock, is_skipped
from sim.config import REAL_SIGNATURES_UP_TO_RATE, SimConfig
from sim.faults import FaultPlan
from sim.ledger import Account, Entry, mint_account
from sim.scenario import keys as K
from sim.scenario.body import Generated, to_entry
from sim.scenario.chain import Chain, Draft, Event, finish
from sim.scenario.codec import encode_account, encode_event, encode_instruction
from sim.scenario.eras import Era, era_of
from sim.scenario.events import ZERO_KEY, amm_trade_fields, curve_trade_fields, record
from sim.scenario.programs import METADATA_RENT, mint_size, rent
from sim.scenario.txbuild import (
    LOG_LIMIT_BYTES,
    Lookup,
    system_transfer,
    token_burn,
    token_mint_to,
    token_transfer_checked,
)
from sim.txformat import b58encode

LAMPORTS = C.LAMPORTS_PER_SOL
LAUNCH_PACE_RATE = 200.0  # --rate above which launches keep this rate's pace (see World)
WALLETS_SOFT_CAP = 100_000  # beyond this many wallets, newcomers get proportionally rarer
_GET_FEES = bytes.fromhex("e7257e55cf5b3f34")  # pump_fees get_fees (the decoder does not cover pump_fees)
_NAMES = (
    "pepe",
    "doge",
    "cat",
    "moon",
    "frog",
    "wojak",
    "chad",
    "bonk",
    "giga",
    "based",
    "ape",
    "sol",
    "pump",
    "meme",
    "turbo",
    "neko",
    "shiba",
    "milady",
    "trump",
    "elon",
    "grok",
    "ai",
    "agent",
    "bull",
)


@dataclass(slots=True)
class Wallet:
    index: int
    kp: K.Signer
    address: str
    style: str  # retail | whale | bot | launcher
    volume: int = 0
    amm_volume: int = 0


class Holdings:
    """Token holdings of one market by wallet index, and the wallets holding a positive amount
    in first-holding order (what `[i for i, amount in holdings.items() if amount > 0]` would
    list), kept up to date instead of rebuilt for every trade."""

    __slots__ = ("_by_rank", "_rank", "amounts", "positive")

    def __init__(self) -> None:
        self.amounts: dict[int, int] = {}
        self._rank: dict[int, int] = {}
        self._by_rank: list[int] = []
        self.positive = _Positive(self._by_rank)

    def get(self, wallet: int) -> int:
        return self.amounts.get(wallet, 0)

    def add(self, wallet: int, delta: int) -> None:
        old = self.amounts.get(wallet, 0)
        new = self.amounts[wallet] = old + delta
        rank = self._rank.get(wallet)
        if rank is None:
            rank = self._rank[wallet] = len(self._by_rank)
            self._by_rank.append(wallet)
        if old <= 0 < new:
            insort(self.positive.ranks, rank)
        elif new <= 0 < old:
            del self.positive.ranks[bisect_left(self.positive.ranks, rank)]


class _Positive(Sequence[int]):
    """Wallet indices with a positive holding, in first-holding order."""

    __slots__ = ("_by_rank", "ranks")

    def __init__(self, by_rank: list[int]) -> None:
        self._by_rank = by_rank
        self.ranks: list[int] = []

    def __len__(self) -> int:
        return len(self.ranks)

    @overload
    def __getitem__(self, i: int) -> int: ...
    @overload
    def __getitem__(self, i: slice) -> list[int]: ...
    def __getitem__(self, i: int | slice) -> int | list[int]:
        if isinstance(i, slice):
            return [self._by_rank[r] for r in self.ranks[i]]
        return self._by_rank[self.ranks[i]]


@dataclass(slots=True)
class Market:
    mint: str
    mint_kp: K.Signer
    creator: Wallet
    token_program: str
    v2: bool
    name: str
    symbol: str
    uri: str
    bonding_curve: str
    vault: str
    curve: C.CurveState
    hype: float
    tau_slots: float
    born_slot: int
    runner: bool
    holders: Holdings = field(default_factory=Holdings)
    completed_slot: int | None = None
    migrated: bool = False
    pool: str = ""
    pool_bump: int = 0
    lp_mint: str = ""
    pool_base: str = ""
    pool_quote: str = ""
    base_reserve: int = 0
    quote_reserve: int = 0
    lp_supply: int = 0


def get_fees_data(market_cap: int, trade_size: int) -> bytes:
    """The Pump Fees `get_fees` instruction both trading programs call."""
    return _GET_FEES + struct.pack(
        "<?QQQ?", True, market_cap & (2**64 - 1), market_cap >> 64, trade_size, False
    )


class World:
    """All state of the generated economy; `next` advances it by one transaction.

    With `--generators N` (`cfg.generators`) the economy is N independent worlds, `shard` 0..N-1,
    each at `rate / N` with its own RNG, keys, signatures and fee recipients (the recipients are
    dealt out, so every account's balance has one owner); `merged` interleaves them by emission
    time. One world (N = 1) is the stream as it always was.
    """

    def __init__(
        self, cfg: SimConfig, clock: ChainClock, faults: FaultPlan, *, manifest: bool = True, shard: int = 0
    ) -> None:
        shards = cfg.generators
        self.seed = cfg.seed
        self.shard = shard
        self.manifest = manifest  # write manifest rows (else `manifest_json` is empty)
        self._tag = "" if shards == 1 else f"/{shard}of{shards}"  # in every derivation when sharded
        self.rng = random.Random(
            int.from_bytes(hashlib.sha256(f"lifecycle/{cfg.seed}{self._tag}".encode()).digest()[:8], "little")
        )
        self.fee_recipients = A.PUMP_FEE_RECIPIENTS[shard::shards]
        self.amm_fee_recipients = A.AMM_PROTOCOL_FEE_RECIPIENTS[shard::shards]
        self.buyback_recipients = A.BUYBACK_FEE_RECIPIENTS[shard::shards]
        self.clock = clock
        self.rate = cfg.rate / shards
        self.era: Era = era_of(cfg.layout)
        self.truncate_p = faults.truncate_p
        # launches per emission second stop growing above LAUNCH_PACE_RATE: faster traffic is
        # more trading in as many markets, not ever more markets
        self.launch_scale = min(1.0, LAUNCH_PACE_RATE / self.rate)
        self.fast = cfg.signatures == "fast" or (
            cfg.signatures == "auto" and cfg.rate > REAL_SIGNATURES_UP_TO_RATE
        )
        self.chain = Chain()
        self.wallets: list[Wallet] = []
        self.by_style: dict[str, list[Wallet]] = {"retail": [], "whale": [], "bot": [], "launcher": []}
        self.markets: list[Market] = []
        self.active: list[Market] = []
        self.pending_migration: list[Market] = []
        self.keeper = K.keypair(cfg.seed, "keeper" + self._tag, 0)
        self.chain.lamports[self.keeper.address] = 5_000 * LAMPORTS
        self.lookup = Lookup(
            K.pda(A.SYSTEM_PROGRAM, b"alt", cfg.seed.to_bytes(8, "little", signed=True)),
            (
                A.PUMP_GLOBAL,
                A.PUMP_EVENT_AUTHORITY,
                A.PUMP_FEE_CONFIG,
                A.PUMP_FEES_PROGRAM,
                A.TOKEN_PROGRAM,
                A.TOKEN_2022_PROGRAM,
                A.SYSTEM_PROGRAM,
                A.PUMP_GLOBAL_VOLUME_ACCUMULATOR,
                A.ATA_PROGRAM,
                A.AMM_GLOBAL_CONFIG,
                A.AMM_EVENT_AUTHORITY,
                A.AMM_FEE_CONFIG,
                A.WSOL_MINT,
                A.AMM_GLOBAL_VOLUME_ACCUMULATOR,
                *A.PUMP_FEE_RECIPIENTS,
            ),
        )
        self.t = 0.0
        self.count = 0
        self.last_slot = clock.base_slot
        self.slot_index = 0
        self.initial_accounts: dict[str, Account] = {}
        self._blockhash: tuple[int, bytes] = (-1, b"")
        self._tradable_list: list[Market] = []
        self._cum: list[float] | None = None

    # --- population ------------------------------------------------------------------------

    def wallet(self) -> Wallet:
        """A trader: mostly someone already active (heavy tail), sometimes a newcomer."""
        rng = self.rng
        newcomer = 0.08 * min(1.0, WALLETS_SOFT_CAP / max(1, len(self.wallets)))
        if len(self.wallets) < 40 or rng.random() < newcomer:
            return self._new_wallet(rng.choices(("retail", "whale", "bot"), (0.9, 0.03, 0.07))[0])
        i = min(int(rng.paretovariate(1.1)) - 1, len(self.wallets) - 1)
        return self.wallets[-1 - i] if rng.random() < 0.5 else self.wallets[rng.randrange(len(self.wallets))]

    def _new_wallet(self, style: str) -> Wallet:
        index = len(self.wallets)
        kp = K.keypair(self.seed, "wallet" + self._tag, index)
        w = Wallet(index, kp, kp.address, style)
        sol = {"whale": 2_000.0, "bot": 150.0, "launcher": 60.0}.get(style, 8.0)
        self.chain.lamports[w.address] = int(sol * LAMPORTS * self.rng.lognormvariate(0, 0.6))
        self.wallets.append(w)
        self.by_style[style].append(w)
        return w

    # --- scheduling ------------------------------------------------------------------------

    def next_entry(self) -> tuple[float, Entry]:
        g = self.next()
        return g.t, to_entry(g)

    def next(self) -> Generated:
        """The next transaction, in compact form."""
        rng = self.rng
        self.t += rng.expovariate(self.rate)
        slot = self.clock.base_slot + int(self.t * self.clock.slots_per_second())
        while is_skipped(self.seed, slot):
            slot += 1
        slot = max(slot, self.last_slot)
        self.slot_index = self.slot_index + 1 if slot == self.last_slot else 0
        self.last_slot = slot
        block_time = self.clock.block_time(slot)
        self.count += 1
        draft, manifest = self._action(slot, block_time)
        return self._generated(draft, manifest, slot, block_time)

    def _action(self, slot: int, ts: int) -> tuple[Draft, dict[str, Any]]:
        rng = self.rng
        self._decay(slot)
        for market in self.pending_migration:
            if market.completed_slot is not None and slot >= market.completed_slot + 3:
                self.pending_migration.remove(market)
                return self._migrate(market, ts)
        want_launch = 0.25 if len(self.active) < 8 else 0.05 if len(self.active) < 40 else 0.01
        if not self.active or rng.random() < want_launch * self.launch_scale:
            return self._launch(slot, ts)
        tradable, cum_weights = self._tradable()
        if not tradable:
            return self._launch(slot, ts)
        market = rng.choices(tradable, cum_weights=cum_weights)[0]
        if market.migrated:
            return self._amm_trade(market, ts)
        return self._curve_trade(market, slot, ts)

    def _tradable(self) -> tuple[list[Market], list[float]]:
        """Active markets that trade (not completed-and-waiting for migration) and the running
        sums of their hype, as `rng.choices` would compute them; rebuilt only after a change."""
        if self._cum is None:
            tradable = self._tradable_list = [
                m for m in self.active if m.migrated or m.completed_slot is None
            ]
            self._cum = list(accumulate([m.hype for m in tradable]))
        return self._tradable_list, self._cum

    def _market_changed(self) -> None:
        self._cum = None

    def _decay(self, slot: int) -> None:
        if self.count % 50:
            return
        self._market_changed()
        keep = []
        for m in self.active:
            age = slot - m.born_slot
            m.hype = max(m.hype * math.exp(-50 / max(1.0, m.tau_slots) / max(1.0, self.rate / 20)), 0.0)
            if (
                m.hype > 0.02
                or (m.migrated and age < 20_000)
                or (m.completed_slot is not None and not m.migrated)
            ):
                keep.append(m)
        self.active = keep

    # --- actions ---------------------------------------------------------------------------

    def _draft(self, payer: Wallet, routed: bool = False) -> Draft:
        d = Draft(payer.kp)
        d.cu_limit = self.rng.choice((120_000, 200_000, 300_000, 400_000))
        d.cu_price = self.rng.choice((0, 1000, 50_000, 250_000, 1_000_000))
        d.routed = routed
        d.values["$user"] = payer.address
        return d

    def _emit(self, d: Draft, program: str, name: str, version: str, fields: dict[str, Any]) -> None:
        d.emit(Event(program, name, version, fields, encode_event(name, fields, version, program=program)))

    def _launch(self, slot: int, ts: int) -> tuple[Draft, dict[str, Any]]:
        rng = self.rng
        launchers = self.by_style["launcher"]
        creator = rng.choice(launchers) if launchers and rng.random() < 0.4 else self._new_wallet("launcher")
        index = len(self.markets)
        mint_kp = K.keypair(self.seed, "mint" + self._tag, index)
        mint = mint_kp.address
        v2 = self.era.create_v2 and rng.random() < 0.8
        token_program = A.TOKEN_2022_PROGRAM if v2 else A.TOKEN_PROGRAM
        word = rng.choice(_NAMES)
        name = f"{word.title()} {rng.choice(_NAMES).title()}" if rng.random() < 0.5 else word.title()
        symbol = (word[:4] + rng.choice(("", "2", "X", "AI"))).upper()
        bc = K.bonding_curve(mint)
        runner = rng.random() < 0.12
        market = Market(
            mint=mint,
            mint_kp=mint_kp,
            creator=creator,
            token_program=token_program,
            v2=v2,
            name=name,
            symbol=symbol,
            uri=f"https://ipfs.io/ipfs/Qm{b58encode(hashlib.sha256(mint.encode()).digest())[:44]}",
            bonding_curve=bc,
            vault=K.ata(bc, mint, token_program),
            curve=C.CurveState(),
            hype=(25.0 if runner else 1.0) * rng.paretovariate(1.5),
            tau_slots=(6000 if runner else 900) * rng.random() + 200,
            born_slot=slot,
            runner=runner,
        )
        self.markets.append(market)
        self.active.append(market)
        if self._cum is not None:  # the new market trades: one more running sum
            self._tradable_list.append(market)
            self._cum.append(self._cum[-1] + market.hype if self._cum else market.hype)
        d = self._draft(creator)
        d.signers.append(mint_kp)
        d.signer_names.append("$mint")
        self._create(d, market, ts)
        first_buy = rng.random() < 0.7
        if first_buy:
            sol = int(LAMPORTS * min(rng.lognormvariate(math.log(0.5), 1.0), 20))
            sol = min(sol, self.chain.balance(creator.address) // 2)
            if sol > 10_000_000:
                self._buy(
                    d,
                    market,
                    creator,
                    sol,
                    ts,
                    exact_sol=self.era.ix_name and rng.random() < 0.5,
                    routed=False,
                    fail=False,
                )
        return d, self._manifest("create_v2" if v2 else "create", mint, d)

    def _create(self, d: Draft, m: Market, ts: int) -> None:
        user = m.creator.address
        era = self.era
        args = {"name": m.name, "symbol": m.symbol, "uri": m.uri, "creator": user}
        v = d.values
        if m.v2:
            gp, sv, ms, mtv = K.mayhem_accounts(m.mint)
            v.update(
                {"$mayhem_params": gp, "$mayhem_vault": sv, "$mayhem_state": ms, "$mayhem_token_vault": mtv}
            )
            v["#create"] = encode_instruction(
                A.PUMP_PROGRAM, "create_v2", {**args, "is_mayhem_mode": False, "is_cashback_enabled": False}
            )
        else:
            v["$metadata"] = K.metadata(m.mint)
            v["#create"] = encode_instruction(A.PUMP_PROGRAM, "create", args)
        v.update({"$mint": m.mint, "$curve": m.bonding_curve})
        d.parts.append(("create", m.v2, m.token_program))
        d.move(user, m.mint, rent(mint_size(m.v2)))
        d.move(user, m.bonding_curve, rent(150))
        d.create_ata(False, "$user", "$vault", "$curve", "$mint", m.token_program, idempotent=False)
        if not m.v2:
            d.move(user, K.metadata(m.mint), METADATA_RENT)
        d.token(m.vault, m.mint, m.bonding_curve, m.token_program, 6, C.TOKEN_TOTAL_SUPPLY)
        fields = {
            "name": m.name,
            "symbol": m.symbol,
            "uri": m.uri,
            "mint": m.mint,
            "bonding_curve": m.bonding_curve,
            "user": user,
            "creator": user,
            "timestamp": ts,
            "virtual_token_reserves": m.curve.virtual_token_reserves,
            "virtual_sol_reserves": m.curve.virtual_sol_reserves,
            "real_token_reserves": m.curve.real_token_reserves,
            "token_total_supply": m.curve.token_total_supply,
            "token_program": m.token_program,
            "is_mayhem_mode": False,
            "is_cashback_enabled": False,
            "quote_mint": ZERO_KEY,
            "virtual_quote_reserves": m.curve.virtual_sol_reserves,
        }
        self._emit(d, A.PUMP_PROGRAM, "CreateEvent", era.create, fields)
        d.events[-1].fields["ix_name"] = "create_v2" if m.v2 else "create"
        d.accounts[m.mint] = mint_account(C.TOKEN_TOTAL_SUPPLY, 6, m.token_program)
        d.accounts[m.bonding_curve] = self._curve_account(m, m.curve, extra=0)

    def _curve_account(self, m: Market, state: C.CurveState, extra: int) -> Account:
        data = encode_account(
            "BondingCurve",
            {
                "virtual_token_reserves": state.virtual_token_reserves,
                "virtual_quote_reserves": state.virtual_sol_reserves,
                "real_token_reserves": state.real_token_reserves,
                "real_quote_reserves": state.real_sol_reserves,
                "token_total_supply": state.token_total_supply,
                "complete": state.complete,
                "creator": m.creator.address,
                "is_mayhem_mode": False,
                "is_cashback_coin": False,
                "quote_mint": ZERO_KEY,
            },
            self.era.bonding_curve,
            size=150,
        )
        return Account(rent(150) + state.real_sol_reserves + extra, A.PUMP_PROGRAM, data)

    def _curve_trade(self, m: Market, slot: int, ts: int) -> tuple[Draft, dict[str, Any]]:
        rng = self.rng
        age = slot - m.born_slot
        holders = m.holders.positive
        creator_holds = m.holders.get(m.creator.index)
        if creator_holds and rng.random() < 0.02:
            return self._sell(m, m.creator, creator_holds, ts, kind="creator_dump")
        buy_p = 0.75 if m.runner else 0.58
        if age < 30:
            buy_p = 0.9
        if not holders or rng.random() < buy_p:
            if age < 20 and rng.random() < 0.5:
                bots = self.by_style["bot"]
                w = rng.choice(bots) if bots else self._new_wallet("bot")
            elif m.runner and rng.random() < 0.15:
                whales = self.by_style["whale"]
                w = rng.choice(whales) if whales else self._new_wallet("whale")
            else:
                w = self.wallet()
            mu = {"whale": math.log(6.0), "bot": math.log(1.0)}.get(w.style, math.log(0.25))
            sol = int(LAMPORTS * min(rng.lognormvariate(mu, 1.1), 60.0))
            sol = min(sol, self.chain.balance(w.address) - 50_000_000)
            if sol < 1_000_000:
                w = self._new_wallet("retail")
                sol = int(0.1 * LAMPORTS)
            routed = rng.random() < 0.25
            d = self._draft(w, routed)
            fail = rng.random() < 0.03
            self._buy(
                d, m, w, sol, ts, exact_sol=self.era.ix_name and rng.random() < 0.4, routed=routed, fail=fail
            )
            kind = (
                "buy_exact_sol_in"
                if d.events and d.events[0].fields.get("ix_name") == "buy_exact_sol_in"
                else "buy"
            )
            return d, self._manifest(kind, m.mint, d, routed=routed)
        w = self.wallets[rng.choice(holders)]
        amount = m.holders.get(w.index)
        part = amount if rng.random() < 0.35 else max(1, int(amount * rng.uniform(0.1, 0.9)))
        return self._sell(m, w, part, ts)

    def _sell(
        self, m: Market, w: Wallet, amount: int, ts: int, kind: str = "sell"
    ) -> tuple[Draft, dict[str, Any]]:
        routed = self.rng.random() < 0.2
        d = self._draft(w, routed)
        fail = self.rng.random() < 0.03
        fees = self.era.fees
        trade = C.sell_exact_tokens(m.curve, amount, fees)
        min_out = trade.user_sol * (2 if fail else 1) * 97 // 100
        user_ata = K.ata(w.address, m.mint, m.token_program)
        fee_recipient = self.rng.choice(self.fee_recipients)
        creator_vault = K.creator_vault(m.creator.address)
        buyback = self.rng.choice(self.buyback_recipients) if fees.buyback_bps else None
        d.values.update(
            {
                "$fee_recipient": fee_recipient,
                "$mint": m.mint,
                "$curve": m.bonding_curve,
                "$vault": m.vault,
                "$user_ata": user_ata,
                "$creator_vault": creator_vault,
                "$buyback": buyback,
                "#ix": encode_instruction(
                    A.PUMP_PROGRAM, "sell", {"amount": amount, "min_sol_output": min_out}
                ),
                "#fees": get_fees_data(m.curve.market_cap_lamports(), trade.sol_amount),
            }
        )
        fees_t = (0, fees.protocol_bps, fees.creator_bps)
        d.parts.append(("sell", m.token_program, routed, fail, buyback is not None, fees_t))
        if fail:
            d.fail_code = 6003
            return d, self._manifest(kind, m.mint, d, routed=routed)
        d.values["#x0"] = token_transfer_checked(amount, 6)
        d.token(user_ata, m.mint, w.address, m.token_program, 6, -amount)
        d.token(m.vault, m.mint, m.bonding_curve, m.token_program, 6, amount)
        d.move(m.bonding_curve, w.address, trade.user_sol)
        self._pay_fees(d, m.bonding_curve, fee_recipient, creator_vault, buyback, trade)
        self._emit_curve_trade(d, m, w, trade, ts, fee_recipient, "sell")
        m.curve = trade.after
        m.holders.add(w.index, -amount)
        d.accounts[m.bonding_curve] = self._curve_account(m, m.curve, 0)
        return d, self._manifest(kind, m.mint, d, routed=routed)

    def _emit_curve_trade(
        self, d: Draft, m: Market, w: Wallet, trade: C.CurveTrade, ts: int, fee_recipient: str, ix_name: str
    ) -> None:
        """The TradeEvent of a curve buy or sell, counting its SOL into the wallet's volume."""
        fees = self.era.fees
        w.volume += trade.sol_amount
        fields = curve_trade_fields(
            mint=m.mint,
            user=w.address,
            trade=trade,
            timestamp=ts,
            fee_recipient=fee_recipient,
            fees_bps=(fees.protocol_bps, fees.creator_bps, fees.cashback_bps, fees.buyback_bps),
            creator=m.creator.address,
            ix_name=ix_name,
            volume=w.volume,
        )
        self._emit(d, A.PUMP_PROGRAM, "TradeEvent", self.era.trade, fields)

    def _pay_fees(
        self, d: Draft, src: str, recipient: str, creator_vault: str, buyback: str | None, trade: C.CurveTrade
    ) -> None:
        d.move(src, recipient, trade.fee - trade.buyback_fee)
        if buyback:
            d.move(src, buyback, trade.buyback_fee)
        if trade.creator_fee:
            d.move(src, creator_vault, trade.creator_fee)

    def _buy(
        self, d: Draft, m: Market, w: Wallet, sol: int, ts: int, *, exact_sol: bool, routed: bool, fail: bool
    ) -> None:
        fees = self.era.fees
        try:
            if exact_sol:
                trade = C.buy_exact_sol_in(m.curve, sol, fees)
            else:
                tokens = C.buy_exact_sol_in(m.curve, sol, fees).token_amount
                trade = C.buy_exact_tokens(m.curve, tokens, fees)
        except C.CurveError:
            trade = C.buy_exact_tokens(m.curve, m.curve.real_token_reserves, fees)
            exact_sol = False
        v = d.values
        v["$mint"] = m.mint
        user_ata = K.ata(w.address, m.mint, m.token_program)
        if user_ata not in self.chain.tokens:
            d.create_ata(True, "$user", "$user_ata", "$user", "$mint", m.token_program, idempotent=True)
        fee_recipient = self.rng.choice(self.fee_recipients)
        creator_vault = K.creator_vault(m.creator.address)
        buyback = self.rng.choice(self.buyback_recipients) if fees.buyback_bps else None
        if exact_sol:
            ix_name = "buy_exact_sol_in"
            limit = trade.token_amount * (2 if fail else 1) * (97 if not fail else 100) // 100
            data = encode_instruction(
                A.PUMP_PROGRAM,
                ix_name,
                {"spendable_sol_in": sol, "min_tokens_out": limit, "track_volume": True},
            )
        else:
            ix_name = "buy"
            limit = trade.user_sol * (100 if not fail else 95) // 100 + (
                trade.user_sol // 100 if not fail else 0
            )
            data = encode_instruction(
                A.PUMP_PROGRAM,
                "buy",
                {"amount": trade.token_amount, "max_sol_cost": limit, "track_volume": True},
            )
        v.update(
            {
                "$fee_recipient": fee_recipient,
                "$curve": m.bonding_curve,
                "$vault": m.vault,
                "$user_ata": user_ata,
                "$creator_vault": creator_vault,
                "$uva": K.user_volume_accumulator(w.address),
                "$buyback": buyback,
                "#ix": data,
                "#fees": get_fees_data(m.curve.market_cap_lamports(), trade.sol_amount),
            }
        )
        fees_t = (0, fees.protocol_bps, fees.creator_bps)
        d.parts.append(
            (
                "buy",
                m.token_program,
                exact_sol,
                routed,
                fail,
                buyback is not None,
                not fail and trade.creator_fee > 0,
                not fail and trade.completes,
                fees_t,
            )
        )
        if fail:
            d.fail_code = 6042 if exact_sol else 6002
            return
        v["#x0"] = token_transfer_checked(trade.token_amount, 6)
        d.token(m.vault, m.mint, m.bonding_curve, m.token_program, 6, -trade.token_amount)
        d.token(user_ata, m.mint, w.address, m.token_program, 6, trade.token_amount)
        v["#m0"] = system_transfer(trade.sol_amount)
        d.move(w.address, m.bonding_curve, trade.sol_amount)
        v["#m1"] = system_transfer(trade.fee - trade.buyback_fee)
        d.move(w.address, fee_recipient, trade.fee - trade.buyback_fee)
        if buyback:
            v["#m2"] = system_transfer(trade.buyback_fee)
            d.move(w.address, buyback, trade.buyback_fee)
        if trade.creator_fee:
            v["#m3"] = system_transfer(trade.creator_fee)
            d.move(w.address, creator_vault, trade.creator_fee)
        self._emit_curve_trade(d, m, w, trade, ts, fee_recipient, ix_name)
        m.curve = trade.after
        m.holders.add(w.index, trade.token_amount)
        if trade.completes:
            self._emit(
                d,
                A.PUMP_PROGRAM,
                "CompleteEvent",
                self.era.complete,
                {
                    "user": w.address,
                    "mint": m.mint,
                    "bonding_curve": m.bonding_curve,
                    "timestamp": ts,
                    "quote_mint": ZERO_KEY,
                },
            )
            m.completed_slot = self.last_slot
            self.pending_migration.append(m)
            self._market_changed()
        d.accounts[m.bonding_curve] = self._curve_account(m, m.curve, 0)

    def _migrate(self, m: Market, ts: int) -> tuple[Draft, dict[str, Any]]:
        keeper = self.keeper.address
        d = Draft(self.keeper, "$keeper")
        d.cu_limit = self.rng.choice((120_000, 200_000, 300_000, 400_000))
        d.cu_price = self.rng.choice((0, 1000, 50_000, 250_000, 1_000_000))
        mig = C.migration_of(m.curve)
        pool, bump = K.canonical_pool(m.mint)
        pa = K.pool_authority(m.mint)
        lp = K.lp_mint(pool)
        tp = m.token_program
        v = d.values
        v.update(
            {
                "$keeper": keeper,
                "$mint": m.mint,
                "$curve": m.bonding_curve,
                "$vault": m.vault,
                "$pool": pool,
                "$pool_authority": pa,
                "$lp": lp,
                "#x0": token_transfer_checked(mig.mint_amount, 6),
                "#x1": token_transfer_checked(mig.mint_amount, 6),
                "#x2": token_transfer_checked(mig.sol_amount, 9),
                "#mint_lp": token_mint_to(mig.lp_token_amount_out),
                "#burn": token_burn(mig.lp_token_amount_out),
            }
        )
        d.parts.append(("migrate", tp))
        # curve -> pool authority: all remaining tokens and the SOL (wrapped)
        pa_mint = d.create_ata(False, "$keeper", "$pa_mint", "$pool_authority", "$mint", tp, idempotent=True)
        pa_wsol = d.create_ata(
            False, "$keeper", "$pa_wsol", "$pool_authority", A.WSOL_MINT, A.TOKEN_PROGRAM, idempotent=True
        )
        d.token(m.vault, m.mint, m.bonding_curve, tp, 6, -mig.mint_amount)
        d.token(pa_mint, m.mint, pa, tp, 6, mig.mint_amount)
        d.move(m.bonding_curve, pa_wsol, mig.sol_amount)
        d.move(m.bonding_curve, keeper, mig.pool_migration_fee)
        d.token(pa_wsol, A.WSOL_MINT, pa, A.TOKEN_PROGRAM, 9, mig.sol_amount)
        coin_creator = m.creator.address
        v["#create_pool"] = encode_instruction(
            A.PUMP_AMM_PROGRAM,
            "create_pool",
            {
                "index": 0,
                "base_amount_in": mig.mint_amount,
                "quote_amount_in": mig.sol_amount,
                "coin_creator": coin_creator,
                "is_mayhem_mode": False,
                "is_cashback_coin": False,
            },
        )
        d.move(keeper, pool, rent(300))
        d.move(keeper, lp, rent(82))
        user_pool = d.create_ata(
            False, "$keeper", "$user_pool", "$pool_authority", "$lp", A.TOKEN_2022_PROGRAM, idempotent=False
        )
        pool_base = d.create_ata(False, "$keeper", "$pool_base", "$pool", "$mint", tp, idempotent=False)
        pool_quote = d.create_ata(
            False, "$keeper", "$pool_quote", "$pool", A.WSOL_MINT, A.TOKEN_PROGRAM, idempotent=False
        )
        d.token(pa_mint, m.mint, pa, tp, 6, -mig.mint_amount)
        d.token(pool_base, m.mint, pool, tp, 6, mig.mint_amount)
        d.token(pa_wsol, A.WSOL_MINT, pa, A.TOKEN_PROGRAM, 9, -mig.sol_amount)
        d.token(pool_quote, A.WSOL_MINT, pool, A.TOKEN_PROGRAM, 9, mig.sol_amount)
        d.move(pa_wsol, pool_quote, mig.sol_amount)
        d.token(user_pool, lp, pa, A.TOKEN_2022_PROGRAM, 6, mig.lp_token_amount_out)
        self._emit(
            d,
            A.PUMP_AMM_PROGRAM,
            "CreatePoolEvent",
            self.era.create_pool,
            {
                "timestamp": ts,
                "index": 0,
                "creator": pa,
                "base_mint": m.mint,
                "quote_mint": A.WSOL_MINT,
                "base_mint_decimals": 6,
                "quote_mint_decimals": 9,
                "base_amount_in": mig.mint_amount,
                "quote_amount_in": mig.sol_amount,
                "pool_base_amount": mig.mint_amount,
                "pool_quote_amount": mig.sol_amount,
                "minimum_liquidity": C.AMM_MINIMUM_LIQUIDITY,
                "initial_liquidity": mig.initial_liquidity,
                "lp_token_amount_out": mig.lp_token_amount_out,
                "pool_bump": bump,
                "pool": pool,
                "lp_mint": lp,
                "user_base_token_account": pa_mint,
                "user_quote_token_account": pa_wsol,
                "coin_creator": coin_creator,
                "is_mayhem_mode": False,
            },
        )
        d.token(user_pool, lp, pa, A.TOKEN_2022_PROGRAM, 6, -mig.lp_token_amount_out)
        self._emit(
            d,
            A.PUMP_PROGRAM,
            "CompletePumpAmmMigrationEvent",
            self.era.migration,
            {
                "user": keeper,
                "mint": m.mint,
                "mint_amount": mig.mint_amount,
                "sol_amount": mig.sol_amount,
                "pool_migration_fee": mig.pool_migration_fee,
                "bonding_curve": m.bonding_curve,
                "timestamp": ts,
                "pool": pool,
                "quote_mint": A.WSOL_MINT,
            },
        )
        m.curve = C.MIGRATED
        m.migrated = True
        m.pool, m.pool_bump, m.lp_mint, m.pool_base, m.pool_quote = pool, bump, lp, pool_base, pool_quote
        m.base_reserve, m.quote_reserve, m.lp_supply = mig.mint_amount, mig.sol_amount, mig.initial_liquidity
        m.hype = max(m.hype, 5.0)
        self._market_changed()
        d.accounts[m.bonding_curve] = self._curve_account(m, m.curve, 0)
        d.accounts[pool] = self._pool_account(m)
        d.accounts[lp] = mint_account(0, 6, A.TOKEN_2022_PROGRAM)
        return d, self._manifest("migrate", m.mint, d)

    def _pool_account(self, m: Market) -> Account:
        data = encode_account(
            "Pool",
            {
                "pool_bump": m.pool_bump,
                "index": 0,
                "creator": K.pool_authority(m.mint),
                "base_mint": m.mint,
                "quote_mint": A.WSOL_MINT,
                "lp_mint": m.lp_mint,
                "pool_base_token_account": m.pool_base,
                "pool_quote_token_account": m.pool_quote,
                "lp_supply": m.lp_supply,
                "coin_creator": m.creator.address,
                "is_mayhem_mode": False,
                "is_cashback_coin": False,
            },
            self.era.pool,
            size=300,
        )
        return Account(rent(300), A.PUMP_AMM_PROGRAM, data)

    def _amm_trade(self, m: Market, ts: int) -> tuple[Draft, dict[str, Any]]:
        rng = self.rng
        holders = m.holders.positive
        is_buy = not holders or rng.random() < 0.55
        w = self.wallet() if is_buy else self.wallets[rng.choice(holders)]
        fees = C.amm_fees_for(C.amm_market_cap_lamports(m.base_reserve, m.quote_reserve))
        fees_t = (fees.lp_bps, fees.protocol_bps, fees.creator_bps)
        if is_buy:
            budget = int(LAMPORTS * min(rng.lognormvariate(math.log(0.8), 1.1), 80.0))
            budget = min(budget, self.chain.balance(w.address) - 50_000_000)
            if budget < 1_000_000:
                w = self._new_wallet("retail")
                budget = LAMPORTS // 10
            base_out = C.amm_buy_exact_quote_in(m.base_reserve, m.quote_reserve, budget, fees).base_amount
            trade = C.amm_buy_exact_base(m.base_reserve, m.quote_reserve, base_out, fees)
        else:
            amount = m.holders.get(w.index)
            part = amount if rng.random() < 0.4 else max(1, int(amount * rng.uniform(0.1, 0.9)))
            trade = C.amm_sell_exact_base(m.base_reserve, m.quote_reserve, part, fees)
        d = self._draft(w)
        v = d.values
        v["$mint"] = m.mint
        user_base = K.ata(w.address, m.mint, m.token_program)
        user_quote = K.ata(w.address, A.WSOL_MINT)
        tokens = self.chain.tokens
        if user_quote not in tokens:
            d.create_ata(True, "$user", "$user_quote", "$user", A.WSOL_MINT, A.TOKEN_PROGRAM, idempotent=True)
        if is_buy and user_base not in tokens:
            d.create_ata(True, "$user", "$user_base", "$user", "$mint", m.token_program, idempotent=True)
        recipient = rng.choice(self.amm_fee_recipients)
        recipient_ata = K.ata(recipient, A.WSOL_MINT)
        cva = K.amm_creator_vault_authority(m.creator.address)
        cv_ata = K.ata(cva, A.WSOL_MINT)
        v.update(
            {
                "$pool": m.pool,
                "$user_base": user_base,
                "$user_quote": user_quote,
                "$pool_base": m.pool_base,
                "$pool_quote": m.pool_quote,
                "$recipient": recipient,
                "$recipient_ata": recipient_ata,
                "$cv_ata": cv_ata,
                "$cva": cva,
                "#fees": get_fees_data(
                    C.amm_market_cap_lamports(m.base_reserve, m.quote_reserve), trade.quote_amount
                ),
            }
        )
        base_before = tokens[user_base].amount if user_base in tokens else 0
        quote_before = tokens[user_quote].amount if user_quote in tokens else 0
        if is_buy:
            v["$uva"] = K.user_volume_accumulator(w.address, A.PUMP_AMM_PROGRAM)
            limit = trade.user_quote * 101 // 100
            v["#ix"] = encode_instruction(
                A.PUMP_AMM_PROGRAM,
                "buy",
                {"base_amount_out": trade.base_amount, "max_quote_amount_in": limit, "track_volume": True},
            )
            # wrap exactly what the buy takes
            v["#wrap"] = system_transfer(trade.user_quote)
            d.move(w.address, user_quote, trade.user_quote)
            d.token(user_quote, A.WSOL_MINT, w.address, A.TOKEN_PROGRAM, 9, trade.user_quote)
            quote_before += trade.user_quote
        else:
            limit = trade.user_quote * 97 // 100
            v["#ix"] = encode_instruction(
                A.PUMP_AMM_PROGRAM,
                "sell",
                {"base_amount_in": trade.base_amount, "min_quote_amount_out": limit},
            )
        d.parts.append(("amm", is_buy, m.token_program, trade.creator_fee > 0, fees_t))
        tp = m.token_program
        if is_buy:
            v["#x0"] = token_transfer_checked(trade.base_amount, 6)
            v["#x1"] = token_transfer_checked(trade.quote_with_lp, 9)
            v["#x2"] = token_transfer_checked(trade.protocol_fee, 9)
            moves = [
                (user_quote, m.pool_quote, trade.quote_with_lp),
                (user_quote, recipient_ata, trade.protocol_fee),
            ]
            if trade.creator_fee:
                v["#x3"] = token_transfer_checked(trade.creator_fee, 9)
                moves.append((user_quote, cv_ata, trade.creator_fee))
            d.token(m.pool_base, m.mint, m.pool, tp, 6, -trade.base_amount)
            d.token(user_base, m.mint, w.address, tp, 6, trade.base_amount)
            m.holders.add(w.index, trade.base_amount)
            w.amm_volume += trade.quote_amount
        else:
            v["#x0"] = token_transfer_checked(trade.base_amount, 6)
            v["#x1"] = token_transfer_checked(trade.user_quote, 9)
            v["#x2"] = token_transfer_checked(trade.protocol_fee, 9)
            moves = [
                (m.pool_quote, user_quote, trade.user_quote),
                (m.pool_quote, recipient_ata, trade.protocol_fee),
            ]
            if trade.creator_fee:
                v["#x3"] = token_transfer_checked(trade.creator_fee, 9)
                moves.append((m.pool_quote, cv_ata, trade.creator_fee))
            d.token(user_base, m.mint, w.address, tp, 6, -trade.base_amount)
            d.token(m.pool_base, m.mint, m.pool, tp, 6, trade.base_amount)
            m.holders.add(w.index, -trade.base_amount)
        # owners of the WSOL accounts (the pool's first, as it wins over a coinciding one)
        wsol_owner = {cv_ata: cva, recipient_ata: recipient, m.pool_quote: m.pool}.get
        for src, dst, amount in moves:
            d.move(src, dst, amount)
            d.token(src, A.WSOL_MINT, wsol_owner(src, w.address), A.TOKEN_PROGRAM, 9, -amount)
            d.token(dst, A.WSOL_MINT, wsol_owner(dst, w.address), A.TOKEN_PROGRAM, 9, amount)
        fields = amm_trade_fields(
            trade=trade,
            timestamp=ts,
            pool=m.pool,
            user=w.address,
            user_base=user_base,
            user_quote=user_quote,
            user_base_before=base_before,
            user_quote_before=quote_before,
            recipient=recipient,
            recipient_ata=recipient_ata,
            coin_creator=m.creator.address,
            fees_bps=fees_t,
            limit=limit,
            ix_name="buy",
            volume=w.amm_volume,
        )
        self._emit(
            d,
            A.PUMP_AMM_PROGRAM,
            "BuyEvent" if is_buy else "SellEvent",
            self.era.amm_buy if is_buy else self.era.amm_sell,
            fields,
        )
        d.events[-1].fields.update(base_mint=m.mint, quote_mint_account=A.WSOL_MINT)
        m.base_reserve, m.quote_reserve = trade.base_reserve_after, trade.quote_reserve_after
        return d, self._manifest("pumpswap_buy" if is_buy else "pumpswap_sell", m.mint, d)

    # --- output ----------------------------------------------------------------------------

    def _manifest(self, kind: str, mint: str, d: Draft, routed: bool = False) -> dict[str, Any]:
        return {"kind": kind, "mint": mint, "routed": routed}

    def _generated(self, d: Draft, row: dict[str, Any], slot: int, block_time: int) -> Generated:
        blockhash = self._blockhash_of(slot - 2)
        if self.truncate_p and self.rng.random() < self.truncate_p:
            d.noise = True
        fast = None
        if self.fast:
            fast = hashlib.sha256(b"sig/%d%s/%d" % (self.seed, self._tag.encode(), self.count)).digest()
        done = finish(
            self.chain,
            d,
            lookup=self.lookup,
            blockhash=blockhash,
            log_limit=LOG_LIMIT_BYTES,
            fast_signature=fast,
        )
        built = done.built
        signature = built.signature
        err = d.err
        manifest = b""
        if self.manifest:
            records = [] if err is not None else [record(i, ev) for i, ev in enumerate(d.events)]
            manifest = orjson.dumps(
                {
                    "signature": signature,
                    "slot": slot,
                    "block_time": block_time,
                    "kind": row["kind"],
                    "mint": row["mint"],
                    "err": err,
                    "records": records,
                    "routed": row["routed"],
                    "log_truncated": built.log_truncated,
                }
            )
        return Generated(
            self.t,
            signature,
            slot,
            block_time,
            err,
            built.keys,
            built.logs,
            built.events,
            manifest,
            tuple((a, acct.lamports, acct.owner, acct.data) for a, acct in d.accounts.items())
            if err is None
            else (),
            built.version,
            built.wire,
            done.fee,
            array("q", done.pre).tobytes(),
            array("q", done.post).tobytes(),
            built.inner,
            done.pre_tokens,
            done.post_tokens,
            built.loaded,
            built.units,
        )

    def _blockhash_of(self, slot: int) -> bytes:
        cached = self._blockhash
        if cached[0] != slot:
            cached = self._blockhash = (slot, hashlib.sha256(b"blockhash/%d/%d" % (self.seed, slot)).digest())
        return cached[1]


def merged(worlds: list[World]) -> Iterator[Generated]:
    """The worlds' transactions in emission order (ties: the lower shard first)."""
    return heapq.merge(*(iter(w.next, None) for w in worlds), key=lambda g: g.t)


def worlds(cfg: SimConfig, clock: ChainClock, faults: FaultPlan, *, manifest: bool = True) -> list[World]:
    return [World(cfg, clock, faults, manifest=manifest, shard=i) for i in range(cfg.generators)]


def lifecycle_feed(
    cfg: SimConfig, clock: ChainClock, faults: FaultPlan
) -> tuple[Iterator[tuple[float, Entry]], dict[str, Account]]:
    shards = worlds(cfg, clock, faults)

    def gen() -> Iterator[tuple[float, Entry]]:
        for g in merged(shards):
            yield g.t, to_entry(g)

    return gen(), shards[0].initial_accounts
