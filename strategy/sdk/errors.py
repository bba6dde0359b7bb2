"""Errors raised by the signal SDK.

The tree::

    SignalSdkError                      root; never raised itself
    ├── SignalDefinitionError(TypeError)   a Signal or Params class is declared wrongly
    │                                      (raised at class creation, i.e. at import)
    ├── ParamsError(ValueError)            parameter values failed validation (lists every field)
    └── IntentError(ValueError)            a hook built or returned an invalid intent
                                           (unknown reason code, non-positive size, ...)

Inside the runner an `IntentError` (or any other exception from a hook) becomes a recorded fault
for that (signal, mint); it never stops the stream.
"""

from __future__ import annotations

__all__ = ["IntentError", "ParamsError", "SignalDefinitionError", "SignalSdkError"]


class SignalSdkError(Exception):
    """Root of every error the SDK raises."""


class SignalDefinitionError(SignalSdkError, TypeError):
    """A `Signal` or `Params` subclass violates the SDK's declaration rules."""


class ParamsError(SignalSdkError, ValueError):
    """Parameter values are invalid; the message lists every offending field on its own line."""

    def __init__(self, where: str, problems: list[str]) -> None:
        self.where = where
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid parameters for {where}:\n{lines}")


class IntentError(SignalSdkError, ValueError):
    """An intent could not be built or was returned in an invalid shape."""
