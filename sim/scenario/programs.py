"""Invocations of pump, PumpSwap and the helper programs, as the real programs log them.

Structure only: each function adds one instruction (with its CPIs and log lines) to an invoke
tree whose variable accounts are names (`"$user"`) and whose variable data are `Hole`s; the
values behind the names are set per transaction by `lifecycle`, which also books the balance
effects. Constant data (rent transfers, fixed instruction bytes) are written out here.
"""

from __future__ import annotations

import hashlib
import struct

from executor.curve import TOKEN_TOTAL_SUPPLY
from sim import addresses as A
from sim.scenario.codec import encode_instruction
from sim.scenario.txbuild import (
    Call,
    Hole,
    Line,
    compute_unit_limit,
    return_line,
    system_create_account,
    system_transfer,
    token_mint_to,
)
from sim.txformat import b58encode

ROUTER = A.JUPITER_PROGRAM
_ROUTE = bytes.fromhex("e517cb977ae3ad2a") + bytes(10)
METADATA_RENT = 5_616_720
MIGRATE_DATA = encode_instruction(A.PUMP_PROGRAM, "migrate", {})
NOISE_PROGRAM = b58encode(hashlib.sha256(b"pumpflow-sim/noise-bot").digest())

BUY_ERRORS = {
    False: ("Buy", "TooMuchSolRequired", 6002, "0x1772"),
    True: ("BuyExactSolIn", "TooLittleTokensReceived", 6042, "0x179a"),
}


def rent(size: int) -> int:
    """Rent-exempt minimum for `size` bytes of data."""
    return (128 + size) * 6960


def mint_size(v2: bool) -> int:
    return 400 if v2 else 82


def ata_size(program: str) -> int:
    return 170 if program == A.TOKEN_2022_PROGRAM else 165


class Tree:
    """A transaction's top-level instructions and writable accounts while its shape is built."""

    def __init__(self) -> None:
        self.top: list[Call] = []
        self.writable: set[str] = set()
        self.events = 0

    def w(self, *keys: str) -> None:
        self.writable.update(keys)

    def emit(self, call: Call, program: str) -> None:
        """Both event carriers: the `Program data:` line and the self-CPI through the event
        authority. Events are numbered in log order: values `#ev<i>` and `#cpi<i>`."""
        i = self.events
        self.events += 1
        authority = A.PUMP_EVENT_AUTHORITY if program == A.PUMP_PROGRAM else A.AMM_EVENT_AUTHORITY
        call.body.append(Line(f"#ev{i}"))
        call.call(
            Call(program, [authority], Hole(f"#cpi{i}"), units=2060 if program == A.PUMP_PROGRAM else 2048)
        )

    def wrap_routed(self, call: Call, routed: bool) -> None:
        """A top-level pump instruction, or one an aggregator routes by CPI."""
        if not routed:
            self.top.append(call)
            return
        previous = self.top[-1]
        router = Call(
            ROUTER,
            [
                previous.accounts[0] if previous.accounts else A.SYSTEM_PROGRAM,
                *call.accounts[:8],
                A.PUMP_PROGRAM,
            ],
            _ROUTE,
            units=25_000,
        )
        router.log("Instruction: Route")
        router.call(call)
        self.top.append(router)


def compute_budget(tree: Tree, limit: int) -> None:
    tree.top.append(Call(A.COMPUTE_BUDGET_PROGRAM, [], compute_unit_limit(limit), units=150))
    tree.top.append(Call(A.COMPUTE_BUDGET_PROGRAM, [], Hole("#cu_price"), units=150))


def create_ata(
    tree: Tree,
    parent: Call | None,
    payer: str,
    account: str,
    owner: str,
    mint: str,
    program: str,
    idempotent: bool,
) -> None:
    """Associated token account creation (top level when `parent` is None). Its
    InitializeAccount3 data carries the owner: value `#init<account>`."""
    call = Call(
        A.ATA_PROGRAM,
        [payer, account, owner, mint, A.SYSTEM_PROGRAM, program],
        b"\x01" if idempotent else b"",
        units=4000,
    )
    call.log("CreateIdempotent" if idempotent else "Create")
    size = ata_size(program)
    size_call = call.call(Call(program, [mint], b"\x15", units=1400)).log("Instruction: GetAccountDataSize")
    size_call.body.append(return_line(program, struct.pack("<Q", size)))
    call.call(Call(A.SYSTEM_PROGRAM, [payer, account], system_create_account(rent(size), size, program)))
    call.log("Initialize the associated token account")
    call.call(Call(program, [account], b"\x16", units=700)).log("Instruction: InitializeImmutableOwner")
    call.call(Call(program, [account, mint], Hole("#init" + account), units=1900)).log(
        "Instruction: InitializeAccount3"
    )
    tree.w(payer, account)
    if parent is None:
        tree.top.append(call)
    else:
        parent.call(call)


