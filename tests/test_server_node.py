"""Independent clients against `queryleaf serve`: the node `mongodb` driver and a scripted
mongosh session insert, query, aggregate and watch with resume. Installed by
`make node-clients` (clients/node); skipped without them, except under CI=true."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.server_fixtures import running

CLIENTS = Path(__file__).resolve().parents[1] / "clients" / "node"
NODE = shutil.which("node")


def require(path: Path, what: str) -> None:
    if NODE is None or not path.exists():
        message = f"{what} is not installed: run `make node-clients`"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def run(service, *command: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MONGOSH_DISABLE_TELEMETRY="1", HOME=str(service.data))
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.timeout(180)
def test_the_node_driver(tmp_path) -> None:
    require(CLIENTS / "node_modules" / "mongodb", "the node mongodb driver")
    with running(tmp_path / "data") as service:
        uri = f"mongodb://127.0.0.1:{service.port}/"  # replica-set discovery, no directConnection
        done = run(service, NODE or "node", str(CLIENTS / "smoke.mjs"), uri)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "node driver: ok" in done.stdout


@pytest.mark.timeout(180)
def test_a_scripted_mongosh_session(tmp_path) -> None:
    mongosh = CLIENTS / "node_modules" / ".bin" / "mongosh"
    require(mongosh, "mongosh")
    with running(tmp_path / "data") as service:
        uri = f"mongodb://127.0.0.1:{service.port}/?directConnection=true"
        done = run(
            service, str(mongosh), uri, "--quiet", "--norc", "--file", str(CLIENTS / "session.js")
        )
    assert done.returncode == 0, done.stderr + done.stdout
    assert "mongosh: ok" in done.stdout


@pytest.mark.timeout(180)
def test_the_node_driver_logs_in_with_scram_sha_256(tmp_path) -> None:
    from queryleaf.server.auth import Users

    require(CLIENTS / "node_modules" / "mongodb", "the node mongodb driver")
    data = tmp_path / "data"
    Users(data / "users.json").add("ada", "correct horse")
    with running(data, auth=True) as service:
        uri = f"mongodb://ada:correct%20horse@127.0.0.1:{service.port}/?directConnection=true"
        done = run(service, NODE or "node", str(CLIENTS / "auth.mjs"), uri)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "node auth: ok" in done.stdout
