"""Named scenarios: each lifecycle step on real fixtures, plus the cases no fixture holds
(failed transactions, foreign TradeEvent bytes, unknown discriminators, missing events)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from executor.decode import (
    PUMP,
    PUMP_AMM,
    AmmPoolCreated,
    AmmTrade,
    CurveComplete,
    CurveTrade,
    Launch,
    Migration,
    balance_delta_index,
    decode_logs,
    decode_transaction,
)
from executor.decode.base58 import b58encode
from executor.decode.encode import encode_event, encode_instruction, event_cpi_data, program_data_line
from executor.decode.layouts import EVENT_CPI_TAG

LAUNCHLAB = "LanMV9sAd7wArD4vJFi2qDdfnVhFxYSUg6eADduJ3uj"
USER = "4DdrfiDHpmx55i4SPssxVzS9ZaKLb8qr45NKY9Er9nNh"
MINT = "CnNVDyM7GXBBcH8giuRYm17YCn6kpFTTbnd6Tx4hpump"
ZERO = "11111111111111111111111111111111"


def trade_fields(**overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "mint": MINT,
        "sol_amount": 1_000_000_000,
        "token_amount": 34_612_901_212_710,
        "is_buy": True,
        "user": USER,
        "timestamp": 1_700_000_000,
        "virtual_sol_reserves": 31_000_000_000,
        "virtual_token_reserves": 1_038_387_098_787_290,
        "real_sol_reserves": 1_000_000_000,
        "real_token_reserves": 758_487_098_787_290,
        "fee_recipient": USER,
        "fee_basis_points": 95,
        "fee": 9_500_000,
        "creator": USER,
        "creator_fee_basis_points": 30,
        "creator_fee": 3_000_000,
        "track_volume": False,
        "total_unclaimed_tokens": 0,
        "total_claimed_tokens": 0,
        "current_sol_volume": 0,
        "last_update_timestamp": 0,
        "ix_name": "buy",
        "mayhem_mode": False,
        "cashback_fee_basis_points": 0,
        "cashback": 0,
        "buyback_fee_basis_points": 5000,
        "buyback_fee": 4_750_000,
        "shareholders": ({"address": USER, "share_bps": 10_000},),
        "quote_mint": ZERO,
        "quote_amount": 1_000_000_000,
        "virtual_quote_reserves": 31_000_000_000,
        "real_quote_reserves": 1_000_000_000,
        "holder_rewards_bps": 30,
        "holder_rewards": 2_100_001,
    }
    fields.update(overrides)
    return fields


def frame(program: str, *data_lines: str, depth: int = 1) -> list[str]:
    return [f"Program {program} invoke [{depth}]", *data_lines, f"Program {program} success"]


def records_of(kind: type, tx: Any) -> list[Any]:
    return [r for r in tx.records if isinstance(r, kind)]


# --- lifecycle on real transactions -----------------------------------------------------------


def test_create_yields_a_launch_with_the_create_instruction_name(tx_result: Any) -> None:
    tx = decode_transaction(tx_result("52ar89rghM"))
    (launch,) = records_of(Launch, tx)
    assert launch.ix_name == "create" and launch.layout_version == "c0"
    assert (launch.name, launch.symbol, launch.mint) == (
        "excited",
        "excited",
        "ER2N5eaDoC68kNhj7LyaScimzq7deaqxiw88rewvxaKp",
    )
    assert launch.creator is None and launch.timestamp is None, (
        "c0 predates creator/timestamp: absent, not zero"
    )


def test_create_v2_yields_a_launch_with_token_2022_and_the_creating_buy(tx_result: Any) -> None:
    tx = decode_transaction(tx_result("4HbY43S9Ui"))
    (launch,) = records_of(Launch, tx)
    (trade,) = records_of(CurveTrade, tx)
    assert launch.ix_name == "create_v2" and launch.layout_version == "c5"
    assert launch.token_program == "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"
    assert trade.mint == launch.mint and trade.is_buy and trade.layout_version == "v8"
    assert launch.event_index < trade.event_index


def test_buy_exact_sol_in_is_named_by_the_event_and_the_instruction(tx_result: Any) -> None:
    tx = decode_transaction(tx_result("2RoRJxatbF"))
    (trade,) = records_of(CurveTrade, tx)
    assert trade.ix_name == "buy_exact_sol_in"
    assert [ix.name for ix in tx.instructions if ix.program == PUMP][-1] == "buy_exact_sol_in"


def test_sell_matches_the_source_values_and_old_layouts_leave_later_fields_none(tx_result: Any) -> None:
    (trade,) = records_of(CurveTrade, decode_transaction(tx_result("3bYXWjjNkV")))
    assert (trade.is_buy, trade.sol_amount, trade.token_amount) == (False, 37437283903, 592443959000000)
    assert trade.layout_version == "v1"
    assert trade.fee is None and trade.creator is None and trade.ix_name is None and trade.quote_mint is None


def test_completing_buy_yields_trade_and_curve_complete(tx_result: Any) -> None:
    tx = decode_transaction(tx_result("2wkECde79G"))
    (complete,) = records_of(CurveComplete, tx)
    (trade,) = records_of(CurveTrade, tx)
    assert complete.mint == trade.mint and complete.user == trade.user
    assert trade.real_token_reserves == 0


def test_migrate_yields_migration_and_the_canonical_pool_it_created(tx_result: Any) -> None:
    tx = decode_transaction(tx_result("5gp7yztY9n"))
    (migration,) = records_of(Migration, tx)
    (pool,) = records_of(AmmPoolCreated, tx)
    assert migration.pool == pool.pool and migration.mint == pool.base_mint
    assert pool.index == 0 and pool.quote_mint == "So11111111111111111111111111111111111111112"
    assert migration.pool_migration_fee == 15_000_001
    assert pool.inner_index is not None and migration.inner_index is None, (
        "create_pool runs as a CPI of migrate"
    )
    assert [ix.name for ix in tx.instructions] == ["migrate", "create_pool"]


@pytest.mark.parametrize(("prefix", "is_buy"), [("4pCgZ28WbX", True), ("UeaUs9PGyH", False)])
def test_pumpswap_trade_takes_mints_from_the_instruction_accounts(
    tx_result: Any, prefix: str, is_buy: bool
) -> None:
    result = tx_result(prefix)
    (trade,) = records_of(AmmTrade, decode_transaction(result))
    assert trade.is_buy is is_buy and trade.base_mint is not None
    assert trade.quote_mint == "So11111111111111111111111111111111111111112"
    (from_logs,) = records_of(
        AmmTrade, decode_logs(trade.signature, trade.slot, result["meta"]["logMessages"], None)
    )
    assert from_logs.base_mint is None and from_logs.quote_mint is None, "the event itself names no mints"
    assert from_logs.base_amount == trade.base_amount and from_logs.event_index == trade.event_index


def test_aggregator_routed_trade_is_found_as_an_inner_instruction(tx_result: Any) -> None:
    tx = decode_transaction(tx_result("3TwHo76yay"))
    (trade,) = records_of(AmmTrade, tx)
    (ix,) = [ix for ix in tx.instructions if ix.program == PUMP_AMM]
    assert ix.inner_index is not None and (trade.ix_index, trade.inner_index) == (ix.ix_index, ix.inner_index)


def test_truncated_logs_give_four_trades_and_the_cpi_carrier_five(tx_result: Any) -> None:
    result = tx_result("3S2vFszSSC")
    tx = decode_transaction(result)
    live = decode_logs(tx.signature, tx.slot, result["meta"]["logMessages"], None)
    assert live.truncated and tx.truncated
    assert len(records_of(CurveTrade, live)) == 4 and len(records_of(CurveTrade, tx)) == 5
    assert [r.event_index for r in tx.records] == [0, 1, 2, 3, 4]
    assert not [a for a in tx.anomalies if a.reason == "cpi_only_event"], (
        "a truncated log is a prefix, not a gap"
    )


def test_the_same_transaction_in_json_parsed_and_base64_decodes_to_the_same_records(load_json: Any) -> None:
    stem = "transactions/4HbY43S9UigSctrfxY5nszgf3ozN1f4kPQYaqaFLZaCDhwa55rauuRmhP85u67U7dBvGFwB5C6stmkH2b1TNxgQh"
    primary = decode_transaction(load_json(f"{stem}.json")["result"])
    parsed = decode_transaction(load_json(f"{stem}.jsonParsed.json")["result"])
    assert primary.records == parsed.records and primary.events == parsed.events


# --- cases no fixture holds -----------------------------------------------------------------------


def test_failed_transaction_is_recognised_but_yields_no_records(tx_result: Any) -> None:
    result = tx_result("3bYXWjjNkV")
    result["meta"]["err"] = {"InstructionError": [3, {"Custom": 6003}]}
    tx = decode_transaction(result)
    assert tx.failed and tx.err == {"InstructionError": [3, {"Custom": 6003}]}
    assert tx.records == () and tx.events, "events stay visible for diagnosis, records do not exist"
    live = decode_logs(tx.signature, tx.slot, result["meta"]["logMessages"], result["meta"]["err"])
    assert live.failed and live.records == ()


def test_tradeevent_bytes_printed_by_another_program_are_not_pump_events() -> None:
    line = program_data_line(encode_event("TradeEvent", trade_fields(), "v1"))
    logs = frame(LAUNCHLAB, line) + frame(PUMP, line)
    tx = decode_logs("sig", 1, logs, None)
    assert [(e.program, e.ix_index) for e in tx.events] == [(PUMP, 1)]


def test_data_line_of_a_nested_frame_belongs_to_that_frame_not_its_caller() -> None:
    line = program_data_line(encode_event("TradeEvent", trade_fields(), "v2"))
    logs = [f"Program {PUMP} invoke [1]", *frame(LAUNCHLAB, line, depth=2), f"Program {PUMP} success"]
    assert decode_logs("sig", 1, logs, None).events == ()
    routed = [f"Program {LAUNCHLAB} invoke [1]", *frame(PUMP, line, depth=2), f"Program {LAUNCHLAB} success"]
    (event,) = decode_logs("sig", 1, routed, None).events
    assert (event.ix_index, event.inner_index) == (0, 0)


def test_unknown_discriminator_is_kept_counted_and_takes_an_event_index() -> None:
    unknown = b"\x01\x02\x03\x04\x05\x06\x07\x08" + bytes(40)
    trade = encode_event("TradeEvent", trade_fields(), "v3")
    tx = decode_logs("sig", 1, frame(PUMP, program_data_line(unknown), program_data_line(trade)), None)
    assert [e.name for e in tx.events] == ["Unknown", "TradeEvent"]
    assert tx.events[0].discriminator == "0102030405060708" and tx.events[0].tail == bytes(40)
    assert [r.event_index for r in tx.records] == [1]
    assert [a.reason for a in tx.anomalies] == ["unknown_event"]


def test_post_idl_tail_of_september_2026_decodes_as_v9_holder_rewards() -> None:
    data = encode_event("TradeEvent", trade_fields(), "v9")
    assert len(data) - 8 == 366 + 34, "350 bytes for a buy + 34 per shareholder + the 16-byte tail"
    (trade,) = decode_logs("sig", 1, frame(PUMP, program_data_line(data)), None).records
    assert isinstance(trade, CurveTrade)
    assert (trade.layout_version, trade.holder_rewards_bps, trade.holder_rewards) == ("v9", 30, 2_100_001)
    assert trade.shareholders == ((USER, 10_000),)


def test_unknown_tail_is_tolerated_and_counted_with_its_length() -> None:
    data = encode_event("TradeEvent", trade_fields(), "v9", tail=b"\x07" * 5)
    tx = decode_logs("sig", 1, frame(PUMP, program_data_line(data)), None)
    (event,) = tx.events
    assert event.layout_version == "v9" and event.tail == b"\x07" * 5
    assert [(a.reason, a.kind, a.detail) for a in tx.anomalies] == [("unknown_tail", "TradeEvent", "v9+5")]
    assert len(tx.records) == 1


def test_a_bool_that_is_not_zero_or_one_is_a_decode_error_recorded_not_raised() -> None:
    data = bytearray(encode_event("TradeEvent", trade_fields(), "v1"))
    data[8 + 48] = 2  # is_buy
    tx = decode_logs("sig", 1, frame(PUMP, program_data_line(bytes(data))), None)
    assert tx.events[0].error is not None and tx.records == ()
    assert [a.reason for a in tx.anomalies] == ["event_decode_error"]


def test_lines_after_log_truncated_are_counted_but_get_no_event_index() -> None:
    complete = {"user": USER, "mint": MINT, "bonding_curve": USER, "timestamp": 1}
    line = program_data_line(encode_event("CompleteEvent", complete, "k0"))
    logs = [f"Program {PUMP} invoke [1]", "Log truncated", line]
    tx = decode_logs("sig", 1, logs, None)
    assert tx.truncated and tx.events == ()
    assert [a.reason for a in tx.anomalies] == ["event_after_truncation"]


def _strip_trade_event(result: dict[str, Any]) -> dict[str, Any]:
    """Remove the TradeEvent from both carriers, as if the program had emitted none."""
    result["meta"]["logMessages"] = [
        m for m in result["meta"]["logMessages"] if not m.startswith("Program data: vdt/")
    ]
    for group in result["meta"]["innerInstructions"]:
        group["instructions"] = [
            ix for ix in group["instructions"] if not (ix.get("data") and b58_tag(ix["data"]))
        ]
    return result


def b58_tag(data: str) -> bool:
    from executor.decode.base58 import b58decode

    return b58decode(data).startswith(EVENT_CPI_TAG)


def test_trade_without_any_event_is_inferred_from_balance_deltas(tx_result: Any) -> None:
    original = decode_transaction(tx_result("3bYXWjjNkV"))
    (event_trade,) = records_of(CurveTrade, original)
    tx = decode_transaction(_strip_trade_event(tx_result("3bYXWjjNkV")))
    (inferred,) = records_of(CurveTrade, tx)
    assert inferred.source == "balance_delta" and inferred.layout_version == "balance_delta"
    assert (inferred.mint, inferred.user, inferred.is_buy) == (event_trade.mint, event_trade.user, False)
    assert (inferred.sol_amount, inferred.token_amount) == (event_trade.sol_amount, event_trade.token_amount)
    assert inferred.event_index == balance_delta_index(event_trade.ix_index or 0, event_trade.inner_index)
    assert inferred.fee is None and inferred.virtual_sol_reserves is None
    assert "balance_delta_inferred" in [a.reason for a in tx.anomalies]


def test_pumpswap_trade_without_any_event_is_inferred_from_the_pool_vaults(tx_result: Any) -> None:
    (event_trade,) = records_of(AmmTrade, decode_transaction(tx_result("4pCgZ28WbX")))
    result = tx_result("4pCgZ28WbX")
    result["meta"]["logMessages"] = [
        m for m in result["meta"]["logMessages"] if not m.startswith("Program data:")
    ]
    for group in result["meta"]["innerInstructions"]:
        group["instructions"] = [ix for ix in group["instructions"] if not b58_tag(ix["data"])]
    (inferred,) = records_of(AmmTrade, decode_transaction(result))
    assert inferred.source == "balance_delta"
    assert (inferred.pool, inferred.is_buy, inferred.base_amount) == (
        event_trade.pool,
        True,
        event_trade.base_amount,
    )
    assert inferred.quote_amount is None, "the pre-fee quote amount cannot be told from vault balances"


def test_balance_delta_that_disagrees_with_the_event_is_counted_not_hidden(tx_result: Any) -> None:
    result = tx_result("3bYXWjjNkV")
    for balance in result["meta"]["postTokenBalances"]:
        amount = int(balance["uiTokenAmount"]["amount"])
        balance["uiTokenAmount"]["amount"] = str(amount + 1) if amount else "0"
    tx = decode_transaction(result)
    assert "balance_delta_mismatch" in [a.reason for a in tx.anomalies]
    assert [r.source for r in tx.records] == ["cpi"], "the event still wins"


def test_carrier_byte_mismatch_is_counted_and_the_cpi_copy_wins(tx_result: Any) -> None:
    result = tx_result("3bYXWjjNkV")
    logs = result["meta"]["logMessages"]
    index = next(i for i, m in enumerate(logs) if m.startswith("Program data: vdt/"))
    data = bytearray(base64.b64decode(logs[index][len("Program data: ") :]))
    data[8 + 40] ^= 1  # token_amount
    logs[index] = program_data_line(bytes(data))
    tx = decode_transaction(result)
    assert [a.reason for a in tx.anomalies] == ["carrier_mismatch"]
    (trade,) = records_of(CurveTrade, tx)
    assert trade.source == "cpi" and trade.token_amount == 592443959000000


def test_event_present_only_in_logs_is_kept_at_its_execution_position() -> None:
    trade = encode_event("TradeEvent", trade_fields(), "v1")
    result = synthetic_result(logs=frame(PUMP, program_data_line(trade)), inner=[])
    tx = decode_transaction(result)
    assert [(r.source, r.event_index) for r in tx.records] == [("logs", 0)]
    assert [a.reason for a in tx.anomalies] == ["log_only_event"]


def test_top_level_instructions_that_log_nothing_do_not_shift_ix_index() -> None:
    trade = encode_event("TradeEvent", trade_fields(), "v1")
    precompile = "Ed25519SigVerify111111111111111111111111111"
    result = synthetic_result(
        logs=frame(PUMP, program_data_line(trade)),
        inner=[
            {"programId": PUMP, "accounts": [], "data": b58encode(event_cpi_data(trade)), "stackHeight": 2}
        ],
        leading=[{"programId": precompile, "accounts": [], "data": "", "stackHeight": None}],
    )
    tx = decode_transaction(result)
    assert [(e.source, e.ix_index, e.inner_index) for e in tx.events] == [("cpi", 1, None)]
    assert tx.anomalies == ()
    assert decode_transaction(result, prefer="logs").events[0].ix_index == 1


def synthetic_result(
    *, logs: list[str], inner: list[dict[str, Any]], leading: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A jsonParsed-style result with one top-level pump instruction (after `leading` ones)."""
    sell = encode_instruction(PUMP, "sell", {"amount": 1, "min_sol_output": 0})
    outer = [
        *(leading or []),
        {"programId": PUMP, "accounts": [], "data": b58encode(sell), "stackHeight": None},
    ]
    doc: dict[str, Any] = json.loads(
        json.dumps(
            {
                "slot": 7,
                "blockTime": None,
                "transaction": {
                    "signatures": ["5" * 64],
                    "message": {
                        "accountKeys": [{"pubkey": USER, "signer": True, "writable": True}],
                        "instructions": outer,
                    },
                },
                "meta": {
                    "err": None,
                    "logMessages": logs,
                    "innerInstructions": [{"index": len(outer) - 1, "instructions": inner}] if inner else [],
                    "preBalances": [0],
                    "postBalances": [0],
                    "preTokenBalances": [],
                    "postTokenBalances": [],
                },
            }
        )
    )
    return doc


