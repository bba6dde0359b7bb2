"""Property tests: encoders invert decoders for every layout version; no input makes a decoder
raise anything but DecodeError; truncation yields an older version or a DecodeError."""

from __future__ import annotations

import base64
import contextlib
import copy
import dataclasses
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from executor.decode import (
    PUMP,
    PUMP_AMM,
    DecodeError,
    decode_account,
    decode_logs,
    decode_transaction,
    logtemplate,
    plans,
)
from executor.decode.base58 import b58decode, b58encode, encode_pubkey
from executor.decode.borsh import INT_RANGES
from executor.decode.encode import (
    encode_account,
    encode_event,
    encode_instruction,
    encode_payload,
    program_data_line,
)
from executor.decode.events import decode_event
from executor.decode.frozen import constructor
from executor.decode.idl import ArrayOf, EnumOf, Field, OptionOf, Prim, TypeSpec, VecOf
from executor.decode.layouts import ACCOUNTS_BY_PROGRAM, EVENTS, INSTRUCTIONS, Layout
from executor.decode.logs import decode_logs_reference
from executor.decode.model import Anomaly, DecodedEvent, DecodedTx, Source
from executor.decode.records import RECORD_TYPES, CurveTrade, build_record

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
        low, high = INT_RANGES[spec.name]
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
    assert_hot_path_agrees(lines, err)


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


# the kinds of line inside a frame; with events, an event line is twice as likely as any other
_KINDS = ["log", "data", "consumed", "return", "nested"]
_EVENT_KINDS = ["log", "event", "event", "data", "consumed", "return", "nested"]


@st.composite
def frames(draw: st.DrawFn, depth: int = 1, events: bool = False) -> list[str]:
    """One well-formed invoke frame as the runtime logs it, with nested frames below depth 4;
    with `events`, some data lines carry real events (`event_blobs`)."""
    program = draw(st.sampled_from(PROGRAMS))
    lines = [f"Program {program} invoke [{depth}]"]
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(_EVENT_KINDS if events else _KINDS))
        if kind == "log":
            lines.append("Program log: " + draw(tricky_text))
        elif kind == "event":
            lines.append(program_data_line(draw(event_blobs)))
        elif kind == "data":
            lines.append(
                "Program data: " + base64.b64encode(draw(st.binary(min_size=8, max_size=40))).decode()
            )
        elif kind == "consumed":
            lines.append(f"Program {program} consumed 100 of 200 compute units")
        elif kind == "return":
            lines.append(f"Program return: {program} AAAA")
        elif depth < 4:
            lines.extend(draw(frames(depth + 1, events)))
    failed = draw(st.integers(0, 9)) == 0
    lines.append(
        f"Program {program} failed: custom program error: 0x1" if failed else f"Program {program} success"
    )
    return lines


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


# --- the hot path of decode_logs (log templates, compiled plans) against the reference ----------


def assert_hot_path_agrees(logs: Any, err: object = None, block_time: int | None = None) -> None:
    """decode_logs equals decode_logs_reference on the first sight of these logs (scan, nothing
    learned), the second (scan, template learned, plans compiled) and the third (template and
    plans used)."""
    expected = decode_logs_reference("sig", 7, logs, err, block_time)
    for _ in range(3):
        assert decode_logs("sig", 7, logs, err, block_time) == expected


@st.composite
def layout_and_blob(draw: st.DrawFn) -> tuple[Layout, bytes]:
    """A pump / PumpSwap event of any layout version, sometimes cut, extended or with a byte changed."""
    layout, label = draw(st.sampled_from(EVENT_VERSIONS))
    blob = bytearray(
        encode_event(
            layout.name, draw(field_values(layout.fields_until(label))), label, program=layout.program
        )
    )
    mutation = draw(st.sampled_from(["none", "none", "none", "cut", "tail", "flip"]))
    if mutation == "cut":
        del blob[draw(st.integers(8, len(blob))) :]
    elif mutation == "tail":
        blob += draw(st.binary(min_size=1, max_size=40))
    elif mutation == "flip" and len(blob) > 8:
        blob[draw(st.integers(8, len(blob) - 1))] = draw(st.integers(0, 255))
    return layout, bytes(blob)


event_blobs = layout_and_blob().map(lambda pair: pair[1])


