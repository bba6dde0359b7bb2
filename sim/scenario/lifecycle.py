"""The `lifecycle` scenario: a deterministic pump.fun economy driven by one seeded RNG.

Launches (create / create_v2, often with the creator's first buy), buy/sell flow from a wallet
population (retail with log-normal sizes, a few whales, sniping bots, serial launchers), curves
that complete and get migrated to PumpSwap by a keeper, AMM trading after that, creator dumps,
failed transactions (slippage) and aggregator-routed trades (pump as an inner instruction of a
router). Every transaction is built by `programs`/`txbuild` and its intended decoded values go to
the manifest in the decoder's record vocabulary.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from solders.keypair import Keypair

from executor import curve as C
from executor.decode import records as R
from executor.decode.layouts import layout_by_name
from sim import addresses as A
from sim.clock import ChainClock, is_skipped
from sim.config import SimConfig
from sim.faults import FaultPlan
from sim.ledger import Account, Entry, mint_account
from sim.scenario import keys as K
from sim.scenario import programs as P
from sim.scenario.body import GeneratedBody
from sim.scenario.chain import Chain, Draft, Event, finish, rent
from sim.scenario.eras import Era, era_of
from sim.scenario.txbuild import LOG_LIMIT_BYTES, Call, Lookup, system_transfer
from sim.txformat import b58encode

LAMPORTS = C.LAMPORTS_PER_SOL
ROUTER = A.JUPITER_PROGRAM
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
    kp: Keypair
    address: str
    style: str  # retail | whale | bot | launcher
    volume: int = 0
    amm_volume: int = 0


@dataclass(slots=True)
class Market:
    mint: str
    mint_kp: Keypair
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
    holders: dict[int, int] = field(default_factory=dict)
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


class World:
    """All state of the generated economy; `next_entry` advances it by one transaction."""

    def __init__(self, cfg: SimConfig, clock: ChainClock, faults: FaultPlan) -> None:
        self.seed = cfg.seed
        self.rng = random.Random(
            int.from_bytes(hashlib.sha256(f"lifecycle/{cfg.seed}".encode()).digest()[:8], "little")
        )
        self.clock = clock
        self.rate = cfg.rate
        self.era: Era = era_of(cfg.layout)
        self.truncate_p = faults.truncate_p
        self.fast = cfg.signatures == "fast" or (cfg.signatures == "auto" and cfg.rate > 1000)
        self.chain = Chain()
        self.wallets: list[Wallet] = []
        self.markets: list[Market] = []
        self.active: list[Market] = []
        self.pending_migration: list[Market] = []
        self.keeper = K.keypair(cfg.seed, "keeper", 0)
        self.chain.lamports[str(self.keeper.pubkey())] = 5_000 * LAMPORTS
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

    # --- population ------------------------------------------------------------------------

    def wallet(self) -> Wallet:
        """A trader: mostly someone already active (heavy tail), sometimes a newcomer."""
        rng = self.rng
        if len(self.wallets) < 40 or rng.random() < 0.08:
            return self._new_wallet(rng.choices(("retail", "whale", "bot"), (0.9, 0.03, 0.07))[0])
        i = min(int(rng.paretovariate(1.1)) - 1, len(self.wallets) - 1)
        return self.wallets[-1 - i] if rng.random() < 0.5 else self.wallets[rng.randrange(len(self.wallets))]

    def _new_wallet(self, style: str) -> Wallet:
        index = len(self.wallets)
        kp = K.keypair(self.seed, "wallet", index)
        w = Wallet(index, kp, str(kp.pubkey()), style)
        sol = {"whale": 2_000.0, "bot": 150.0, "launcher": 60.0}.get(style, 8.0)
        self.chain.lamports[w.address] = int(sol * LAMPORTS * self.rng.lognormvariate(0, 0.6))
        self.wallets.append(w)
        return w

    # --- scheduling ------------------------------------------------------------------------

    def next_entry(self) -> tuple[float, Entry]:
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
        entry = self._entry(draft, manifest, slot, block_time)
        return self.t, entry

    def _action(self, slot: int, ts: int) -> tuple[Draft, dict[str, Any]]:
        rng = self.rng
        self._decay(slot)
        for market in self.pending_migration:
            if market.completed_slot is not None and slot >= market.completed_slot + 3:
                self.pending_migration.remove(market)
                return self._migrate(market, ts)
        want_launch = 0.25 if len(self.active) < 8 else 0.05 if len(self.active) < 40 else 0.01
        if not self.active or rng.random() < want_launch:
            return self._launch(slot, ts)
        tradable = [m for m in self.active if m.migrated or m.completed_slot is None]
        if not tradable:
            return self._launch(slot, ts)
        market = rng.choices(tradable, [m.hype for m in tradable])[0]
        if market.migrated:
            return self._amm_trade(market, ts)
        return self._curve_trade(market, slot, ts)

    def _decay(self, slot: int) -> None:
        if self.count % 50:
            return
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

    def _draft(self, payer: Keypair, routed: bool = False) -> Draft:
        d = Draft(payer=payer)
        P.compute_budget(
            d,
            self.rng.choice((120_000, 200_000, 300_000, 400_000)),
            self.rng.choice((0, 1000, 50_000, 250_000, 1_000_000)),
        )
        if routed:
            d.lookup = self.lookup
        return d

    def _launch(self, slot: int, ts: int) -> tuple[Draft, dict[str, Any]]:
        rng = self.rng
        launchers = [w for w in self.wallets if w.style == "launcher"]
        creator = rng.choice(launchers) if launchers and rng.random() < 0.4 else self._new_wallet("launcher")
        index = len(self.markets)
        mint_kp = K.keypair(self.seed, "mint", index)
        mint = str(mint_kp.pubkey())
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
        d = self._draft(creator.kp)
        d.signers.append(mint_kp)
        call = self._create_call(d, market, ts)
        d.top.append(call)
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

    def _create_call(self, d: Draft, m: Market, ts: int) -> Call:
        user = m.creator.address
        era = self.era
        args = {"name": m.name, "symbol": m.symbol, "uri": m.uri, "creator": user}
        if m.v2:
            gp, sv, ms, mtv = K.mayhem_accounts(m.mint)
            accounts = [
                m.mint,
                A.PUMP_MINT_AUTHORITY,
                m.bonding_curve,
                m.vault,
                A.PUMP_GLOBAL,
                user,
                A.SYSTEM_PROGRAM,
                A.TOKEN_2022_PROGRAM,
                A.ATA_PROGRAM,
                A.MAYHEM_PROGRAM,
                gp,
                sv,
                ms,
                mtv,
                A.PUMP_EVENT_AUTHORITY,
                A.PUMP_PROGRAM,
            ]
            data = P.instruction(
                A.PUMP_PROGRAM, "create_v2", {**args, "is_mayhem_mode": False, "is_cashback_enabled": False}
            )
            call = Call(A.PUMP_PROGRAM, accounts, data, units=120_000).log("Instruction: CreateV2")
            d.w(ms, mtv)
        else:
            meta = K.metadata(m.mint)
            accounts = [
                m.mint,
                A.PUMP_MINT_AUTHORITY,
                m.bonding_curve,
                m.vault,
                A.PUMP_GLOBAL,
                A.METAPLEX_PROGRAM,
                meta,
                user,
                A.SYSTEM_PROGRAM,
                A.TOKEN_PROGRAM,
                A.ATA_PROGRAM,
                A.RENT_SYSVAR,
                A.PUMP_EVENT_AUTHORITY,
                A.PUMP_PROGRAM,
            ]
            data = P.instruction(A.PUMP_PROGRAM, "create", args)
            call = Call(A.PUMP_PROGRAM, accounts, data, units=90_000).log("Instruction: Create")
            d.w(meta)
        d.w(m.mint, m.bonding_curve, m.vault, user)
        mint_size = 82 if not m.v2 else 400
        P.system_move(call, user, m.mint, rent(mint_size))
        d.move(user, m.mint, rent(mint_size))
        init = call.call(Call(m.token_program, [m.mint], b"\x14\x06" + bytes(32) + b"\x00", units=1700))
        init.log("Instruction: InitializeMint2")
        P.system_move(call, user, m.bonding_curve, rent(150))
        d.move(user, m.bonding_curve, rent(150))
        P.create_ata(d, call, user, m.bonding_curve, m.mint, m.token_program, idempotent=False)
        if not m.v2:
            md = call.call(
                Call(
                    A.METAPLEX_PROGRAM,
                    [K.metadata(m.mint), m.mint, A.PUMP_MINT_AUTHORITY, user],
                    b"\x21" + bytes(8),
                    units=30_000,
                )
            )
            md.log("IX: Create Metadata Accounts v3")
            P.system_move(md, user, K.metadata(m.mint), 5_616_720)
            d.move(user, K.metadata(m.mint), 5_616_720)
        P.mint_to(call, m.token_program, m.mint, m.vault, A.PUMP_MINT_AUTHORITY, C.TOKEN_TOTAL_SUPPLY)
        d.token(m.vault, m.mint, m.bonding_curve, m.token_program, 6, C.TOKEN_TOTAL_SUPPLY)
        call.call(Call(m.token_program, [m.mint, A.PUMP_MINT_AUTHORITY], b"\x06\x00\x00", units=958)).log(
            "Instruction: SetAuthority"
        )
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
            "quote_mint": P.ZERO_KEY,
            "virtual_quote_reserves": m.curve.virtual_sol_reserves,
        }
        P.emit(d, call, A.PUMP_PROGRAM, "CreateEvent", era.create, fields)
        d.events[-1].fields["ix_name"] = "create_v2" if m.v2 else "create"
        d.accounts[m.mint] = mint_account(C.TOKEN_TOTAL_SUPPLY, 6, m.token_program)
        d.accounts[m.bonding_curve] = self._curve_account(m, m.curve, extra=0)
        return call

    def _curve_account(self, m: Market, state: C.CurveState, extra: int) -> Account:
        from executor.decode.encode import encode_account

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
                "quote_mint": P.ZERO_KEY,
            },
            self.era.bonding_curve,
            size=150,
        )
        return Account(rent(150) + state.real_sol_reserves + extra, A.PUMP_PROGRAM, data)

    def _curve_trade(self, m: Market, slot: int, ts: int) -> tuple[Draft, dict[str, Any]]:
        rng = self.rng
        age = slot - m.born_slot
        holders = [i for i, amt in m.holders.items() if amt > 0]
        creator_holds = m.holders.get(m.creator.index, 0)
        if creator_holds and rng.random() < 0.02:
            return self._sell(m, m.creator, creator_holds, ts, kind="creator_dump")
        buy_p = 0.75 if m.runner else 0.58
        if age < 30:
            buy_p = 0.9
        if not holders or rng.random() < buy_p:
            if age < 20 and rng.random() < 0.5:
                bots = [w for w in self.wallets if w.style == "bot"]
                w = rng.choice(bots) if bots else self._new_wallet("bot")
            elif m.runner and rng.random() < 0.15:
                whales = [w for w in self.wallets if w.style == "whale"]
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
            d = self._draft(w.kp, routed)
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
        amount = m.holders[w.index]
        part = amount if rng.random() < 0.35 else max(1, int(amount * rng.uniform(0.1, 0.9)))
        return self._sell(m, w, part, ts)

    def _sell(
        self, m: Market, w: Wallet, amount: int, ts: int, kind: str = "sell"
    ) -> tuple[Draft, dict[str, Any]]:
        routed = self.rng.random() < 0.2
        d = self._draft(w.kp, routed)
        fail = self.rng.random() < 0.03
        trade = C.sell_exact_tokens(m.curve, amount, self.era.fees)
        min_out = trade.user_sol * (2 if fail else 1) * 97 // 100
        user_ata = K.ata(w.address, m.mint, m.token_program)
        fee_recipient = self.rng.choice(A.PUMP_FEE_RECIPIENTS)
        creator_vault = K.creator_vault(m.creator.address)
        accounts = [
            A.PUMP_GLOBAL,
            fee_recipient,
            m.mint,
            m.bonding_curve,
            m.vault,
            user_ata,
            w.address,
            A.SYSTEM_PROGRAM,
            creator_vault,
            m.token_program,
            A.PUMP_EVENT_AUTHORITY,
            A.PUMP_PROGRAM,
            A.PUMP_FEE_CONFIG,
            A.PUMP_FEES_PROGRAM,
        ]
        buyback = self.rng.choice(A.BUYBACK_FEE_RECIPIENTS) if self.era.fees.buyback_bps else None
        if buyback:
            accounts.append(buyback)
        data = P.instruction(A.PUMP_PROGRAM, "sell", {"amount": amount, "min_sol_output": min_out})
        call = Call(A.PUMP_PROGRAM, accounts, data, units=32_000).log("Instruction: Sell")
        d.w(
            fee_recipient,
            m.bonding_curve,
            m.vault,
            user_ata,
            w.address,
            creator_vault,
            *((buyback and [buyback]) or []),
        )
        self._wrap_routed(d, call, routed)
        fees = self.era.fees
        P.get_fees(
            call,
            A.PUMP_FEE_CONFIG,
            A.PUMP_PROGRAM,
            m.curve.market_cap_lamports(),
            trade.sol_amount,
            (0, fees.protocol_bps, fees.creator_bps),
        )
        if fail:
            call.log(
                "AnchorError thrown in programs/pump/src/lib.rs. Error Code: TooLittleSolReceived. "
                "Error Number: 6003. Error Message: slippage: Too little SOL received to sell the given amount of tokens.."
            )
            call.fail = "custom program error: 0x1773"
            d.err = {"InstructionError": [len(d.top) - 1, {"Custom": 6003}]}
            return d, self._manifest(kind, m.mint, d, routed=routed)
        P.token_transfer(call, m.token_program, user_ata, m.mint, m.vault, w.address, amount, 6)
        d.token(user_ata, m.mint, w.address, m.token_program, 6, -amount)
        d.token(m.vault, m.mint, m.bonding_curve, m.token_program, 6, amount)
        d.move(m.bonding_curve, w.address, trade.user_sol)
        self._pay_fees(d, m.bonding_curve, fee_recipient, creator_vault, buyback, trade)
        w.volume += trade.sol_amount
        fields = P.curve_trade_fields(
            mint=m.mint,
            user=w.address,
            trade=trade,
            timestamp=ts,
            fee_recipient=fee_recipient,
            fees_bps=(fees.protocol_bps, fees.creator_bps, fees.cashback_bps, fees.buyback_bps),
            creator=m.creator.address,
            ix_name="sell",
            volume=w.volume,
        )
        fields["track_volume"] = False
        P.emit(d, call, A.PUMP_PROGRAM, "TradeEvent", self.era.trade, fields)
        m.curve = trade.after
        m.holders[w.index] = m.holders.get(w.index, 0) - amount
        d.accounts[m.bonding_curve] = self._curve_account(m, m.curve, 0)
        return d, self._manifest(kind, m.mint, d, routed=routed)

    def _pay_fees(
        self, d: Draft, src: str, recipient: str, creator_vault: str, buyback: str | None, trade: C.CurveTrade
    ) -> None:
        d.move(src, recipient, trade.fee - trade.buyback_fee)
        if buyback:
            d.move(src, buyback, trade.buyback_fee)
        if trade.creator_fee:
            d.move(src, creator_vault, trade.creator_fee)

    def _wrap_routed(self, d: Draft, call: Call, routed: bool) -> None:
        if routed:
            router = Call(
                ROUTER,
                [
                    d.top[-1].accounts[0] if d.top[-1].accounts else A.SYSTEM_PROGRAM,
                    *call.accounts[:8],
                    A.PUMP_PROGRAM,
                ],
                bytes.fromhex("e517cb977ae3ad2a") + bytes(10),
                units=25_000,
            )
            router.log("Instruction: Route")
            router.call(call)
            d.top.append(router)
        else:
            d.top.append(call)

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
        user_ata = K.ata(w.address, m.mint, m.token_program)
        if user_ata not in self.chain.tokens and (m.vault, user_ata) != (user_ata, user_ata):
            P.create_ata(d, None, w.address, w.address, m.mint, m.token_program, idempotent=True)
        fee_recipient = self.rng.choice(A.PUMP_FEE_RECIPIENTS)
        creator_vault = K.creator_vault(m.creator.address)
        uva = K.user_volume_accumulator(w.address)
        accounts = [
            A.PUMP_GLOBAL,
            fee_recipient,
            m.mint,
            m.bonding_curve,
            m.vault,
            user_ata,
            w.address,
            A.SYSTEM_PROGRAM,
            m.token_program,
            creator_vault,
            A.PUMP_EVENT_AUTHORITY,
            A.PUMP_PROGRAM,
            A.PUMP_GLOBAL_VOLUME_ACCUMULATOR,
            uva,
            A.PUMP_FEE_CONFIG,
            A.PUMP_FEES_PROGRAM,
        ]
        buyback = self.rng.choice(A.BUYBACK_FEE_RECIPIENTS) if fees.buyback_bps else None
        if buyback:
            accounts.append(buyback)
        if exact_sol:
            ix_name = "buy_exact_sol_in"
            limit = trade.token_amount * (2 if fail else 1) * (97 if not fail else 100) // 100
            data = P.instruction(
                A.PUMP_PROGRAM,
                ix_name,
                {"spendable_sol_in": sol, "min_tokens_out": limit, "track_volume": True},
            )
            label, code, hexcode = "BuyExactSolIn", ("TooLittleTokensReceived", 6042), "0x179a"
        else:
            ix_name = "buy"
            limit = trade.user_sol * (100 if not fail else 95) // 100 + (
                trade.user_sol // 100 if not fail else 0
            )
            data = P.instruction(
                A.PUMP_PROGRAM,
                "buy",
                {"amount": trade.token_amount, "max_sol_cost": limit, "track_volume": True},
            )
            label, code, hexcode = "Buy", ("TooMuchSolRequired", 6002), "0x1772"
        call = Call(A.PUMP_PROGRAM, accounts, data, units=38_000).log(f"Instruction: {label}")
        d.w(
            fee_recipient,
            m.bonding_curve,
            m.vault,
            user_ata,
            w.address,
            creator_vault,
            A.PUMP_GLOBAL_VOLUME_ACCUMULATOR,
            uva,
            *((buyback and [buyback]) or []),
        )
        self._wrap_routed(d, call, routed)
        P.get_fees(
            call,
            A.PUMP_FEE_CONFIG,
            A.PUMP_PROGRAM,
            m.curve.market_cap_lamports(),
            trade.sol_amount,
            (0, fees.protocol_bps, fees.creator_bps),
        )
        if fail:
            call.log(
                f"AnchorError thrown in programs/pump/src/lib.rs. Error Code: {code[0]}. Error Number: {code[1]}. "
                "Error Message: slippage: Too much SOL required to buy the given amount of tokens.."
            )
            call.fail = f"custom program error: {hexcode}"
            d.err = {"InstructionError": [len(d.top) - 1, {"Custom": code[1]}]}
            return
        P.token_transfer(
            call, m.token_program, m.vault, m.mint, user_ata, m.bonding_curve, trade.token_amount, 6
        )
        d.token(m.vault, m.mint, m.bonding_curve, m.token_program, 6, -trade.token_amount)
        d.token(user_ata, m.mint, w.address, m.token_program, 6, trade.token_amount)
        P.system_move(call, w.address, m.bonding_curve, trade.sol_amount)
        d.move(w.address, m.bonding_curve, trade.sol_amount)
        P.system_move(call, w.address, fee_recipient, trade.fee - trade.buyback_fee)
        d.move(w.address, fee_recipient, trade.fee - trade.buyback_fee)
        if buyback:
            P.system_move(call, w.address, buyback, trade.buyback_fee)
            d.move(w.address, buyback, trade.buyback_fee)
        if trade.creator_fee:
            P.system_move(call, w.address, creator_vault, trade.creator_fee)
            d.move(w.address, creator_vault, trade.creator_fee)
        w.volume += trade.sol_amount
        fields = P.curve_trade_fields(
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
        P.emit(d, call, A.PUMP_PROGRAM, "TradeEvent", self.era.trade, fields)
        m.curve = trade.after
        m.holders[w.index] = m.holders.get(w.index, 0) + trade.token_amount
        if trade.completes:
            P.emit(
                d,
                call,
                A.PUMP_PROGRAM,
                "CompleteEvent",
                self.era.complete,
                {
                    "user": w.address,
                    "mint": m.mint,
                    "bonding_curve": m.bonding_curve,
                    "timestamp": ts,
                    "quote_mint": P.ZERO_KEY,
                },
            )
            m.completed_slot = self.last_slot
            self.pending_migration.append(m)
        d.accounts[m.bonding_curve] = self._curve_account(m, m.curve, 0)

    def _migrate(self, m: Market, ts: int) -> tuple[Draft, dict[str, Any]]:
        d = self._draft(self.keeper)
        keeper = str(self.keeper.pubkey())
        mig = C.migration_of(m.curve)
        pool, bump = K.canonical_pool(m.mint)
        pa = K.pool_authority(m.mint)
        lp = K.lp_mint(pool)
        pool_base = K.ata(pool, m.mint, m.token_program)
        pool_quote = K.ata(pool, A.WSOL_MINT)
        pa_mint = K.ata(pa, m.mint, m.token_program)
        pa_wsol = K.ata(pa, A.WSOL_MINT)
        user_pool = K.ata(pa, lp, A.TOKEN_2022_PROGRAM)
        accounts = [
            A.PUMP_GLOBAL,
            A.MIGRATION_AUTHORITY,
            m.mint,
            m.bonding_curve,
            m.vault,
            keeper,
            A.SYSTEM_PROGRAM,
            m.token_program,
            A.PUMP_AMM_PROGRAM,
            pool,
            pa,
            pa_mint,
            pa_wsol,
            A.AMM_GLOBAL_CONFIG,
            A.WSOL_MINT,
            lp,
            user_pool,
            pool_base,
            pool_quote,
            A.TOKEN_2022_PROGRAM,
            A.ATA_PROGRAM,
            A.AMM_EVENT_AUTHORITY,
            A.PUMP_EVENT_AUTHORITY,
            A.PUMP_PROGRAM,
            A.RENT_SYSVAR,
        ]
        call = Call(A.PUMP_PROGRAM, accounts, P.instruction(A.PUMP_PROGRAM, "migrate", {}), units=60_000)
        call.log("Instruction: Migrate")
        d.w(
            m.bonding_curve,
            m.vault,
            keeper,
            pool,
            pa,
            pa_mint,
            pa_wsol,
            lp,
            user_pool,
            pool_base,
            pool_quote,
            A.PUMP_GLOBAL,
        )
        d.top.append(call)
        P.create_ata(d, call, keeper, pa, m.mint, m.token_program, idempotent=True)
        P.create_ata(d, call, keeper, pa, A.WSOL_MINT, A.TOKEN_PROGRAM, idempotent=True)
        # curve -> pool authority: all remaining tokens and the SOL (wrapped)
        P.token_transfer(call, m.token_program, m.vault, m.mint, pa_mint, m.bonding_curve, mig.mint_amount, 6)
        d.token(m.vault, m.mint, m.bonding_curve, m.token_program, 6, -mig.mint_amount)
        d.token(pa_mint, m.mint, pa, m.token_program, 6, mig.mint_amount)
        d.move(m.bonding_curve, pa_wsol, mig.sol_amount)
        d.move(m.bonding_curve, keeper, mig.pool_migration_fee)
        d.token(pa_wsol, A.WSOL_MINT, pa, A.TOKEN_PROGRAM, 9, mig.sol_amount)
        call.call(Call(A.TOKEN_PROGRAM, [pa_wsol], b"\x11", units=3406)).log("Instruction: SyncNative")
        coin_creator = m.creator.address
        create_args = {
            "index": 0,
            "base_amount_in": mig.mint_amount,
            "quote_amount_in": mig.sol_amount,
            "coin_creator": coin_creator,
            "is_mayhem_mode": False,
            "is_cashback_coin": False,
        }
        amm = Call(
            A.PUMP_AMM_PROGRAM,
            [
                pool,
                A.AMM_GLOBAL_CONFIG,
                pa,
                m.mint,
                A.WSOL_MINT,
                lp,
                pa_mint,
                pa_wsol,
                user_pool,
                pool_base,
                pool_quote,
                A.SYSTEM_PROGRAM,
                A.TOKEN_2022_PROGRAM,
                m.token_program,
                A.TOKEN_PROGRAM,
                A.ATA_PROGRAM,
                A.AMM_EVENT_AUTHORITY,
                A.PUMP_AMM_PROGRAM,
            ],
            P.instruction(A.PUMP_AMM_PROGRAM, "create_pool", create_args),
            units=60_000,
        )
        amm.log("Instruction: CreatePool")
        call.call(amm)
        P.system_move(amm, keeper, pool, rent(300))
        d.move(keeper, pool, rent(300))
        P.system_move(amm, keeper, lp, rent(82))
        d.move(keeper, lp, rent(82))
        amm.call(Call(A.TOKEN_2022_PROGRAM, [lp], b"\x14\x09" + bytes(33), units=1225)).log(
            "Instruction: InitializeMint2"
        )
        P.create_ata(d, amm, keeper, pa, lp, A.TOKEN_2022_PROGRAM, idempotent=False)
        P.create_ata(d, amm, keeper, pool, m.mint, m.token_program, idempotent=False)
        P.create_ata(d, amm, keeper, pool, A.WSOL_MINT, A.TOKEN_PROGRAM, idempotent=False)
        P.token_transfer(amm, m.token_program, pa_mint, m.mint, pool_base, pa, mig.mint_amount, 6)
        d.token(pa_mint, m.mint, pa, m.token_program, 6, -mig.mint_amount)
        d.token(pool_base, m.mint, pool, m.token_program, 6, mig.mint_amount)
        P.token_transfer(amm, A.TOKEN_PROGRAM, pa_wsol, A.WSOL_MINT, pool_quote, pa, mig.sol_amount, 9)
        d.token(pa_wsol, A.WSOL_MINT, pa, A.TOKEN_PROGRAM, 9, -mig.sol_amount)
        d.token(pool_quote, A.WSOL_MINT, pool, A.TOKEN_PROGRAM, 9, mig.sol_amount)
        d.move(pa_wsol, pool_quote, mig.sol_amount)
        P.mint_to(amm, A.TOKEN_2022_PROGRAM, lp, user_pool, pool, mig.lp_token_amount_out)
        d.token(user_pool, lp, pa, A.TOKEN_2022_PROGRAM, 6, mig.lp_token_amount_out)
        P.emit(
            d,
            amm,
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
        P.burn(call, A.TOKEN_2022_PROGRAM, user_pool, lp, pa, mig.lp_token_amount_out)
        d.token(user_pool, lp, pa, A.TOKEN_2022_PROGRAM, 6, -mig.lp_token_amount_out)
        P.emit(
            d,
            call,
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
        d.accounts[m.bonding_curve] = self._curve_account(m, m.curve, 0)
        d.accounts[pool] = self._pool_account(m)
        d.accounts[lp] = mint_account(0, 6, A.TOKEN_2022_PROGRAM)
        return d, self._manifest("migrate", m.mint, d)

    def _pool_account(self, m: Market) -> Account:
        from executor.decode.encode import encode_account

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
        holders = [i for i, amt in m.holders.items() if amt > 0]
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
            amount = m.holders[w.index]
            part = amount if rng.random() < 0.4 else max(1, int(amount * rng.uniform(0.1, 0.9)))
            trade = C.amm_sell_exact_base(m.base_reserve, m.quote_reserve, part, fees)
        d = self._draft(w.kp)
        user_base = K.ata(w.address, m.mint, m.token_program)
        user_quote = K.ata(w.address, A.WSOL_MINT)
        if user_quote not in self.chain.tokens:
            P.create_ata(d, None, w.address, w.address, A.WSOL_MINT, A.TOKEN_PROGRAM, idempotent=True)
        if is_buy and user_base not in self.chain.tokens:
            P.create_ata(d, None, w.address, w.address, m.mint, m.token_program, idempotent=True)
        recipient = rng.choice(A.AMM_PROTOCOL_FEE_RECIPIENTS)
        recipient_ata = K.ata(recipient, A.WSOL_MINT)
        cva = K.amm_creator_vault_authority(m.creator.address)
        cv_ata = K.ata(cva, A.WSOL_MINT)
        accounts = [
            m.pool,
            w.address,
            A.AMM_GLOBAL_CONFIG,
            m.mint,
            A.WSOL_MINT,
            user_base,
            user_quote,
            m.pool_base,
            m.pool_quote,
            recipient,
            recipient_ata,
            m.token_program,
            A.TOKEN_PROGRAM,
            A.SYSTEM_PROGRAM,
            A.ATA_PROGRAM,
            A.AMM_EVENT_AUTHORITY,
            A.PUMP_AMM_PROGRAM,
            cv_ata,
            cva,
        ]
        base_before = self.chain.tokens[user_base].amount if user_base in self.chain.tokens else 0
        quote_before = self.chain.tokens[user_quote].amount if user_quote in self.chain.tokens else 0
        if is_buy:
            uva = K.user_volume_accumulator(w.address, A.PUMP_AMM_PROGRAM)
            accounts += [A.AMM_GLOBAL_VOLUME_ACCUMULATOR, uva, A.AMM_FEE_CONFIG, A.PUMP_FEES_PROGRAM]
            limit = trade.user_quote * 101 // 100
            data = P.instruction(
                A.PUMP_AMM_PROGRAM,
                "buy",
                {"base_amount_out": trade.base_amount, "max_quote_amount_in": limit, "track_volume": True},
            )
            # wrap exactly what the buy takes
            wrap = Call(A.SYSTEM_PROGRAM, [w.address, user_quote], system_transfer(trade.user_quote))
            d.top.append(wrap)
            d.move(w.address, user_quote, trade.user_quote)
            d.token(user_quote, A.WSOL_MINT, w.address, A.TOKEN_PROGRAM, 9, trade.user_quote)
            d.top.append(
                Call(A.TOKEN_PROGRAM, [user_quote], b"\x11", units=3000).log("Instruction: SyncNative")
            )
            quote_before += trade.user_quote
            d.w(uva, A.AMM_GLOBAL_VOLUME_ACCUMULATOR)
            label = "Buy"
        else:
            accounts += [A.AMM_FEE_CONFIG, A.PUMP_FEES_PROGRAM]
            limit = trade.user_quote * 97 // 100
            data = P.instruction(
                A.PUMP_AMM_PROGRAM,
                "sell",
                {"base_amount_in": trade.base_amount, "min_quote_amount_out": limit},
            )
            label = "Sell"
        call = Call(A.PUMP_AMM_PROGRAM, accounts, data, units=45_000).log(f"Instruction: {label}")
        d.w(m.pool, w.address, user_base, user_quote, m.pool_base, m.pool_quote, recipient_ata, cv_ata)
        d.top.append(call)
        P.get_fees(
            call,
            A.AMM_FEE_CONFIG,
            A.PUMP_AMM_PROGRAM,
            C.amm_market_cap_lamports(m.base_reserve, m.quote_reserve),
            trade.quote_amount,
            fees_t,
        )
        tp = m.token_program
        if is_buy:
            P.token_transfer(call, tp, m.pool_base, m.mint, user_base, m.pool, trade.base_amount, 6)
            P.token_transfer(
                call,
                A.TOKEN_PROGRAM,
                user_quote,
                A.WSOL_MINT,
                m.pool_quote,
                w.address,
                trade.quote_with_lp,
                9,
            )
            P.token_transfer(
                call,
                A.TOKEN_PROGRAM,
                user_quote,
                A.WSOL_MINT,
                recipient_ata,
                w.address,
                trade.protocol_fee,
                9,
            )
            moves = [
                (user_quote, m.pool_quote, trade.quote_with_lp),
                (user_quote, recipient_ata, trade.protocol_fee),
            ]
            if trade.creator_fee:
                P.token_transfer(
                    call, A.TOKEN_PROGRAM, user_quote, A.WSOL_MINT, cv_ata, w.address, trade.creator_fee, 9
                )
                moves.append((user_quote, cv_ata, trade.creator_fee))
            d.token(m.pool_base, m.mint, m.pool, tp, 6, -trade.base_amount)
            d.token(user_base, m.mint, w.address, tp, 6, trade.base_amount)
            m.holders[w.index] = m.holders.get(w.index, 0) + trade.base_amount
            w.amm_volume += trade.quote_amount
        else:
            P.token_transfer(call, tp, user_base, m.mint, m.pool_base, w.address, trade.base_amount, 6)
            P.token_transfer(
                call, A.TOKEN_PROGRAM, m.pool_quote, A.WSOL_MINT, user_quote, m.pool, trade.user_quote, 9
            )
            P.token_transfer(
                call, A.TOKEN_PROGRAM, m.pool_quote, A.WSOL_MINT, recipient_ata, m.pool, trade.protocol_fee, 9
            )
            moves = [
                (m.pool_quote, user_quote, trade.user_quote),
                (m.pool_quote, recipient_ata, trade.protocol_fee),
            ]
            if trade.creator_fee:
                P.token_transfer(
                    call, A.TOKEN_PROGRAM, m.pool_quote, A.WSOL_MINT, cv_ata, m.pool, trade.creator_fee, 9
                )
                moves.append((m.pool_quote, cv_ata, trade.creator_fee))
            d.token(user_base, m.mint, w.address, tp, 6, -trade.base_amount)
            d.token(m.pool_base, m.mint, m.pool, tp, 6, trade.base_amount)
            m.holders[w.index] = m.holders.get(w.index, 0) - trade.base_amount
        for src, dst, amount in moves:
            d.move(src, dst, amount)
            owner_src = self._wsol_owner(src, m, w, recipient, cva)
            owner_dst = self._wsol_owner(dst, m, w, recipient, cva)
            d.token(src, A.WSOL_MINT, owner_src, A.TOKEN_PROGRAM, 9, -amount)
            d.token(dst, A.WSOL_MINT, owner_dst, A.TOKEN_PROGRAM, 9, amount)
        fields = P.amm_trade_fields(
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
        P.emit(
            d,
            call,
            A.PUMP_AMM_PROGRAM,
            "BuyEvent" if is_buy else "SellEvent",
            self.era.amm_buy if is_buy else self.era.amm_sell,
            fields,
        )
        d.events[-1].fields.update(base_mint=m.mint, quote_mint_account=A.WSOL_MINT)
        m.base_reserve, m.quote_reserve = trade.base_reserve_after, trade.quote_reserve_after
        return d, self._manifest("pumpswap_buy" if is_buy else "pumpswap_sell", m.mint, d)

    @staticmethod
    def _wsol_owner(account: str, m: Market, w: Wallet, recipient: str, cva: str) -> str:
        if account == m.pool_quote:
            return m.pool
        if account == K.ata(recipient, A.WSOL_MINT):
            return recipient
        if account == K.ata(cva, A.WSOL_MINT):
            return cva
        return w.address

    # --- output ----------------------------------------------------------------------------

    def _manifest(self, kind: str, mint: str, d: Draft, routed: bool = False) -> dict[str, Any]:
        return {"kind": kind, "mint": mint, "routed": routed}

    def _entry(self, d: Draft, row: dict[str, Any], slot: int, block_time: int) -> Entry:
        blockhash = hashlib.sha256(b"blockhash/%d/%d" % (self.seed, slot - 2)).digest()
        if self.truncate_p and self.rng.random() < self.truncate_p:
            _add_log_noise(d)
        fast = hashlib.sha256(b"sig/%d/%d" % (self.seed, self.count)).digest() if self.fast else None
        done = finish(self.chain, d, blockhash=blockhash, log_limit=LOG_LIMIT_BYTES, fast_signature=fast)
        built = done.built
        records = [] if d.err is not None else [_record(i, ev) for i, ev in enumerate(d.events)]
        manifest = {
            "signature": built.signature,
            "slot": slot,
            "block_time": block_time,
            "kind": row["kind"],
            "mint": row["mint"],
            "err": d.err,
            "records": records,
            "routed": row["routed"],
            "log_truncated": "Log truncated" in built.logs,
        }
        body = GeneratedBody.create(slot, block_time, built, done.meta)
        accounts = tuple(d.accounts.items()) if d.err is None else ()
        return Entry(
            signature=built.signature,
            slot=slot,
            block_time=block_time,
            err=d.err,
            logs=built.logs,
            keys=built.keys,
            body=body,
            manifest=manifest,
            accounts=accounts,
            lamports=done.lamports,
            token_balances=done.token_balances,
        )


NOISE_PROGRAM = b58encode(hashlib.sha256(b"pumpflow-sim/noise-bot").digest())


def _add_log_noise(d: Draft) -> None:
    """A chatty bot instruction before the trade: the runtime's 10,000-byte log cap then cuts the
    pump lines (`Log truncated`), as heavy router transactions do on mainnet. Events stay in the
    self-CPI inner instructions."""
    noise = Call(NOISE_PROGRAM, [], b"\x00", units=20_000)
    for i in range(48):
        noise.log(f"arb leg {i}: " + "route " * 32)
    d.top.insert(2, noise)
    if d.err is not None:
        ix, detail = d.err["InstructionError"]
        d.err = {"InstructionError": [ix + 1, detail]}


_RECORD_OF = {
    "CreateEvent": R.Launch,
    "TradeEvent": R.CurveTrade,
    "CompleteEvent": R.CurveComplete,
    "CompletePumpAmmMigrationEvent": R.Migration,
    "CreatePoolEvent": R.AmmPoolCreated,
    "BuyEvent": R.AmmTrade,
    "SellEvent": R.AmmTrade,
}
_FIELDS_CACHE: dict[tuple[str, str], frozenset[str]] = {}


def _layout_fields(program: str, name: str, version: str) -> frozenset[str]:
    key = (name, version)
    found = _FIELDS_CACHE.get(key)
    if found is None:
        found = frozenset(f.name for f in layout_by_name("event", name, program).fields_until(version))
        _FIELDS_CACHE[key] = found
    return found


def _record(event_index: int, ev: Event) -> dict[str, Any]:
    """The record the decoder should produce for this event, in its vocabulary."""
    import dataclasses

    cls = _RECORD_OF[ev.name]
    present = _layout_fields(ev.program, ev.name, ev.version)
    values = ev.fields
    out: dict[str, Any] = {
        "kind": getattr(cls, "kind"),  # noqa: B009 - ClassVar on the record dataclasses
        "event_index": event_index,
        "program": ev.program,
        "layout_version": ev.version,
    }
    for f in dataclasses.fields(cls):
        name = f.name
        if name in R.ENVELOPE_FIELDS:
            continue
        if cls is R.AmmTrade and name in R.DERIVED_FIELDS[R.AmmTrade]:
            is_buy = ev.name == "BuyEvent"
            if name == "is_buy":
                out[name] = is_buy
            elif name in R.AMM_SIDED:
                out[name] = values[R.AMM_SIDED[name][0 if is_buy else 1]]
            elif name == "base_mint":
                out[name] = values["base_mint"]
            else:
                out[name] = values["quote_mint_account"]
            continue
        if cls is R.Launch and name == "ix_name":
            out[name] = values["ix_name"]
            continue
        out[name] = values.get(name) if name in present else None
    if cls is R.CurveTrade and out.get("shareholders") is not None:
        out["shareholders"] = [list(p) for p in out["shareholders"]]
    return out


def lifecycle_feed(
    cfg: SimConfig, clock: ChainClock, faults: FaultPlan
) -> tuple[Iterator[tuple[float, Entry]], dict[str, Account]]:
    world = World(cfg, clock, faults)

    def gen() -> Iterator[tuple[float, Entry]]:
        while True:
            yield world.next_entry()

    return gen(), world.initial_accounts
