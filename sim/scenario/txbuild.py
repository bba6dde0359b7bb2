"""Build one transaction the way the runtime would record it: message bytes and signatures,
the invoke tree's logs (invoke / log / data / consumed / success|failed lines, CU accounting),
inner instructions with stack heights.

Pure: no clock, no randomness; the caller passes everything in.

A transaction is a *shape* plus *values*. The shape is an invoke tree (`Call`s) whose variable
parts are placeholders: account keys named `"$name"`, instruction data `Hole("#name")`, event
(`Program data:`) lines `Line("#name")`; everything else in it (programs, log lines, compute
units, failures, which accounts are writable) is fixed. `values` maps the names to this
transaction's keys and bytes. The shape alone decides account order, message layout, log
structure, compute units and inner instructions, so it is compiled once into a `Template` by the
straightforward algorithm (`compile_template`), and each transaction only fills it in
(`Template.fill`). The fill refuses values that do not have the template's pattern (two names
holding the same key, a key that is in the lookup table where the compiled one was not); `build`
then compiles that one transaction on its own, so the output never depends on the cache.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
from solders.signature import Signature

from sim import addresses as A
from sim.ledger import LogParts, logs_json
from sim.scenario.keys import Signer, pubkey_bytes

LOG_LIMIT_BYTES = 10_000
# Programs that never print "consumed" lines (builtins).
_BUILTINS = frozenset({A.SYSTEM_PROGRAM, A.COMPUTE_BUDGET_PROGRAM})
_DATA_PREFIX = "Program data: "


@dataclass(frozen=True, slots=True)
class Hole:
    """Instruction data taken from `values[name]`."""

    name: str


@dataclass(frozen=True, slots=True)
class Line:
    """A `Program data: <base64 of values[name]>` log line (an event)."""

    name: str


@dataclass(slots=True)
class Call:
    """One program invocation; `body` holds, in execution order, log lines (str), event lines
    and child calls. Accounts named `"$..."` and `Hole` data are filled per transaction."""

    program: str
    accounts: Sequence[str]
    data: bytes | Hole
    body: list[Call | str | Line] = field(default_factory=list)
    units: int = 0
    fail: str | None = None

    def log(self, line: str) -> Call:
        self.body.append("Program log: " + line)
        return self

    def call(self, child: Call) -> Call:
        self.body.append(child)
        return child


@dataclass(frozen=True, slots=True)
class Lookup:
    """An address lookup table the message loads `writable` / `readonly` keys from."""

    table: str
    addresses: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Shape:
    """Everything fixed about a transaction; `signers` and `writable` are account names."""

    signers: tuple[str, ...]
    top: tuple[Call, ...]
    writable: frozenset[str]
    routed: bool  # loads keys from the lookup table (a v0 message)
    cu_limit: int


@dataclass(slots=True)
class BuiltTx:
    signature: str
    version: int | None
    wire: bytes
    keys: tuple[str, ...]  # static ++ loaded writable ++ loaded readonly
    logs: bytes | LogParts  # the log lines as JSON (see ledger.logs_json) ...
    events: tuple[bytes, ...]  # ... with these events
    inner: bytes  # packed inner instructions, see `unpack_inner`
    units: int
    loaded: tuple[int, int]  # how many of `keys` are loaded writable / readonly (their tail)
    log_truncated: bool
    fail_index: int | None  # top-level instruction that failed


def compact_u16(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def truncate_logs(lines: list[str], limit: int) -> list[str]:
    """agave's log collector: `limit` bytes; the first line that does not fit is replaced by
    `Log truncated` once, later shorter lines may still fit."""
    out: list[str] = []
    used = 0
    truncated = False
    for line in lines:
        size = len(line.encode())
        if used + size >= limit:
            if not truncated:
                truncated = True
                out.append("Log truncated")
            continue
        used += size
        out.append(line)
    return out


# --- templates ----------------------------------------------------------------------------------

# A template part: constant bytes, or the name of a value (data, or event data for log lines).
Part = bytes | str
_P = TypeVar("_P", bytes | str, bytes | int)  # a message part, or a log JSON part


# (keys, message, logs (see BuiltTx), events, logs truncated, packed inner instructions)
Filled = tuple[tuple[str, ...], bytes, bytes | LogParts, tuple[bytes, ...], bool, bytes]
_COMPACT = [compact_u16(n) for n in range(4096)]  # compact-u16 lengths of instruction data
_U16 = [n.to_bytes(2, "little") for n in range(4096)]  # u16 lengths in packed inner instructions
_INDEX = [bytes([i]) for i in range(256)]


@dataclass(slots=True)
class Template:
    """A compiled shape. `distinct` are the shape's account names and constant keys, each once,
    in first-use order (signers, then every call's program and accounts, depth first)."""

    version: int | None
    distinct: tuple[str, ...]
    in_table: tuple[bool, ...] | None  # distinct key is in the lookup table (v0 only)
    order: tuple[int, ...]  # distinct indices in message order: static, loaded w, loaded r
    loaded: tuple[int, int]
    head: bytes  # header + static key count
    compiled: tuple[Part, ...]  # message instructions; names are data
    logs: tuple[str | Line, ...]
    logs_json: LogParts  # the logs as a JSON array; ints are event positions
    events: tuple[str, ...]  # names of the event data, in log order
    log_bytes: int  # bytes of the log lines but the base64 of the events
    inner: tuple[Part, ...]  # packed inner instructions; names are data
    units: int
    fail_index: int | None

    def fill(
        self,
        values: Mapping[str, Any],
        lookup: Lookup | None,
        blockhash: bytes,
        log_limit: int | None,
    ) -> Filled | None:
        """This transaction rendered through the template; None when its keys do not have the
        template's pattern."""
        get = values.get
        keys_by_name = list(map(get, self.distinct, self.distinct))
        if len(set(keys_by_name)) != len(keys_by_name):
            return None
        if self.in_table is not None:
            assert lookup is not None
            table = lookup.addresses
            if tuple([k in table for k in keys_by_name]) != self.in_table:
                return None
        keys = tuple(map(keys_by_name.__getitem__, self.order))
        n_w, n_r = self.loaded
        n_static = len(keys) - n_w - n_r
        message = [self.head, b"".join(map(pubkey_bytes, keys[:n_static])), blockhash]
        for part in self.compiled:
            if part.__class__ is str:
                data = values[part]
                message += (_COMPACT[len(data)], data)
            else:
                message.append(part)  # type: ignore[arg-type]
        if self.version is not None:
            message[0] = b"\x80" + self.head
            if n_w or n_r:
                assert lookup is not None
                index = lookup.addresses.index
                w_idx = bytes([index(k) for k in keys[n_static : n_static + n_w]])
                r_idx = bytes([index(k) for k in keys[n_static + n_w :]])
                table_key = pubkey_bytes(lookup.table)
                message += (b"\x01", table_key, compact_u16(n_w), w_idx, compact_u16(n_r), r_idx)
            else:
                message.append(b"\x00")
        events = tuple(map(values.__getitem__, self.events))
        logs: bytes | LogParts = self.logs_json
        truncated = False
        if (
            log_limit is not None
            and self.log_bytes + sum([(len(e) + 2) // 3 * 4 for e in events]) >= log_limit
        ):
            lines = truncate_logs(self.log_lines(values), log_limit)
            truncated = "Log truncated" in lines
            logs, events = orjson.dumps(lines), ()
        value = values.__getitem__
        parts = self.inner
        inner = b"".join([p if p.__class__ is bytes else _U16[len(value(p))] + value(p) for p in parts])  # type: ignore[arg-type]
        return keys, b"".join(message), logs, events, truncated, inner

    def log_lines(self, values: Mapping[str, Any]) -> list[str]:
        return [
            line if isinstance(line, str) else _DATA_PREFIX + base64.b64encode(values[line.name]).decode()
            for line in self.logs
        ]


def _sized(data: bytes) -> bytes:
    return len(data).to_bytes(2, "little") + data


def compile_template(shape: Shape, values: Mapping[str, Any], lookup: Lookup | None) -> Template:
    """The straightforward algorithm, run once per shape: account metas in first-use order
    (signers first, then each call's program and accounts depth first), lookup-table keys,
    the signer/writable ordering, the compiled message and the executed invoke tree. `values`
    only tell which named keys the lookup table holds."""
    flat = list(shape.signers)
    for call in shape.top:
        _flatten(call, flat)
    first: dict[str, int] = {}
    for key in flat:
        first.setdefault(key, len(first))
    distinct = list(first)
    n_signers = len(shape.signers)
    signer = [i < n_signers for i in range(len(distinct))]
    is_writable = [signer[i] or key in shape.writable for i, key in enumerate(distinct)]
    top_programs = {first[call.program] for call in shape.top}
    loaded_w: list[int] = []
    loaded_r: list[int] = []
    in_table: tuple[bool, ...] | None = None
    if shape.routed:
        assert lookup is not None
        table = set(lookup.addresses)
        in_table = tuple(values.get(key, key) in table for key in distinct)
        for d in range(len(distinct)):
            if in_table[d] and not signer[d] and d not in top_programs:
                (loaded_w if is_writable[d] else loaded_r).append(d)
    loaded = set(loaded_w) | set(loaded_r)
    static = [d for d in range(len(distinct)) if d not in loaded]
    signed_w = [d for d in static if signer[d] and is_writable[d]]
    signed_r = [d for d in static if signer[d] and not is_writable[d]]
    unsigned_w = [d for d in static if not signer[d] and is_writable[d]]
    unsigned_r = [d for d in static if not signer[d] and not is_writable[d]]
    order = signed_w + signed_r + unsigned_w + unsigned_r + loaded_w + loaded_r
    position = {distinct[d]: i for i, d in enumerate(order)}

    def instruction(call: Call) -> bytes:
        """Program index, account count and account indices of a compiled instruction."""
        return (
            bytes([position[call.program]])
            + compact_u16(len(call.accounts))
            + bytes([position[a] for a in call.accounts])
        )

    compiled: list[Part] = [compact_u16(len(shape.top))]
    for call in shape.top:
        compiled.append(instruction(call))
        compiled += _data_parts(call.data, compact=True)
    runtime = _Runtime(instruction)
    remaining = shape.cu_limit
    inner: list[Part] = []
    fail_index: int | None = None
    for ix_index, call in enumerate(shape.top):
        group: list[Part] = []
        used, failed = runtime.run(call, 1, remaining, group)
        remaining -= used
        if group:
            inner += [bytes([ix_index, runtime.count]), *group]
        if failed:
            fail_index = ix_index
            break
    return Template(
        version=0 if shape.routed else None,
        distinct=tuple(distinct),
        in_table=in_table,
        order=tuple(order),
        loaded=(len(loaded_w), len(loaded_r)),
        head=bytes([len(signed_w) + len(signed_r), len(signed_r), len(unsigned_r)])
        + compact_u16(len(static)),
        compiled=_merged(compiled),
        logs=tuple(runtime.logs),
        logs_json=_logs_json(runtime.logs),
        events=tuple(line.name for line in runtime.logs if isinstance(line, Line)),
        log_bytes=sum(
            len(line.encode()) if isinstance(line, str) else len(_DATA_PREFIX) for line in runtime.logs
        ),
        inner=_merged(inner),
        units=shape.cu_limit - remaining,
        fail_index=fail_index,
    )


def _flatten(call: Call, flat: list[str]) -> None:
    flat.append(call.program)
    flat += call.accounts
    for item in call.body:
        if isinstance(item, Call):
            _flatten(item, flat)


def _data_parts(data: bytes | Hole, *, compact: bool) -> list[Part]:
    """Length prefix and data: constant bytes, or the name of the value to fill in."""
    if isinstance(data, Hole):
        return [data.name]
    return [compact_u16(len(data)) + data if compact else _sized(data)]


def _logs_json(lines: list[str | Line]) -> LogParts:
    """The log lines as JSON parts: constant bytes, and the positions of the events."""
    parts: list[bytes | int] = [b"["]
    events = 0
    for i, line in enumerate(lines):
        if i:
            parts.append(b",")
        if isinstance(line, str):
            parts.append(orjson.dumps(line))
        else:
            parts += (b'"' + _DATA_PREFIX.encode(), events, b'"')
            events += 1
    parts.append(b"]")
    return _merged(parts)


def _merged(parts: list[_P]) -> tuple[_P, ...]:
    """Adjacent constant byte strings joined into one."""
    out: list[_P] = []
    for part in parts:
        if isinstance(part, bytes) and out and isinstance(out[-1], bytes):
            out[-1] += part
        else:
            out.append(part)
    return tuple(out)


class _Runtime:
    """Executes an invoke tree once: log lines, inner instructions in the packed form of
    `unpack_inner` (data as names), compute units."""

    def __init__(self, instruction: Callable[[Call], bytes]) -> None:
        self.instruction = instruction
        self.logs: list[str | Line] = []
        self.count = 0  # inner instructions of the current top-level instruction

    def run(self, call: Call, depth: int, budget: int, group: list[Part]) -> tuple[int, bool]:
        """Render one invocation; returns (compute units used, failed)."""
        if depth == 1:
            self.count = 0
        program = call.program
        self.logs.append(f"Program {program} invoke [{depth}]")
        children = sum(1 for item in call.body if isinstance(item, Call))
        chunk = call.units // (children + 1)
        used = 0
        for item in call.body:
            if not isinstance(item, Call):
                self.logs.append(item)
                continue
            used += chunk
            compiled = self.instruction(item)
            group.append(bytes([compiled[0], depth + 1]) + compiled[1:])
            group += _data_parts(item.data, compact=False)
            self.count += 1
            child_used, failed = self.run(item, depth + 1, budget - used, group)
            used += child_used
            if failed:
                return self.finish(call, used + chunk, budget, item.fail)
        used += call.units - chunk * children
        return self.finish(call, used, budget, call.fail)

    def finish(self, call: Call, used: int, budget: int, fail: str | None) -> tuple[int, bool]:
        used = min(used, budget)
        if call.program not in _BUILTINS:
            self.logs.append(f"Program {call.program} consumed {used} of {budget} compute units")
        if fail is not None:
            self.logs.append(f"Program {call.program} failed: {fail}")
            return used, True
        self.logs.append(f"Program {call.program} success")
        return used, False


def unpack_inner(packed: bytes) -> list[tuple[int, list[tuple[int, bytes, bytes, int]]]]:
    """Packed inner instructions -> [(top index, [(program index, account indices, data, stack
    height)])]. Per group: u8 index, u8 count; per instruction: u8 program index, u8 stack
    height, compact account count, account indices, u16 data length, data."""
    out: list[tuple[int, list[tuple[int, bytes, bytes, int]]]] = []
    pos = 0
    while pos < len(packed):
        index, count = packed[pos], packed[pos + 1]
        pos += 2
        group: list[tuple[int, bytes, bytes, int]] = []
        for _ in range(count):
            program, height = packed[pos], packed[pos + 1]
            n, pos = _read_compact(packed, pos + 2)
            accounts = packed[pos : pos + n]
            (size,) = struct.unpack_from("<H", packed, pos + n)
            pos += n + 2
            group.append((program, accounts, packed[pos : pos + size], height))
            pos += size
        out.append((index, group))
    return out


def _read_compact(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


# --- building -------------------------------------------------------------------------------------

_TEMPLATE_LIMIT = 20_000
_templates: dict[Any, Template] = {}


def build(
    key: Any,
    shape_of: Callable[[Any], Shape],
    values: Mapping[str, Any],
    signers: Sequence[Signer],
    *,
    lookup: Lookup | None,
    blockhash: bytes,
    log_limit: int | None,
    fast_signature: bytes | None,
) -> BuiltTx:
    """Compile (once per shape `key`), sign and "execute" (render logs and inner instructions
    of) a transaction. `signers` are the keypairs behind the shape's signer names, in order."""
    template = _templates.get(key)
    if template is None:
        if len(_templates) >= _TEMPLATE_LIMIT:
            _templates.clear()
        template = _templates[key] = compile_template(shape_of(key), values, lookup)
    filled = template.fill(values, lookup, blockhash, log_limit)
    if filled is None:  # keys with another pattern: this transaction gets its own template
        shape = substitute(shape_of(key), values)
        template = compile_template(shape, values, lookup)
        filled = template.fill(values, lookup, blockhash, log_limit)
        assert filled is not None, "a template renders the transaction it was compiled from"
        keys, message, logs, events, truncated, inner = filled
        filled = keys, message, logs_json(logs, events), (), truncated, inner  # parts of no shape
    keys, message, logs, events, truncated, inner = filled
    if fast_signature is not None:
        sigs = [hashlib.sha512(fast_signature + _INDEX[i]).digest() for i in range(len(signers))]
    else:
        sigs = [bytes(s.keypair.sign_message(message)) for s in signers]
    return BuiltTx(
        str(Signature.from_bytes(sigs[0])),
        template.version,
        _COMPACT[len(sigs)] + b"".join(sigs) + message,
        keys,
        logs,
        events,
        inner,
        template.units,
        template.loaded,
        truncated,
        template.fail_index,
    )


def substitute(shape: Shape, values: Mapping[str, Any]) -> Shape:
    """The shape with its account names replaced by this transaction's keys."""
    get = values.get

    def concrete(call: Call) -> Call:
        body = [concrete(item) if isinstance(item, Call) else item for item in call.body]
        return Call(call.program, [get(a, a) for a in call.accounts], call.data, body, call.units, call.fail)

    return Shape(
        tuple(get(s, s) for s in shape.signers),
        tuple(concrete(call) for call in shape.top),
        frozenset(get(w, w) for w in shape.writable),
        shape.routed,
        shape.cu_limit,
    )


# --- instruction data of the non-pump programs the generated transactions use ---------------


def system_transfer(lamports: int) -> bytes:
    return struct.pack("<IQ", 2, lamports)


def system_create_account(lamports: int, space: int, owner: str) -> bytes:
    return struct.pack("<IQQ", 0, lamports, space) + pubkey_bytes(owner)


def token_transfer_checked(amount: int, decimals: int) -> bytes:
    return struct.pack("<BQB", 12, amount, decimals)


def token_mint_to(amount: int) -> bytes:
    return struct.pack("<BQ", 7, amount)


def token_burn(amount: int) -> bytes:
    return struct.pack("<BQ", 8, amount)


def compute_unit_limit(units: int) -> bytes:
    return struct.pack("<BI", 2, units)


def compute_unit_price(micro_lamports: int) -> bytes:
    return struct.pack("<BQ", 3, micro_lamports)


def return_line(program: str, data: bytes) -> str:
    return f"Program return: {program} " + base64.b64encode(data).decode()
