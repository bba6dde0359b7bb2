"""The executor's error tree. Every exception the executor raises on purpose derives from ExecutorError.

    ExecutorError
    ├── ConfigError            bad settings; the service refuses to start
    ├── StoreError             Postgres failed; `retriable` says whether to retry
    │   ├── StoreUnavailable   connection lost / server down (retriable)
    │   └── StoreConflict      deadlock / serialization failure: the transaction may simply rerun
    ├── IntentInvalid          a TradeIntent failed validation (gRPC INVALID_ARGUMENT)
    ├── IntentConflict         an intent_id reused for a different request (gRPC ALREADY_EXISTS)
    └── OutOfRange             a stream resume point outside the held events (gRPC OUT_OF_RANGE)

Decoding has its own root, executor.decode.DecodeError, because the decoder is a pure library.
Errors map to gRPC status codes in one place: executor.api.
"""

from __future__ import annotations


class ExecutorError(Exception):
    retriable: bool = False


class ConfigError(ExecutorError):
    pass


class StoreError(ExecutorError):
    pass


class StoreUnavailable(StoreError):
    retriable = True


class StoreConflict(StoreError):
    retriable = True


class IntentInvalid(ExecutorError):
    pass


class IntentConflict(ExecutorError):
    pass


class OutOfRange(ExecutorError):
    pass
