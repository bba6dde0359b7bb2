"""Property tests: encoders invert decoders for every layout version; no input makes a decoder
raise anything but DecodeError; truncation yields an older version or a DecodeError."""

from __future__ import annotations

import base64
import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from executor.decode import PUMP, PUMP_AMM, DecodeError, decode_account, decode_logs, decode_transaction
from executor.decode.base58 import b58decode, b58encode, encode_pubkey
from executor.decode.encode import (
    encode_account,
    encode_event,
    encode_instruction,
    encode_payload,
    program_data_line,
)
from executor.decode.events import decode_event
from executor.decode.idl import ArrayOf, EnumOf, Field, OptionOf, Prim, TypeSpec, VecOf
from executor.decode.layouts import ACCOUNTS_BY_PROGRAM, EVENTS, INSTRUCTIONS, Layout
from executor.decode.logs import fast_scan, scan_logs
from executor.decode.model import Anomaly
from executor.decode.records import CurveTrade

_INT_BOUNDS = {
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
pubkeys = st.binary(min_size=32, max_size=32).map(encode_pubkey)


def values(spec: TypeSpec) -> st.SearchStrategy[Any]:
    if isinstance(spec, Prim):
        if spec.name == "bool":
            return st.booleans()
        if spec.name == "pubkey":
            return pubkeys
        if spec.name == "string":
            return st.text(max_size=12)
        if spec.name == "bytes":
            return st.binary(max_size=12)
        low, high = _INT_BOUNDS[spec.name]
        return st.integers(low, high)
    if isinstance(spec, VecOf):
        return st.lists(values(spec.item), max_size=3).map(tuple)
    if isinstance(spec, ArrayOf):
        return st.lists(values(spec.item), min_size=spec.length, max_size=spec.length).map(tuple)
    if isinstance(spec, OptionOf):
        return st.none() | values(spec.item)
    if isinstance(spec, EnumOf):
        return st.sampled_from(spec.variants)
    if spec.newtype:
        return values(spec.fields[0].type)
    return field_values(spec.fields)


def field_values(fields: tuple[Field, ...]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({f.name: values(f.type) for f in fields})


def versions(tables: dict[str, dict[bytes, Layout]]) -> list[tuple[Layout, str]]:
    return [
        (layout, v.label) for table in tables.values() for layout in table.values() for v in layout.versions
    ]


EVENT_VERSIONS = versions(EVENTS)
ACCOUNT_VERSIONS = versions(ACCOUNTS_BY_PROGRAM)
INSTRUCTION_VERSIONS = versions(INSTRUCTIONS)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_every_event_version_round_trips(data: st.DataObject) -> None:
    layout, label = data.draw(st.sampled_from(EVENT_VERSIONS))
    fields = data.draw(field_values(layout.fields_until(label)))
    blob = encode_event(layout.name, fields, label, program=layout.program)
    anomalies: list[Anomaly] = []
    event = decode_event(
        layout.program, blob, source="cpi", event_index=0, ix_index=0, inner_index=None, anomalies=anomalies
    )
    assert (event.name, event.layout_version, event.fields, event.tail) == (layout.name, label, fields, b"")
    assert anomalies == []


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_every_account_version_round_trips_with_padding(data: st.DataObject) -> None:
    layout, label = data.draw(st.sampled_from(ACCOUNT_VERSIONS))
    fields = data.draw(field_values(layout.fields_until(label)))
    exact = encode_account(layout.name, fields, label, program=layout.program)
    account = decode_account(exact, layout.program)
    assert (account.name, account.layout_version, account.fields, account.padding) == (
        layout.name,
        label,
        fields,
        0,
    )
    if layout.versions[-1].label == label:
        padded = encode_account(layout.name, fields, label, program=layout.program, size=len(exact) + 13)
        assert decode_account(padded, layout.program).padding == 13


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_every_instruction_version_round_trips(data: st.DataObject) -> None:
    layout, label = data.draw(st.sampled_from(INSTRUCTION_VERSIONS))
    args = data.draw(field_values(layout.fields_until(label)))
    blob = encode_instruction(layout.program, layout.name, args, label)
    decoded, version, end = layout.decode(blob, 8)
    assert (decoded, version, end) == (args, label, len(blob))


@settings(max_examples=200)
@given(field_values(EVENTS[PUMP][bytes.fromhex("bddb7fd34ee661ee")].all_fields), st.sampled_from(range(10)))
def test_trade_event_through_logs_gives_a_record_with_the_same_values(
    fields: dict[str, Any], version: int
) -> None:
    label = f"v{version}"
    line = program_data_line(encode_event("TradeEvent", fields, label))
    tx = decode_logs("sig", 1, [f"Program {PUMP} invoke [1]", line, f"Program {PUMP} success"], None)
    (record,) = tx.records
    assert isinstance(record, CurveTrade) and record.layout_version == label
    layout = EVENTS[PUMP][bytes.fromhex("bddb7fd34ee661ee")]
    present = {f.name for f in layout.fields_until(label)}
    for name in ("mint", "sol_amount", "is_buy", "fee", "ix_name", "quote_amount", "holder_rewards"):
        assert getattr(record, name) == (fields[name] if name in present else None)


@settings(max_examples=300)
@given(
    st.binary(max_size=600),
    st.sampled_from([None, PUMP, PUMP_AMM, "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"]),
)
def test_arbitrary_account_bytes_raise_nothing_but_decode_error(data: bytes, owner: str | None) -> None:
    with contextlib.suppress(DecodeError):
        decode_account(data, owner)


@settings(max_examples=300)
@given(st.sampled_from([PUMP, PUMP_AMM]), st.binary(max_size=600))
def test_arbitrary_event_bytes_never_raise(program: str, data: bytes) -> None:
    decode_event(program, data, source="logs", event_index=0, ix_index=None, inner_index=None, anomalies=[])


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_every_prefix_of_an_event_is_an_older_version_or_a_recorded_error(data: st.DataObject) -> None:
    layout, label = data.draw(st.sampled_from(EVENT_VERSIONS))
    blob = encode_event(
        layout.name, data.draw(field_values(layout.fields_until(label))), label, program=layout.program
    )
    cut = data.draw(st.integers(8, len(blob)))
    anomalies: list[Anomaly] = []
    event = decode_event(
        layout.program,
        blob[:cut],
        source="logs",
        event_index=0,
        ix_index=None,
        inner_index=None,
        anomalies=anomalies,
    )
    if event.error is None:
        labels = [v.label for v in layout.versions]
        assert event.layout_version is not None and labels.index(event.layout_version) <= labels.index(label)
        assert len(event.data) - len(event.tail) <= cut
    else:
        assert [a.reason for a in anomalies] == ["event_decode_error"]


log_lines = st.one_of(
    st.text(max_size=80),
    st.builds(
        lambda p, n: f"Program {p} invoke [{n}]", st.sampled_from([PUMP, PUMP_AMM, "x"]), st.integers(-2, 9)
    ),
    st.builds(lambda p: f"Program {p} success", st.sampled_from([PUMP, PUMP_AMM, "x"])),
    st.builds(lambda p: f"Program {p} failed: custom program error: 0x1771", st.sampled_from([PUMP, "x"])),
    st.builds(lambda b: "Program data: " + base64.b64encode(b).decode(), st.binary(max_size=300)),
    st.builds(lambda s: "Program data: " + s, st.text(max_size=40)),
    st.just("Log truncated"),
    st.just("Program"),
    st.just("Program data: "),
)


@settings(max_examples=400)
@given(
    st.lists(log_lines | st.integers() | st.none(), max_size=30),
    st.one_of(st.none(), st.just({"InstructionError": [0, "Custom"]})),
)
def test_garbage_log_lines_never_raise(lines: list[Any], err: object) -> None:
    tx = decode_logs("sig", 0, lines, err)
    assert [e.event_index for e in tx.events] == list(range(len(tx.events)))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 2**70) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300)
