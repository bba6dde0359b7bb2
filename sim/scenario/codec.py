"""Borsh encoders for the simulator's hot path, compiled once per layout version.

Same bytes as `executor.decode.encode` (tests/sim compare them), but each layout version is
compiled to segments: runs of fixed-size fields are packed by one `struct.Struct` (pubkeys from
a cache of their 32 raw bytes), and only variable-size fields (strings, vectors, options) go
through the decoder's generic Borsh writer.
"""

from __future__ import annotations

import operator
import struct
from collections.abc import Callable, Mapping
from functools import cache

from executor.decode.borsh import PRIM_CODES, write_value
from executor.decode.idl import Field, Prim, VecOf
from executor.decode.layouts import layout_by_name
from sim.scenario.keys import pubkey_bytes

Encoder = Callable[[Mapping[str, object]], bytes]

# the decoder's struct codes, except that "?" packs a bool from the value's truth
_FORMATS = {**PRIM_CODES, "bool": "?"}


def _as_pubkey(value: object) -> bytes:
    return pubkey_bytes(value) if isinstance(value, str) else value  # type: ignore[return-value]


def _as_u128(value: object) -> bytes:
    return value.to_bytes(16, "little")  # type: ignore[attr-defined, no-any-return]


def _as_i128(value: object) -> bytes:
    return value.to_bytes(16, "little", signed=True)  # type: ignore[attr-defined, no-any-return]


_CONVERT: dict[str, Callable[[object], object]] = {"pubkey": _as_pubkey, "u128": _as_u128, "i128": _as_i128}


def _segment(run: list[Field]) -> Callable[[Mapping[str, object], bytearray], None]:
    """One struct pack for a run of fixed-size fields."""
    pack = struct.Struct("<" + "".join(_FORMATS[f.type.name] for f in run if isinstance(f.type, Prim))).pack
    names = [f.name for f in run]
    get = operator.itemgetter(*names) if len(names) > 1 else operator.itemgetter(names[0], names[0])
    converters = tuple(
        (i, _CONVERT[f.type.name])
        for i, f in enumerate(run)
        if isinstance(f.type, Prim) and f.type.name in _CONVERT
    )
    if len(names) == 1:  # the getter returns the value twice
        (only,) = converters or ((0, None),)
        convert = only[1]

        def single(values: Mapping[str, object], out: bytearray) -> None:
            value = values[names[0]]
            out += pack(value if convert is None else convert(value))

        return single
    if not converters:

        def plain(values: Mapping[str, object], out: bytearray) -> None:
            out += pack(*get(values))

        return plain

    def converted(values: Mapping[str, object], out: bytearray) -> None:
        items = list(get(values))
        for i, convert in converters:
            items[i] = convert(items[i])
        out += pack(*items)

    return converted


def _generic(field: Field) -> Callable[[Mapping[str, object], bytearray], None]:
    """Strings and empty vectors directly; anything else through the decoder's Borsh writer."""
    spec, name = field.type, field.name
    if isinstance(spec, Prim) and spec.name == "string":

        def string(values: Mapping[str, object], out: bytearray) -> None:
            raw = values[name].encode()  # type: ignore[attr-defined]
            out += _U32(len(raw)) + raw

        return string

    def write(values: Mapping[str, object], out: bytearray) -> None:
        value = values[name]
        if value == [] and isinstance(spec, VecOf):
            out += b"\0\0\0\0"
        else:
            write_value(spec, value, out)

    return write


_U32 = struct.Struct("<I").pack


def compile_fields(prefix: bytes, fields: tuple[Field, ...]) -> Encoder:
    """`prefix` (the discriminator) + the Borsh bytes of `fields`."""
    parts: list[Callable[[Mapping[str, object], bytearray], None]] = []
    run: list[Field] = []
    for field in fields:
        if isinstance(field.type, Prim) and field.type.name in _FORMATS:
            run.append(field)
            continue
        if run:
            parts.append(_segment(run))
            run = []
        parts.append(_generic(field))
    if run:
        parts.append(_segment(run))
    chain = tuple(parts)

    def encode(values: Mapping[str, object]) -> bytes:
        out = bytearray(prefix)
        for part in chain:
            part(values, out)
        return bytes(out)

    return encode


@cache
def encoder(kind: str, name: str, program: str | None, version: str | None) -> Encoder:
    """The encoder of one layout version (default: the newest) of an event, account or instruction."""
    layout = layout_by_name(kind, name, program)
    return compile_fields(layout.discriminator, layout.fields_until(version or layout.latest))


def encode_event(name: str, fields: Mapping[str, object], version: str, *, program: str) -> bytes:
    return encoder("event", name, program, version)(fields)


def encode_instruction(program: str, name: str, args: Mapping[str, object]) -> bytes:
    return encoder("instruction", name, program, None)(args)


def encode_account(name: str, fields: Mapping[str, object], version: str, *, size: int) -> bytes:
    data = encoder("account", name, None, version)(fields)
    if size < len(data):
        raise ValueError(f"{name} needs {len(data)} bytes, size is {size}")
    return data + bytes(size - len(data))
