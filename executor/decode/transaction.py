"""Decode a full `getTransaction` result: both event carriers, instructions, balance deltas.

Carriers. Every pump/PumpSwap event appears as a `Program data:` log line and as a self-CPI
inner instruction (`e445a52e51cb9a1d` + event). Both lists are in execution order, so they are
aligned per top-level instruction; a pair whose bytes differ is counted (`carrier_mismatch`) and
the CPI copy wins. Events in only one carrier are kept (the CPI list outlives `Log truncated`).

event_index. The 0-based ordinal of an event among all pump + PumpSwap events of the transaction
in execution order, unknown discriminators included. decode_logs numbers the log lines the same
way, so the same event gets the same index from a logsNotification and from this function.
Trades inferred from balance deltas get `10_000 + 100 * ix_index + (inner_index + 1, or 0 for a
top-level instruction)`, which no real event ordinal reaches (a transaction holds at most 64
instructions in its trace) and which stays stable across re-decodes.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal

from executor.decode.balances import (
    Balances,
    Flow,
    TradeDelta,
    amm_delta,
    curve_delta,
    exclusive_markets,
    is_trade,
    market_flow,
    market_of,
    read_balances,
    trades_by_market,
)
from executor.decode.errors import DecodeError, UnsupportedInput
from executor.decode.events import decode_event
from executor.decode.idl import PUMP, PUMP_AMM
from executor.decode.instructions import decode_instruction
from executor.decode.layouts import EVENT_CPI_TAG, EVENT_PROGRAMS
from executor.decode.logs import scan_logs
from executor.decode.model import Anomaly, DecodedEvent, DecodedInstruction, DecodedTx, Source
from executor.decode.records import AmmTrade, CurveTrade, Record, build_record
from executor.decode.txjson import RawInstruction, RawTransaction, read_transaction

BALANCE_DELTA_BASE = 10_000
BALANCE_DELTA_VERSION = "balance_delta"
_EVENT_PROGRAMS = frozenset(EVENT_PROGRAMS)
_TRADE_EVENTS = {PUMP: frozenset({"TradeEvent"}), PUMP_AMM: frozenset({"BuyEvent", "SellEvent"})}
_ZERO_KEY = "11111111111111111111111111111111"

Position = tuple[int, int | None]


@dataclass(frozen=True, slots=True)
class Carried:
    """One event as one carrier shows it, before the carriers are merged."""

    program: str
    data: bytes
    ix_index: int | None
    inner_index: int | None
    source: Source

    @property
    def key(self) -> tuple[int | None, str, bytes]:
        return (self.ix_index, self.program, self.data[:8])


def balance_delta_index(ix_index: int, inner_index: int | None) -> int:
    return BALANCE_DELTA_BASE + 100 * ix_index + (0 if inner_index is None else inner_index + 1)


def _emitter(inner: tuple[RawInstruction, ...], position: int) -> int | None:
    """Inner index of the instruction that issued the event self-CPI at `position` (None: top level)."""
    height = inner[position].stack_height
    if height is not None:
        for k in range(position - 1, -1, -1):
            if inner[k].stack_height == height - 1:
                return k
        return None
    program = inner[position].program
    for k in range(position - 1, -1, -1):
        candidate = inner[k]
        if candidate.program == program and not (candidate.data or b"").startswith(EVENT_CPI_TAG):
            return k
    return None


def _walk(raw: RawTransaction, anomalies: list[Anomaly]) -> tuple[list[DecodedInstruction], list[Carried]]:
    instructions: list[DecodedInstruction] = []
    cpi_events: list[Carried] = []
    for ix_index, outer in enumerate(raw.outer):
        if outer.program in _EVENT_PROGRAMS and outer.data is not None:
            instructions.append(
                decode_instruction(
                    outer.program,
                    outer.data,
                    outer.accounts,
                    ix_index=ix_index,
                    inner_index=None,
                    stack_height=1,
                    anomalies=anomalies,
                )
            )
        inner = raw.inner.get(ix_index, ())
        for position, ix in enumerate(inner):
            if ix.program not in _EVENT_PROGRAMS or ix.data is None:
                continue
            if ix.data.startswith(EVENT_CPI_TAG):
                cpi_events.append(
                    Carried(ix.program, ix.data[8:], ix_index, _emitter(inner, position), "cpi")
                )
                continue
            instructions.append(
                decode_instruction(
                    ix.program,
                    ix.data,
                    ix.accounts,
                    ix_index=ix_index,
                    inner_index=position,
                    stack_height=ix.stack_height,
                    anomalies=anomalies,
                )
            )
    return instructions, cpi_events


def _log_events(raw: RawTransaction, logs: list[str], anomalies: list[Anomaly]) -> tuple[list[Carried], bool]:
    scan = scan_logs(logs)
    anomalies.extend(scan.anomalies)
    # map each `invoke [1]` onto the message's instruction list: programs that log no invoke line
    # (precompiles) would otherwise shift every later index
    frame_to_ix: list[int | None] = []
    cursor = 0
    for program in scan.top_level:
        found = next((i for i in range(cursor, len(raw.outer)) if raw.outer[i].program == program), None)
        frame_to_ix.append(found)
        if found is None:
            anomalies.append(
                Anomaly("log_stack_mismatch", program, detail="top-level invoke not in the message")
            )
        else:
            cursor = found + 1
    carried = [
        Carried(item.program, item.data, frame_to_ix[item.frame], item.inner_index, "logs")
        for item in scan.events
    ]
    return carried, scan.truncated


def merge_carriers(
    logs: list[Carried], cpi: list[Carried], *, prefer: Source, logs_complete: bool, anomalies: list[Anomaly]
) -> list[Carried]:
    """One list in execution order, each event once. See the module docstring."""
    merged: list[Carried] = []

    def keep(item: Carried, reason: str | None = None) -> None:
        if reason is not None:
            anomalies.append(
                Anomaly(reason, item.program, detail=item.data[:8].hex(), event_index=len(merged))
            )
        merged.append(item)

    i = j = 0
    while i < len(logs) and j < len(cpi):
        log_item, cpi_item = logs[i], cpi[j]
        if log_item.key == cpi_item.key:
            mismatch = "carrier_mismatch" if log_item.data != cpi_item.data else None
            keep(log_item if prefer == "logs" else cpi_item, mismatch)
            i += 1
            j += 1
            continue
        # Different events: the one that is missing from the other carrier goes first.
        log_ix, cpi_ix = log_item.ix_index or 0, cpi_item.ix_index or 0
        later_in_cpi = any(c.key == log_item.key for c in cpi[j + 1 :] if c.ix_index == cpi_item.ix_index)
        if log_ix < cpi_ix or (log_ix == cpi_ix and not later_in_cpi):
            keep(log_item, "log_only_event")
            i += 1
        else:
            keep(cpi_item, "cpi_only_event")
            j += 1
    for log_item in logs[i:]:
        keep(log_item, "log_only_event")
    for cpi_item in cpi[j:]:  # past the end of truncated logs this is expected
        keep(cpi_item, "cpi_only_event" if logs_complete else None)
    return merged


def _check_curve(event: DecodedEvent, delta: TradeDelta) -> str | None:
    values = event.fields
    is_buy, tokens = values.get("is_buy"), values.get("token_amount")
    if is_buy != delta.is_buy or tokens != delta.token_amount:
        return f"event {is_buy!r}/{tokens!r} vs balances {delta.is_buy}/{delta.token_amount}"
    quote_mint = values.get("quote_mint")
    fee_kept_in_curve = values.get("fee_recipient") == _ZERO_KEY
    sol_quoted = quote_mint is None or quote_mint == _ZERO_KEY
    if (
        delta.sol_amount is not None
        and sol_quoted
        and not fee_kept_in_curve
        and values.get("sol_amount") != delta.sol_amount
    ):
        return f"sol_amount {values.get('sol_amount')!r} vs curve lamports {delta.sol_amount}"
    return None


def _check_amm(event: DecodedEvent, delta: TradeDelta) -> str | None:
    values = event.fields
    is_buy = event.name == "BuyEvent"
    base = values.get("base_amount_out" if is_buy else "base_amount_in")
    if is_buy != delta.is_buy or base != delta.token_amount:
        return f"event {is_buy}/{base!r} vs balances {delta.is_buy}/{delta.token_amount}"
    # the LP fee stays in the pool: its quote vault moves by the amount including it
    pool_quote = values.get("quote_amount_in_with_lp_fee" if is_buy else "quote_amount_out_without_lp_fee")
    if delta.quote_amount is not None and isinstance(pool_quote, int):
        moved = delta.quote_amount if is_buy else -delta.quote_amount
        if moved != pool_quote:
            return f"pool quote vault moved {moved}, event says {pool_quote!r}"
    return None


def _event_flow(event: DecodedEvent) -> Flow:
    """The market flow one trade event states (see balances.Flow)."""
    values = event.fields
    if event.name == "TradeEvent":
        sign = 1 if values.get("is_buy") else -1
        tokens, sol = values.get("token_amount"), values.get("sol_amount")
        quote_mint = values.get("quote_mint")
        sol_quoted = (quote_mint is None or quote_mint == _ZERO_KEY) and values.get(
            "fee_recipient"
        ) != _ZERO_KEY
        return Flow(
            sign * tokens if isinstance(tokens, int) else None,
            sign * sol if isinstance(sol, int) and sol_quoted else None,
        )
    # PumpSwap: the LP fee stays in the pool, so the quote vault moves by the amount including it
    if event.name == "BuyEvent":
        base, quote, sign = values.get("base_amount_out"), values.get("quote_amount_in_with_lp_fee"), 1
    else:
        base, quote, sign = values.get("base_amount_in"), values.get("quote_amount_out_without_lp_fee"), -1
    return Flow(
        sign * base if isinstance(base, int) else None, sign * quote if isinstance(quote, int) else None
    )


def _check_market_total(
    ixs: list[DecodedInstruction], events: list[DecodedEvent], balances: Balances
) -> str | None:
    """Several trades on one market: their events must add up to the market's net balance change."""
    observed = market_flow(ixs[0], balances)
    stated = [_event_flow(event) for event in events]
    for what, seen, parts in (
        ("tokens out", observed.tokens_out, [f.tokens_out for f in stated]),
        ("quote in", observed.quote_in, [f.quote_in for f in stated]),
    ):
        if seen is not None and None not in parts and sum(p for p in parts if p is not None) != seen:
            return (
                f"{len(events)} trades state {what} {sum(p for p in parts if p is not None)}, balances {seen}"
            )
    return None


