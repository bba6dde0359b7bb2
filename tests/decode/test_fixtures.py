"""Every recorded mainnet fixture decodes, and matches what its source and INDEX.json state."""

from __future__ import annotations

import base64
from collections import Counter
from typing import Any

from executor.decode import PUMP, DecodedTx, decode_account, decode_logs, decode_transaction
from executor.decode.events import decode_event
from executor.decode.instructions import decode_instruction
from executor.decode.layouts import EVENT_CPI_TAG, EVENT_PROGRAMS, RENAMED_ACCOUNTS, RENAMED_FIELDS
from executor.decode.model import Anomaly, DecodedInstruction

# anomalies real chain data is allowed to show; everything else must not appear in the fixtures
TOLERATED = {"unknown_tail"}


def _decode_row(load_json: Any, row: dict[str, Any]) -> tuple[dict[str, Any], DecodedTx]:
    result = load_json(row["file"])["result"]
    return result, decode_transaction(result)


def _values_of(ix: DecodedInstruction, tx: DecodedTx) -> dict[str, object]:
    """What an INDEX `expected` item may name: instruction args, accounts, and its events' fields."""
    values: dict[str, object] = {"instruction": ix.name}
    for event in tx.events:
        if (event.ix_index, event.inner_index) == (
            ix.ix_index,
            ix.inner_index,
        ) and event.program == ix.program:
            values.update(event.fields)
    values.update(dict(ix.accounts))
    values.update(ix.args)
    return values


def _matches(expected: dict[str, object], values: dict[str, object], program: str | None = None) -> bool:
    renamed = RENAMED_ACCOUNTS.get((program or "", str(values.get("instruction"))), {})
    return all(values.get(renamed.get(key, key), _ABSENT) == value for key, value in expected.items())


_ABSENT = object()


def test_transaction_fixture_decodes_with_no_unexpected_anomaly(
    load_json: Any, tx_row: dict[str, Any]
) -> None:
    _result, tx = _decode_row(load_json, tx_row)
    assert tx.signature == tx_row["signature"]
    assert not tx.failed
    assert tx.records, "every fixture transaction holds at least one pump/PumpSwap record"
    assert {a.reason for a in tx.anomalies} <= TOLERATED, tx.anomalies
    assert tx.truncated == bool(tx_row["log_truncated"])


def test_transaction_fixture_event_counts_per_carrier_match_the_index(
    load_json: Any, tx_row: dict[str, Any]
) -> None:
    result, tx = _decode_row(load_json, tx_row)
    logs = decode_logs(tx.signature, tx.slot, result["meta"]["logMessages"], None)
    from_logs = Counter(event.name for event in logs.events)
    from_cpi = Counter(event.name for event in tx.events if event.source == "cpi")
    expected = tx_row["events"]
    assert dict(from_logs) == {name: n["log"] for name, n in expected.items() if n["log"]}
    assert dict(from_cpi) == {name: n["cpi"] for name, n in expected.items() if n["cpi"]}


def test_transaction_fixture_tradeevent_length_matches_the_index(
    load_json: Any, tx_row_with_tradeevent: dict[str, Any]
) -> None:
    length = tx_row_with_tradeevent["tradeevent_payload_len"]
    _, tx = _decode_row(load_json, tx_row_with_tradeevent)
    lengths = {len(e.data) - 8 for e in tx.events if e.name == "TradeEvent"}
    assert length in lengths


def test_transaction_fixture_matches_source_stated_values(
    load_json: Any, tx_row_with_expected: dict[str, Any]
) -> None:
    _, tx = _decode_row(load_json, tx_row_with_expected)
    unused = list(tx.instructions)
    for expected in tx_row_with_expected["expected"]:
        match = next((ix for ix in unused if _matches(expected, _values_of(ix, tx), ix.program)), None)
        assert match is not None, f"no instruction/event matches {expected}"
        unused.remove(match)


def test_both_carriers_give_identical_records_apart_from_source(
    load_json: Any, tx_row: dict[str, Any]
) -> None:
    result, from_cpi = _decode_row(load_json, tx_row)
    from_logs = decode_transaction(result, prefer="logs")

    def strip(tx: DecodedTx) -> list[dict[str, object]]:
        return [{k: getattr(r, k) for k in r.__dataclass_fields__ if k != "source"} for r in tx.records]

    assert strip(from_cpi) == strip(from_logs)
    if not from_cpi.truncated:
        assert {r.source for r in from_logs.records} == {"logs"}
    assert {r.source for r in from_cpi.records} == {"cpi"}