def event_frames() -> st.SearchStrategy[list[str]]:
    """`frames` whose data lines carry real events, as pump and PumpSwap print them."""
    return frames(events=True)


errors = st.one_of(st.none(), st.just({"InstructionError": [0, {"Custom": 6001}]}))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(frames(), max_size=5), errors)
def test_hot_path_agrees_with_the_reference_on_runtime_shaped_logs(
    top_level: list[list[str]], err: object
) -> None:
    assert_hot_path_agrees([line for frame in top_level for line in frame], err)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(event_frames(), min_size=1, max_size=3),
    errors,
    st.integers(0, 12),
    st.none() | st.integers(0, 2**40),
)
def test_hot_path_agrees_with_the_reference_on_logs_with_real_events(
    top_level: list[list[str]], err: object, drop: int, block_time: int | None
) -> None:
    logs = [line for frame in top_level for line in frame]
    assert_hot_path_agrees(logs, err, block_time)
    assert_hot_path_agrees(logs[drop:], err, block_time)  # logs that start mid-frame


verbs = st.sampled_from(
    [
        "invoke [1]",
        "invoke [2]",
        "invoke [3]",
        "invoke [1]x",
        "invoke",
        "success",
        "success x",
        "successful",
        "failed:",
        "failed: x",
        "consumed 1 of 2 compute units",
        "data: AAAAAAAAAAA=",
        "log: x",
    ]
)
mutated_lines = st.one_of(
    log_lines,
    tricky_text,
    st.builds(
        lambda p, n: f"Program {p} invoke [{n}]",
        st.sampled_from(PROGRAMS),
        st.sampled_from(["1", "2", "3", "1]x", "1] "]),
    ),
    st.builds(
        lambda p, v: f"Program {p} {v}",
        st.sampled_from(PROGRAMS),
        st.sampled_from(
            [
                "success",
                "success x",
                "successful",
                "failed:",
                "failed: x",
                "consumed 1 of 2 compute units",
                "invoke",
                "invoke [1]",
            ]
        ),
    ),
    st.builds(lambda t: "Program log: " + t, tricky_text),
    st.builds(
        lambda t: "Program log: x\n" + t,
        st.sampled_from([f"Program {PUMP} invoke [1]", "Program data: AAAAAAAAAAA=", "Log truncated"]),
    ),
)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(event_frames(), min_size=1, max_size=3), st.data())
def test_a_learned_template_is_used_only_for_logs_it_fits(
    top_level: list[list[str]], data: st.DataObject
) -> None:
    """Learn a notification's template, then change one line (keeping the line count, and
    mostly the first and last line, which select the template): the result still equals the
    reference, whether the template applies or not."""
    logs = [line for frame in top_level for line in frame]
    for _ in range(2):
        decode_logs("sig", 7, logs, None)
    changed = list(logs)
    structural = [
        i for i, line in enumerate(logs) if line.split(" ")[2:3] in (["invoke"], ["success"], ["failed:"])
    ]
    if len(structural) > 0 and data.draw(st.booleans()):
        at = data.draw(st.sampled_from(structural))
    else:
        at = data.draw(st.integers(0, len(logs) - 1))
    how = data.draw(st.sampled_from(["replace", "suffix", "prefix-of", "newline", "verb", "program"]))
    parts = changed[at].split(" ", 2)
    if how == "verb" and len(parts) == 3 and parts[0] == "Program":
        changed[at] = f"Program {parts[1]} " + data.draw(verbs)
    elif how == "program" and len(parts) == 3 and parts[0] == "Program":
        changed[at] = f"Program {data.draw(st.sampled_from(PROGRAMS))} {parts[2]}"
    elif how in ("replace", "verb", "program"):
        changed[at] = data.draw(mutated_lines)
    elif how == "suffix":
        changed[at] += data.draw(
            st.sampled_from([" ", "x", "]", " success", " invoke [1]", "\nProgram data: AAAAAAAAAAA="])
        )
    elif how == "prefix-of":
        changed[at] = changed[at][: data.draw(st.integers(0, len(changed[at])))]
    else:
        changed[at] = changed[at] + "\n" + data.draw(mutated_lines)
    assert decode_logs("sig", 7, changed, None) == decode_logs_reference("sig", 7, changed, None)