@given(json_values)
def test_arbitrary_json_as_a_transaction_raises_nothing_but_decode_error(value: Any) -> None:
    for candidate in (value, {"transaction": value, "meta": value, "slot": 1}):
        with contextlib.suppress(DecodeError):
            decode_transaction(candidate)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc[:6]):
            found += _paths(value, (*prefix, index))
    return found


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.data())
def test_a_real_transaction_with_one_field_replaced_raises_nothing_but_decode_error(
    all_tx_results: list[dict[str, Any]], data: st.DataObject
) -> None:
    result = json.loads(json.dumps(data.draw(st.sampled_from(all_tx_results))))
    path = data.draw(st.sampled_from(_paths(result)))
    target = result
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = data.draw(json_values)
    with contextlib.suppress(DecodeError):
        decode_transaction(result)


@given(st.binary(max_size=64))
def test_base58_round_trips(raw: bytes) -> None:
    assert b58decode(b58encode(raw)) == raw


PROGRAMS = [
    PUMP,
    PUMP_AMM,
    "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",
    "LanMV9sAd7wArD4vJFi2qDdfnVhFxYSUg6eADduJ3uj",
]
tricky_text = st.sampled_from(
    [
        "Instruction: Buy",
        "swap success",
        "x invoke [",
        "y failed: z",
        "Program data: AAAA",
        "ends with ]",
        "ok",
    ]
)


