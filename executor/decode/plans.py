"""Compiled decoders ("plans") for the event shapes that recur on the hot path.

`decode_event` reads a payload through the layout's readers (a fused `struct` per run of fixed
fields, a Python step per string or vector), fills a dict, and `build_record` then copies the
dict into a record: general, and about 25 us per TradeEvent on the project's VM. Live traffic,
though, is a handful of shapes: a TradeEvent of one layout version whose `ix_name` is "buy" or
"sell" and whose `shareholders` vector is empty, and so on. A *shape* is (program,
discriminator, payload length, and the length prefix of every string and vector the layout
reads); for a given shape every field sits at a fixed offset.

After a shape has been decoded twice the generic way it is compiled into one Python function
(one-off shapes, such as most CreateEvent name/symbol/uri lengths, never are: a compile costs
about 1 ms): a single `struct.unpack_from` of the whole payload (length prefixes included),
guards that the prefixes have the learned values (else the function returns None and the
generic path decodes), the bool and UTF-8 checks (any failure also returns None, so the generic
path raises the exact error), pubkeys through the base58 cache, then the fields dict (a copy of
a prototype with the same keys, then one store per field: a third cheaper than a dict literal),
and the `DecodedEvent` and the record built by plain slot stores (`frozen.builder_class`). Which
version a payload is, and where its unknown tail starts, is decided exactly as `Layout.decode`
decides it: the plan guards every length prefix that decision reads. A new plan is checked
against the generic path on the payload it was learned from before it is used, and tests/decode
compares both on random and recorded payloads.

Plans exist for payloads made of primitives, strings, bytes, vectors and arrays of primitives,
and vectors of structs of primitives (every event the IDLs define); anything else, unknown
discriminators and failed decodes take the generic path.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from executor.decode.base58 import encode_pubkey, pubkey_cache
from executor.decode.borsh import INT_RANGES, PRIM_CODES
from executor.decode.events import decode_event
from executor.decode.frozen import builder_class, field_names, generated
from executor.decode.idl import ArrayOf, Field, Prim, StructOf, TypeSpec, VecOf
from executor.decode.layouts import EVENTS, Layout
from executor.decode.model import Anomaly, DecodedEvent, Source
from executor.decode.records import (
    AMM_SIDED,
    ENVELOPE_FIELDS,
    RECORD_OF_EVENT,
    AmmTrade,
    CurveTrade,
    Launch,
    Record,
    build_record,
    shareholder_pairs,
)

# plan(data, program, source, event_index, ix_index, inner_index, signature, slot, block_time,
#      records or None, anomalies) -> the DecodedEvent, or None when the payload is not its shape
Plan = Callable[..., DecodedEvent | None]
ShapeKey = tuple[int, tuple[tuple[int, int], ...]]

COMPILE_AFTER = 2  # generic decodes of one shape before it is compiled
PLANS_PER_LENGTH = 4
MAX_PLANS = 512
MAX_SHAPES = 1024  # shapes counted per layout before the counts start over
MAX_ITEMS = 400  # values one plan unpacks (a long vector is left to the generic reader)


class _Unplannable(Exception):
    pass


@dataclass(slots=True)
class Shapes:
    """The plans of one event layout, by payload length (discriminator included)."""

    layout: Layout
    by_length: dict[int, list[Plan]] = field(default_factory=dict)
    # generic decodes per shape (payload length, (offset, value) of each length prefix read)
    seen: dict[ShapeKey, int] = field(default_factory=dict)
    done: set[ShapeKey] = field(default_factory=set)  # shapes compiled, or found unplannable


# program -> discriminator -> the plans of that event layout (decode_logs reads it directly)
PLANS: dict[str, dict[bytes, Shapes]] = {
    program: {disc: Shapes(layout) for disc, layout in table.items()} for program, table in EVENTS.items()
}
_plan_count = 0
_generic = 0


def decode_logged_event(
    program: str,
    data: bytes,
    source: Source,
    event_index: int,
    ix_index: int | None,
    inner_index: int | None,
    signature: str,
    slot: int,
    block_time: int | None,
    records: list[Record] | None,
    anomalies: list[Anomaly],
) -> DecodedEvent:
    """`decode_event`, plus its record appended to `records` (unless None), through a plan when
    one fits. Same results, anomalies and order as the generic path."""
    table = PLANS.get(program)
    shapes = table.get(data[:8]) if table is not None else None
    if shapes is not None:
        plans = shapes.by_length.get(len(data))
        if plans is not None:
            for plan in plans:
                event = plan(
                    data,
                    program,
                    source,
                    event_index,
                    ix_index,
                    inner_index,
                    signature,
                    slot,
                    block_time,
                    records,
                    anomalies,
                )
                if event is not None:
                    return event
    global _generic
    _generic += 1
    event = decode_event(
        program,
        data,
        source=source,
        event_index=event_index,
        ix_index=ix_index,
        inner_index=inner_index,
        anomalies=anomalies,
    )
    if records is not None:
        record = build_record(event, signature=signature, slot=slot, block_time=block_time, instruction=None)
        if record is not None:
            records.append(record)
    if shapes is not None and event.error is None:
        _count_and_compile(shapes, data)
    return event


def _count_and_compile(shapes: Shapes, data: bytes) -> None:
    """Count a generic decode of this shape; compile the shape on its `COMPILE_AFTER`th."""
    global _plan_count
    length = len(data)
    if len(shapes.by_length.get(length, ())) >= PLANS_PER_LENGTH:
        return
    shape = shape_of(shapes.layout, data)
    if shape is None:
        return
    key = (length, tuple(shape[2]))
    if key in shapes.done:  # compiled (its plan declined this payload), or cannot be
        return
    if len(shapes.seen) >= MAX_SHAPES:
        shapes.seen.clear()
    seen = shapes.seen[key] = shapes.seen.get(key, 0) + 1
    if seen < COMPILE_AFTER:
        return
    del shapes.seen[key]
    if len(shapes.done) >= MAX_SHAPES:
        shapes.done.clear()
    shapes.done.add(key)
    plan = compile_plan(shapes.layout, data)
    if plan is None:
        return
    if _plan_count >= MAX_PLANS:
        clear()
    shapes.by_length.setdefault(length, []).append(plan)
    _plan_count += 1


def clear() -> None:
    """Forget every plan (the cache is bounded; tests use it to start cold)."""
    global _plan_count
    for table in PLANS.values():
        for shapes in table.values():
            shapes.by_length.clear()
            shapes.seen.clear()
            shapes.done.clear()
    _plan_count = 0


def plan_count() -> int:
    return _plan_count


def generic_decodes() -> int:
    """Events decoded the generic way so far (tests and the benchmark read it)."""
    return _generic


# --- finding the shape of a payload, as Layout.decode reads it --------------------------------


def _traced_fit(layout: Layout, data: bytes) -> tuple[int, list[tuple[int, int]]]:
    """`Layout._version_that_fits(data, 8)` plus every (offset, u32 prefix) it read."""
    end = len(data)
    off = 8
    fits = -1
    reads: list[tuple[int, int]] = []
    for index, steps in enumerate(layout.plans):
        for step in steps:
            if type(step) is int:
                off += step
            else:
                if off + 4 > end:
                    return fits, reads
                count = int.from_bytes(data[off : off + 4], "little")
                reads.append((off, count))
                off += 4 + count * step[0]  # type: ignore[index]
        if off > end:
            return fits, reads
        fits = index
        if off == end:
            return fits, reads
    return fits, reads


def shape_of(layout: Layout, data: bytes) -> tuple[str, tuple[Field, ...], list[tuple[int, int]]] | None:
    """(layout version, its fields, every length prefix the version choice reads as (offset,
    value)) for a payload `Layout.decode` reads without falling back to the stepwise reader."""
    exact = layout.exact.get(len(data) - 8)
    if exact is not None:
        return exact[1], layout.fields_until(exact[1]), []
    if not layout.plans:
        return None
    index, reads = _traced_fit(layout, data)
    if index < 0:
        return None
    label = layout.versions[index].label
    return label, layout.fields_until(label), reads


# --- code generation ---------------------------------------------------------------------------


class _Emitter:
    """Builds one plan's source: the struct format, guards, conversions and value expressions."""

    def __init__(self, prefixes: list[tuple[int, int]]) -> None:
        self.fmt: list[str] = []
        self.temps: list[str] = []  # one per struct item, in order
        self.guards: list[str] = []  # conditions under which the payload is not this shape
        self.converts: list[str] = []  # statements after the guards
        self.prefixes = prefixes  # the (offset, value) length prefixes, in reading order
        self.used = 0  # prefixes consumed by the fields
        self.offset = 8

    def temp(self, code: str, size: int) -> str:
        name = f"t{len(self.temps)}"
        self.temps.append(name)
        self.fmt.append(code)
        self.offset += size
        return name

    def prefix(self) -> int:
        """The learned count of the length prefix at the current offset."""
        if self.used >= len(self.prefixes) or self.prefixes[self.used][0] != self.offset:
            raise _Unplannable("length prefix out of step with the version walk")
        count = self.prefixes[self.used][1]
        self.used += 1
        name = self.temp("I", 4)
        self.guards.append(f"{name} != {count}")
        return count

    def prim(self, name: str) -> str:
        """An expression of the decoded value of one primitive read at the current offset."""
        if name not in PRIM_CODES:
            raise _Unplannable(name)
        code = PRIM_CODES[name]
        var = self.temp(code, struct.calcsize("<" + code))
        if name == "bool":
            self.guards.append(f"{var} > 1")
            self.converts.append(f"{var} = {var} == 1")
        elif name == "pubkey":
            self.converts.append(f"{var} = pubkey({var}) or encode_pubkey({var})")
        elif name in ("u128", "i128"):
            self.converts.append(f"{var} = from_bytes({var}, 'little', signed={name == 'i128'})")
        return var

    def value(self, spec: TypeSpec) -> str:
        if isinstance(spec, Prim):
            if spec.name in ("string", "bytes"):
                count = self.prefix()
                var = self.temp(f"{count}s", count)
                if spec.name == "string":
                    self.converts.append(f"{var} = {var}.decode()")
                return var
            return self.prim(spec.name)
        if isinstance(spec, VecOf):
            count = self.prefix()
            return self._items(spec.item, count)
        if isinstance(spec, ArrayOf):
            return self._items(spec.item, spec.length)
        raise _Unplannable(type(spec).__name__)

    def _items(self, item: TypeSpec, count: int) -> str:
        if isinstance(item, Prim) and item.name in PRIM_CODES:
            values = [self.prim(item.name) for _ in range(count)]
        elif isinstance(item, StructOf) and not item.newtype:
            values = []
            for _ in range(count):
                parts = [f"{f.name!r}: {self._struct_field(f)}" for f in item.fields]
                values.append("{" + ", ".join(parts) + "}")
        else:
            raise _Unplannable(f"items of {item}")
        return "(" + "".join(f"{v}, " for v in values) + ")"

    def _struct_field(self, item: Field) -> str:
        if not isinstance(item.type, Prim) or item.type.name not in PRIM_CODES:
            raise _Unplannable(f"struct field {item}")
        return self.prim(item.type.name)