def test_hot_path_agrees_with_the_reference_on_every_fixture(all_tx_results: list[dict[str, Any]]) -> None:
    for cold in (True, False):
        for result in all_tx_results:
            if cold:
                logtemplate.clear()
                plans.clear()
            logs, err = result["meta"]["logMessages"], result["meta"]["err"]
            assert_hot_path_agrees(logs, None, result.get("blockTime"))
            assert_hot_path_agrees(logs, err, result.get("blockTime"))


def test_the_hot_path_uses_templates_and_plans_on_the_fixtures(all_tx_results: list[dict[str, Any]]) -> None:
    """Not a correctness property, but the point of the hot path: after two sights of the recorded
    notifications every untruncated one has a template and every event a compiled plan."""
    logtemplate.clear()
    plans.clear()
    for _ in range(2):
        for result in all_tx_results:
            decode_logs("sig", 1, result["meta"]["logMessages"], None)
    missing = [r for r in all_tx_results if logtemplate.find(r["meta"]["logMessages"]) is None]
    assert all("Log truncated" in r["meta"]["logMessages"] for r in missing)
    generic = plans.generic_decodes()
    for result in all_tx_results:
        decode_logs("sig", 1, result["meta"]["logMessages"], None)
    assert plans.generic_decodes() - generic <= sum(
        1 for r in missing for line in r["meta"]["logMessages"] if line.startswith("Program data: ")
    )


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_compiled_plan_agrees_with_the_generic_path_or_declines(data: st.DataObject) -> None:
    """A plan learned from one payload, given another of the same length (bytes changed anywhere:
    length prefixes, bools, UTF-8, pubkeys, the tail), returns what decode_event + build_record
    return, or None."""
    layout, blob = data.draw(layout_and_blob())
    program = layout.program
    plan = plans.compile_plan(layout, blob)
    if plan is None:
        return
    other = bytearray(blob)
    shape = plans.shape_of(layout, blob)
    prefixes = [offset for offset, _ in shape[2]] if shape is not None else []
    for _ in range(data.draw(st.integers(0, 3))):
        if len(prefixes) > 0 and data.draw(st.booleans()):  # the length prefixes that decide the version
            at = data.draw(st.sampled_from(prefixes))
            other[at : at + 4] = data.draw(st.integers(0, 48)).to_bytes(4, "little")
        else:
            other[data.draw(st.integers(8, len(other) - 1))] = data.draw(
                st.sampled_from([0, 1, 2, 3, 0x80, 0xFF])
            )
    sources: list[Source] = ["logs", "cpi"]
    source = data.draw(st.sampled_from(sources))
    failed = data.draw(st.booleans())
    fast_records: list[Any] | None = None if failed else []
    fast_anomalies: list[Anomaly] = []
    fast = plan(bytes(other), program, source, 2, 1, None, "sig", 9, None, fast_records, fast_anomalies)
    if fast is None:
        assert fast_records in (None, []) and fast_anomalies == []
        return
    slow_anomalies: list[Anomaly] = []
    slow = decode_event(
        program,
        bytes(other),
        source=source,
        event_index=2,
        ix_index=1,
        inner_index=None,
        anomalies=slow_anomalies,
    )
    assert (fast, fast_anomalies) == (slow, slow_anomalies)
    if not failed:
        record = build_record(slow, signature="sig", slot=9, block_time=None, instruction=None)
        assert fast_records == ([] if record is None else [record])


def test_fast_constructors_build_what_init_builds() -> None:
    for cls in (*RECORD_TYPES, DecodedEvent, DecodedTx, Anomaly):
        names = [f.name for f in dataclasses.fields(cls)]
        values = [object() for _ in names]
        built = constructor(cls)(*values)
        expected = cls(**dict(zip(names, values, strict=True)))  # type: ignore[arg-type]
        assert type(built) is cls and built == expected and repr(built) == repr(expected)
        assert dataclasses.replace(built) == expected and copy.copy(built) == expected
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(built, names[0], 1)


TRADE = EVENTS[PUMP][bytes.fromhex("bddb7fd34ee661ee")]


