"""Decode a transaction's log messages (a `logsNotification`, or `meta.logMessages`).

The runtime writes `Program <id> invoke [<depth>]` when an instruction starts and
`Program <id> success` / `Program <id> failed: ...` when it ends; `Program data: <base64>` lines
belong to the innermost running program. Only lines of pump and PumpSwap frames are events here:
another program (Raydium LaunchLab, Jupiter) can print the very same TradeEvent bytes.

Positions: `ix_index` counts `invoke [1]` lines (top-level instructions that log: decode_transaction
remaps it onto the message's instruction list), `inner_index` counts the deeper `invoke` lines
inside the current top-level instruction, which is the emitting instruction's index in
`meta.innerInstructions`. After `Log truncated` the runtime drops lines, so the decoder stops
there: an event printed after the marker has no trustworthy position and is only counted.

`scan_logs` reads the lines one by one; `decode_logs` avoids it when a learned template proves
the scan would come out the same (`logtemplate`), and decodes events through compiled per-shape
plans (`plans`). `decode_logs_reference` is the same function without either, and the tests hold
the two equal.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass, field
from typing import NamedTuple

from executor.decode import logtemplate
from executor.decode.events import decode_event
from executor.decode.frozen import constructor
from executor.decode.layouts import EVENT_PROGRAMS
from executor.decode.model import Anomaly, DecodedEvent, DecodedTx
from executor.decode.plans import PLANS, decode_logged_event
from executor.decode.records import Record, build_record

TRUNCATED_MARKER = "Log truncated"
_DATA = "Program data: "
_DATA_LEN = len(_DATA)
a2b_base64 = binascii.a2b_base64
_LOG = "Program log: "
_EVENT_PROGRAMS = frozenset(EVENT_PROGRAMS)
_CLOSING = ("success", "failed:")
_new_tx = constructor(DecodedTx)


class LogEvent(NamedTuple):
    program: str
    data: bytes
    frame: int  # ordinal of the top-level invoke that contains it
    inner_index: int | None
    valid: bool  # the base64 decoded
    line: int = -1  # index of the data line in the logs


@dataclass(slots=True)
class LogScan:
    events: list[LogEvent] = field(default_factory=list)
    top_level: list[str] = field(default_factory=list)  # program of each `invoke [1]`
    truncated: bool = False
    anomalies: list[Anomaly] = field(default_factory=list)


def scan_logs(logs: list[str]) -> LogScan:
    scan = LogScan()
    # each frame: (program id, inner index of its instruction or None at depth 1)
    stack: list[tuple[str, int | None]] = []
    inner_count = 0
    for at, line in enumerate(logs):
        if line.startswith(_DATA):
            if scan.truncated:
                scan.anomalies.append(Anomaly("event_after_truncation", detail=line[:80]))
                continue
            if not stack:
                continue
            program, inner_index = stack[-1]
            if program not in _EVENT_PROGRAMS:
                continue
            scan.events.append(_log_event(program, line, len(scan.top_level) - 1, inner_index, at))
        elif line.startswith(_LOG):
            continue
        elif line.startswith("Program "):
            if scan.truncated:
                continue
            parts = line.split(" ", 3)
            if len(parts) < 3:
                continue
            program, verb = parts[1], parts[2]
            if verb == "invoke":
                # a malformed depth with nothing running is treated as a new top-level frame
                if not stack or (len(parts) > 3 and parts[3] == "[1]"):
                    stack.clear()
                    scan.top_level.append(program)
                    inner_count = 0
                    stack.append((program, None))
                else:
                    stack.append((program, inner_count))
                    inner_count += 1
            elif verb in _CLOSING:
                if stack and stack[-1][0] == program:
                    stack.pop()
                else:
                    scan.anomalies.append(Anomaly("log_stack_mismatch", program, detail=line[:120]))
                    while stack and stack[-1][0] != program:
                        stack.pop()
                    if stack:
                        stack.pop()
        elif line == TRUNCATED_MARKER:
            scan.truncated = True
    return scan


def _log_event(program: str, line: str, frame: int, inner_index: int | None, at: int) -> LogEvent:
    payload = line[len(_DATA) :]
    try:
        if " " in payload:  # sol_log_data with several slices: one base64 blob per slice
            data = b"".join(binascii.a2b_base64(part) for part in payload.split(" ") if part)
        else:
            data = binascii.a2b_base64(payload)
    except (binascii.Error, ValueError):
        return LogEvent(program, b"", frame, inner_index, False, at)
    return LogEvent(program, data, frame, inner_index, True, at)


def decode_logs(
    signature: str, slot: int, logs: list[str] | None, err: object | None, block_time: int | None = None
) -> DecodedTx:
    """Decode the events of one transaction from its log lines alone (no RPC call needed).

    Never raises on odd log content; a failed transaction (`err` not None) is returned with
    `failed=True` and no records. The hot path: a learned log template replaces the line-by-line
    scan (`logtemplate`), and compiled plans decode the events and build the records
    (`plans`); the result equals `decode_logs_reference`'s on every input.
    """
    lines = logs or []
    template = None
    if lines:
        try:
            template = logtemplate.find(lines)
        except (TypeError, AttributeError):  # an entry that is not a string: the scan reports it
            template = None
    failed = err is not None
    records: list[Record] | None = None if failed else []
    events: list[DecodedEvent] = []
    anomalies: list[Anomaly] = []
    if template is not None:  # the hot path: no scan; each event through its compiled plan
        for index, (at, program, frame, inner) in enumerate(template.events):
            payload = lines[at][_DATA_LEN:]
            data = None
            if " " not in payload:
                try:
                    data = a2b_base64(payload)
                except (binascii.Error, ValueError):
                    data = None
            if data is None:  # several slices, or not base64
                item = _log_event(program, lines[at], frame, inner, at)
                data = item.data
                if not item.valid:
                    anomalies.append(Anomaly("event_decode_error", program, None, "invalid base64", index))
            event = None
            compiled = PLANS[program].get(data[:8])
            if compiled is not None:
                for plan in compiled.by_length.get(len(data), ()):
                    event = plan(
                        data,
                        program,
                        "logs",
                        index,
                        frame,
                        inner,
                        signature,
                        slot,
                        block_time,
                        records,
                        anomalies,
                    )
                    if event is not None:
                        break
            if event is None:
                event = decode_logged_event(
                    program,
                    data,
                    "logs",
                    index,
                    frame,
                    inner,
                    signature,
                    slot,
                    block_time,
                    records,
                    anomalies,
                )
            events.append(event)
        truncated = False
    else:
        scan = _scan(lines)
        anomalies, truncated = scan.anomalies, scan.truncated
        if lines and not anomalies and not truncated:
            logtemplate.remember(
                lines, tuple((e.line, e.program, e.frame, e.inner_index) for e in scan.events)
            )
        for index, item in enumerate(scan.events):
            if not item.valid:
                anomalies.append(Anomaly("event_decode_error", item.program, None, "invalid base64", index))
            events.append(
                decode_logged_event(
                    item.program,
                    item.data,
                    "logs",
                    index,
                    item.frame,
                    item.inner_index,
                    signature,
                    slot,
                    block_time,
                    records,
                    anomalies,
                )
            )
    return _new_tx(
        signature,
        slot,
        block_time,
        err,
        failed,
        truncated,
        tuple(events),
        () if records is None else tuple(records),
        (),
        tuple(anomalies),
    )


def _scan(lines: list[str]) -> LogScan:
    try:
        return scan_logs(lines)
    except (TypeError, AttributeError):  # an entry that is not a string
        entries: list[object] = list(lines)
        scan = scan_logs([line for line in entries if isinstance(line, str)])
        scan.anomalies.append(Anomaly("malformed_logs", detail="non-string log entries ignored"))
        return scan


def decode_logs_reference(
    signature: str, slot: int, logs: list[str] | None, err: object | None, block_time: int | None = None
) -> DecodedTx:
    """`decode_logs` the slow, obvious way: `scan_logs`, `decode_event`, `build_record`, each line
    and field in turn, nothing remembered. Tests hold the hot path equal to it."""
    scan = _scan(logs or [])
    anomalies = scan.anomalies
    events: list[DecodedEvent] = []
    for index, item in enumerate(scan.events):
        if not item.valid:
            anomalies.append(Anomaly("event_decode_error", item.program, None, "invalid base64", index))
        events.append(
            decode_event(
                item.program,
                item.data,
                source="logs",
                event_index=index,
                ix_index=item.frame,
                inner_index=item.inner_index,
                anomalies=anomalies,
            )
        )
    failed = err is not None
    records: list[Record] = []
    if not failed:
        for event in events:
            record = build_record(
                event, signature=signature, slot=slot, block_time=block_time, instruction=None
            )
            if record is not None:
                records.append(record)
    return DecodedTx(
        signature=signature,
        slot=slot,
        block_time=block_time,
        err=err,
        failed=failed,
        truncated=scan.truncated,
        events=tuple(events),
        records=tuple(records),
        instructions=(),
        anomalies=tuple(anomalies),
    )