def get_fees(call: Call, fee_config: str, trading_program: str, fees: tuple[int, int, int]) -> None:
    """The Pump Fees `get_fees` CPI both trading programs make (data: value `#fees`); its return
    data is (lp, protocol, creator)."""
    fees_call = call.call(Call(A.PUMP_FEES_PROGRAM, [fee_config, trading_program], Hole("#fees"), units=3136))
    fees_call.log("Instruction: GetFees")
    fees_call.body.append(return_line(A.PUMP_FEES_PROGRAM, struct.pack("<QQQ", *fees)))


def token_transfer(
    call: Call, program: str, source: str, mint: str, dest: str, authority: str, data: str
) -> None:
    t = call.call(
        Call(
            program,
            [source, mint, dest, authority],
            Hole(data),
            units=6147 if program == A.TOKEN_PROGRAM else 2475,
        )
    )
    t.log("Instruction: TransferChecked")


def system_move(call: Call, src: str, dst: str, data: bytes | Hole) -> None:
    call.call(Call(A.SYSTEM_PROGRAM, [src, dst], data))


def mint_to(call: Call, program: str, mint: str, dest: str, authority: str, data: bytes | Hole) -> None:
    call.call(Call(program, [mint, dest, authority], data, units=1642)).log("Instruction: MintTo")


def burn(call: Call, program: str, account: str, mint: str, authority: str, data: str) -> None:
    call.call(Call(program, [account, mint, authority], Hole(data), units=1295)).log("Instruction: Burn")


# --- one function per pump / PumpSwap instruction the scenario sends -----------------------------


def create(tree: Tree, v2: bool, token_program: str) -> None:
    """`create` / `create_v2` with the mint, curve, vault (and metadata) set-up; data `#create`."""
    if v2:
        accounts = [
            "$mint",
            A.PUMP_MINT_AUTHORITY,
            "$curve",
            "$vault",
            A.PUMP_GLOBAL,
            "$user",
            A.SYSTEM_PROGRAM,
            A.TOKEN_2022_PROGRAM,
            A.ATA_PROGRAM,
            A.MAYHEM_PROGRAM,
            "$mayhem_params",
            "$mayhem_vault",
            "$mayhem_state",
            "$mayhem_token_vault",
            A.PUMP_EVENT_AUTHORITY,
            A.PUMP_PROGRAM,
        ]
        call = Call(A.PUMP_PROGRAM, accounts, Hole("#create"), units=120_000).log("Instruction: CreateV2")
        tree.w("$mayhem_state", "$mayhem_token_vault")
    else:
        accounts = [
            "$mint",
            A.PUMP_MINT_AUTHORITY,
            "$curve",
            "$vault",
            A.PUMP_GLOBAL,
            A.METAPLEX_PROGRAM,
            "$metadata",
            "$user",
            A.SYSTEM_PROGRAM,
            A.TOKEN_PROGRAM,
            A.ATA_PROGRAM,
            A.RENT_SYSVAR,
            A.PUMP_EVENT_AUTHORITY,
            A.PUMP_PROGRAM,
        ]
        call = Call(A.PUMP_PROGRAM, accounts, Hole("#create"), units=90_000).log("Instruction: Create")
        tree.w("$metadata")
    tree.w("$mint", "$curve", "$vault", "$user")
    system_move(call, "$user", "$mint", system_transfer(rent(mint_size(v2))))
    init = call.call(Call(token_program, ["$mint"], b"\x14\x06" + bytes(32) + b"\x00", units=1700))
    init.log("Instruction: InitializeMint2")
    system_move(call, "$user", "$curve", system_transfer(rent(150)))
    create_ata(tree, call, "$user", "$vault", "$curve", "$mint", token_program, idempotent=False)
    if not v2:
        md = call.call(
            Call(
                A.METAPLEX_PROGRAM,
                ["$metadata", "$mint", A.PUMP_MINT_AUTHORITY, "$user"],
                b"\x21" + bytes(8),
                units=30_000,
            )
        )
        md.log("IX: Create Metadata Accounts v3")
        system_move(md, "$user", "$metadata", system_transfer(METADATA_RENT))
    mint_to(call, token_program, "$mint", "$vault", A.PUMP_MINT_AUTHORITY, token_mint_to(TOKEN_TOTAL_SUPPLY))
    call.call(Call(token_program, ["$mint", A.PUMP_MINT_AUTHORITY], b"\x06\x00\x00", units=958)).log(
        "Instruction: SetAuthority"
    )
    tree.emit(call, A.PUMP_PROGRAM)
    tree.top.append(call)