def compile_plan(layout: Layout, data: bytes) -> Plan | None:
    """The plan of the shape of `data`, or None when its shape cannot be planned. Checked against
    the generic path on `data` itself."""
    shape = shape_of(layout, data)
    if shape is None:
        return None
    label, fields, prefixes = shape
    emit = _Emitter(prefixes)
    try:
        values = {f.name: emit.value(f.type) for f in fields}
    except _Unplannable:
        return None
    end = emit.offset
    if end > len(data) or len(emit.temps) > MAX_ITEMS:
        return None
    for offset, count in prefixes[emit.used :]:  # prefixes of the next version, read past the fields
        emit.guards.append(f"data[{offset}:{offset + 4}] != {count.to_bytes(4, 'little')!r}")
    source = _plan_source(layout, label, values, emit, tail=len(data) - end)
    namespace: dict[str, Any] = {
        "unpack_from": struct.Struct("<" + "".join(emit.fmt)).unpack_from,
        "pubkey": pubkey_cache.get,
        "encode_pubkey": encode_pubkey,
        "from_bytes": int.from_bytes,
        "new": object.__new__,
        "EventBuilder": builder_class(DecodedEvent),
        "DecodedEvent": DecodedEvent,
        "Anomaly": Anomaly,
        "shareholder_pairs": shareholder_pairs,
        "prototype": dict.fromkeys(f.name for f in fields),
    }
    record_cls = RECORD_OF_EVENT.get((layout.program, layout.name))
    if record_cls is not None:
        namespace["RecordBuilder"] = builder_class(record_cls)
        namespace["Record"] = record_cls
    plan: Plan = generated("plan", source, namespace)
    if not _agrees(plan, layout, data):
        return None
    return plan


