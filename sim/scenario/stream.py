"""The wire form of generated transactions between the generator process and the server.

A transaction's keys travel as numbers: the generator numbers every key the first time it sends
it and ships the new ones with the batch; the server keeps the same table. So the keys are one
`bytes` (4 bytes per key) instead of some 25 strings to pickle and unpickle, and the server holds
one string per address however many retained transactions list it.

A batch is `pickle.dumps((new_addresses, [packed transaction, ...]))`; `Packer` and `Unpacker`
are the two ends.
"""

from __future__ import annotations

import pickle
from array import array

from sim.scenario.body import Generated


class _Numbers(dict[str, int]):
    """address -> number, numbering new addresses on first use and remembering them."""

    def __init__(self) -> None:
        super().__init__()
        self.new: list[str] = []

    def __missing__(self, address: str) -> int:
        number = self[address] = len(self)
        self.new.append(address)
        return number


class Packer:
    def __init__(self) -> None:
        self._numbers = _Numbers()

    def batch(self, transactions: list[Generated]) -> bytes:
        number = self._numbers.__getitem__
        packed = [(*g[:5], array("I", map(number, g[5])).tobytes(), *g[6:]) for g in transactions]
        new, self._numbers.new = self._numbers.new, []
        return pickle.dumps((new, packed), protocol=pickle.HIGHEST_PROTOCOL)


class Unpacker:
    def __init__(self) -> None:
        self._addresses: list[str] = []

    def batch(self, data: bytes) -> list[Generated]:
        # the generator's output (our own child process), not untrusted input
        new, packed = pickle.loads(data)  # noqa: S301
        self._addresses += new
        address = self._addresses.__getitem__
        make = Generated._make
        return [make((*p[:5], tuple(map(address, array("I", p[5]))), *p[6:])) for p in packed]
