"""Resume tokens: `{"_data": "<hex>"}`, opaque to users but ordered like the stream.

The hex string holds the event's cluster time, its journal sequence number and a kind byte, all
fixed width, so comparing two tokens as strings compares their positions (MongoDB's KeyString
tokens have the same property). The kind orders an event before the invalidate it causes and both
before a high-water mark at the same sequence number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mongomock_ng import OperationFailure

EVENT = 1
INVALIDATE = 2
HIGH_WATER_MARK = 3

_PREFIX = "82"  # what MongoDB's v1 tokens start with (the KeyString type byte of a Timestamp)
_LENGTH = len(_PREFIX) + 8 + 8 + 16 + 2


@dataclass(frozen=True)
class Position:
    """What a token encodes."""

    time: tuple[int, int]  # cluster time (seconds, increment)
    seq: int
    kind: int


def encode(time: tuple[int, int], seq: int, kind: int) -> dict[str, str]:
    return {"_data": f"{_PREFIX}{time[0]:08X}{time[1]:08X}{seq:016X}{kind:02X}"}


def decode(token: Any) -> Position:
    """The position in a token; OperationFailure for anything this engine did not issue."""
    data = token.get("_data") if isinstance(token, dict) else None
    if not isinstance(data, str):
        raise OperationFailure(
            "resume token must be a document with a string '_data' field", code=40647
        )
    try:
        if len(data) != _LENGTH or not data.startswith(_PREFIX):
            raise ValueError(data)
        body = data[len(_PREFIX) :]
        time = (int(body[0:8], 16), int(body[8:16], 16))
        seq, kind = int(body[16:32], 16), int(body[32:34], 16)
    except ValueError:
        raise OperationFailure(f"invalid resume token: {data!r}", code=260) from None
    if kind not in (EVENT, INVALIDATE, HIGH_WATER_MARK):
        raise OperationFailure(f"invalid resume token: {data!r}", code=260)
    return Position(time, seq, kind)