def _inferred_record(ix: DecodedInstruction, delta: TradeDelta, raw: RawTransaction) -> Record | None:
    envelope: dict[str, Any] = {
        "signature": raw.signature,
        "slot": raw.slot,
        "block_time": raw.block_time,
        "event_index": balance_delta_index(ix.ix_index, ix.inner_index),
        "ix_index": ix.ix_index,
        "inner_index": ix.inner_index,
        "source": "balance_delta",
        "program": ix.program,
        "layout_version": BALANCE_DELTA_VERSION,
        "timestamp": None,
    }
    if ix.program == PUMP:
        mint, user = ix.account("mint") or ix.account("base_mint"), ix.account("user")
        if delta.sol_amount is None or mint is None or user is None:
            return None
        empty = {f.name: None for f in fields(CurveTrade) if f.name not in envelope}
        return CurveTrade(
            **{
                **empty,
                **envelope,
                "mint": mint,
                "user": user,
                "is_buy": delta.is_buy,
                "sol_amount": delta.sol_amount,
                "token_amount": delta.token_amount,
            }
        )
    pool, user = ix.account("pool"), ix.account("user")
    if pool is None or user is None:
        return None
    empty = {f.name: None for f in fields(AmmTrade) if f.name not in envelope}
    return AmmTrade(
        **{
            **empty,
            **envelope,
            "pool": pool,
            "user": user,
            "is_buy": delta.is_buy,
            "base_amount": delta.token_amount,
            "base_mint": ix.account("base_mint"),
            "quote_mint": ix.account("quote_mint"),
        }
    )


