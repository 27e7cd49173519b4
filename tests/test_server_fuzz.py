"""Protocol fuzz: truncated, oversized and malformed messages close only their connection,
with a logged reason; the server keeps serving everyone else."""

from __future__ import annotations

import contextlib
import logging
import random
import socket
import struct
from collections.abc import Iterator

import pytest

from queryleaf.server import wire
from queryleaf.server.service import Service
from tests.server_fixtures import client, running


@pytest.fixture(scope="module")
def service() -> Iterator[Service]:
    with running(None) as served:
        yield served


def closed_by_server(sock: socket.socket, timeout: float = 5.0) -> bool:
    """True once the server closed the connection (EOF or reset) without replying."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def still_serves(service: Service) -> None:
    with client(service) as connection:
        assert connection.admin.command("ping")["ok"] == 1.0


def test_an_oversized_message_is_refused_before_its_body(service, caplog) -> None:
    with (
        caplog.at_level(logging.WARNING, "queryleaf.server"),
        socket.create_connection(("127.0.0.1", service.port)) as sock,
    ):
        sock.sendall(struct.pack("<iiii", 48_000_001, 1, 0, wire.OP_MSG))
        assert closed_by_server(sock)  # no 48 MB were sent or awaited
    assert any("exceeds the limit" in r.getMessage() for r in caplog.records)
    still_serves(service)


@pytest.mark.parametrize(
    "payload, reason",
    [
        (struct.pack("<iiii", 4, 1, 0, wire.OP_MSG), "smaller than a message header"),
        (struct.pack("<iiii", 21, 1, 0, 9999) + b"\x00" * 5, "unsupported opCode"),
        (struct.pack("<iiii", 21, 1, 0, wire.OP_COMPRESSED) + b"\x00" * 5, "OP_COMPRESSED"),
        (struct.pack("<iiiiI", 30, 1, 0, wire.OP_MSG, 0) + b"\x00" + b"\xff" * 9, "BSON"),
        (struct.pack("<iiiiI", 26, 1, 0, wire.OP_MSG, 0) + b"\x05" + b"\x00" * 5, "section kind"),
    ],
)
def test_malformed_messages_close_their_connection(service, caplog, payload, reason) -> None:
    with (
        caplog.at_level(logging.WARNING, "queryleaf.server"),
        socket.create_connection(("127.0.0.1", service.port)) as sock,
    ):
        sock.sendall(payload)
        assert closed_by_server(sock)
    assert any(reason in r.getMessage() for r in caplog.records)
    still_serves(service)


def test_a_truncated_message_then_a_hang_up_is_harmless(service) -> None:
    message = wire.encode_request(1, {"ping": 1, "$db": "admin"})
    with socket.create_connection(("127.0.0.1", service.port)) as sock:
        sock.sendall(message[:-3])
    still_serves(service)


def test_random_bytes_never_take_the_server_down(service) -> None:
    rng = random.Random(1414)
    good = wire.encode_request(1, {"find": "c", "filter": {"a": {"$gt": 1}}, "$db": "x"})
    for _ in range(60):
        data = bytearray(good)
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(4, len(data))] = rng.randrange(256)  # the length stays sane
        with socket.create_connection(("127.0.0.1", service.port)) as sock:
            sock.sendall(bytes(data))
            sock.settimeout(5)
            with contextlib.suppress(ConnectionResetError, TimeoutError):
                sock.recv(65536)  # a reply (an error document) or a close
    still_serves(service)


def test_commands_in_a_document_sequence_and_with_a_checksum_are_answered(service) -> None:
    docs = [{"_id": i} for i in range(3)]
    with socket.create_connection(("127.0.0.1", service.port), timeout=5) as sock:
        request = wire.encode_request(
            1, {"insert": "seq", "$db": "fuzz"}, sequences={"documents": docs}, checksum=True
        )
        sock.sendall(request)
        reply = _read(sock)
    assert reply["n"] == 3
    with socket.create_connection(("127.0.0.1", service.port), timeout=5) as sock:
        sock.sendall(wire.encode_request(2, {"noSuchThing": 1, "$db": "fuzz"}))
        reply = _read(sock)
    assert (reply["ok"], reply["code"], reply["codeName"]) == (0.0, 59, "CommandNotFound")


def _read(sock: socket.socket) -> dict:
    data = b""
    while len(data) < 4 or len(data) < struct.unpack_from("<i", data)[0]:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        data += chunk
    return wire.decode_reply(data)
