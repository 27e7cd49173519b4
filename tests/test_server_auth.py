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
