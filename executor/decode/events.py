"""Decode one event blob (8-byte discriminator + Borsh payload) of pump or PumpSwap."""

from __future__ import annotations

from executor.decode.errors import DecodeError
from executor.decode.frozen import constructor
from executor.decode.layouts import EVENTS
from executor.decode.model import UNKNOWN, Anomaly, DecodedEvent, Source

_new_event = constructor(DecodedEvent)


def decode_event(
    program: str,
    data: bytes,
    *,
    source: Source,
    event_index: int,
    ix_index: int | None,
    inner_index: int | None,
    anomalies: list[Anomaly],
) -> DecodedEvent:
    """Never raises: unknown discriminators, tails and bad payloads become anomalies."""
    disc = data[:8]
    layout = EVENTS[program].get(disc)
    if layout is None:
        anomalies.append(Anomaly("unknown_event", program, UNKNOWN, disc.hex(), event_index))
        return _new_event(
            program,
            UNKNOWN,
            disc.hex(),
            None,
            {},
            data[8:],
            source,
            event_index,
            ix_index,
            inner_index,
            data,
            None,
        )
    try:
        fields, version, end = layout.decode(data, 8)
    except DecodeError as exc:
        anomalies.append(Anomaly("event_decode_error", program, layout.name, str(exc), event_index))
        return _new_event(
            program,
            layout.name,
            disc.hex(),
            None,
            {},
            data[8:],
            source,
            event_index,
            ix_index,
            inner_index,
            data,
            str(exc),
        )
    tail = data[end:]
    if tail:
        anomalies.append(Anomaly("unknown_tail", program, layout.name, f"{version}+{len(tail)}", event_index))
    return _new_event(
        program,
        layout.name,
        disc.hex(),
        version,
        fields,
        tail,
        source,
        event_index,
        ix_index,
        inner_index,
        data,
        None,
    )
