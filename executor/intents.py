"""Trade intents: validation, the canonical request hash, and the decision the executor returns.

Pure: no I/O. The gRPC layer (executor.api) calls `validate`, the store persists the `IntentRecord`.
The decision is a function of the executor's own configuration only; nothing in a request can switch
trading on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass

import orjson
from solders.pubkey import Pubkey

from executor.errors import IntentInvalid
from pumpflow.v1 import executor_pb2 as pb

REASON_TRADING_DISABLED = "TRADING_DISABLED"
# This build has no execution backend (no signing/sending by design); an enabled executor still says no.
REASON_NO_EXECUTION = "EXECUTION_NOT_AVAILABLE"

_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")
_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")
_LABEL = re.compile(r"^[A-Za-z0-9_.:\-@]{0,128}$")
_MAX_REASONS = 16
_MAX_EVIDENCE = 32


@dataclass(frozen=True, slots=True)
class IntentLimits:
    max_lamports: int
    max_slippage_bps: int
    max_ttl_ms: int


@dataclass(frozen=True, slots=True)
class IntentRecord:
    """A validated intent, in the shape of an `intents` row (enum names without their prefix)."""

    intent_id: str
    signal_id: str
    signal_version: str
    params_hash: str
    mint: str
    venue: str
    side: str
    size_lamports: int
    max_slippage_bps: int
    ttl_ms: int
    reasons: tuple[str, ...]
    trigger: str
    as_of: int
    evidence: dict[str, str]
    request_sha256: str


@dataclass(frozen=True, slots=True)
class Decision:
    status: str
    reason: str
    message: str


def validate(intent: pb.TradeIntent, limits: IntentLimits) -> IntentRecord:
    """Return the intent as a record, or raise IntentInvalid naming every problem found."""
    problems: list[str] = []
    if not _ID.match(intent.intent_id):
        problems.append("intent_id must be 1-128 characters of [A-Za-z0-9_.:-]")
    try:
        if len(bytes(Pubkey.from_string(intent.mint))) != 32:
            raise ValueError
    except ValueError:
        problems.append(f"mint {intent.mint[:64]!r} is not a base58 Solana public key")
    if intent.venue == pb.VENUE_UNSPECIFIED:
        problems.append("venue must be PUMP_CURVE or PUMP_AMM")
    if intent.side == pb.SIDE_UNSPECIFIED:
        problems.append("side must be BUY or SELL")
    if intent.size_lamports == 0:
        problems.append("size_lamports must be positive")
    elif intent.size_lamports > limits.max_lamports:
        problems.append(f"size_lamports {intent.size_lamports} exceeds the limit {limits.max_lamports}")
    if not 1 <= intent.max_slippage_bps <= limits.max_slippage_bps:
        problems.append(f"max_slippage_bps must be within 1..{limits.max_slippage_bps}")
    if not 1 <= intent.ttl_ms <= limits.max_ttl_ms:
        problems.append(f"ttl_ms must be within 1..{limits.max_ttl_ms}")
    if len(intent.reasons) > _MAX_REASONS or not all(_CODE.match(r) for r in intent.reasons):
        problems.append(f"reasons must be at most {_MAX_REASONS} codes like INFLOW_ACCEL_UP")
    for name in ("signal_id", "signal_version", "params_hash", "trigger"):
        if not _LABEL.match(getattr(intent, name)):
            problems.append(f"{name} must be at most 128 characters of [A-Za-z0-9_.:-@]")
    if intent.as_of < 0:
        problems.append("as_of must not be negative")
    if len(intent.evidence) > _MAX_EVIDENCE or any(
        len(k) > 64 or len(v) > 64 for k, v in intent.evidence.items()
    ):
        problems.append(f"evidence takes at most {_MAX_EVIDENCE} entries of 64-character keys and values")
    if problems:
        raise IntentInvalid("; ".join(problems))
    record = IntentRecord(
        intent_id=intent.intent_id,
        signal_id=intent.signal_id,
        signal_version=intent.signal_version,
        params_hash=intent.params_hash,
        mint=intent.mint,
        venue=pb.Venue.Name(intent.venue).removeprefix("VENUE_"),
        side=pb.Side.Name(intent.side).removeprefix("SIDE_"),
        size_lamports=intent.size_lamports,
        max_slippage_bps=intent.max_slippage_bps,
        ttl_ms=intent.ttl_ms,
        reasons=tuple(intent.reasons),
        trigger=intent.trigger,
        as_of=intent.as_of,
        evidence=dict(sorted(intent.evidence.items())),
        request_sha256="",
    )
    return _with_hash(record)


def _with_hash(record: IntentRecord) -> IntentRecord:
    fields = dataclasses.asdict(record)
    del fields["request_sha256"]
    digest = hashlib.sha256(orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return dataclasses.replace(record, request_sha256=digest)


def decide(trading_disabled: bool) -> Decision:
    if trading_disabled:
        return Decision(
            "REJECTED", REASON_TRADING_DISABLED, "trading is disabled by the executor's configuration"
        )
    return Decision(
        "REJECTED",
        REASON_NO_EXECUTION,
        "trading is enabled but this build has no execution backend; the intent is stored, not sent",
    )
