"""The strategy service's error tree.

StrategyError
├── ConfigError          bad settings or signal configuration; the service refuses to start
├── StreamError          the executor stream failed; `retriable` says whether to reconnect
│   └── ResumeOutOfRange the executor no longer holds the seq we resume from
└── IntentRefused        the executor refused an intent (INVALID_ARGUMENT / ALREADY_EXISTS)
"""

from __future__ import annotations


class StrategyError(Exception):
    retriable: bool = False


class ConfigError(StrategyError):
    pass


class StreamError(StrategyError):
    retriable = True


class ResumeOutOfRange(StreamError):
    retriable = False


class IntentRefused(StrategyError):
    pass
