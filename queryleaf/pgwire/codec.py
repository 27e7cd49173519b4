"""PostgreSQL v3 messages as bytes: a frame reader over a growing buffer (no I/O) and the
backend messages the server sends. Layouts follow the protocol's "Message Formats" chapter."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102
PROTOCOL_3 = 3 << 16

# Limits applied before a client is authenticated (a startup packet, a password message) and
# after (any message); a client over them is disconnected with an error.
MAX_STARTUP = 10_000
MAX_PREAUTH_MESSAGE = 8_192
MAX_MESSAGE = 64 * 1024 * 1024


class ProtocolViolation(Exception):
    """The client broke the protocol (SQLSTATE 08P01); the connection ends."""


@dataclass
class Frame:
    """One message: `kind` is its type byte ('' for the untyped startup packet)."""

    kind: str
    payload: bytes


class FrameReader:
    """Cuts messages out of bytes fed in any pieces."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.startup = True  # the first message has no type byte
        self.limit = MAX_STARTUP

    def feed(self, data: bytes) -> None:
        self.buffer += data

    def next(self) -> Frame | None:
        if self.startup:
            if len(self.buffer) < 4:
                return None
            (length,) = struct.unpack_from("!i", self.buffer, 0)
            if length < 8 or length > MAX_STARTUP:
                raise ProtocolViolation(f"invalid startup packet length {length}")
            if len(self.buffer) < length:
                return None
            payload = bytes(self.buffer[4:length])
            del self.buffer[:length]
            return Frame("", payload)
        if len(self.buffer) < 5:
            return None
        kind = chr(self.buffer[0])
        (length,) = struct.unpack_from("!i", self.buffer, 1)
        if length < 4 or length > self.limit:
            raise ProtocolViolation(f"invalid message length {length} for message {kind!r}")
        if len(self.buffer) < 1 + length:
            return None
        payload = bytes(self.buffer[5 : 1 + length])
        del self.buffer[: 1 + length]
        return Frame(kind, payload)


class Reader:
    """Fields of one message payload."""

    def __init__(self, payload: bytes) -> None:
        self.data = payload
        self.pos = 0

    def int16(self) -> int:
        value = struct.unpack_from("!h", self.data, self.pos)[0]
        self.pos += 2
        return int(value)

    def int32(self) -> int:
        value = struct.unpack_from("!i", self.data, self.pos)[0]
        self.pos += 4
        return int(value)

    def byte(self) -> str:
        value = chr(self.data[self.pos])
        self.pos += 1
        return value

    def cstring(self) -> str:
        end = self.data.find(b"\0", self.pos)
        if end < 0:
            raise ProtocolViolation("unterminated string in message")
        value = self.data[self.pos : end].decode("utf-8", "replace")
        self.pos = end + 1
        return value

    def raw(self, size: int) -> bytes:
        if size < 0 or self.pos + size > len(self.data):
            raise ProtocolViolation("message shorter than its fields")
        value = self.data[self.pos : self.pos + size]
        self.pos += size
        return value

    def rest(self) -> bytes:
        value = self.data[self.pos :]
        self.pos = len(self.data)
        return value


def parse_startup(payload: bytes) -> tuple[int, dict[str, str]]:
    """(protocol code, parameters) of a startup packet; the code may be a request code."""
    reader = Reader(payload)
    code = reader.int32()
    params: dict[str, str] = {}
    if code >> 16 != 3:
        return code, params
    while reader.pos < len(payload) and payload[reader.pos] != 0:
        key = reader.cstring()
        params[key] = reader.cstring()
    return code, params


# --- backend messages ---------------------------------------------------------------------


def message(kind: bytes, body: bytes = b"") -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def cstr(text: str) -> bytes:
    return text.replace("\0", "").encode("utf-8") + b"\0"


def auth_ok() -> bytes:
    return message(b"R", struct.pack("!i", 0))


def auth_sasl(mechanisms: Iterable[str]) -> bytes:
    return message(b"R", struct.pack("!i", 10) + b"".join(cstr(m) for m in mechanisms) + b"\0")


def auth_sasl_continue(data: bytes) -> bytes:
    return message(b"R", struct.pack("!i", 11) + data)


def auth_sasl_final(data: bytes) -> bytes:
    return message(b"R", struct.pack("!i", 12) + data)


def parameter_status(name: str, value: str) -> bytes:
    return message(b"S", cstr(name) + cstr(value))


def backend_key_data(pid: int, secret: int) -> bytes:
    return message(b"K", struct.pack("!ii", pid, secret))


def negotiate_protocol_version(minor: int, unknown: Sequence[str]) -> bytes:
    body = struct.pack("!ii", minor, len(unknown)) + b"".join(cstr(name) for name in unknown)
    return message(b"v", body)


def ready_for_query(status: str) -> bytes:
    return message(b"Z", status.encode())


@dataclass
class FieldDescription:
    name: str
    type_oid: int
    type_size: int = -1
    type_modifier: int = -1
    format: int = 0
    table_oid: int = 0
    column: int = 0


def row_description(fields: Sequence[FieldDescription]) -> bytes:
    parts = [struct.pack("!h", len(fields))]
    for f in fields:
        parts.append(cstr(f.name))
        parts.append(
            struct.pack(
                "!ihihih",
                f.table_oid,
                f.column,
                f.type_oid,
                f.type_size,
                f.type_modifier,
                f.format,
            )
        )
    return message(b"T", b"".join(parts))


def data_row(values: Sequence[bytes | None]) -> bytes:
    parts = [struct.pack("!h", len(values))]
    for value in values:
        if value is None:
            parts.append(b"\xff\xff\xff\xff")
        else:
            parts.append(struct.pack("!i", len(value)) + value)
    return message(b"D", b"".join(parts))


def parameter_description(oids: Sequence[int]) -> bytes:
    return message(b"t", struct.pack(f"!h{len(oids)}i", len(oids), *oids))


def command_complete(tag: str) -> bytes:
    return message(b"C", cstr(tag))


def notification(pid: int, channel: str, payload: str) -> bytes:
    return message(b"A", struct.pack("!i", pid) + cstr(channel) + cstr(payload))


PARSE_COMPLETE = message(b"1")
BIND_COMPLETE = message(b"2")
CLOSE_COMPLETE = message(b"3")
NO_DATA = message(b"n")
EMPTY_QUERY = message(b"I")
PORTAL_SUSPENDED = message(b"s")
SSL_NO = b"N"


def notice_fields(fields: dict[str, str]) -> bytes:
    """The body of ErrorResponse/NoticeResponse: one-letter field codes and text."""
    return b"".join(code.encode() + cstr(value) for code, value in fields.items()) + b"\0"


def error_response(fields: dict[str, str]) -> bytes:
    return message(b"E", notice_fields(fields))


def notice_response(fields: dict[str, str]) -> bytes:
    return message(b"N", notice_fields(fields))
