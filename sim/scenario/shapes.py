"""Shape keys: the few facts that decide a generated transaction's structure, as a hashable tuple,
and `shape_of`, which builds the invoke tree they describe (once per key; see txbuild).

    key = (signers, cu_limit, routed, noise, *instructions)

`signers` are account names (the fee payer first), `routed` means a v0 message with the lookup
table, `noise` a chatty bot instruction at index 2 (the `truncate` fault). Each instruction is a
tuple whose first item names its builder in `programs`:

    ("ata", payer, account, owner, mint, token_program, idempotent)
    ("create", v2, token_program)
    ("buy", token_program, exact_sol, routed, fail, buyback, creator_fee, completes, fees)
    ("sell", token_program, routed, fail, buyback, fees)
    ("migrate", token_program)
    ("amm", is_buy, token_program, creator_fee, fees)
"""

from __future__ import annotations

from typing import Any

from sim.scenario import programs as P
from sim.scenario.txbuild import Shape

ShapeKey = tuple[Any, ...]


def _ata(tree: P.Tree, *args: Any) -> None:
    payer, account, owner, mint, program, idempotent = args
    P.create_ata(tree, None, payer, account, owner, mint, program, idempotent)


def _create(tree: P.Tree, *args: Any) -> None:
    v2, token_program = args
    P.create(tree, v2, token_program)


def _buy(tree: P.Tree, *args: Any) -> None:
    token_program, exact_sol, routed, fail, buyback, creator_fee, completes, fees = args
    P.curve_buy(
        tree,
        token_program=token_program,
        exact_sol=exact_sol,
        routed=routed,
        fail=fail,
        buyback=buyback,
        creator_fee=creator_fee,
        completes=completes,
        fees=fees,
    )


def _sell(tree: P.Tree, *args: Any) -> None:
    token_program, routed, fail, buyback, fees = args
    P.curve_sell(tree, token_program=token_program, routed=routed, fail=fail, buyback=buyback, fees=fees)


def _migrate(tree: P.Tree, *args: Any) -> None:
    (token_program,) = args
    P.migrate(tree, token_program)


def _amm(tree: P.Tree, *args: Any) -> None:
    is_buy, token_program, creator_fee, fees = args
    P.amm_trade(tree, is_buy=is_buy, token_program=token_program, creator_fee=creator_fee, fees=fees)


_BUILDERS = {"ata": _ata, "create": _create, "buy": _buy, "sell": _sell, "migrate": _migrate, "amm": _amm}


def shape_of(key: ShapeKey) -> Shape:
    signers, cu_limit, routed, noise, *instructions = key
    tree = P.Tree()
    P.compute_budget(tree, cu_limit)
    for tag, *args in instructions:
        _BUILDERS[tag](tree, *args)
    if noise:
        P.log_noise(tree)
    return Shape(signers, tuple(tree.top), frozenset(tree.writable), routed, cu_limit)
