"""Encoders: the exact inverse of the decoders, for every layout version.

`decode(encode(x)) == x` for every event, account and instruction layout version (property
tests in tests/decode). The simulator builds synthetic transactions with these; encoders take
programmer input, so a bad value raises ValueError/KeyError (not DecodeError).

Values use the decoder's representation: ints, bools, str, pubkeys as base58 text (32 raw bytes
are accepted too), vectors and arrays as sequences, structs as mappings.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

from executor.decode.borsh import write_fields
from executor.decode.layouts import EVENT_CPI_TAG, Layout, layout_by_name


def _check_names(layout: Layout, fields: Mapping[str, object]) -> None:
    known = {field.name for field in layout.all_fields}
    unknown = set(fields) - known
    if unknown:
        raise ValueError(f"{layout.name} has no field(s) {sorted(unknown)}")


def encode_payload(layout: Layout, fields: Mapping[str, object], version: str | None = None) -> bytes:
    """Borsh bytes of the fields of `version` (default: newest); later fields are ignored."""
    _check_names(layout, fields)
    out = bytearray()
    write_fields(layout.fields_until(version or layout.latest), fields, out)
    return bytes(out)


def encode_event(
    name: str,
    fields: Mapping[str, object],
    version: str | None = None,
    *,
    program: str | None = None,
    tail: bytes = b"",
) -> bytes:
    """Discriminator + payload (the bytes of a `Program data:` line); `tail` is appended raw."""
    layout = layout_by_name("event", name, program)
    return layout.discriminator + encode_payload(layout, fields, version) + tail


def encode_account(
    name: str,
    fields: Mapping[str, object],
    version: str | None = None,
    *,
    program: str | None = None,
    size: int | None = None,
) -> bytes:
    """Account data; `size` zero-pads to an allocated length (accounts are allocated to grow)."""
    layout = layout_by_name("account", name, program)
    data = layout.discriminator + encode_payload(layout, fields, version)
    if size is not None:
        if size < len(data):
            raise ValueError(f"{name} needs {len(data)} bytes, size is {size}")
        data += bytes(size - len(data))
    return data


def encode_instruction(
    program: str, name: str, args: Mapping[str, object], version: str | None = None, *, tail: bytes = b""
) -> bytes:
    """Instruction data: discriminator + args of `version` (default: all IDL args)."""
    layout = layout_by_name("instruction", name, program)
    return layout.discriminator + encode_payload(layout, args, version) + tail


def program_data_line(event: bytes) -> str:
    """The log line a program prints for an event (`sol_log_data` of one slice)."""
    return "Program data: " + base64.b64encode(event).decode("ascii")


def event_cpi_data(event: bytes) -> bytes:
    """Data of the self-CPI instruction that carries an event (Anchor `emit_cpi!`)."""
    return EVENT_CPI_TAG + event
