"""Decode one pump or PumpSwap instruction: discriminator, args (IDL names) and named accounts."""

from __future__ import annotations

from executor.decode.errors import DecodeError
from executor.decode.layouts import INSTRUCTIONS
from executor.decode.model import UNKNOWN, Anomaly, DecodedInstruction


def _named_accounts(
    names: tuple[str, ...], accounts: tuple[str, ...], known: bool
) -> tuple[tuple[str, str], ...]:
    if not known:
        return tuple((f"account_{i}", pubkey) for i, pubkey in enumerate(accounts))
    named = list(zip(names, accounts, strict=False))
    named += [(f"remaining_{i}", pubkey) for i, pubkey in enumerate(accounts[len(names) :])]
    return tuple(named)


def decode_instruction(
    program: str,
    data: bytes,
    accounts: tuple[str, ...],
    *,
    ix_index: int,
    inner_index: int | None,
    stack_height: int | None,
    anomalies: list[Anomaly],
) -> DecodedInstruction:
    """Never raises: unknown discriminators and bad args become anomalies."""
    disc = data[:8]
    layout = INSTRUCTIONS[program].get(disc)
    if layout is None:
        anomalies.append(Anomaly("unknown_instruction", program, UNKNOWN, disc.hex()))
        named = _named_accounts((), accounts, known=False)
        return DecodedInstruction(
            program, UNKNOWN, disc.hex(), None, {}, named, ix_index, inner_index, stack_height, data[8:]
        )
    named = _named_accounts(layout.accounts, accounts, known=layout.from_idl)
    try:
        args, version, end = layout.decode(data, 8, lenient=True)
    except DecodeError as exc:
        anomalies.append(Anomaly("instruction_decode_error", program, layout.name, str(exc)))
        return DecodedInstruction(
            program,
            layout.name,
            disc.hex(),
            None,
            {},
            named,
            ix_index,
            inner_index,
            stack_height,
            data[8:],
            str(exc),
        )
    tail = data[end:]
    if tail:
        anomalies.append(Anomaly("unknown_tail", program, layout.name, f"{version}+{len(tail)}"))
    return DecodedInstruction(
        program, layout.name, disc.hex(), version, args, named, ix_index, inner_index, stack_height, tail
    )
