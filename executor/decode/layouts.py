"""Versioned layouts of every event, account and instruction the decoder knows.

Field names and types come from the vendored IDLs. A layout's history is written as the
cumulative field counts of the IDL struct at each version ("v2 = the first 16 TradeEvent
fields"), plus the few fields seen on chain after the IDL snapshot (pump-protocol.md §5.1/§5.2),
so no field list is typed twice. Import fails if an IDL grows a field the history does not
place, which is how an IDL update reaches this table.

Decoding reads version after version and stops cleanly when the bytes end at a version boundary.
Bytes that end inside a version, or remain after the newest one, are an unknown tail: the
result is the last complete version plus the tail, never an error. Only a payload shorter than
the oldest version is an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from executor.decode.borsh import Buffer, FieldsReader, ShortRead, Value, fields_reader, fixed_size, min_size
from executor.decode.errors import DecodeError, TruncatedData
from executor.decode.idl import (
    IDLS,
    PUMP,
    PUMP_AMM,
    PUMP_FEES,
    Field,
    IdlItem,
    Prim,
    VecOf,
    anchor_discriminator,
)

EVENT_CPI_TAG = bytes.fromhex("e445a52e51cb9a1d")
EVENT_PROGRAMS = (PUMP, PUMP_AMM)


@dataclass(frozen=True, slots=True)
class Version:
    label: str
    fields: tuple[Field, ...]  # the fields this version appends
    read: FieldsReader


@dataclass(frozen=True, slots=True)
class Layout:
    kind: str  # "event", "account" or "instruction"
    program: str
    name: str
    discriminator: bytes
    versions: tuple[Version, ...]
    accounts: tuple[str, ...] = ()  # instruction account names, in order
    from_idl: bool = True
    # Fast paths, filled by `with_fast_paths`; each gives what `decode_stepwise` gives.
    # `exact` maps the payload size of a version whose fields are all fixed-size to one fused
    # reader of all its fields. `plans` say how far each version reaches (fixed byte counts, or a
    # u32 count times an item size for strings and vectors), so the version of a payload with
    # strings and vectors is found by reading just its length prefixes; `readers[i]` then reads
    # all fields up to version i in one call. `plans` is empty when a field's size cannot be
    # planned (options, vectors of variable items): such layouts read version by version.
    exact: dict[int, tuple[FieldsReader, str]] = field(default_factory=dict)
    plans: tuple[tuple[int | tuple[int], ...], ...] = ()
    readers: tuple[FieldsReader, ...] = ()

    @property
    def latest(self) -> str:
        return self.versions[-1].label

    def fields_until(self, label: str) -> tuple[Field, ...]:
        fields: list[Field] = []
        for version in self.versions:
            fields.extend(version.fields)
            if version.label == label:
                return tuple(fields)
        raise KeyError(f"{self.name} has no layout version {label!r}")

    @property
    def all_fields(self) -> tuple[Field, ...]:
        return self.fields_until(self.latest)

    def decode(self, buf: Buffer, start: int, *, lenient: bool = False) -> tuple[dict[str, Value], str, int]:
        """Fields, layout version and the offset where the unread tail begins.

        `lenient` also ends the read, instead of failing, at an invalid value after the first
        version: instructions, whose older program versions ignored trailing bytes that bots
        still send, decode that way.
        """
        size = len(buf) - start
        out: dict[str, Value] = {}
        exact = self.exact.get(size)
        if exact is not None:
            try:
                exact[0](buf, start, out)
                return out, exact[1], len(buf)
            except DecodeError:
                if not lenient:
                    raise
                return self.decode_stepwise(buf, start, lenient=lenient)
        if self.plans:
            index = self._version_that_fits(buf, start)
            if index >= 0:
                try:
                    return out, self.versions[index].label, self.readers[index](buf, start, out)
                except DecodeError:
                    if not lenient:
                        raise
        return self.decode_stepwise(buf, start, lenient=lenient)

    def _version_that_fits(self, buf: Buffer, start: int) -> int:
        """Index of the newest version whose fields fit in `buf`, or -1 if not even the oldest does."""
        end = len(buf)
        off = start
        fits = -1
        for index, plan in enumerate(self.plans):
            for step in plan:
                if type(step) is int:
                    off += step
                else:
                    if off + 4 > end:
                        return fits
                    off += 4 + int.from_bytes(buf[off : off + 4], "little") * step[0]  # type: ignore[index]
            if off > end:
                return fits
            fits = index
            if off == end:
                return fits
        return fits

    def decode_stepwise(
        self, buf: Buffer, start: int, *, lenient: bool = False
    ) -> tuple[dict[str, Value], str, int]:
        """`decode` without the fast paths: the reference the fast paths must agree with."""
        return self._stepwise(buf, start, {}, 0, "", lenient)

    def _stepwise(
        self, buf: Buffer, off: int, out: dict[str, Value], first: int, label: str, lenient: bool
    ) -> tuple[dict[str, Value], str, int]:
        end = len(buf)
        for version in self.versions[first:]:
            if label and off == end:
                break
            try:
                off = version.read(buf, off, out)
            except ShortRead:
                if not label:
                    raise TruncatedData(
                        f"{self.name}: {end - off} bytes is shorter than its oldest layout"
                    ) from None
                for dropped in version.fields:
                    out.pop(dropped.name, None)
                break
            except DecodeError:
                if not (lenient and label):
                    raise
                for dropped in version.fields:
                    out.pop(dropped.name, None)
                break
            label = version.label
        return out, label, off


def _plan(fields: tuple[Field, ...]) -> tuple[int | tuple[int], ...] | None:
    """How many bytes `fields` take: fixed counts and (item size,) for a u32-counted run."""
    steps: list[int | tuple[int]] = []
    for item in fields:
        size = fixed_size(item.type)
        if size is None:
            if item.type in (Prim("string"), Prim("bytes")):
                steps.append((1,))
            elif isinstance(item.type, VecOf) and fixed_size(item.type.item) is not None:
                steps.append((fixed_size(item.type.item) or 0,))
            else:
                return None
        elif steps and isinstance(steps[-1], int):
            steps[-1] += size
        else:
            steps.append(size)
    return tuple(steps)


def with_fast_paths(layout: Layout) -> Layout:
    exact: dict[int, tuple[FieldsReader, str]] = {}
    readers: list[FieldsReader] = []
    fields: list[Field] = []
    for version in layout.versions:
        fields.extend(version.fields)
        readers.append(fields_reader(tuple(fields)))
        sizes = [fixed_size(f.type) for f in fields]
        if None not in sizes:
            exact[sum(s for s in sizes if s is not None)] = (readers[-1], version.label)
    plans = [_plan(version.fields) for version in layout.versions]
    if any(plan is None for plan in plans):
        return replace(layout, exact=exact)
    return replace(
        layout, exact=exact, plans=tuple(p for p in plans if p is not None), readers=tuple(readers)
    )


@dataclass(frozen=True, slots=True)
class History:
    """Cumulative IDL field counts per version, plus fields seen on chain after the IDL."""

    prefix: str
    cuts: tuple[int, ...]
    post_idl: tuple[Field, ...] = ()
    first: int = 0  # number of the first label


# pump-protocol.md §5.1-§5.7; the post-IDL TradeEvent names are unverified (§5.1).
EVENT_HISTORY: dict[tuple[str, str], History] = {
    (PUMP, "TradeEvent"): History(
        "v",
        (8, 10, 16, 21, 22, 23, 25, 27, 32),
        post_idl=(Field("holder_rewards_bps", Prim("u64")), Field("holder_rewards", Prim("u64"))),
    ),
    (PUMP, "CreateEvent"): History("c", (6, 8, 12, 14, 15, 17)),
    (PUMP, "CompleteEvent"): History("k", (4, 5)),
    (PUMP, "CompletePumpAmmMigrationEvent"): History("m", (8, 9)),
    (PUMP_AMM, "BuyEvent"): History("b", (20, 23, 28, 30, 32, 34)),
    (PUMP_AMM, "SellEvent"): History("s", (20, 23, 25, 27)),
    (PUMP_AMM, "CreatePoolEvent"): History("p", (19, 20, 21)),
}

# pump-protocol.md §6 (BondingCurve 49 bytes -> +creator -> mayhem -> cashback -> quote_mint;
# Pool 211 bytes -> +coin_creator -> mayhem -> cashback). Accounts without a documented history
# decode field by field ("f<N>" = the first N IDL fields fit in the data).
ACCOUNT_HISTORY: dict[tuple[str, str], History] = {
    (PUMP, "BondingCurve"): History("bc", (6, 7, 8, 9, 10)),
    (PUMP_AMM, "Pool"): History("pool", (9, 10, 11, 12)),
}

# Which program owns (and so defines) an account that several IDLs copy.
ACCOUNT_HOME: dict[str, str] = {
    "BondingCurve": PUMP,
    "Global": PUMP,
    "Pool": PUMP_AMM,
    "GlobalConfig": PUMP_AMM,
    "FeeConfig": PUMP_FEES,
    "SharingConfig": PUMP_FEES,
}

# Layouts that are not in the vendored (2026-05) IDLs: the pre-PumpSwap withdraw flow.
LEGACY_ACCOUNTS: dict[tuple[str, str], tuple[Field, ...]] = {
    (PUMP, "LastWithdraw"): (Field("last_withdraw_timestamp", Prim("i64")),),
}
LEGACY_INSTRUCTIONS: dict[tuple[str, str], tuple[Field, ...]] = {
    (PUMP, "withdraw"): (),
}


def _versions_from_history(name: str, fields: tuple[Field, ...], history: History) -> tuple[Version, ...]:
    cuts = history.cuts
    if list(cuts) != sorted(set(cuts)) or cuts[-1] != len(fields):
        raise ValueError(f"{name}: history {cuts} does not end at the IDL's {len(fields)} fields")
    groups = [fields[lo:hi] for lo, hi in zip((0, *cuts), cuts, strict=False)]
    if history.post_idl:
        groups.append(history.post_idl)
    return tuple(
        Version(f"{history.prefix}{history.first + i}", group, fields_reader(group))
        for i, group in enumerate(groups)
    )


def _field_by_field(prefix: str, fields: tuple[Field, ...], start: int) -> tuple[Version, ...]:
    versions = [Version(f"{prefix}{start}", fields[:start], fields_reader(fields[:start]))]
    versions += [
        Version(f"{prefix}{n}", (field,), fields_reader((field,)))
        for n, field in enumerate(fields[start:], start=start + 1)
    ]
    return tuple(versions)


def _event_layout(item: IdlItem) -> Layout:
    history = EVENT_HISTORY.get((item.program, item.name), History("v", (len(item.fields),)))
    versions = _versions_from_history(item.name, item.fields, history)
    return with_fast_paths(Layout("event", item.program, item.name, item.discriminator, versions))


def _account_layout(item: IdlItem, from_idl: bool = True) -> Layout:
    history = ACCOUNT_HISTORY.get((item.program, item.name))
    if history is not None:
        versions = _versions_from_history(item.name, item.fields, history)
    else:
        versions = _field_by_field("f", item.fields, start=min(1, len(item.fields)))
    return with_fast_paths(
        Layout("account", item.program, item.name, item.discriminator, versions, from_idl=from_idl)
    )


def _instruction_layout(item: IdlItem, from_idl: bool = True) -> Layout:
    # Anchor reads instruction args as a prefix; trailing args (track_volume, create_pool's
    # coin_creator/is_mayhem_mode/...) were appended over time, so each arg is its own version.
    versions = _field_by_field("a", item.fields, start=0)
    layout = Layout(
        "instruction",
        item.program,
        item.name,
        item.discriminator,
        versions,
        accounts=item.accounts,
        from_idl=from_idl,
    )
    return with_fast_paths(layout)


def _check_unique(table: dict[bytes, Layout], layout: Layout) -> None:
    if layout.discriminator in table:
        raise ValueError(f"{layout.kind} discriminator of {layout.name} collides in {layout.program}")
    table[layout.discriminator] = layout


EVENTS: dict[str, dict[bytes, Layout]] = {program: {} for program in EVENT_PROGRAMS}
INSTRUCTIONS: dict[str, dict[bytes, Layout]] = {program: {} for program in EVENT_PROGRAMS}
ACCOUNTS_BY_PROGRAM: dict[str, dict[bytes, Layout]] = {program: {} for program in IDLS}

for _program, _idl in IDLS.items():
    for _item in _idl.accounts.values():
        _check_unique(ACCOUNTS_BY_PROGRAM[_program], _account_layout(_item))
    if _program in EVENT_PROGRAMS:
        for _item in _idl.events.values():
            _check_unique(EVENTS[_program], _event_layout(_item))
        for _item in _idl.instructions.values():
            _check_unique(INSTRUCTIONS[_program], _instruction_layout(_item))

for (_program, _name), _fields in LEGACY_ACCOUNTS.items():
    _item = IdlItem(_program, _name, anchor_discriminator("account", _name), _fields)
    _check_unique(ACCOUNTS_BY_PROGRAM[_program], _account_layout(_item, from_idl=False))
for (_program, _name), _fields in LEGACY_INSTRUCTIONS.items():
    _item = IdlItem(_program, _name, anchor_discriminator("global", _name), _fields)
    _check_unique(INSTRUCTIONS[_program], _instruction_layout(_item, from_idl=False))

for _program, _name in (*EVENT_HISTORY, *ACCOUNT_HISTORY):
    if not any(
        layout.name == _name
        for layout in (*EVENTS.get(_program, {}).values(), *ACCOUNTS_BY_PROGRAM[_program].values())
    ):
        raise ValueError(f"history given for {_name}, which {_program} does not define")

# An account's canonical layout: its owning program's, else the first IDL that defines it.
ACCOUNTS: dict[bytes, Layout] = {}
for _program in (PUMP, PUMP_AMM, PUMP_FEES):
    for _disc, _layout in ACCOUNTS_BY_PROGRAM[_program].items():
        home = ACCOUNT_HOME.get(_layout.name)
        if home == _program or (home is None and _disc not in ACCOUNTS):
            ACCOUNTS[_disc] = _layout


def layout_by_name(kind: str, name: str, program: str | None = None) -> Layout:
    """Look a layout up by IDL name; `program` is needed only when two programs share the name."""
    tables = {"event": EVENTS, "instruction": INSTRUCTIONS, "account": ACCOUNTS_BY_PROGRAM}[kind]
    if kind == "account" and program is None:
        matches = [layout for layout in ACCOUNTS.values() if layout.name == name]
    else:
        matches = [
            layout
            for table_program, table in tables.items()
            if program is None or table_program == program
            for layout in table.values()
            if layout.name == name
        ]
    if not matches:
        raise KeyError(f"no {kind} named {name!r}" + (f" in {program}" if program else ""))
    if len(matches) > 1:
        raise KeyError(f"{kind} {name!r} exists in several programs; pass program=")
    return matches[0]


def payload_size(layout: Layout, label: str) -> int:
    """Bytes of a version's payload when every string and vector is empty (for docs and tests)."""
    return sum(min_size(field.type) for field in layout.fields_until(label))


def check_discriminator(layout: Layout, data: Buffer) -> None:
    if bytes(data[:8]) != layout.discriminator:
        raise DecodeError(f"data does not start with the {layout.name} discriminator", reason="discriminator")


# Fields the IDL renamed without moving (pump-protocol.md §6, peers.md §2.4): older name -> IDL name.
# The decoder emits the IDL name; sources and consumers written before the rename use the old one.
RENAMED_FIELDS: dict[tuple[str, str], dict[str, str]] = {
    (PUMP, "BondingCurve"): {
        "virtual_sol_reserves": "virtual_quote_reserves",
        "real_sol_reserves": "real_quote_reserves",
    },
}

# Instruction accounts whose position kept its meaning-slot but changed name (pump-protocol.md §9):
# before the May-2025 creator-fee upgrade, buy's account 9 was the (unused) `rent` sysvar and
# sell's account 8 was `associated_token_program`; the IDL now calls both `creator_vault`.
RENAMED_ACCOUNTS: dict[tuple[str, str], dict[str, str]] = {
    (PUMP, "buy"): {"rent": "creator_vault"},
    (PUMP, "buy_exact_sol_in"): {"rent": "creator_vault"},
    (PUMP, "sell"): {"associated_token_program": "creator_vault"},
}