def test_base58_wire_encoding_decodes_like_base64(tx_result: Any) -> None:
    result = tx_result("5gp7yztY9n")
    expected = decode_transaction(result)
    raw = base64.b64decode(result["transaction"][0])
    result["transaction"] = [b58encode(raw), "base58"]
    assert decode_transaction(result).records == expected.records


def test_transaction_without_log_messages_decodes_from_the_cpi_carrier_alone(tx_result: Any) -> None:
    result = tx_result("JBnrBbgqh9")
    expected = decode_transaction(result)
    result["meta"]["logMessages"] = None
    tx = decode_transaction(result)
    assert tx.records == expected.records and not tx.truncated
    assert tx.anomalies == ()


def test_v0_lookup_table_accounts_resolve_into_named_instruction_accounts(tx_result: Any) -> None:
    result = tx_result("4PqHvshiZK")
    assert result["meta"]["loadedAddresses"]["writable"], "this fixture loads accounts from lookup tables"
    tx = decode_transaction(result)
    (ix,) = [ix for ix in tx.instructions if ix.name == "sell"]
    (trade,) = records_of(AmmTrade, tx)
    assert ix.account("pool") == trade.pool and ix.account("user") == trade.user
    assert trade.base_mint is not None and trade.base_mint.endswith("pump")


