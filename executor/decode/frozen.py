"""Fast construction of frozen, slotted dataclasses on the hot path.

A frozen dataclass's generated `__init__` sets every field through `object.__setattr__` after
parsing keyword arguments; for a 40-field trade record that is most of the cost of decoding a log
notification. `filler(cls)` returns a function that writes the slots directly (the slot
descriptors' `__set__`, driven from C by `map`), which is what `__init__` does minus the argument
parsing. Values must come in `dataclasses.fields(cls)` order, one per field.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable, Sequence
from itertools import repeat
from operator import call
from typing import Any, TypeVar

T = TypeVar("T")


def filler(cls: type[T]) -> Callable[[Sequence[object]], T]:
    setters = tuple(getattr(cls, field.name).__set__ for field in dataclasses.fields(cls))  # type: ignore[arg-type]
    count = len(setters)
    new: Any = object.__new__

    def fill(values: Sequence[object]) -> T:
        if len(values) != count:
            raise TypeError(f"{cls.__name__} needs {count} values, got {len(values)}")
        obj: T = new(cls)
        deque(map(call, setters, repeat(obj), values), 0)
        return obj

    return fill
