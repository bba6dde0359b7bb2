"""The decoder's only exception type.

Every decoder entry point (`decode_logs`, `decode_transaction`, `decode_account`, the layout
readers) raises `DecodeError` and nothing else on bad input. `reason` is a short, stable string
usable as a metric label; the message carries the detail.

    DecodeError
    ├── TruncatedData      the bytes end before the oldest known layout of the item does
    └── UnsupportedInput   the input is not a shape the decoder understands (wrong JSON, encoding)
"""

from __future__ import annotations


class DecodeError(ValueError):
    reason: str = "invalid"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class TruncatedData(DecodeError):
    reason = "truncated"


class UnsupportedInput(DecodeError):
    reason = "unsupported_input"