@st.composite
def frames(draw: st.DrawFn, depth: int = 1) -> list[str]:
    """One well-formed invoke frame as the runtime logs it, with nested frames below depth 4."""
    program = draw(st.sampled_from(PROGRAMS))
    lines = [f"Program {program} invoke [{depth}]"]
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["log", "data", "consumed", "return", "nested"]))
        if kind == "log":
            lines.append("Program log: " + draw(tricky_text))
        elif kind == "data":
            lines.append(
                "Program data: " + base64.b64encode(draw(st.binary(min_size=8, max_size=40))).decode()
            )
        elif kind == "consumed":
            lines.append(f"Program {program} consumed 100 of 200 compute units")
        elif kind == "return":
            lines.append(f"Program return: {program} AAAA")
        elif depth < 4:
            lines.extend(draw(frames(depth + 1)))
    failed = draw(st.integers(0, 9)) == 0
    lines.append(
        f"Program {program} failed: custom program error: 0x1" if failed else f"Program {program} success"
    )
    return lines


@settings(max_examples=400)
@given(st.lists(frames(), max_size=5))
def test_fast_log_scan_agrees_with_the_line_by_line_scan(top_level: list[list[str]]) -> None:
    logs = [line for frame in top_level for line in frame]
    fast, exact = fast_scan(logs), scan_logs(logs)
    if fast is not None:
        assert [(e.program, e.data, e.frame, e.inner_index) for e in fast.events] == [
            (e.program, e.data, e.frame, e.inner_index) for e in exact.events
        ]


def test_fast_log_scan_agrees_with_the_line_by_line_scan_on_every_fixture(
    all_tx_results: list[dict[str, Any]],
) -> None:
    exact_only = 0
    for result in all_tx_results:
        logs = result["meta"]["logMessages"]
        fast, exact = fast_scan(logs), scan_logs(logs)
        if fast is None:
            exact_only += 1
            continue
        assert [(e.program, e.data, e.frame, e.inner_index) for e in fast.events] == [
            (e.program, e.data, e.frame, e.inner_index) for e in exact.events
        ]
    assert exact_only <= 2, "only the truncated transaction needs the line-by-line scan"


def test_a_message_with_an_embedded_newline_is_left_to_the_line_by_line_scan() -> None:
    logs = [
        f"Program {PUMP} invoke [1]",
        f"Program log: x\nProgram {PUMP} invoke [2]",
        "Program data: AAAAAAAAAAA=",
    ]
    assert fast_scan(logs) is None
    assert [e.inner_index for e in scan_logs(logs).events] == [None]


def _outcome(decode: Any, blob: bytes, lenient: bool) -> object:
    try:
        return decode(blob, 8, lenient=lenient)
    except DecodeError as exc:
        return type(exc)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fast_paths_of_every_layout_agree_with_the_version_by_version_reference(data: st.DataObject) -> None:
    layout, label = data.draw(st.sampled_from(EVENT_VERSIONS + ACCOUNT_VERSIONS + INSTRUCTION_VERSIONS))
    fields = data.draw(field_values(layout.fields_until(label)))
    blob = bytearray(layout.discriminator + encode_payload(layout, fields, label))
    mutation = data.draw(st.sampled_from(["none", "cut", "tail", "flip"]))
    if mutation == "cut":
        del blob[data.draw(st.integers(8, len(blob))) :]
    elif mutation == "tail":
        blob += data.draw(st.binary(min_size=1, max_size=40))
    elif mutation == "flip" and len(blob) > 8:
        blob[data.draw(st.integers(8, len(blob) - 1))] = data.draw(st.integers(0, 255))
    lenient = data.draw(st.booleans())
    assert _outcome(layout.decode, bytes(blob), lenient) == _outcome(
        layout.decode_stepwise, bytes(blob), lenient
    )


@settings(max_examples=300)
@given(st.lists(frames(), min_size=1, max_size=3), st.integers(0, 12))
def test_fast_log_scan_agrees_on_logs_that_start_mid_frame(top_level: list[list[str]], drop: int) -> None:
    logs = [line for frame in top_level for line in frame][drop:]
    fast, exact = fast_scan(logs), scan_logs(logs)
    if fast is not None:
        assert [(e.program, e.data, e.frame, e.inner_index) for e in fast.events] == [
            (e.program, e.data, e.frame, e.inner_index) for e in exact.events
        ]
