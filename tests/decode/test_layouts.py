"""The layout tables agree with the IDLs and with the sizes pump-protocol.md documents."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from executor.decode import PUMP, PUMP_AMM
from executor.decode.idl import IDLS
from executor.decode.layouts import ACCOUNTS, EVENTS, INSTRUCTIONS, layout_by_name, payload_size
from executor.decode.records import DERIVED_FIELDS, ENVELOPE_FIELDS, RECORD_OF_EVENT


@pytest.mark.parametrize(
    ("name", "sizes"),
    [
        # pump-protocol.md §5.2 (strings empty: add 3 for ix_name "buy")
        (
            "TradeEvent",
            {"v0": 105, "v1": 121, "v2": 217, "v3": 250, "v4": 254, "v7": 287, "v8": 347, "v9": 363},
        ),
        ("CreateEvent", {"c0": 108, "c5": 254}),
        ("CompleteEvent", {"k0": 104, "k1": 136}),
        ("CompletePumpAmmMigrationEvent", {"m0": 160, "m1": 192}),
        ("BuyEvent", {"b0": 304, "b1": 352, "b2": 385}),
        ("SellEvent", {"s0": 304, "s1": 352, "s3": 384}),
        ("CreatePoolEvent", {"p0": 293, "p1": 325, "p2": 326}),
    ],
)
def test_event_versions_have_the_documented_payload_sizes(name: str, sizes: dict[str, int]) -> None:
    layout = layout_by_name("event", name)
    assert {label: payload_size(layout, label) for label in sizes} == sizes


def test_bonding_curve_and_pool_versions_have_the_documented_account_sizes() -> None:
    curve, pool = layout_by_name("account", "BondingCurve"), layout_by_name("account", "Pool")
    assert 8 + payload_size(curve, "bc0") == 49 and 8 + payload_size(curve, "bc1") == 81
    assert 8 + payload_size(pool, "pool0") == 211


def test_every_idl_event_instruction_and_account_has_a_layout_with_its_idl_fields() -> None:
    for program in (PUMP, PUMP_AMM):
        idl = IDLS[program]
        for item in idl.events.values():
            assert EVENTS[program][item.discriminator].all_fields[: len(item.fields)] == item.fields
        for item in idl.instructions.values():
            layout = INSTRUCTIONS[program][item.discriminator]
            assert layout.all_fields == item.fields and layout.accounts == item.accounts
    for idl in IDLS.values():
        for item in idl.accounts.values():
            assert item.discriminator in ACCOUNTS


@pytest.mark.parametrize(
    ("kind", "name", "hex_disc"),
    [
        ("event", "TradeEvent", "bddb7fd34ee661ee"),
        ("event", "CreateEvent", "1b72a94ddeeb6376"),
        ("event", "CompleteEvent", "5f72619cd42e9808"),
        ("event", "CompletePumpAmmMigrationEvent", "bde95db95c94ea94"),
        ("event", "BuyEvent", "67f4521f2cf57777"),
        ("event", "SellEvent", "3e2f370aa503dc2a"),
        ("event", "CreatePoolEvent", "b1310cd2a076a774"),
        ("account", "BondingCurve", "17b7f83760d8ac60"),
        ("account", "Pool", "f19a6d0411b16dbc"),
        ("account", "LastWithdraw", "cb12dc677891bb02"),
    ],
)
def test_discriminators_match_the_protocol_reference(kind: str, name: str, hex_disc: str) -> None:
    assert layout_by_name(kind, name).discriminator.hex() == hex_disc
    namespace = {"event": "event", "account": "account"}[kind]
    assert hashlib.sha256(f"{namespace}:{name}".encode()).digest()[:8].hex() == hex_disc


def test_the_event_cpi_tag_is_anchors_event_ix_tag() -> None:
    from executor.decode.layouts import EVENT_CPI_TAG

    assert (0x1D9ACB512EA545E4).to_bytes(8, "little") == EVENT_CPI_TAG


def test_every_record_field_is_an_idl_field_of_its_event_or_a_documented_derived_field() -> None:
    sources: dict[type, set[str]] = {}
    for (program, event), cls in RECORD_OF_EVENT.items():  # AmmTrade: BuyEvent and SellEvent
        sources.setdefault(cls, set()).update(
            f.name for f in layout_by_name("event", event, program).all_fields
        )
    for cls, idl_names in sources.items():
        own = (
            {f.name for f in dataclasses.fields(cls)} - ENVELOPE_FIELDS - DERIVED_FIELDS.get(cls, frozenset())
        )
        assert own <= idl_names, (cls.__name__, own - idl_names)


def test_no_idl_field_collides_with_the_cli_envelope_keys() -> None:
    envelope = {
        "kind",
        "item",
        "program",
        "layout_version",
        "signature",
        "slot",
        "source",
        "event_index",
        "ix_index",
        "inner_index",
        "discriminator",
        "data",
        "error",
        "unknown_tail",
        "accounts",
        "failed",
    }
    for table in (*EVENTS.values(), *INSTRUCTIONS.values()):
        for layout in table.values():
            assert not {f.name for f in layout.all_fields} & envelope, layout.name


def test_an_ambiguous_name_needs_the_program() -> None:
    with pytest.raises(KeyError, match="several programs"):
        layout_by_name("event", "ExtendAccountEvent")
    assert layout_by_name("event", "ExtendAccountEvent", PUMP_AMM).program == PUMP_AMM
