"""The wire codec on bytes: OP_MSG sections, checksums, OP_QUERY, size limits, bad input."""

from __future__ import annotations

import struct

import bson
import pytest

from queryleaf.server import wire
from queryleaf.server.crc32c import crc32c


def decode_all(data: bytes, chunk: int | None = None) -> list[wire.Request]:
    decoder = wire.Decoder()
    out = []
    pieces = [data] if chunk is None else [data[i : i + chunk] for i in range(0, len(data), chunk)]
    for piece in pieces:
        decoder.feed(piece)
        while (request := decoder.next()) is not None:
            out.append(request)
    return out


def test_crc32c_matches_the_standard_check_value() -> None:
    assert crc32c(b"123456789") == 0xE3069283


def test_an_op_msg_body_and_document_sequences_merge_into_one_command() -> None:
    docs = [{"_id": 1}, {"_id": 2, "x": "y"}]
    data = wire.encode_request(7, {"insert": "c", "$db": "d"}, sequences={"documents": docs})
    (request,) = decode_all(data)
    assert request.request_id == 7
    assert request.command == {"insert": "c", "$db": "d", "documents": docs}
    assert request.database == "d"
    assert request.sequences == ["documents"]


def test_messages_split_at_every_byte_and_back_to_back_are_reassembled() -> None:
    one = wire.encode_request(1, {"ping": 1, "$db": "admin"})
    two = wire.encode_request(2, {"hello": 1, "$db": "admin"}, checksum=True)
    requests = decode_all(one + two, chunk=1)
    assert [r.request_id for r in requests] == [1, 2]
    assert requests[1].command["hello"] == 1


def test_a_wrong_checksum_is_refused() -> None:
    data = bytearray(wire.encode_request(1, {"ping": 1, "$db": "admin"}, checksum=True))
    data[-1] ^= 0xFF
    with pytest.raises(wire.ProtocolError, match="checksum"):
        decode_all(bytes(data))


def test_flags_more_to_come_and_unknown_required_bits() -> None:
    (request,) = decode_all(
        wire.encode_request(1, {"ping": 1, "$db": "a"}, flags=wire.MORE_TO_COME)
    )
    assert request.more_to_come
    with pytest.raises(wire.ProtocolError, match="unknown required flag"):
        decode_all(wire.encode_request(1, {"ping": 1, "$db": "a"}, flags=1 << 5))


def test_an_oversized_length_is_refused_from_the_header_alone() -> None:
    decoder = wire.Decoder()
    header = struct.pack("<iiii", wire.MAX_MESSAGE_SIZE + 1, 1, 0, wire.OP_MSG)
    with pytest.raises(wire.ProtocolError, match="exceeds the limit"):
        decoder.feed(header[:4])  # nothing of the body has been read


@pytest.mark.parametrize(
    "mutate, reason",
    [
        (lambda m: struct.pack("<i", 8) + m[4:], "smaller than a message header"),
        (lambda m: m[:16] + b"\x00\x00\x00\x00" + b"\x07" + m[21:], "unknown section kind"),
        (lambda m: m[:21] + struct.pack("<i", 9999) + m[25:], "overruns the message"),
        (lambda m: m[:12] + struct.pack("<i", 1) + m[16:], "unsupported opCode"),
    ],
)
def test_malformed_messages_are_protocol_errors(mutate, reason: str) -> None:
    message = wire.encode_request(1, {"ping": 1, "$db": "admin"})
    with pytest.raises(wire.ProtocolError, match=reason):
        decode_all(mutate(message))


def test_a_body_that_is_not_bson_is_refused() -> None:
    body = b"\x00\x00\x00\x00" + b"\x00" + struct.pack("<i", 12) + b"\x10a\x00\x01\x00\x00"
    message = struct.pack("<iiii", 16 + len(body), 1, 0, wire.OP_MSG) + body
    with pytest.raises(wire.ProtocolError, match="BSON"):
        decode_all(message)


def test_a_legacy_op_query_handshake_and_its_op_reply() -> None:
    query = bson.encode({"isMaster": 1, "helloOk": True})
    body = struct.pack("<i", 0) + b"admin.$cmd\x00" + struct.pack("<ii", 0, -1) + query
    message = struct.pack("<iiii", 16 + len(body), 3, 0, wire.OP_QUERY) + body
    (request,) = decode_all(message)
    assert request.command == {"isMaster": 1, "helloOk": True}
    assert request.database == "admin"
    reply = wire.encode_reply(9, request.request_id, {"ok": 1.0})
    assert struct.unpack_from("<iiii", reply)[1:] == (9, 3, wire.OP_REPLY)
    assert wire.decode_reply(reply) == {"ok": 1.0}


def test_op_query_on_a_collection_is_refused() -> None:
    body = struct.pack("<i", 0) + b"db.users\x00" + struct.pack("<ii", 0, 1) + bson.encode({})
    message = struct.pack("<iiii", 16 + len(body), 3, 0, wire.OP_QUERY) + body
    with pytest.raises(wire.ProtocolError, match="only commands"):
        decode_all(message)
