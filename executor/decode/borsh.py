"""Borsh readers and writers compiled from IDL type descriptions.

Readers are built once per layout at import time. Runs of fixed-size primitive fields collapse
into one `struct.Struct`, so the first 250 bytes of a TradeEvent are a single `unpack_from`;
only strings, vectors, options and nested types take the per-field path.

A reader signals "the bytes end here" with `ShortRead` (the caller decides whether that is a
shorter, older layout or an error) and rejects invalid values (a bool that is not 0/1, bad UTF-8,
an unknown enum variant, an option tag other than 0/1) with `DecodeError`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence

from executor.decode.base58 import decode_pubkey, encode_pubkey, pubkey_cache
from executor.decode.errors import DecodeError
from executor.decode.idl import ArrayOf, EnumOf, Field, OptionOf, Prim, StructOf, TypeSpec, VecOf

Value = int | bool | str | bytes | None | tuple["Value", ...] | dict[str, "Value"]


class ShortRead(Exception):
    """The buffer ended inside the item being read."""


_SHORT = ShortRead()

# struct codes of the fixed-size primitives that can be fused into one unpack
STRUCT_CODES = {
    "bool": "B",
    "u8": "B",
    "i8": "b",
    "u16": "H",
    "i16": "h",
    "u32": "I",
    "i32": "i",
    "u64": "Q",
    "i64": "q",
    "pubkey": "32s",
}
# every fixed-size primitive: the 128-bit ints as their 16 raw bytes, converted after the unpack
PRIM_CODES = {**STRUCT_CODES, "u128": "16s", "i128": "16s"}
INT_RANGES = {
    "u8": (0, 2**8 - 1),
    "i8": (-(2**7), 2**7 - 1),
    "u16": (0, 2**16 - 1),
    "i16": (-(2**15), 2**15 - 1),
    "u32": (0, 2**32 - 1),
    "i32": (-(2**31), 2**31 - 1),
    "u64": (0, 2**64 - 1),
    "i64": (-(2**63), 2**63 - 1),
    "u128": (0, 2**128 - 1),
    "i128": (-(2**127), 2**127 - 1),
}
_INT_WIDTHS = {name: struct.calcsize("<" + PRIM_CODES[name]) for name in INT_RANGES}
_U32 = struct.Struct("<I")

Buffer = bytes | memoryview
ValueReader = Callable[[Buffer, int], tuple[Value, int]]
# writes the fields it reads into the dict and returns the offset after them
FieldsReader = Callable[[Buffer, int, dict[str, Value]], int]


def fixed_size(spec: TypeSpec) -> int | None:
    """Encoded size of every value of this type, or None when it varies (strings, vectors, options)."""
    if isinstance(spec, Prim):
        return None if spec.name in ("string", "bytes") else min_size(spec)
    if isinstance(spec, (VecOf, OptionOf)):
        return None
    if isinstance(spec, EnumOf):
        return 1
    if isinstance(spec, ArrayOf):
        item = fixed_size(spec.item)
        return None if item is None else item * spec.length
    sizes = [fixed_size(f.type) for f in spec.fields]
    return None if None in sizes else sum(s for s in sizes if s is not None)


def min_size(spec: TypeSpec) -> int:
    """Smallest encoding of a value of this type (used to bound vector counts)."""
    if isinstance(spec, Prim):
        if spec.name in ("string", "bytes"):
            return 4
        return struct.calcsize("<" + PRIM_CODES[spec.name])
    if isinstance(spec, VecOf):
        return 4
    if isinstance(spec, ArrayOf):
        return spec.length * min_size(spec.item)
    if isinstance(spec, OptionOf):
        return 1
    if isinstance(spec, EnumOf):
        return 1
    return sum(min_size(f.type) for f in spec.fields)


def _read_bool(buf: Buffer, off: int) -> tuple[Value, int]:
    if off >= len(buf):
        raise _SHORT
    byte = buf[off]
    if byte > 1:
        raise DecodeError(f"bool byte {byte} at offset {off} is not 0 or 1", reason="invalid_bool")
    return byte == 1, off + 1


def _read_pubkey(buf: Buffer, off: int) -> tuple[Value, int]:
    end = off + 32
    if end > len(buf):
        raise _SHORT
    return encode_pubkey(bytes(buf[off:end])), end


def _read_sized(buf: Buffer, off: int) -> tuple[bytes, int]:
    if off + 4 > len(buf):
        raise _SHORT
    (length,) = _U32.unpack_from(buf, off)
    end = off + 4 + length
    if end > len(buf):
        raise _SHORT
    return bytes(buf[off + 4 : end]), end


def _read_string(buf: Buffer, off: int) -> tuple[Value, int]:
    raw, end = _read_sized(buf, off)
    try:
        return raw.decode("utf-8"), end
    except UnicodeDecodeError as exc:
        raise DecodeError(f"string at offset {off} is not UTF-8", reason="invalid_string") from exc


def _read_bytes(buf: Buffer, off: int) -> tuple[Value, int]:
    return _read_sized(buf, off)


def _int_reader(name: str) -> ValueReader:
    if name in ("u128", "i128"):
        signed = name == "i128"

        def read_wide(buf: Buffer, off: int) -> tuple[Value, int]:
            end = off + 16
            if end > len(buf):
                raise _SHORT
            return int.from_bytes(buf[off:end], "little", signed=signed), end

        return read_wide
    packer = struct.Struct("<" + STRUCT_CODES[name])
    size = packer.size

    def read_int(buf: Buffer, off: int) -> tuple[Value, int]:
        if off + size > len(buf):
            raise _SHORT
        return packer.unpack_from(buf, off)[0], off + size

    return read_int


def value_reader(spec: TypeSpec) -> ValueReader:
    if isinstance(spec, Prim):
        if spec.name == "bool":
            return _read_bool
        if spec.name == "pubkey":
            return _read_pubkey
        if spec.name == "string":
            return _read_string
        if spec.name == "bytes":
            return _read_bytes
        return _int_reader(spec.name)
    if isinstance(spec, VecOf):
        return _vec_reader(spec)
    if isinstance(spec, ArrayOf):
        return _array_reader(spec)
    if isinstance(spec, OptionOf):
        return _option_reader(spec)
    if isinstance(spec, EnumOf):
        return _enum_reader(spec)
    return _struct_reader(spec)


def _vec_reader(spec: VecOf) -> ValueReader:
    item = value_reader(spec.item)
    item_min = max(min_size(spec.item), 1)

    def read_vec(buf: Buffer, off: int) -> tuple[Value, int]:
        if off + 4 > len(buf):
            raise _SHORT
        (count,) = _U32.unpack_from(buf, off)
        off += 4
        if count * item_min > len(buf) - off:
            raise _SHORT
        items: list[Value] = []
        for _ in range(count):
            value, off = item(buf, off)
            items.append(value)
        return tuple(items), off

    return read_vec


def _array_reader(spec: ArrayOf) -> ValueReader:
    item = value_reader(spec.item)
    length = spec.length

    def read_array(buf: Buffer, off: int) -> tuple[Value, int]:
        items: list[Value] = []
        for _ in range(length):
            value, off = item(buf, off)
            items.append(value)
        return tuple(items), off

    return read_array


def _option_reader(spec: OptionOf) -> ValueReader:
    item = value_reader(spec.item)

    def read_option(buf: Buffer, off: int) -> tuple[Value, int]:
        if off >= len(buf):
            raise _SHORT
        tag = buf[off]
        if tag == 0:
            return None, off + 1
        if tag != 1:
            raise DecodeError(f"option tag {tag} at offset {off} is not 0 or 1", reason="invalid_option")
        return item(buf, off + 1)

    return read_option


def _enum_reader(spec: EnumOf) -> ValueReader:
    variants = spec.variants

    def read_enum(buf: Buffer, off: int) -> tuple[Value, int]:
        if off >= len(buf):
            raise _SHORT
        tag = buf[off]
        if tag >= len(variants):
            raise DecodeError(f"{spec.name} variant {tag} is unknown", reason="invalid_enum")
        return variants[tag], off + 1

    return read_enum


def _struct_reader(spec: StructOf) -> ValueReader:
    read_fields = fields_reader(spec.fields)
    if spec.newtype:

        def read_newtype(buf: Buffer, off: int) -> tuple[Value, int]:
            out: dict[str, Value] = {}
            off = read_fields(buf, off, out)
            return out["0"], off

        return read_newtype

    def read_struct(buf: Buffer, off: int) -> tuple[Value, int]:
        out: dict[str, Value] = {}
        off = read_fields(buf, off, out)
        return out, off

    return read_struct


def _fusable(spec: TypeSpec) -> bool:
    return isinstance(spec, Prim) and spec.name in STRUCT_CODES


def _fixed_run_reader(run: Sequence[Field]) -> FieldsReader:
    packer = struct.Struct("<" + "".join(STRUCT_CODES[f.type.name] for f in run if isinstance(f.type, Prim)))
    names = tuple(f.name for f in run)
    pubkeys = tuple(i for i, f in enumerate(run) if f.type == Prim("pubkey"))
    bools = tuple(i for i, f in enumerate(run) if f.type == Prim("bool"))
    size = packer.size
    unpack_from = packer.unpack_from
    cached = pubkey_cache.get

    def read_run(buf: Buffer, off: int, out: dict[str, Value]) -> int:
        end = off + size
        if end > len(buf):
            raise _SHORT
        values: list[Value] = list(unpack_from(buf, off))
        for i in pubkeys:
            raw: bytes = values[i]  # type: ignore[assignment]
            values[i] = cached(raw) or encode_pubkey(raw)
        for i in bools:
            byte = values[i]
            if byte != 0 and byte != 1:
                raise DecodeError(f"bool {names[i]} is {byte!r}, not 0 or 1", reason="invalid_bool")
            values[i] = byte == 1
        out.update(zip(names, values, strict=True))
        return end

    return read_run


def _single_field_reader(field: Field) -> FieldsReader:
    read = value_reader(field.type)
    name = field.name

    def read_field(buf: Buffer, off: int, out: dict[str, Value]) -> int:
        out[name], off = read(buf, off)
        return off

    return read_field


def fields_reader(fields: Sequence[Field]) -> FieldsReader:
    """One reader for a field sequence: fused fixed runs plus per-field readers."""
    parts: list[FieldsReader] = []
    run: list[Field] = []
    for field in fields:
        if _fusable(field.type):
            run.append(field)
            continue
        if run:
            parts.append(_fixed_run_reader(run))
            run = []
        parts.append(_single_field_reader(field))
    if run:
        parts.append(_fixed_run_reader(run))
    if len(parts) == 1:
        return parts[0]
    chain = tuple(parts)

    def read_all(buf: Buffer, off: int, out: dict[str, Value]) -> int:
        for part in chain:
            off = part(buf, off, out)
        return off

    return read_all


# --- writers -------------------------------------------------------------------------------------


def write_value(spec: TypeSpec, value: object, out: bytearray) -> None:
    """Append the Borsh encoding of `value`; raises ValueError on a value the type cannot hold."""
    if isinstance(spec, Prim):
        _write_prim(spec.name, value, out)
    elif isinstance(spec, VecOf):
        items = _sequence(value, spec)
        out += _U32.pack(len(items))
        for item in items:
            write_value(spec.item, item, out)
    elif isinstance(spec, ArrayOf):
        items = _sequence(value, spec)
        if len(items) != spec.length:
            raise ValueError(f"array needs {spec.length} items, got {len(items)}")
        for item in items:
            write_value(spec.item, item, out)
    elif isinstance(spec, OptionOf):
        if value is None:
            out.append(0)
        else:
            out.append(1)
            write_value(spec.item, value, out)
    elif isinstance(spec, EnumOf):
        if value not in spec.variants:
            raise ValueError(f"{value!r} is not a variant of {spec.name}")
        out.append(spec.variants.index(str(value)))
    elif spec.newtype:
        write_value(spec.fields[0].type, value, out)
    else:
        if not isinstance(value, Mapping):
            raise ValueError(f"{spec.name} needs a mapping, got {type(value).__name__}")
        write_fields(spec.fields, value, out)


def write_fields(fields: Sequence[Field], values: Mapping[str, object], out: bytearray) -> None:
    for field in fields:
        if field.name not in values:
            raise ValueError(f"missing field {field.name!r}")
        write_value(field.type, values[field.name], out)


def _sequence(value: object, spec: TypeSpec) -> Sequence[object]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ValueError(f"{spec} needs a sequence, got {type(value).__name__}")
    return value


def _write_prim(name: str, value: object, out: bytearray) -> None:
    if name == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"bool field needs a bool, got {value!r}")
        out.append(1 if value else 0)
    elif name == "pubkey":
        if isinstance(value, bytes) and len(value) == 32:
            out += value
        elif isinstance(value, str):
            out += decode_pubkey(value)
        else:
            raise ValueError(f"pubkey field needs base58 text or 32 bytes, got {value!r}")
    elif name == "string":
        if not isinstance(value, str):
            raise ValueError(f"string field needs str, got {value!r}")
        raw = value.encode("utf-8")
        out += _U32.pack(len(raw)) + raw
    elif name == "bytes":
        if not isinstance(value, bytes):
            raise ValueError(f"bytes field needs bytes, got {value!r}")
        out += _U32.pack(len(value)) + value
    else:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{name} field needs an int, got {value!r}")
        low, high = INT_RANGES[name]
        if not low <= value <= high:
            raise ValueError(f"{value} does not fit in {name}")
        out += value.to_bytes(_INT_WIDTHS[name], "little", signed=name.startswith("i"))