def test_logs_alone_give_the_same_event_index_and_positions_as_the_full_transaction(
    load_json: Any, tx_row: dict[str, Any]
) -> None:
    result, tx = _decode_row(load_json, tx_row)
    live = decode_logs(tx.signature, tx.slot, result["meta"]["logMessages"], None, tx.block_time)
    full = [(e.event_index, e.program, e.name, e.ix_index, e.inner_index, e.fields) for e in tx.events]
    logs = [(e.event_index, e.program, e.name, e.ix_index, e.inner_index, e.fields) for e in live.events]
    if tx.truncated:
        assert full[: len(logs)] == logs and len(logs) < len(full)
    else:
        assert full == logs
    by_index = {r.event_index: r for r in tx.records}
    for record in live.records:
        counterpart = by_index[record.event_index]
        assert type(counterpart) is type(record)
        assert counterpart.kind == record.kind


def test_balance_deltas_agree_with_events(load_json: Any, tx_row: dict[str, Any]) -> None:
    _, tx = _decode_row(load_json, tx_row)
    assert not [a for a in tx.anomalies if a.reason.startswith("balance_delta")]
    assert not [r for r in tx.records if r.source == "balance_delta"]


def test_account_fixture_decodes_and_matches_source_values(
    load_json: Any, account_row: dict[str, Any]
) -> None:
    value = load_json(account_row["file"])["result"]["value"]
    account = decode_account(base64.b64decode(value["data"][0]), value["owner"])
    assert account.data_len == len(base64.b64decode(value["data"][0]))
    for expected in account_row["expected"] or []:
        renamed = RENAMED_FIELDS.get((account.program, account.name), {})
        for key, wanted in expected.items():
            if key == "account":
                assert account.name == wanted
            else:
                assert account.fields[renamed.get(key, key)] == wanted, key


def test_event_and_instruction_fixtures_decode(load_json: Any, fragment_row: dict[str, Any]) -> None:
    doc = load_json(fragment_row["file"])
    anomalies: list[Anomaly] = []
    if fragment_row["kind"] == "event":
        event = decode_event(
            doc["program"],
            base64.b64decode(doc["data_base64"]),
            source="logs",
            event_index=0,
            ix_index=None,
            inner_index=None,
            anomalies=anomalies,
        )
        assert event.name == doc["event"] and event.error is None
        return
    decoded: list[DecodedInstruction] = []
    for entry in doc["instructions"]:
        data = base64.b64decode(entry["data_base64"])
        if entry["program_id"] not in EVENT_PROGRAMS:
            continue
        if data.startswith(EVENT_CPI_TAG):
            event = decode_event(
                entry["program_id"],
                data[8:],
                source="cpi",
                event_index=0,
                ix_index=None,
                inner_index=None,
                anomalies=anomalies,
            )
            assert event.error is None and event.name != "Unknown"
            continue
        accounts = tuple(a["pubkey"] for a in entry["accounts"])
        ix = decode_instruction(
            entry["program_id"],
            data,
            accounts,
            ix_index=0,
            inner_index=None,
            stack_height=None,
            anomalies=anomalies,
        )
        assert ix.error is None and ix.name != "Unknown"
        decoded.append(ix)
    if not decoded:  # a router instruction whose PumpSwap CPI the source did not list: its logs
        logs = decode_logs(doc["signature"], 0, doc["log_messages"], None)
        assert [e.name for e in logs.events] == list(fragment_row["events"])
    for expected in fragment_row["expected"] or []:
        assert any(
            _matches(expected, {"instruction": ix.name, **dict(ix.accounts), **ix.args}, ix.program)
            for ix in decoded
        )


def test_balance_deltas_were_actually_compared_on_most_fixture_trades(
    all_tx_results: list[dict[str, Any]],
) -> None:
    """The agreement above is not vacuous: count the trades whose balances could be compared."""
    from executor.decode.balances import (
        amm_delta,
        curve_delta,
        exclusive_markets,
        is_trade,
        market_of,
        read_balances,
    )
    from executor.decode.txjson import read_transaction

    compared = with_sol = 0
    for result in all_tx_results:
        tx, raw = decode_transaction(result), read_transaction(result)
        balances, exclusive = read_balances(raw.meta, raw.keys), exclusive_markets(tx.instructions)
        for ix in tx.instructions:
            if not is_trade(ix) or market_of(ix) not in exclusive:
                continue
            delta = curve_delta(ix, balances) if ix.program == PUMP else amm_delta(ix, balances)
            assert delta is not None, (tx.signature, ix.name)
            compared += 1
            with_sol += delta.sol_amount is not None or delta.quote_amount is not None
    assert compared >= 45 and with_sol >= 35, (compared, with_sol)
