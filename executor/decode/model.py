"""What the decoder returns: IDL-level events, instructions and accounts, anomalies, and the
per-transaction result. All immutable; amounts are ints, pubkeys base58 text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from executor.decode.borsh import Value

if TYPE_CHECKING:
    from executor.decode.records import Record

Source = Literal["logs", "cpi", "balance_delta"]
UNKNOWN = "Unknown"


@dataclass(frozen=True, slots=True)
class DecodedEvent:
    """One pump or PumpSwap event, every field under its IDL snake_case name.

    `name` is the IDL event name, or "Unknown" for a discriminator no layout knows (its bytes are
    kept in `data`). `error` is set, and `fields` empty, when a known event failed to decode.
    """

    program: str
    name: str
    discriminator: str
    layout_version: str | None
    fields: dict[str, Value]
    tail: bytes
    source: Source
    event_index: int
    ix_index: int | None
    inner_index: int | None
    data: bytes
    error: str | None = None


@dataclass(frozen=True, slots=True)
class DecodedInstruction:
    """A pump or PumpSwap instruction (top level or inner), args and accounts under IDL names.

    Accounts past the IDL's list are named `remaining_<n>`; legacy instructions whose account
    names are not known use `account_<n>`.
    """

    program: str
    name: str
    discriminator: str
    layout_version: str | None
    args: dict[str, Value]
    accounts: tuple[tuple[str, str], ...]
    ix_index: int
    inner_index: int | None
    stack_height: int | None
    tail: bytes = b""
    error: str | None = None

    def account(self, name: str) -> str | None:
        for account_name, pubkey in self.accounts:
            if account_name == name:
                return pubkey
        return None


@dataclass(frozen=True, slots=True)
class DecodedAccount:
    """An account's fields; `padding` counts the bytes after the newest layout that fits."""

    program: str
    name: str
    discriminator: str
    layout_version: str
    fields: dict[str, Value]
    data_len: int
    padding: int


@dataclass(frozen=True, slots=True)
class Anomaly:
    """Something in a transaction the decoder tolerated but that deserves a count.

    `reason` is a stable metric label: unknown_event, unknown_tail, event_decode_error,
    unknown_instruction, instruction_decode_error, carrier_mismatch, log_only_event,
    cpi_only_event, log_stack_mismatch, event_after_truncation, balance_delta_mismatch,
    balance_delta_ambiguous, balance_delta_inferred, balance_delta_unreadable, malformed_logs.
    """

    reason: str
    program: str | None = None
    kind: str | None = None
    detail: str = ""
    event_index: int | None = None


@dataclass(frozen=True, slots=True)
class DecodedTx:
    signature: str
    slot: int
    block_time: int | None
    err: object | None
    failed: bool
    truncated: bool
    events: tuple[DecodedEvent, ...]
    records: tuple[Record, ...]
    instructions: tuple[DecodedInstruction, ...]
    anomalies: tuple[Anomaly, ...]
