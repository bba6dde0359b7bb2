"""pump.fun + PumpSwap decoder: pure functions from raw chain data to exact, versioned records.

No I/O here (no asyncio, sockets, clocks or environment); `telemetry` is the one adapter module
that turns the decoder's observations into metrics and log lines. See docs/decoder.md.
"""

from executor.decode.accounts import decode_account
from executor.decode.errors import DecodeError, TruncatedData, UnsupportedInput
from executor.decode.idl import PUMP, PUMP_AMM, PUMP_FEES
from executor.decode.logs import decode_logs
from executor.decode.model import Anomaly, DecodedAccount, DecodedEvent, DecodedInstruction, DecodedTx
from executor.decode.records import (
    AmmPoolCreated,
    AmmTrade,
    CurveComplete,
    CurveTrade,
    Launch,
    Migration,
    Record,
)
from executor.decode.shapes import Shape, ShapeRegistry, shapes_of
from executor.decode.transaction import balance_delta_index, decode_transaction

__all__ = [
    "PUMP",
    "PUMP_AMM",
    "PUMP_FEES",
    "AmmPoolCreated",
    "AmmTrade",
    "Anomaly",
    "CurveComplete",
    "CurveTrade",
    "DecodeError",
    "DecodedAccount",
    "DecodedEvent",
    "DecodedInstruction",
    "DecodedTx",
    "Launch",
    "Migration",
    "Record",
    "Shape",
    "ShapeRegistry",
    "TruncatedData",
    "UnsupportedInput",
    "balance_delta_index",
    "decode_account",
    "decode_logs",
    "decode_transaction",
    "shapes_of",
]