def test_event_present_only_in_the_cpi_carrier_of_complete_logs_is_kept_and_counted() -> None:
    trade = encode_event("TradeEvent", trade_fields(), "v2")
    complete = encode_event(
        "CompleteEvent", {"user": USER, "mint": MINT, "bonding_curve": USER, "timestamp": 1}, "k0"
    )
    cpi = [
        {"programId": PUMP, "accounts": [], "data": b58encode(event_cpi_data(trade)), "stackHeight": 2},
        {"programId": PUMP, "accounts": [], "data": b58encode(event_cpi_data(complete)), "stackHeight": 2},
    ]
    result = synthetic_result(logs=frame(PUMP, program_data_line(complete)), inner=cpi)
    tx = decode_transaction(result)
    assert [(e.name, e.source, e.event_index) for e in tx.events] == [
        ("TradeEvent", "cpi", 0),
        ("CompleteEvent", "cpi", 1),
    ]
    assert [(a.reason, a.event_index) for a in tx.anomalies] == [("cpi_only_event", 0)]


def test_bundled_trades_on_one_curve_must_add_up_to_the_curve_balance_change(tx_result: Any) -> None:
    assert not [a for a in decode_transaction(tx_result("JBnrBbgqh9")).anomalies]
    result = tx_result("JBnrBbgqh9")  # four buys of one coin in one transaction
    curve = next(ix for ix in decode_transaction(result).instructions if ix.name == "buy").account(
        "bonding_curve"
    )
    keys = result["transaction"]["message"]["accountKeys"]
    result["meta"]["postBalances"][keys.index(curve)] += 1
    (anomaly,) = decode_transaction(result).anomalies
    assert anomaly.reason == "balance_delta_mismatch" and "4 trades state quote in" in anomaly.detail
