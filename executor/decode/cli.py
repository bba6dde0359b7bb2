"""`python -m executor decode FILE`: print what the decoder reads in a JSON file, one JSON object
per line.

FILE (or `-` for stdin) holds any of: a getTransaction response or its `result`; a
logsNotification message, its `params.result` or its `value`; a getAccountInfo response or its
`value`, or an accountNotification (base64 data); and the fixture shapes of shared/fixtures
(`events/*.json`, `instructions/*.json`). Several documents, one per line, are accepted too.

Each line has `kind` (IDL event / instruction / account name, or "Unknown" with
`discriminator`), `item` (event, instruction, account or record), `program`, `layout_version`,
every decoded field under its IDL name (integers as JSON integers, pubkeys base58), and the
envelope (`signature`, `slot`, `source`, `event_index`, `ix_index`, `inner_index`) where known.
Instructions carry their named accounts under `accounts`. By default the IDL-level items are
printed, plus trades inferred from balance deltas (`item: record`, `source: balance_delta`), which
have no event; `--records` prints the normalized records instead. Anomalies go to stderr.
Undecodable input: a message on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import sys
from collections.abc import Iterator
from dataclasses import fields
from typing import Any, TextIO

from executor.decode.accounts import decode_account
from executor.decode.borsh import Value
from executor.decode.errors import DecodeError, UnsupportedInput
from executor.decode.events import decode_event
from executor.decode.instructions import decode_instruction
from executor.decode.layouts import EVENT_CPI_TAG, EVENT_PROGRAMS
from executor.decode.logs import decode_logs
from executor.decode.model import (
    UNKNOWN,
    Anomaly,
    DecodedAccount,
    DecodedEvent,
    DecodedInstruction,
    DecodedTx,
)
from executor.decode.records import Record
from executor.decode.transaction import decode_transaction

EXIT_UNDECODABLE = 2
Line = dict[str, object]


def _jsonable(value: Value | object) -> object:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, tuple | list):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    return value


def _event_line(event: DecodedEvent, envelope: Line) -> Line:
    line: Line = {
        "kind": event.name,
        "item": "event",
        "program": event.program,
        "layout_version": event.layout_version,
        **envelope,
        "source": event.source,
        "event_index": event.event_index,
        "ix_index": event.ix_index,
        "inner_index": event.inner_index,
    }
    if event.name == UNKNOWN or event.error is not None:
        line["discriminator"] = event.discriminator
        line["data"] = event.data.hex()
    if event.error is not None:
        line["error"] = event.error
    if event.tail:
        line["unknown_tail"] = event.tail.hex()
    line.update({name: _jsonable(value) for name, value in event.fields.items()})
    return line


def _instruction_line(ix: DecodedInstruction, envelope: Line) -> Line:
    line: Line = {
        "kind": ix.name,
        "item": "instruction",
        "program": ix.program,
        "layout_version": ix.layout_version,
        **envelope,
        "ix_index": ix.ix_index,
        "inner_index": ix.inner_index,
    }
    if ix.name == UNKNOWN or ix.error is not None:
        line["discriminator"] = ix.discriminator
    if ix.error is not None:
        line["error"] = ix.error
    if ix.tail:
        line["unknown_tail"] = ix.tail.hex()
    line.update({name: _jsonable(value) for name, value in ix.args.items()})
    line["accounts"] = dict(ix.accounts)
    return line


def _record_line(record: Record) -> Line:
    line: Line = {"kind": record.kind, "item": "record"}
    line.update({f.name: _jsonable(getattr(record, f.name)) for f in fields(record)})
    return line


def _account_line(account: DecodedAccount, envelope: Line) -> Line:
    line: Line = {
        "kind": account.name,
        "item": "account",
        "program": account.program,
        "layout_version": account.layout_version,
        **envelope,
        "data_len": account.data_len,
    }
    line.update({name: _jsonable(value) for name, value in account.fields.items()})
    return line


def _tx_lines(tx: DecodedTx, *, slot_known: bool, records: bool) -> Iterator[Line]:
    if records:
        yield from (_record_line(record) for record in tx.records)
        return
    envelope: Line = {"signature": tx.signature}
    if slot_known:
        envelope["slot"] = tx.slot
    if tx.failed:
        envelope["failed"] = True
    yield from (_event_line(event, envelope) for event in tx.events)
    yield from (_instruction_line(ix, envelope) for ix in tx.instructions)
    yield from (_record_line(record) for record in tx.records if record.source == "balance_delta")


def _account_data(value: dict[str, Any]) -> tuple[bytes, str | None]:
    data = value.get("data")
    if not (isinstance(data, list) and len(data) == 2 and data[1] == "base64" and isinstance(data[0], str)):
        raise UnsupportedInput("account data must be [<base64>, 'base64']")
    try:
        raw = base64.b64decode(data[0], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UnsupportedInput(f"account data is not base64: {exc}") from exc
    owner = value.get("owner")
    return raw, owner if isinstance(owner, str) else None


def _fixture_events(doc: dict[str, Any], anomalies: list[Anomaly]) -> Iterator[Line]:
    program = doc["program"]
    if program not in EVENT_PROGRAMS:
        raise UnsupportedInput(f"events of program {program} are not decoded")
    event = decode_event(
        program,
        base64.b64decode(doc["data_base64"]),
        source="logs",
        event_index=int(doc.get("event_index") or 0),
        ix_index=None,
        inner_index=None,
        anomalies=anomalies,
    )
    envelope: Line = {"signature": doc["signature"]} if doc.get("signature") else {}
    yield _event_line(event, envelope)


def _fixture_instructions(doc: dict[str, Any], anomalies: list[Anomaly]) -> Iterator[Line]:
    """shared/fixtures/instructions: listed instructions (and their event CPIs); when no event
    CPI is listed, the events of the recorded `log_messages`."""
    envelope: Line = {"signature": doc["signature"]} if doc.get("signature") else {}
    event_index = 0
    for entry in doc["instructions"]:
        program, data = entry["program_id"], base64.b64decode(entry["data_base64"])
        if program not in EVENT_PROGRAMS:
            continue
        ix_index = entry.get("outer_index")
        inner_index = entry.get("inner_index")
        if data.startswith(EVENT_CPI_TAG):
            event = decode_event(
                program,
                data[8:],
                source="cpi",
                event_index=event_index,
                ix_index=ix_index,
                inner_index=None,
                anomalies=anomalies,
            )
            event_index += 1
            yield _event_line(event, envelope)
            continue
        accounts = tuple(account["pubkey"] for account in entry.get("accounts") or ())
        ix = decode_instruction(
            program,
            data,
            accounts,
            ix_index=ix_index if isinstance(ix_index, int) else 0,
            inner_index=inner_index,
            stack_height=None,
            anomalies=anomalies,
        )
        line = _instruction_line(ix, envelope)
        if not isinstance(ix_index, int):
            line["ix_index"] = None
        yield line
    logs = doc.get("log_messages")
    if event_index == 0 and isinstance(logs, list):
        tx = decode_logs(str(doc.get("signature") or ""), 0, logs, None)
        anomalies.extend(tx.anomalies)
        yield from (_event_line(event, envelope) for event in tx.events)


def _logs_value(
    value: dict[str, Any], slot: int | None, anomalies: list[Anomaly], records: bool
) -> Iterator[Line]:
    logs = value.get("logs")
    if logs is not None and not (isinstance(logs, list) and all(isinstance(line, str) for line in logs)):
        raise UnsupportedInput("'logs' must be a list of strings")
    tx = decode_logs(str(value["signature"]), slot or 0, logs, value.get("err"))
    anomalies.extend(tx.anomalies)
    yield from _tx_lines(tx, slot_known=slot is not None, records=records)


def lines_of(doc: object, anomalies: list[Anomaly], *, records: bool = False) -> Iterator[Line]:
    """Decode one JSON document of any supported shape into output lines."""
    if not isinstance(doc, dict):
        raise UnsupportedInput("input is not a JSON object")
    if "jsonrpc" in doc:
        if "error" in doc:
            raise UnsupportedInput(f"JSON-RPC error response: {doc['error']}")
        if doc.get("method") in ("logsNotification", "accountNotification"):
            yield from lines_of(doc["params"]["result"], anomalies, records=records)
            return
        if "result" in doc:
            if doc["result"] is None:
                raise UnsupportedInput("JSON-RPC result is null (transaction or account not found)")
            yield from lines_of(doc["result"], anomalies, records=records)
            return
        raise UnsupportedInput("JSON-RPC message without result")
    if "transaction" in doc and "meta" in doc:
        tx = decode_transaction(doc)
        anomalies.extend(tx.anomalies)
        yield from _tx_lines(tx, slot_known=bool(doc.get("slot")), records=records)
    elif "context" in doc and "value" in doc:
        value, slot = doc["value"], doc["context"].get("slot")
        if isinstance(value, dict) and "logs" in value:
            yield from _logs_value(value, slot if isinstance(slot, int) else None, anomalies, records)
        elif isinstance(value, dict) and "data" in value:
            yield from lines_of(value, anomalies, records=records)
        else:
            raise UnsupportedInput("notification value is neither logs nor an account")
    elif "logs" in doc and "signature" in doc:
        yield from _logs_value(doc, None, anomalies, records)
    elif "data" in doc and "owner" in doc:
        data, owner = _account_data(doc)
        yield _account_line(decode_account(data, owner), {})
    elif "data_base64" in doc and "program" in doc:
        yield from _fixture_events(doc, anomalies)
    elif "instructions" in doc and isinstance(doc["instructions"], list):
        yield from _fixture_instructions(doc, anomalies)
    else:
        raise UnsupportedInput("not a transaction, logs notification, account or fixture document")


def _documents(text: str) -> list[object]:
    try:
        return [json.loads(text)]
    except json.JSONDecodeError:
        pass
    try:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    except json.JSONDecodeError as exc:
        raise UnsupportedInput(f"input is not JSON: {exc}") from exc


def _read(path: str, stdin: TextIO) -> str:
    if path == "-":
        return stdin.read()
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m executor decode", description=__doc__.split("\n\n")[0])
    parser.add_argument("file", metavar="FILE", help="JSON input, or - for stdin")
    parser.add_argument(
        "--records", action="store_true", help="print normalized records instead of IDL items"
    )
    args = parser.parse_args(argv)
    try:
        text = _read(args.file, sys.stdin)
    except OSError as exc:
        print(f"decode: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_UNDECODABLE
    anomalies: list[Anomaly] = []
    out: list[str] = []
    try:
        for doc in _documents(text):
            out.extend(
                json.dumps(line, separators=(",", ":"))
                for line in lines_of(doc, anomalies, records=args.records)
            )
    except DecodeError as exc:
        print(f"decode: {args.file}: {exc}", file=sys.stderr)
        return EXIT_UNDECODABLE
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        print(f"decode: {args.file}: unexpected input shape: {exc!r}", file=sys.stderr)
        return EXIT_UNDECODABLE
    if out:
        sys.stdout.write("\n".join(out) + "\n")
    for anomaly in anomalies:
        where = " ".join(part for part in (anomaly.program, anomaly.kind, anomaly.detail) if part)
        print(f"decode: anomaly {anomaly.reason} {where}", file=sys.stderr)
    return 0