@pytest.mark.parametrize(
    ("at", "line"),
    [
        (3, "Program 11111111111111111111111111111111 invoke [1]"),  # a nested invoke read as top level
        (3, "Program 11111111111111111111111111111111 invoke [2]x"),
        (3, f"Program {PUMP} invoke [2]"),
        (4, "Program 11111111111111111111111111111111 successful"),  # no longer a closing line
        (4, "Program 11111111111111111111111111111111 success x"),  # still one
        (4, f"Program {PUMP} success"),  # closes the wrong frame
        (5, "Program data: AAAAAAAAAAAAAAAAAAAAAAAA"),  # a log line turned into an event
        (5, "Program log: x\nProgram data: AAAAAAAAAAA="),
        (5, "Log truncated"),
        (6, "Program 11111111111111111111111111111111 invoke [2]"),  # a consumed line turned into a frame
        (6, f"Program {PUMP} consumed 5 of 9 compute units"),  # still ignored
        (7, "Program data: AAAA"),  # a different event
        (7, "Program log: not an event"),
    ],
)
def test_one_changed_line_decides_whether_the_learned_template_applies(at: int, line: str) -> None:
    simple: dict[object, object] = {Prim("pubkey"): PUMP, Prim("bool"): False}
    event = encode_event(
        "TradeEvent", {f.name: simple.get(f.type, 0) for f in TRADE.fields_until("v3")}, "v3"
    )
    logs = [
        "Program ComputeBudget111111111111111111111111111111 invoke [1]",
        "Program ComputeBudget111111111111111111111111111111 success",
        f"Program {PUMP} invoke [1]",
        "Program 11111111111111111111111111111111 invoke [2]",
        "Program 11111111111111111111111111111111 success",
        "Program log: Instruction: Buy",
        f"Program {PUMP} consumed 5 of 9 compute units",
        program_data_line(event),
        f"Program {PUMP} success",
    ]
    for _ in range(2):
        decode_logs("sig", 7, logs, None)
    assert logtemplate.find(logs) is not None
    changed = [*logs[:at], line, *logs[at + 1 :]]
    assert decode_logs("sig", 7, changed, None) == decode_logs_reference("sig", 7, changed, None)


def test_a_plan_learned_on_a_tail_declines_a_payload_whose_tail_is_the_next_version() -> None:
    simple: dict[object, object] = {Prim("pubkey"): PUMP, Prim("bool"): False}
    v3 = encode_event("TradeEvent", {f.name: simple.get(f.type, 0) for f in TRADE.fields_until("v3")}, "v3")
    learned = v3 + b"\x05\x00\x00\x00x"  # a u32 that cannot be ix_name's length: v3 + a 5-byte tail
    plan = plans.compile_plan(TRADE, learned)
    assert plan is not None
    learned_event = plan(learned, PUMP, "logs", 0, 0, None, "sig", 1, None, [], [])
    assert learned_event is not None and learned_event.layout_version == "v3"
    v4 = v3 + b"\x01\x00\x00\x00x"  # same length, but now ix_name = "x": a complete v4
    assert plan(v4, PUMP, "logs", 0, 0, None, "sig", 1, None, [], []) is None
    anomalies: list[Anomaly] = []
    event = decode_event(
        PUMP, v4, source="logs", event_index=0, ix_index=0, inner_index=None, anomalies=anomalies
    )
    assert (event.layout_version, event.tail, anomalies) == ("v4", b"", [])


def test_a_template_reads_log_text_by_prefix_once_it_varies() -> None:
    """Log and return lines are compared whole until a notification differs only there; then
    the template reads them by prefix (and still agrees with the reference)."""
    first = [
        f"Program {PUMP} invoke [1]",
        "Program log: Instruction: Buy",
        "Program return: 11111111111111111111111111111111 AAAA",
        "Program data: AAAAAAAAAAA=",
        f"Program {PUMP} success",
    ]
    for _ in range(2):
        decode_logs("sig", 7, first, None)
    template = logtemplate.find(first)
    assert template is not None and template.soft == {
        1: "Program log: ",
        2: "Program return: 11111111111111111111111111111111 ",
    }
    second = [*first[:1], "Program log: Instruction: Sell", *first[2:]]
    assert decode_logs("sig", 7, second, None) == decode_logs_reference("sig", 7, second, None)
    wider = logtemplate.find(second)
    assert wider is not None and wider.soft == {2: "Program return: 11111111111111111111111111111111 "}
    assert logtemplate.find(first) is wider
    third = [
        *first[:1],
        "Program log: x",
        f"Program {PUMP} invoke [2]",
        *first[3:],
    ]  # a frame, not return data
    assert logtemplate.find(third) is None
    assert decode_logs("sig", 7, third, None) == decode_logs_reference("sig", 7, third, None)