def curve_buy(
    tree: Tree,
    *,
    token_program: str,
    exact_sol: bool,
    routed: bool,
    fail: bool,
    buyback: bool,
    creator_fee: bool,
    completes: bool,
    fees: tuple[int, int, int],
) -> None:
    """`buy` / `buy_exact_sol_in` (data `#ix`): get_fees (`#fees`), tokens out of the vault
    (`#x0`), SOL to the curve, fee recipient, buyback and creator vault (`#m0`..`#m3`), the
    TradeEvent and, when the curve completes, the CompleteEvent."""
    accounts = [
        A.PUMP_GLOBAL,
        "$fee_recipient",
        "$mint",
        "$curve",
        "$vault",
        "$user_ata",
        "$user",
        A.SYSTEM_PROGRAM,
        token_program,
        "$creator_vault",
        A.PUMP_EVENT_AUTHORITY,
        A.PUMP_PROGRAM,
        A.PUMP_GLOBAL_VOLUME_ACCUMULATOR,
        "$uva",
        A.PUMP_FEE_CONFIG,
        A.PUMP_FEES_PROGRAM,
    ]
    if buyback:
        accounts.append("$buyback")
    label, error, code, hexcode = BUY_ERRORS[exact_sol]
    call = Call(A.PUMP_PROGRAM, accounts, Hole("#ix"), units=38_000).log(f"Instruction: {label}")
    tree.w(
        "$fee_recipient",
        "$curve",
        "$vault",
        "$user_ata",
        "$user",
        "$creator_vault",
        A.PUMP_GLOBAL_VOLUME_ACCUMULATOR,
        "$uva",
        *(["$buyback"] if buyback else []),
    )
    tree.wrap_routed(call, routed)
    get_fees(call, A.PUMP_FEE_CONFIG, A.PUMP_PROGRAM, fees)
    if fail:
        call.log(
            f"AnchorError thrown in programs/pump/src/lib.rs. Error Code: {error}. Error Number: {code}. "
            "Error Message: slippage: Too much SOL required to buy the given amount of tokens.."
        )
        call.fail = f"custom program error: {hexcode}"
        return
    token_transfer(call, token_program, "$vault", "$mint", "$user_ata", "$curve", "#x0")
    system_move(call, "$user", "$curve", Hole("#m0"))
    system_move(call, "$user", "$fee_recipient", Hole("#m1"))
    if buyback:
        system_move(call, "$user", "$buyback", Hole("#m2"))
    if creator_fee:
        system_move(call, "$user", "$creator_vault", Hole("#m3"))
    tree.emit(call, A.PUMP_PROGRAM)
    if completes:
        tree.emit(call, A.PUMP_PROGRAM)


def curve_sell(
    tree: Tree, *, token_program: str, routed: bool, fail: bool, buyback: bool, fees: tuple[int, int, int]
) -> None:
    """`sell` (data `#ix`): get_fees (`#fees`), tokens into the vault (`#x0`), the TradeEvent.
    The SOL leaves the program-owned curve without a System transfer."""
    accounts = [
        A.PUMP_GLOBAL,
        "$fee_recipient",
        "$mint",
        "$curve",
        "$vault",
        "$user_ata",
        "$user",
        A.SYSTEM_PROGRAM,
        "$creator_vault",
        token_program,
        A.PUMP_EVENT_AUTHORITY,
        A.PUMP_PROGRAM,
        A.PUMP_FEE_CONFIG,
        A.PUMP_FEES_PROGRAM,
    ]
    if buyback:
        accounts.append("$buyback")
    call = Call(A.PUMP_PROGRAM, accounts, Hole("#ix"), units=32_000).log("Instruction: Sell")
    tree.w(
        "$fee_recipient",
        "$curve",
        "$vault",
        "$user_ata",
        "$user",
        "$creator_vault",
        *(["$buyback"] if buyback else []),
    )
    tree.wrap_routed(call, routed)
    get_fees(call, A.PUMP_FEE_CONFIG, A.PUMP_PROGRAM, fees)
    if fail:
        call.log(
            "AnchorError thrown in programs/pump/src/lib.rs. Error Code: TooLittleSolReceived. "
            "Error Number: 6003. Error Message: slippage: Too little SOL received to sell the given amount of tokens.."
        )
        call.fail = "custom program error: 0x1773"
        return
    token_transfer(call, token_program, "$user_ata", "$mint", "$vault", "$user", "#x0")
    tree.emit(call, A.PUMP_PROGRAM)


