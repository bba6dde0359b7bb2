"""The vendored Anchor IDLs (`idl/*.json`), loaded once into typed, immutable descriptions.

Only the subset of the IDL type language these programs use is accepted (primitives, `vec`,
`array`, `option`, `defined` structs, tuple structs, unit-variant enums); anything else fails at
import time, so an IDL update that needs decoder work is noticed by the test suite, not in
production.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

PUMP = "6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P"
PUMP_AMM = "pAMMBay6oceH9fJKBRHGP5D4bD4sWpmSwMn52FMfXEA"
PUMP_FEES = "pfeeUxB6jkeY1Hxd7CsFCAjcbHA9rWtchMGdZ6VojVZ"

IDL_FILES = {PUMP: "pump.json", PUMP_AMM: "pump_amm.json", PUMP_FEES: "pump_fees.json"}

PRIMITIVES = frozenset(
    {
        "bool",
        "u8",
        "i8",
        "u16",
        "i16",
        "u32",
        "i32",
        "u64",
        "i64",
        "u128",
        "i128",
        "pubkey",
        "string",
        "bytes",
    }
)


@dataclass(frozen=True, slots=True)
class Prim:
    name: str


@dataclass(frozen=True, slots=True)
class VecOf:
    item: TypeSpec


@dataclass(frozen=True, slots=True)
class ArrayOf:
    item: TypeSpec
    length: int


@dataclass(frozen=True, slots=True)
class OptionOf:
    item: TypeSpec


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: TypeSpec


@dataclass(frozen=True, slots=True)
class StructOf:
    """A named-field struct (decoded to a dict) or a one-field tuple struct (decoded to its value)."""

    name: str
    fields: tuple[Field, ...]
    newtype: bool


@dataclass(frozen=True, slots=True)
class EnumOf:
    name: str
    variants: tuple[str, ...]


TypeSpec = Prim | VecOf | ArrayOf | OptionOf | StructOf | EnumOf


@dataclass(frozen=True, slots=True)
class IdlItem:
    """An instruction, event or account of one program: its name, discriminator and fields."""

    program: str
    name: str
    discriminator: bytes
    fields: tuple[Field, ...]
    accounts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Idl:
    program: str
    name: str
    instructions: dict[str, IdlItem]
    events: dict[str, IdlItem]
    accounts: dict[str, IdlItem]


def anchor_discriminator(namespace: str, name: str) -> bytes:
    return hashlib.sha256(f"{namespace}:{name}".encode()).digest()[:8]


def _resolve(raw: Any, types: dict[str, Any], seen: tuple[str, ...]) -> TypeSpec:
    if isinstance(raw, str):
        if raw not in PRIMITIVES:
            raise ValueError(f"unsupported IDL primitive {raw!r}")
        return Prim(raw)
    if "vec" in raw:
        return VecOf(_resolve(raw["vec"], types, seen))
    if "array" in raw:
        item, length = raw["array"]
        if not isinstance(length, int):
            raise ValueError(f"unsupported array length {length!r}")
        return ArrayOf(_resolve(item, types, seen), length)
    if "option" in raw:
        return OptionOf(_resolve(raw["option"], types, seen))
    if "defined" in raw:
        name = raw["defined"]["name"]
        if name in seen:
            raise ValueError(f"recursive IDL type {name}")
        return _resolve_defined(name, types, (*seen, name))
    raise ValueError(f"unsupported IDL type {raw!r}")


def _resolve_defined(name: str, types: dict[str, Any], seen: tuple[str, ...]) -> TypeSpec:
    body = types[name]["type"]
    if body["kind"] == "enum":
        variants = body["variants"]
        if any("fields" in variant for variant in variants):
            raise ValueError(f"enum {name} has data variants, which the decoder does not support")
        return EnumOf(name, tuple(variant["name"] for variant in variants))
    if body["kind"] != "struct":
        raise ValueError(f"unsupported IDL type kind {body['kind']!r} for {name}")
    raw_fields = body.get("fields", [])
    if raw_fields and not isinstance(raw_fields[0], dict):
        if len(raw_fields) != 1:
            raise ValueError(f"tuple struct {name} with {len(raw_fields)} fields is not supported")
        return StructOf(name, (Field("0", _resolve(raw_fields[0], types, seen)),), newtype=True)
    fields = tuple(Field(f["name"], _resolve(f["type"], types, seen)) for f in raw_fields)
    return StructOf(name, fields, newtype=False)


def _struct_fields(name: str, types: dict[str, Any]) -> tuple[Field, ...]:
    spec = _resolve_defined(name, types, (name,))
    if not isinstance(spec, StructOf) or spec.newtype:
        raise ValueError(f"{name} is not a named-field struct")
    return spec.fields


def _checked_discriminator(entry: dict[str, Any], namespace: str, name: str) -> bytes:
    disc = bytes(entry["discriminator"])
    if disc != anchor_discriminator(namespace, name):
        raise ValueError(f"IDL discriminator of {namespace}:{name} does not match its name")
    return disc


def load_idl(program: str) -> Idl:
    text = resources.files("executor.decode").joinpath("idl").joinpath(IDL_FILES[program]).read_text("utf-8")
    doc = json.loads(text)
    if doc["address"] != program:
        raise ValueError(f"{IDL_FILES[program]} describes {doc['address']}, expected {program}")
    types = {t["name"]: t for t in doc.get("types", [])}
    instructions = {
        ix["name"]: IdlItem(
            program=program,
            name=ix["name"],
            discriminator=_checked_discriminator(ix, "global", ix["name"]),
            fields=tuple(Field(a["name"], _resolve(a["type"], types, ())) for a in ix["args"]),
            accounts=tuple(_flat_accounts(ix["accounts"])),
        )
        for ix in doc["instructions"]
    }
    events = {
        ev["name"]: IdlItem(
            program=program,
            name=ev["name"],
            discriminator=_checked_discriminator(ev, "event", ev["name"]),
            fields=_struct_fields(ev["name"], types),
        )
        for ev in doc.get("events", [])
    }
    accounts = {
        acc["name"]: IdlItem(
            program=program,
            name=acc["name"],
            discriminator=_checked_discriminator(acc, "account", acc["name"]),
            fields=_struct_fields(acc["name"], types),
        )
        for acc in doc.get("accounts", [])
    }
    return Idl(program, doc["metadata"]["name"], instructions, events, accounts)


def _flat_accounts(entries: list[dict[str, Any]]) -> list[str]:
    names: list[str] = []
    for entry in entries:
        if "accounts" in entry:
            names.extend(_flat_accounts(entry["accounts"]))
        else:
            names.append(entry["name"])
    return names


IDLS: dict[str, Idl] = {program: load_idl(program) for program in IDL_FILES}