def _plan_source(layout: Layout, label: str, values: dict[str, str], emit: _Emitter, tail: int) -> str:
    end = len(emit.temps)
    lines = [
        "def plan(data, program, source, event_index, ix_index, inner_index, signature, slot, block_time, records, anomalies):",
    ]
    if end == 1:
        lines.append(f"    ({emit.temps[0]},) = unpack_from(data, 8)")
    elif end:
        lines.append(f"    ({', '.join(emit.temps)}) = unpack_from(data, 8)")
    if emit.guards:
        lines.append(f"    if {' or '.join(emit.guards)}:")
        lines.append("        return None")
    decodes = [c for c in emit.converts if c.endswith(".decode()")]
    others = [c for c in emit.converts if not c.endswith(".decode()")]
    if decodes:
        lines.append("    try:")
        lines += [f"        {c}" for c in decodes]
        lines.append("    except UnicodeDecodeError:")
        lines.append("        return None")
    lines += [f"    {c}" for c in others]
    lines.append("    fields = prototype.copy()")
    lines += [f"    fields[{name!r}] = {expr}" for name, expr in values.items()]
    event_values = {
        "program": "program",
        "name": repr(layout.name),
        "discriminator": repr(layout.discriminator.hex()),
        "layout_version": repr(label),
        "fields": "fields",
        "tail": f"data[{emit.offset}:]" if tail else "b''",
        "source": "source",
        "event_index": "event_index",
        "ix_index": "ix_index",
        "inner_index": "inner_index",
        "data": "data",
        "error": "None",
    }
    if set(event_values) != set(field_names(DecodedEvent)):
        raise RuntimeError("DecodedEvent fields changed: update plans._plan_source")
    lines.append("    event = new(EventBuilder)")
    lines += [f"    event.{name} = {event_values[name]}" for name in field_names(DecodedEvent)]
    lines.append("    event.__class__ = DecodedEvent")
    if tail:
        detail = f"{label}+{tail}"
        lines.append(
            f"    anomalies.append(Anomaly('unknown_tail', program, {layout.name!r}, {detail!r}, event_index))"
        )
    record_cls = RECORD_OF_EVENT.get((layout.program, layout.name))
    if record_cls is not None:
        lines.append("    if records is not None:")
        lines.append("        record = new(RecordBuilder)")
        row = _record_values(record_cls, layout, label, values)
        lines += [f"        record.{name} = {row[name]}" for name in field_names(record_cls)]
        lines.append("        record.__class__ = Record")
        lines.append("        records.append(record)")
    lines.append("    return event")
    return "\n".join(lines) + "\n"


