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
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass, field
from typing import NamedTuple

from executor.decode.events import decode_event
from executor.decode.layouts import EVENT_PROGRAMS
from executor.decode.model import Anomaly, DecodedEvent, DecodedTx
from executor.decode.records import Record, build_record

TRUNCATED_MARKER = "Log truncated"
_DATA = "Program data: "
_LOG = "Program log: "
_EVENT_PROGRAMS = frozenset(EVENT_PROGRAMS)
_CLOSING = ("success", "failed:")


class LogEvent(NamedTuple):
    program: str
    data: bytes
    frame: int  # ordinal of the top-level invoke that contains it
    inner_index: int | None
    valid: bool  # the base64 decoded


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
    for line in logs:
        if line.startswith(_DATA):
            if scan.truncated:
                scan.anomalies.append(Anomaly("event_after_truncation", detail=line[:80]))
                continue
            if not stack:
                continue
            program, inner_index = stack[-1]
            if program not in _EVENT_PROGRAMS:
                continue
            scan.events.append(_log_event(program, line, len(scan.top_level) - 1, inner_index))
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


class _Inexact(Exception):
    """The fast scan cannot vouch for its answer; the line-by-line scan decides."""


_INEXACT = _Inexact()
_NO_FRAME = ("", 0, 0)
_INVOKE = " invoke ["
_TOP_INVOKE = " invoke [1]\n"
_INVOKE_AT = {depth: f" invoke [{depth}]\n" for depth in range(1, 10)}
# Only a `Program log:` line can carry free text; one holding " invoke [" could pass for an
# invoke line in the searches below (data and return lines are base64, the rest runtime text).
_IMITATION = re.compile(r"\nProgram log: [^\n]* invoke \[")


def _invoke_line(text: str, at: int) -> tuple[str, int]:
    """Program and depth of the invoke line whose " invoke [" token is at `at`."""
    digit = text[at + 9]
    if not "1" <= digit <= "9" or text[at + 10] != "]":
        raise _INEXACT
    return text[text.rfind("\n", 0, at) + 9 : at], ord(digit) - 48


def _owner(text: str, at: int) -> tuple[str, int, int]:
    """(program, position of its invoke token, depth) of the frame running at `at`."""
    last = text.rfind(_INVOKE, 0, at)
    if last < 0:
        return _NO_FRAME
    program, depth = _invoke_line(text, last)
    # After the last invoke only frames close; the few lines in between are read one by one
    # with scan_logs' rules, so log text cannot pass for a closing line.
    closing = program
    for line in text[text.find("\n", last) + 1 : at].split("\n"):
        if line.startswith((_DATA, _LOG)):
            continue
        parts = line.split(" ", 3)
        if parts[0] == "Program" and len(parts) > 2 and parts[2] in _CLOSING:
            if closing and parts[1] != closing:
                raise _INEXACT  # a frame closed out of order: let scan_logs report it
            closing = ""
            depth -= 1
    if depth < 1:
        return _NO_FRAME
    if text[last + 9] == str(depth):
        return program, last, depth
    # The running frame is the most recent invoke at that depth: any later one has closed.
    position = text.rfind(_INVOKE_AT[depth], 0, last)
    if position < 0:
        raise _INEXACT
    program, _ = _invoke_line(text, position)
    return program, position, depth


def fast_scan(logs: list[str]) -> LogScan | None:
    """The events of `scan_logs`, found with a few string searches over the joined lines instead
    of a Python step per line (a notification holds ~70 lines; this is the decoder's hot path).

    Returns None when it cannot vouch for an exact answer (truncated logs, logs that do not start
    with a top-level invoke, a message with an embedded newline, log text imitating an invoke
    line, frames closing out of order); the caller then uses `scan_logs`. For logs as the runtime
    writes them both agree: tests/decode checks every fixture and generated logs.
    """
    if TRUNCATED_MARKER in logs or (logs and not logs[0].endswith(" invoke [1]")):
        return None  # the runtime's logs start with a top-level invoke
    text = "\n" + "\n".join(logs) + "\n"
    if text.count("\n") != len(logs) + 1 or _IMITATION.search(text):
        return None
    scan = LogScan()
    position = text.find("\n" + _DATA)
    top_seen, top_count = 0, 0
    try:
        while position >= 0:
            line_end = text.find("\n", position + 1)
            program, owner_at, depth = _owner(text, position)
            if program in _EVENT_PROGRAMS:
                top = owner_at if depth == 1 else text.rfind(_TOP_INVOKE, 0, owner_at)
                if top < 0:  # logs that do not start at a top-level invoke
                    raise _INEXACT
                # str.count counts occurrences lying wholly inside [start, end)
                top_count += text.count(_TOP_INVOKE, top_seen, top + len(_TOP_INVOKE))
                top_seen = top + 1
                inner = None if depth == 1 else text.count(_INVOKE, top + 1, owner_at)
                scan.events.append(_log_event(program, text[position + 1 : line_end], top_count - 1, inner))
            position = text.find("\n" + _DATA, line_end)
    except _Inexact:
        return None
    return scan


def _log_event(program: str, line: str, frame: int, inner_index: int | None) -> LogEvent:
    payload = line[len(_DATA) :]
    try:
        if " " in payload:  # sol_log_data with several slices: one base64 blob per slice
            data = b"".join(binascii.a2b_base64(part) for part in payload.split(" ") if part)
        else:
            data = binascii.a2b_base64(payload)
    except (binascii.Error, ValueError):
        return LogEvent(program, b"", frame, inner_index, False)
    return LogEvent(program, data, frame, inner_index, True)


def decode_logs(
    signature: str, slot: int, logs: list[str] | None, err: object | None, block_time: int | None = None
) -> DecodedTx:
    """Decode the events of one transaction from its log lines alone (no RPC call needed).

    Never raises on odd log content; a failed transaction (`err` not None) is returned with
    `failed=True` and no records.
    """
    lines = logs or []
    try:
        scan = fast_scan(lines) or scan_logs(lines)
    except (TypeError, AttributeError):  # an entry that is not a string
        entries: list[object] = list(lines)
        scan = scan_logs([line for line in entries if isinstance(line, str)])
        scan.anomalies.append(Anomaly("malformed_logs", detail="non-string log entries ignored"))
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