def migrate(tree: Tree, token_program: str) -> None:
    """`migrate` by the keeper: the curve's tokens and SOL to the pool authority, PumpSwap
    `create_pool` by CPI (data `#create_pool`; transfers `#x0`..`#x2`, LP `#mint_lp`, `#burn`),
    CreatePoolEvent, then CompletePumpAmmMigrationEvent."""
    tp = token_program
    accounts = [
        A.PUMP_GLOBAL,
        A.MIGRATION_AUTHORITY,
        "$mint",
        "$curve",
        "$vault",
        "$keeper",
        A.SYSTEM_PROGRAM,
        tp,
        A.PUMP_AMM_PROGRAM,
        "$pool",
        "$pool_authority",
        "$pa_mint",
        "$pa_wsol",
        A.AMM_GLOBAL_CONFIG,
        A.WSOL_MINT,
        "$lp",
        "$user_pool",
        "$pool_base",
        "$pool_quote",
        A.TOKEN_2022_PROGRAM,
        A.ATA_PROGRAM,
        A.AMM_EVENT_AUTHORITY,
        A.PUMP_EVENT_AUTHORITY,
        A.PUMP_PROGRAM,
        A.RENT_SYSVAR,
    ]
    call = Call(A.PUMP_PROGRAM, accounts, MIGRATE_DATA, units=60_000)
    call.log("Instruction: Migrate")
    tree.w(
        "$curve",
        "$vault",
        "$keeper",
        "$pool",
        "$pool_authority",
        "$pa_mint",
        "$pa_wsol",
        "$lp",
        "$user_pool",
        "$pool_base",
        "$pool_quote",
        A.PUMP_GLOBAL,
    )
    tree.top.append(call)
    create_ata(tree, call, "$keeper", "$pa_mint", "$pool_authority", "$mint", tp, idempotent=True)
    create_ata(
        tree, call, "$keeper", "$pa_wsol", "$pool_authority", A.WSOL_MINT, A.TOKEN_PROGRAM, idempotent=True
    )
    token_transfer(call, tp, "$vault", "$mint", "$pa_mint", "$curve", "#x0")
    call.call(Call(A.TOKEN_PROGRAM, ["$pa_wsol"], b"\x11", units=3406)).log("Instruction: SyncNative")
    amm = Call(
        A.PUMP_AMM_PROGRAM,
        [
            "$pool",
            A.AMM_GLOBAL_CONFIG,
            "$pool_authority",
            "$mint",
            A.WSOL_MINT,
            "$lp",
            "$pa_mint",
            "$pa_wsol",
            "$user_pool",
            "$pool_base",
            "$pool_quote",
            A.SYSTEM_PROGRAM,
            A.TOKEN_2022_PROGRAM,
            tp,
            A.TOKEN_PROGRAM,
            A.ATA_PROGRAM,
            A.AMM_EVENT_AUTHORITY,
            A.PUMP_AMM_PROGRAM,
        ],
        Hole("#create_pool"),
        units=60_000,
    )
    amm.log("Instruction: CreatePool")
    call.call(amm)
    system_move(amm, "$keeper", "$pool", system_transfer(rent(300)))
    system_move(amm, "$keeper", "$lp", system_transfer(rent(82)))
    amm.call(Call(A.TOKEN_2022_PROGRAM, ["$lp"], b"\x14\x09" + bytes(33), units=1225)).log(
        "Instruction: InitializeMint2"
    )
    create_ata(
        tree, amm, "$keeper", "$user_pool", "$pool_authority", "$lp", A.TOKEN_2022_PROGRAM, idempotent=False
    )
    create_ata(tree, amm, "$keeper", "$pool_base", "$pool", "$mint", tp, idempotent=False)
    create_ata(tree, amm, "$keeper", "$pool_quote", "$pool", A.WSOL_MINT, A.TOKEN_PROGRAM, idempotent=False)
    token_transfer(amm, tp, "$pa_mint", "$mint", "$pool_base", "$pool_authority", "#x1")
    token_transfer(amm, A.TOKEN_PROGRAM, "$pa_wsol", A.WSOL_MINT, "$pool_quote", "$pool_authority", "#x2")
    mint_to(amm, A.TOKEN_2022_PROGRAM, "$lp", "$user_pool", "$pool", Hole("#mint_lp"))
    tree.emit(amm, A.PUMP_AMM_PROGRAM)
    burn(call, A.TOKEN_2022_PROGRAM, "$user_pool", "$lp", "$pool_authority", "#burn")
    tree.emit(call, A.PUMP_PROGRAM)


