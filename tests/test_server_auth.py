"""SCRAM-SHA-256 users, and the rule that only loopback may go without authentication."""

from __future__ import annotations

import json

import pytest
from pymongo.errors import OperationFailure

from queryleaf.server import command
from queryleaf.server.auth import Users
from tests.server_fixtures import client, running


def test_users_file_keeps_no_password(tmp_path) -> None:
    users = Users(tmp_path / "users.json")
    users.add("ada", "s3cret-pass")
    stored = (tmp_path / "users.json").read_text()
    assert "s3cret-pass" not in stored
    assert set(json.loads(stored)["users"]["ada"]) == {
        "salt",
        "iterations",
        "stored_key",
        "server_key",
    }
    assert (tmp_path / "users.json").stat().st_mode & 0o077 == 0


def test_scram_sha_256_login_and_refusals(tmp_path, monkeypatch) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv(command.PASSWORD_VARIABLE, "correct horse")
    assert command.main(["--data", str(data), "--add-user", "ada"]) == 0
    with running(data, auth=True) as service:
        with client(service, username="ada", password="correct horse") as good:
            good.db.c.insert_one({"_id": 1})
            assert good.db.c.count_documents({}) == 1
        with client(service) as anonymous:
            assert anonymous.admin.command("ping")["ok"] == 1.0  # allowed before login
            with pytest.raises(OperationFailure) as raised:
                anonymous.db.c.find_one()
            assert raised.value.code == 13
        with client(service, username="ada", password="wrong") as bad:
            with pytest.raises(OperationFailure) as raised:
                bad.db.c.find_one()
            assert raised.value.code == 18
        with client(service, username="nobody", password="x") as unknown:
            with pytest.raises(OperationFailure) as raised:
                unknown.db.c.find_one()
            assert raised.value.code == 18


def test_a_non_loopback_bind_needs_auth(capsys) -> None:
    from queryleaf.shell import cli

    assert command.main(["--memory", "--bind", "0.0.0.0", "--port", "0"]) == 2
    assert cli.main(["serve", "--memory", "--bind", "192.168.1.9", "--port", "0"]) == 2
    assert "needs --auth" in capsys.readouterr().err


def test_auth_without_users_is_a_clear_error(tmp_path, capsys) -> None:
    assert command.main(["--data", str(tmp_path), "--auth", "--port", "0"]) == 1
    assert "no users" in capsys.readouterr().err


def test_the_sasl_exchange_does_not_tell_whether_a_user_exists(tmp_path, monkeypatch) -> None:
    import base64
    import socket

    from bson import Binary

    from queryleaf.server import wire

    data = tmp_path / "data"
    monkeypatch.setenv(command.PASSWORD_VARIABLE, "correct horse")
    assert command.main(["--data", str(data), "--add-user", "ada"]) == 0

    def exchange(sock: socket.socket, request_id: int, document: dict) -> dict:
        sock.sendall(wire.encode_request(request_id, {**document, "$db": "admin"}))
        decoder = wire.Decoder()
        while True:
            decoder.feed(sock.recv(65536))
            reply = decoder.next()
            if reply is not None:
                return reply.command

    def start(sock: socket.socket, name: str) -> dict:
        payload = f"n,,n={name},r=clientnonce".encode()
        return exchange(
            sock, 1, {"saslStart": 1, "mechanism": "SCRAM-SHA-256", "payload": Binary(payload)}
        )

    with (
        running(data, auth=True) as service,
        socket.create_connection(("127.0.0.1", service.port), timeout=10) as sock,
    ):
        known = start(sock, "ada")
        unknown = start(sock, "nobody")
        again = start(sock, "nobody")
        nonce = unknown["payload"].decode().split(",")[0]
        final = f"c=biws,{nonce},p={base64.b64encode(b'x' * 32).decode()}"
        refused = exchange(
            sock, 2, {"saslContinue": 1, "conversationId": 1, "payload": Binary(final.encode())}
        )
    assert known["ok"] == unknown["ok"] == 1.0
    shape = [part[:2] for part in known["payload"].decode().split(",")]
    assert [part[:2] for part in unknown["payload"].decode().split(",")] == shape
    assert unknown["payload"].decode().split(",")[2] == known["payload"].decode().split(",")[2]
    assert unknown["payload"].decode().split(",")[1] == again["payload"].decode().split(",")[1]
    assert refused["ok"] == 0.0 and refused["code"] == 18