def _record_values(cls: type[Record], layout: Layout, label: str, values: dict[str, str]) -> dict[str, str]:
    """The expression of every record field: `build_record`'s rules, for one shape."""
    timestamp = "None"
    ts_field = next((f for f in layout.fields_until(label) if f.name == "timestamp"), None)
    if ts_field is not None:
        if isinstance(ts_field.type, Prim) and ts_field.type.name in INT_RANGES:
            timestamp = values["timestamp"]
        else:
            timestamp = f"({values['timestamp']} if isinstance({values['timestamp']}, int) else None)"
    row = {
        "signature": "signature",
        "slot": "slot",
        "block_time": "block_time",
        "event_index": "event_index",
        "ix_index": "ix_index",
        "inner_index": "inner_index",
        "source": "source",
        "program": "program",
        "layout_version": repr(label),
        "timestamp": timestamp,
    }
    if set(row) != ENVELOPE_FIELDS:
        raise RuntimeError("Envelope fields changed: update plans._record_values")
    for name in field_names(cls):
        if name not in row:
            row[name] = values.get(name, "None")
    if cls is CurveTrade:
        shareholders = values.get("shareholders")
        if shareholders is None:  # a version before the field: computed here, once
            row["shareholders"] = repr(shareholder_pairs(None))
        elif shareholders == "()":
            row["shareholders"] = repr(shareholder_pairs(()))
        else:
            row["shareholders"] = f"shareholder_pairs({shareholders})"
    elif cls is Launch:
        row["ix_name"] = "None"  # the creating instruction: not known from logs
    elif cls is AmmTrade:
        side = 0 if layout.name == "BuyEvent" else 1
        row["is_buy"] = repr(side == 0)
        for name, names in AMM_SIDED.items():
            row[name] = values.get(names[side], "None")
        row["base_mint"] = row["quote_mint"] = "None"  # instruction accounts: not known from logs
    return row


def _agrees(plan: Plan, layout: Layout, data: bytes) -> bool:
    """The plan gives what the generic path gives on the payload it was learned from."""
    args = ("sig", 1, 2)
    sources: tuple[Source, ...] = ("logs", "cpi")
    for source in sources:
        fast_records: list[Record] = []
        fast_anomalies: list[Anomaly] = []
        fast = plan(data, layout.program, source, 3, 4, 5, *args, fast_records, fast_anomalies)
        slow_anomalies: list[Anomaly] = []
        slow = decode_event(
            layout.program,
            data,
            source=source,
            event_index=3,
            ix_index=4,
            inner_index=5,
            anomalies=slow_anomalies,
        )
        record = build_record(slow, signature=args[0], slot=args[1], block_time=args[2], instruction=None)
        slow_records = [] if record is None else [record]
        if (fast, fast_records, fast_anomalies) != (slow, slow_records, slow_anomalies):
            return False
    return True