def _balance_pass(
    raw: RawTransaction,
    instructions: tuple[DecodedInstruction, ...],
    events: tuple[DecodedEvent, ...],
    anomalies: list[Anomaly],
) -> list[Record]:
    balances: Balances = read_balances(raw.meta, raw.keys)
    exclusive = exclusive_markets(instructions)
    trade_events: dict[Position, list[DecodedEvent]] = {}
    for event in events:
        if event.ix_index is not None and event.name in _TRADE_EVENTS.get(event.program, ()):
            trade_events.setdefault((event.ix_index, event.inner_index), []).append(event)
    for ixs in trades_by_market(instructions).values():
        per_ix = [
            [e for e in trade_events.get((ix.ix_index, ix.inner_index), []) if e.error is None] for ix in ixs
        ]
        if len(ixs) > 1 and all(len(events_of) == 1 for events_of in per_ix):
            problem = _check_market_total(ixs, [events_of[0] for events_of in per_ix], balances)
            if problem is not None:
                anomalies.append(Anomaly("balance_delta_mismatch", ixs[0].program, ixs[0].name, problem))
    inferred: list[Record] = []
    for ix in instructions:
        if not is_trade(ix):
            continue
        decodable = [
            e
            for e in trade_events.get((ix.ix_index, ix.inner_index), [])
            if e.program == ix.program and e.error is None and e.layout_version is not None
        ]
        if market_of(ix) not in exclusive:
            if not decodable:
                anomalies.append(
                    Anomaly(
                        "balance_delta_ambiguous", ix.program, ix.name, f"ix {ix.ix_index}/{ix.inner_index}"
                    )
                )
            continue
        delta = curve_delta(ix, balances) if ix.program == PUMP else amm_delta(ix, balances)
        if delta is None:
            continue
        if decodable:
            check = _check_curve if ix.program == PUMP else _check_amm
            for event in decodable:
                problem = check(event, delta)
                if problem is not None:
                    anomalies.append(
                        Anomaly("balance_delta_mismatch", ix.program, event.name, problem, event.event_index)
                    )
            continue
        record = _inferred_record(ix, delta, raw)
        if record is not None:
            anomalies.append(
                Anomaly(
                    "balance_delta_inferred",
                    ix.program,
                    ix.name,
                    f"ix {ix.ix_index}/{ix.inner_index}",
                    record.event_index,
                )
            )
            inferred.append(record)
    return inferred


