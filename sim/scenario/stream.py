"""The wire form of generated transactions between the generator process and the server.

A transaction's keys travel as numbers: the generator numbers every key the first time it sends
it and ships the new ones with the batch; the server keeps the same table. So the keys are one
`bytes` (4 bytes per key) instead of some 25 strings to pickle and unpickle, and the server holds
one string per address however many retained transactions list it.

Log lines travel the same way: a transaction of a compiled shape carries its shape's constant
JSON parts (`ledger.LogParts`, one shared tuple per shape), which are sent once and then named
by number.

A batch is `pickle.dumps((new_addresses, new_log_parts, [packed transaction, ...]))`; `Packer`
and `Unpacker` are the two ends.
"""

from __future__ import annotations

import pickle
from array import array

from sim.ledger import LogParts
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
        self._logs: dict[int, tuple[int, LogParts]] = {}  # id(parts) -> (number, parts kept alive)
        self._new_logs: list[LogParts] = []

    def _log_number(self, parts: bytes | LogParts) -> bytes | int:
        if isinstance(parts, bytes):
            return parts
        known = self._logs.get(id(parts))
        if known is None:
            known = self._logs[id(parts)] = (len(self._logs), parts)
            self._new_logs.append(parts)
        return known[0]

    def batch(self, transactions: list[Generated]) -> bytes:
        number = self._numbers.__getitem__
        logs = self._log_number
        packed = [(*g[:5], array("I", map(number, g[5])).tobytes(), logs(g[6]), *g[7:]) for g in transactions]
        new, self._numbers.new = self._numbers.new, []
        new_logs, self._new_logs = self._new_logs, []
        return pickle.dumps((new, new_logs, packed), protocol=pickle.HIGHEST_PROTOCOL)


class Unpacker:
    def __init__(self) -> None:
        self._addresses: list[str] = []
        self._logs: list[LogParts] = []

    def batch(self, data: bytes) -> list[Generated]:
        # the generator's output (our own child process), not untrusted input
        new, new_logs, packed = pickle.loads(data)  # noqa: S301
        self._addresses += new
        self._logs += new_logs
        address = self._addresses.__getitem__
        logs = self._logs
        make = Generated._make
        return [
            make(
                (
                    *p[:5],
                    tuple(map(address, array("I", p[5]))),
                    p[6] if p[6].__class__ is bytes else logs[p[6]],
                    *p[7:],
                )
            )
            for p in packed
        ]
