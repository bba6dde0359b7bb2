"""Trade intents: immutable, canonically serialised, with a deterministic id.

A signal never sends anything. Its hooks return `TradeIntent` values built with `ctx.buy(...)` /
`ctx.sell(...)`; the runner assigns the final `intent_id` and hands them to whichever driver runs
it (live: `SubmitIntent` over gRPC; replay and tests: collected and fingerprinted).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from strategy.sdk._decimal import canonical_decimal, is_int
from strategy.sdk._events import Venue

__all__ = ["EvidenceValue", "Side", "TradeIntent", "derive_intent_id", "fingerprint"]

#: What evidence may hold: exact numbers and short codes. Floats (and bools) are refused.
EvidenceValue = Decimal | int | str


class Side(StrEnum):
    """Direction of an intent."""

    BUY = "BUY"
    SELL = "SELL"


def evidence_text(key: str, value: object) -> str:
    """Render one evidence value canonically, refusing anything inexact."""
    if not (is_int(value) or isinstance(value, Decimal | str)):
        raise TypeError(
            f"evidence {key!r}: expected Decimal, int or str, got {type(value).__name__} "
            "(floats are inexact and not allowed)"
        )
    if isinstance(value, str):
        return value
    return canonical_decimal(value)  # type: ignore[arg-type]


def _is_text(value: object) -> bool:
    return isinstance(value, str)


#: Evidence limits of the executor contract: entries, and characters per key and per value.
MAX_EVIDENCE_ENTRIES = 32
MAX_EVIDENCE_CHARS = 64


def canonical_evidence(evidence: Mapping[str, object] | None) -> Mapping[str, str]:
    """Validate and freeze evidence as a read-only mapping of canonical strings, sorted by key.

    Raises `TypeError` for inexact values and `ValueError` beyond the contract's limits (32 entries,
    64 characters per key and per rendered value; `quantize` long Decimals first).
    """
    if not evidence:
        return MappingProxyType({})
    if len(evidence) > MAX_EVIDENCE_ENTRIES:
        raise ValueError(f"evidence has {len(evidence)} entries; at most {MAX_EVIDENCE_ENTRIES}")
    out: dict[str, str] = {}
    for key in sorted(evidence):
        if not _is_text(key) or not 1 <= len(key) <= MAX_EVIDENCE_CHARS:
            raise TypeError(
                f"evidence keys must be strings of 1..{MAX_EVIDENCE_CHARS} characters, got {key!r}"
            )
        text = evidence_text(key, evidence[key])
        if len(text) > MAX_EVIDENCE_CHARS:
            raise ValueError(f"evidence {key!r} renders to {len(text)} characters; quantize it to <= 64")
        out[key] = text
    return MappingProxyType(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeIntent:
    """What a signal wants done, and why. Immutable; compare and hash by value.

    `intent_id` is empty on an intent a hook has just built, and set by the runner to
    `derive_intent_id(signal_id, signal_version, params_hash, trigger, ordinal)` where `ordinal`
    is the intent's position in the list the hook returned.
    """

    intent_id: str
    signal_id: str
    signal_version: int
    params_hash: str
    #: Canonical key of the triggering event: `"seq:<n>"`.
    trigger: str
    #: Event time (unix seconds) the signal saw when it decided.
    as_of: int
    mint: str
    venue: Venue
    side: Side
    size_lamports: int
    max_slippage_bps: int
    ttl_ms: int
    #: Reason codes from the signal's closed set, primary first.
    reasons: tuple[str, ...]
    #: Values that crossed thresholds, as canonical exact strings; read-only.
    evidence: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)

    def canonical(self) -> dict[str, object]:
        """The intent as a JSON-safe dict with a fixed shape (no floats anywhere)."""
        return {
            "intent_id": self.intent_id,
            "signal_id": self.signal_id,
            "signal_version": self.signal_version,
            "params_hash": self.params_hash,
            "trigger": self.trigger,
            "as_of": self.as_of,
            "mint": self.mint,
            "venue": self.venue.value,
            "side": self.side.value,
            "size_lamports": self.size_lamports,
            "max_slippage_bps": self.max_slippage_bps,
            "ttl_ms": self.ttl_ms,
            "reasons": list(self.reasons),
            "evidence": dict(sorted(self.evidence.items())),
        }

    def canonical_bytes(self) -> bytes:
        """Canonical JSON bytes (sorted keys, no spaces, ASCII): what fingerprints hash."""
        return json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode(
            "ascii"
        )


def derive_intent_id(
    signal_id: str, signal_version: int, params_hash: str, trigger: str, ordinal: int
) -> str:
    """Deterministic intent id: sha256 of the identity tuple, formatted as an RFC 9562 UUIDv8.

    The same signal version with the same parameters on the same triggering event always yields
    the same id, live or in replay, so the executor deduplicates redeliveries.
    """
    material = json.dumps(
        [signal_id, signal_version, params_hash, trigger, ordinal], separators=(",", ":"), ensure_ascii=True
    ).encode("ascii")
    raw = bytearray(hashlib.sha256(material).digest()[:16])
    raw[6] = (raw[6] & 0x0F) | 0x80  # version 8
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122/9562 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def fingerprint(intents: Iterable[TradeIntent]) -> str:
    """sha256 (hex) over the canonical bytes of `intents`, in order, one per line."""
    digest = hashlib.sha256()
    for intent in intents:
        digest.update(intent.canonical_bytes())
        digest.update(b"\n")
    return digest.hexdigest()