def amm_trade(
    tree: Tree, *, is_buy: bool, token_program: str, creator_fee: bool, fees: tuple[int, int, int]
) -> None:
    """PumpSwap `buy` (after wrapping the exact quote: `#wrap`, SyncNative) or `sell` (data
    `#ix`): get_fees (`#fees`), base and quote transfers (`#x0`..`#x3`), Buy/SellEvent."""
    tp = token_program
    accounts = [
        "$pool",
        "$user",
        A.AMM_GLOBAL_CONFIG,
        "$mint",
        A.WSOL_MINT,
        "$user_base",
        "$user_quote",
        "$pool_base",
        "$pool_quote",
        "$recipient",
        "$recipient_ata",
        tp,
        A.TOKEN_PROGRAM,
        A.SYSTEM_PROGRAM,
        A.ATA_PROGRAM,
        A.AMM_EVENT_AUTHORITY,
        A.PUMP_AMM_PROGRAM,
        "$cv_ata",
        "$cva",
    ]
    if is_buy:
        accounts += [A.AMM_GLOBAL_VOLUME_ACCUMULATOR, "$uva", A.AMM_FEE_CONFIG, A.PUMP_FEES_PROGRAM]
        tree.top.append(Call(A.SYSTEM_PROGRAM, ["$user", "$user_quote"], Hole("#wrap")))
        tree.top.append(
            Call(A.TOKEN_PROGRAM, ["$user_quote"], b"\x11", units=3000).log("Instruction: SyncNative")
        )
        tree.w("$uva", A.AMM_GLOBAL_VOLUME_ACCUMULATOR)
        label = "Buy"
    else:
        accounts += [A.AMM_FEE_CONFIG, A.PUMP_FEES_PROGRAM]
        label = "Sell"
    call = Call(A.PUMP_AMM_PROGRAM, accounts, Hole("#ix"), units=45_000).log(f"Instruction: {label}")
    tree.w(
        "$pool",
        "$user",
        "$user_base",
        "$user_quote",
        "$pool_base",
        "$pool_quote",
        "$recipient_ata",
        "$cv_ata",
    )
    tree.top.append(call)
    get_fees(call, A.AMM_FEE_CONFIG, A.PUMP_AMM_PROGRAM, fees)
    if is_buy:
        token_transfer(call, tp, "$pool_base", "$mint", "$user_base", "$pool", "#x0")
        token_transfer(call, A.TOKEN_PROGRAM, "$user_quote", A.WSOL_MINT, "$pool_quote", "$user", "#x1")
        token_transfer(call, A.TOKEN_PROGRAM, "$user_quote", A.WSOL_MINT, "$recipient_ata", "$user", "#x2")
        if creator_fee:
            token_transfer(call, A.TOKEN_PROGRAM, "$user_quote", A.WSOL_MINT, "$cv_ata", "$user", "#x3")
    else:
        token_transfer(call, tp, "$user_base", "$mint", "$pool_base", "$user", "#x0")
        token_transfer(call, A.TOKEN_PROGRAM, "$pool_quote", A.WSOL_MINT, "$user_quote", "$pool", "#x1")
        token_transfer(call, A.TOKEN_PROGRAM, "$pool_quote", A.WSOL_MINT, "$recipient_ata", "$pool", "#x2")
        if creator_fee:
            token_transfer(call, A.TOKEN_PROGRAM, "$pool_quote", A.WSOL_MINT, "$cv_ata", "$pool", "#x3")
    tree.emit(call, A.PUMP_AMM_PROGRAM)


def log_noise(tree: Tree) -> None:
    """A chatty bot instruction before the trade: the runtime's 10,000-byte log cap then cuts the
    pump lines (`Log truncated`), as heavy router transactions do on mainnet. Events stay in the
    self-CPI inner instructions."""
    noise = Call(NOISE_PROGRAM, [], b"\x00", units=20_000)
    for i in range(48):
        noise.log(f"arb leg {i}: " + "route " * 32)
    tree.top.insert(2, noise)
