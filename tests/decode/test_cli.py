"""`python -m executor decode FILE`: every fixture shape in, one JSON object per item out."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from executor.decode.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict[str, Any]], str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def write(tmp_path: Path, doc: object, name: str = "input.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def test_every_fixture_file_prints_items_and_exits_zero(
    fixtures_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for path in sorted(fixtures_dir.glob("*/*.json")):
        code, lines, err = run(capsys, str(path))
        assert code == 0, (path.name, err)
        assert lines, path.name
        for line in lines:
            assert {"kind", "item", "program", "layout_version"} <= line.keys() or line["item"] == "record"


def test_transaction_prints_events_and_instructions_with_idl_names_and_envelope(
    fixtures_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (path,) = fixtures_dir.glob("transactions/3bYXWjjNkV*.json")
    _code, lines, _ = run(capsys, str(path))
    event = next(line for line in lines if line["kind"] == "TradeEvent")
    assert event["item"] == "event" and event["source"] == "cpi" and event["event_index"] == 0
    assert event["signature"] == path.name.removesuffix(".json") and isinstance(event["slot"], int)
    assert (event["sol_amount"], event["token_amount"], event["is_buy"]) == (
        37437283903,
        592443959000000,
        False,
    )
    assert event["layout_version"] == "v1"
    sell = next(line for line in lines if line["kind"] == "sell")
    assert sell["item"] == "instruction" and sell["accounts"]["mint"] == event["mint"]


def test_records_flag_prints_normalized_records(
    fixtures_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (path,) = fixtures_dir.glob("transactions/5gp7yztY9n*.json")
    code, lines, _ = run(capsys, "--records", str(path))
    assert code == 0 and [line["kind"] for line in lines] == ["amm_pool_created", "migration"]
    assert all(line["item"] == "record" and line["source"] == "cpi" for line in lines)


def test_logs_notification_in_each_wrapping_decodes_from_logs(
    tmp_path: Path, tx_result: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    result = tx_result("3bYXWjjNkV")
    value = {
        "signature": result["transaction"]["signatures"][0],
        "err": None,
        "logs": result["meta"]["logMessages"],
    }
    params_result = {"context": {"slot": 5208469}, "value": value}
    message = {
        "jsonrpc": "2.0",
        "method": "logsNotification",
        "params": {"result": params_result, "subscription": 1},
    }
    for doc in (message, params_result, value):
        code, lines, _ = run(capsys, write(tmp_path, doc))
        assert code == 0
        (line,) = lines
        assert (line["kind"], line["source"], line["token_amount"]) == ("TradeEvent", "logs", 592443959000000)
        assert line.get("slot") == (5208469 if doc is not value else None)


def test_account_response_value_and_notification_decode(
    tmp_path: Path, load_json: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    response = load_json("accounts/simowment_legacy_49_byte_layout.json")
    notification = {
        "jsonrpc": "2.0",
        "method": "accountNotification",
        "params": {"result": response["result"]},
    }
    for doc in (response, response["result"]["value"], notification):
        code, lines, _ = run(capsys, write(tmp_path, doc))
        (line,) = lines
        assert (code, line["kind"], line["layout_version"], line["data_len"]) == (
            0,
            "BondingCurve",
            "bc0",
            49,
        )
        assert line["token_total_supply"] == 1_000_000_000_000_000


def test_stdin_is_read_for_dash(
    tx_result: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "sys.stdin", io.StringIO(json.dumps({"jsonrpc": "2.0", "result": tx_result("5gp7yztY9n"), "id": 1}))
    )
    code, lines, _ = run(capsys, "-")
    assert code == 0 and {line["kind"] for line in lines} >= {
        "CreatePoolEvent",
        "CompletePumpAmmMigrationEvent",
    }


def test_unknown_event_is_printed_as_unknown_with_its_discriminator(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pump = "6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P"
    logs = [f"Program {pump} invoke [1]", "Program data: AQIDBAUGBwgJ", f"Program {pump} success"]
    code, lines, err = run(capsys, write(tmp_path, {"signature": "s", "err": None, "logs": logs}))
    assert code == 0 and lines[0]["kind"] == "Unknown" and lines[0]["discriminator"] == "0102030405060708"
    assert "unknown_event" in err


@pytest.mark.parametrize(
    "content",
    [
        "not json at all",
        "[1, 2]",
        '{"jsonrpc": "2.0", "result": null, "id": 1}',
        '{"jsonrpc": "2.0", "error": {"code": -32015}}',
        '{"hello": "world"}',
        '{"data": ["@@@", "base64"], "owner": "x"}',
        '{"data": ["AAAAAAAAAAA=", "base64"], "owner": "x"}',
    ],
)
def test_undecodable_input_exits_2_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    code, lines, err = run(capsys, str(path))
    assert code == 2 and lines == [] and err.startswith("decode: ")


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, str(tmp_path / "absent.json"))
    assert code == 2 and "cannot read" in err