def decode_transaction(result: dict[str, Any], *, prefer: Literal["cpi", "logs"] = "cpi") -> DecodedTx:
    """Decode a getTransaction `result` (any encoding, legacy or v0).

    `prefer` picks the carrier for events present in both (default CPI; "logs" exists to
    compare the carriers). Raises only DecodeError, and only when `result` itself is not a
    transaction; problems inside one event or instruction are recorded as anomalies.
    """
    raw = read_transaction(result)
    try:
        return _decode(raw, prefer)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        if isinstance(exc, DecodeError):
            raise
        raise UnsupportedInput(f"malformed transaction meta: {exc!r}") from exc


def _decode(raw: RawTransaction, prefer: Source) -> DecodedTx:
    anomalies: list[Anomaly] = []
    instructions, cpi = _walk(raw, anomalies)
    logs = raw.meta.get("logMessages")
    if isinstance(logs, list) and not all(isinstance(line, str) for line in logs):
        anomalies.append(Anomaly("malformed_logs", detail="logMessages holds non-strings; logs ignored"))
        logs = None
    log_events, truncated = _log_events(raw, logs, anomalies) if isinstance(logs, list) else ([], False)
    merged = merge_carriers(
        log_events,
        cpi,
        prefer=prefer,
        logs_complete=isinstance(logs, list) and not truncated,
        anomalies=anomalies,
    )
    events = tuple(
        decode_event(
            item.program,
            item.data,
            source=item.source,
            event_index=index,
            ix_index=item.ix_index,
            inner_index=item.inner_index,
            anomalies=anomalies,
        )
        for index, item in enumerate(merged)
    )
    by_position = {(ix.ix_index, ix.inner_index): ix for ix in instructions}
    err = raw.meta.get("err")
    failed = err is not None
    records: list[Record] = []
    decoded_ixs = tuple(instructions)
    if not failed:
        for event in events:
            emitter = (
                by_position.get((event.ix_index, event.inner_index)) if event.ix_index is not None else None
            )
            if emitter is not None and emitter.program != event.program:
                emitter = None
            record = build_record(
                event, signature=raw.signature, slot=raw.slot, block_time=raw.block_time, instruction=emitter
            )
            if record is not None:
                records.append(record)
        try:
            records.extend(_balance_pass(raw, decoded_ixs, events, anomalies))
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            anomalies.append(Anomaly("balance_delta_unreadable", detail=repr(exc)[:120]))
    return DecodedTx(
        signature=raw.signature,
        slot=raw.slot,
        block_time=raw.block_time,
        err=err,
        failed=failed,
        truncated=truncated,
        events=events,
        records=tuple(records),
        instructions=decoded_ixs,
        anomalies=tuple(anomalies),
    )
