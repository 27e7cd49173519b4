"""MongoDB's wire protocol as a state machine over bytes (no I/O inside).

`Decoder.feed()` takes whatever the socket gave; `Decoder.next()` returns each complete request
as a `Request` (the command document, with OP_MSG kind-1 document sequences merged in as arrays)
or raises `ProtocolError`, after which the connection is to be closed. A message's declared size
is checked against the limit as soon as its 4-byte length has arrived, before any of its body is
read. `encode_msg()` and `encode_reply()` build OP_MSG and OP_REPLY answers.

Supported requests: OP_MSG (flags checksumPresent, moreToCome and exhaustAllowed; sections of
kind 0 and 1) and OP_QUERY on `<db>.$cmd` (the legacy first handshake of older drivers).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

import bson
from bson.binary import UuidRepresentation
from bson.codec_options import CodecOptions
from bson.errors import BSONError

from .crc32c import crc32c

OP_REPLY = 1
OP_QUERY = 2004
OP_COMPRESSED = 2012
OP_MSG = 2013

MAX_MESSAGE_SIZE = 48_000_000  # maxMessageSizeBytes, as the hello reply announces it
MAX_BSON_SIZE = 16 * 1024 * 1024
HEADER = struct.Struct("<iiii")  # messageLength, requestID, responseTo, opCode

CHECKSUM_PRESENT = 1 << 0
MORE_TO_COME = 1 << 1
EXHAUST_ALLOWED = 1 << 16
_KNOWN_FLAGS = CHECKSUM_PRESENT | MORE_TO_COME | EXHAUST_ALLOWED
_REQUIRED_BITS = 0xFFFF  # flag bits 0-15 must be understood; 16-31 may be ignored

DECODE_OPTIONS = CodecOptions(tz_aware=False, uuid_representation=UuidRepresentation.STANDARD)
ENCODE_OPTIONS = CodecOptions(uuid_representation=UuidRepresentation.STANDARD)


class ProtocolError(Exception):
    """A request that cannot be read: the connection must be closed (the reason is logged)."""


@dataclass
class Request:
    request_id: int
    op_code: int
    command: dict[str, Any]
    more_to_come: bool = False  # the client expects no reply (w:0 writes)
    exhaust_allowed: bool = False
    database: str | None = None  # OP_QUERY: from the collection name; OP_MSG: from $db
    size: int = 0
    sequences: list[str] = field(default_factory=list)


class Decoder:
    """Reassembles requests from the bytes of one connection."""

    def __init__(self, max_size: int = MAX_MESSAGE_SIZE) -> None:
        self._buffer = bytearray()
        self._max_size = max_size

    def feed(self, data: bytes) -> None:
        self._buffer += data
        self._check_length()

    def pending(self) -> int:
        """Bytes received but not yet part of a returned request."""
        return len(self._buffer)

    def wanted(self) -> int:
        """How many more bytes complete the message under way (at least 1)."""
        if len(self._buffer) < 4:
            return 4 - len(self._buffer)
        (length,) = struct.unpack_from("<i", self._buffer)
        return max(1, length - len(self._buffer))

    def _check_length(self) -> None:
        if len(self._buffer) < 4:
            return
        (length,) = struct.unpack_from("<i", self._buffer)
        if length < HEADER.size:
            raise ProtocolError(f"message length {length} is smaller than a message header")
        if length > self._max_size:
            raise ProtocolError(
                f"message length {length} exceeds the limit of {self._max_size} bytes"
            )

    def next(self) -> Request | None:
        """The next complete request, or None until more bytes arrive."""
        if len(self._buffer) < HEADER.size:
            return None
        length, request_id, _response_to, op_code = HEADER.unpack_from(self._buffer)
        if len(self._buffer) < length:
            return None
        message = bytes(self._buffer[:length])
        del self._buffer[:length]
        self._check_length()  # the next message's header may already be here
        if op_code == OP_MSG:
            return _decode_msg(message, request_id)
        if op_code == OP_QUERY:
            return _decode_query(message, request_id)
        if op_code == OP_COMPRESSED:
            raise ProtocolError("OP_COMPRESSED is not supported (no compressor was negotiated)")
        raise ProtocolError(f"unsupported opCode {op_code}")


def _document(data: bytes, offset: int, end: int, what: str) -> tuple[dict[str, Any], int]:
    if end - offset < 5:
        raise ProtocolError(f"{what}: truncated BSON document")
    (size,) = struct.unpack_from("<i", data, offset)
    if size < 5 or offset + size > end:
        raise ProtocolError(f"{what}: BSON document length {size} overruns the message")
    if size > MAX_BSON_SIZE + 16 * 1024:
        raise ProtocolError(f"{what}: BSON document of {size} bytes exceeds the 16 MB limit")
    try:
        document = bson.decode(data[offset : offset + size], codec_options=DECODE_OPTIONS)
    except (BSONError, ValueError, TypeError, OverflowError, IndexError) as error:
        raise ProtocolError(f"{what}: invalid BSON ({error})") from None
    return document, offset + size


def _cstring(data: bytes, offset: int, end: int, what: str) -> tuple[str, int]:
    stop = data.find(b"\x00", offset, end)
    if stop < 0:
        raise ProtocolError(f"{what}: unterminated string")
    try:
        return data[offset:stop].decode("utf-8"), stop + 1
    except UnicodeDecodeError:
        raise ProtocolError(f"{what}: string is not UTF-8") from None


def _decode_msg(message: bytes, request_id: int) -> Request:
    end = len(message)
    if end < HEADER.size + 4 + 1:
        raise ProtocolError("OP_MSG: too short for flags and a section")
    (flags,) = struct.unpack_from("<I", message, HEADER.size)
    unknown = flags & _REQUIRED_BITS & ~_KNOWN_FLAGS
    if unknown:
        raise ProtocolError(f"OP_MSG: unknown required flag bits {unknown:#x}")
    if flags & CHECKSUM_PRESENT:
        end -= 4
        if end < HEADER.size + 5:
            raise ProtocolError("OP_MSG: too short for its checksum")
        (expected,) = struct.unpack_from("<I", message, end)
        if crc32c(message[:end]) != expected:
            raise ProtocolError("OP_MSG: checksum mismatch")
    offset = HEADER.size + 4
    body: dict[str, Any] | None = None
    sequences: dict[str, list[dict[str, Any]]] = {}
    while offset < end:
        kind = message[offset]
        offset += 1
        if kind == 0:
            if body is not None:
                raise ProtocolError("OP_MSG: more than one body section")
            body, offset = _document(message, offset, end, "OP_MSG body")
        elif kind == 1:
            if end - offset < 4:
                raise ProtocolError("OP_MSG: truncated document sequence")
            (size,) = struct.unpack_from("<i", message, offset)
            stop = offset + size
            if size < 5 or stop > end:
                raise ProtocolError(f"OP_MSG: document sequence length {size} overruns the message")
            name, position = _cstring(message, offset + 4, stop, "OP_MSG document sequence")
            if name in sequences:
                raise ProtocolError(f"OP_MSG: duplicate document sequence {name!r}")
            documents = []
            while position < stop:
                document, position = _document(message, position, stop, f"sequence {name!r}")
                documents.append(document)
            sequences[name] = documents
            offset = stop
        else:
            raise ProtocolError(f"OP_MSG: unknown section kind {kind}")
    if body is None:
        raise ProtocolError("OP_MSG: no body section")
    for name, documents in sequences.items():
        if name in body:
            raise ProtocolError(f"OP_MSG: {name!r} is both in the body and a document sequence")
        body[name] = documents
    database = body.get("$db")
    return Request(
        request_id,
        OP_MSG,
        body,
        more_to_come=bool(flags & MORE_TO_COME),
        exhaust_allowed=bool(flags & EXHAUST_ALLOWED),
        database=database if isinstance(database, str) else None,
        size=len(message),
        sequences=list(sequences),
    )


def _decode_query(message: bytes, request_id: int) -> Request:
    end = len(message)
    offset = HEADER.size + 4  # flags: none of them changes how a command is run
    namespace, offset = _cstring(message, offset, end, "OP_QUERY collection name")
    if end - offset < 8:
        raise ProtocolError("OP_QUERY: truncated")
    offset += 8  # numberToSkip, numberToReturn
    query, offset = _document(message, offset, end, "OP_QUERY query")
    if offset < end:
        _fields, offset = _document(message, offset, end, "OP_QUERY field selector")
    if offset != end:
        raise ProtocolError("OP_QUERY: trailing bytes")
    database, _, collection = namespace.partition(".")
    if collection != "$cmd":
        raise ProtocolError(f"OP_QUERY on {namespace!r}: only commands (<db>.$cmd) are served")
    if "$query" in query and isinstance(query["$query"], dict):
        query = query["$query"]
    return Request(request_id, OP_QUERY, query, database=database, size=len(message))


def encode_msg(request_id: int, response_to: int, document: dict[str, Any]) -> bytes:
    """An OP_MSG carrying `document` as its body (no checksum)."""
    body = bson.encode(document, codec_options=ENCODE_OPTIONS)
    length = HEADER.size + 4 + 1 + len(body)
    return HEADER.pack(length, request_id, response_to, OP_MSG) + b"\x00\x00\x00\x00\x00" + body


def encode_reply(request_id: int, response_to: int, document: dict[str, Any]) -> bytes:
    """An OP_REPLY with one document (the answer to an OP_QUERY command)."""
    body = bson.encode(document, codec_options=ENCODE_OPTIONS)
    length = HEADER.size + 20 + len(body)
    reply = struct.pack("<iqii", 0, 0, 0, 1)
    return HEADER.pack(length, request_id, response_to, OP_REPLY) + reply + body


def encode_request(
    request_id: int,
    document: dict[str, Any],
    *,
    sequences: dict[str, list[dict[str, Any]]] | None = None,
    checksum: bool = False,
    flags: int = 0,
) -> bytes:
    """An OP_MSG request (what a driver sends): for tests and the benchmark's raw client."""
    parts = [b"\x00" + bson.encode(document, codec_options=ENCODE_OPTIONS)]
    for name, documents in (sequences or {}).items():
        payload = name.encode() + b"\x00" + b"".join(bson.encode(d) for d in documents)
        parts.append(b"\x01" + struct.pack("<i", 4 + len(payload)) + payload)
    if checksum:
        flags |= CHECKSUM_PRESENT
    body = struct.pack("<I", flags) + b"".join(parts)
    length = HEADER.size + len(body) + (4 if checksum else 0)
    message = HEADER.pack(length, request_id, 0, OP_MSG) + body
    if checksum:
        message += struct.pack("<I", crc32c(message))
    return message


def decode_reply(message: bytes) -> dict[str, Any]:
    """The body of an OP_MSG or OP_REPLY answer (for tests)."""
    _length, _request_id, _response_to, op_code = HEADER.unpack_from(message)
    if op_code == OP_MSG:
        return bson.decode(message[HEADER.size + 5 :], codec_options=DECODE_OPTIONS)
    if op_code == OP_REPLY:
        return bson.decode(message[HEADER.size + 20 :], codec_options=DECODE_OPTIONS)
    raise ProtocolError(f"not a reply: opCode {op_code}")
