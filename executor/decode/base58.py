"""Base58 (bitcoin alphabet) for pubkeys, signatures and instruction data.

Pubkey encoding is the hottest operation of log decoding (four or five per TradeEvent), so 32-byte
keys go through solders and a bounded cache: the same few mints, curves and fee recipients recur
in every block.
"""

from __future__ import annotations

from solders.pubkey import Pubkey

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
_CHUNK = 10
_POWERS = [58**n for n in range(_CHUNK + 1)]
_CACHE_LIMIT = 65_536
pubkey_cache: dict[bytes, str] = {}


def encode_pubkey(raw: bytes) -> str:
    """Base58 of a 32-byte key, cached."""
    text = pubkey_cache.get(raw)
    if text is None:
        if len(pubkey_cache) >= _CACHE_LIMIT:
            pubkey_cache.clear()
        text = str(Pubkey.from_bytes(raw))
        pubkey_cache[raw] = text
    return text


def b58encode(raw: bytes) -> str:
    zeros = len(raw) - len(raw.lstrip(b"\0"))
    number = int.from_bytes(raw, "big")
    digits: list[str] = []
    while number:
        number, rem = divmod(number, 58)
        digits.append(ALPHABET[rem])
    return "1" * zeros + "".join(reversed(digits))


def b58decode(text: str) -> bytes:
    """Decode base58; raises ValueError on a character outside the alphabet.

    Digits are folded ten at a time in small ints before touching the big accumulator, which
    keeps the ~470-character event-CPI instructions of json-encoded transactions cheap.
    """
    number = 0
    for start in range(0, len(text), _CHUNK):
        chunk = text[start : start + _CHUNK]
        value = 0
        for char in chunk:
            digit = _INDEX.get(char)
            if digit is None:
                raise ValueError(f"invalid base58 character {char!r}")
            value = value * 58 + digit
        number = number * _POWERS[len(chunk)] + value
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def decode_pubkey(text: str) -> bytes:
    """32 raw bytes of a base58 pubkey; raises ValueError when it is not one."""
    raw = b58decode(text)
    if len(raw) != 32:
        raise ValueError(f"not a 32-byte pubkey: {text!r}")
    return raw
