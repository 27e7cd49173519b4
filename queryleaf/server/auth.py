"""SCRAM-SHA-256 authentication (RFC 5802 / RFC 7677), the mechanism drivers and mongosh use.

Users live in `users.json` in the data directory, holding only what SCRAM needs to verify a
proof (salt, iteration count, StoredKey, ServerKey), never a password. `queryleaf serve
--add-user NAME` adds one. With authentication on, every command but the handshake, ping,
buildInfo and the SASL exchange needs an authenticated connection (MongoDB's Unauthorized, 13).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any

from .errors import CommandError

MECHANISM = "SCRAM-SHA-256"
ITERATIONS = 15_000
_FAILED = "Authentication failed."
# Salts answered for names that are not users, stable per name while the server runs, so the
# first step of the exchange looks the same whether a user exists or not.
_DECOY_KEY = secrets.token_bytes(32)


def _prepare(password: str) -> bytes:
    try:
        from pymongo.saslprep import saslprep

        return saslprep(password).encode("utf-8")
    except ImportError:  # pragma: no cover - pymongo is a dependency
        return password.encode("utf-8")


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


class Users:
    """The users file of a data directory."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._users: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            self._users = json.loads(self.path.read_text()).get("users", {})

    def __len__(self) -> int:
        return len(self._users)

    def exists(self, name: str) -> bool:
        return name in self._users

    def add(self, name: str, password: str) -> None:
        if not name or not password:
            raise ValueError("a user needs a name and a non-empty password")
        salt = secrets.token_bytes(28)
        salted = hashlib.pbkdf2_hmac("sha256", _prepare(password), salt, ITERATIONS)
        client_key = _hmac(salted, b"Client Key")
        self._users[name] = {
            "salt": base64.b64encode(salt).decode(),
            "iterations": ITERATIONS,
            "stored_key": base64.b64encode(hashlib.sha256(client_key).digest()).decode(),
            "server_key": base64.b64encode(_hmac(salted, b"Server Key")).decode(),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"users": self._users}, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)

    def get(self, name: str) -> dict[str, Any] | None:
        return self._users.get(name)


def _payload(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8")
    if isinstance(value, str):
        return value
    raise CommandError(14, "SASL payload must be binary data")


def _fields(message: str) -> dict[str, str]:
    out = {}
    for part in message.split(","):
        key, sep, value = part.partition("=")
        if sep:
            out[key] = value
    return out


def sasl_start(call: Any) -> dict[str, Any]:
    users = call.engine.auth
    mechanism = call.command.get("mechanism")
    if users is None:
        raise CommandError(18, "authentication is not enabled on this server (no --auth)")
    if mechanism != MECHANISM:
        raise CommandError(
            334, f"Received authentication for mechanism {mechanism} which is not enabled"
        )
    message = _payload(call.command.get("payload"))
    header, sep, bare = message.partition(",,")  # gs2 header: "n,," (no channel binding)
    if not sep or header not in ("n", "y"):
        raise CommandError(18, _FAILED)
    fields = _fields(bare)
    name = fields.get("n", "").replace("=2C", ",").replace("=3D", "=")
    client_nonce = fields.get("r", "")
    if not client_nonce:
        raise CommandError(18, _FAILED)
    user = users.get(name) or _decoy(name)
    nonce = client_nonce + base64.b64encode(secrets.token_bytes(24)).decode()
    server_first = f"r={nonce},s={user['salt']},i={user['iterations']}"
    call.conn.conversation = {
        "user": name,
        "first": bare,
        "server_first": server_first,
        "nonce": nonce,
        "gs2": header + ",,",
        "done": False,
        "skip": bool((call.command.get("options") or {}).get("skipEmptyExchange")),
    }
    return {"conversationId": 1, "done": False, "payload": server_first.encode()}


def _decoy(name: str) -> dict[str, Any]:
    """What saslStart answers for a name that is no user (its proof can never match)."""
    salt = _hmac(_DECOY_KEY, name.encode("utf-8"))[:28]
    return {"salt": base64.b64encode(salt).decode(), "iterations": ITERATIONS}


def sasl_continue(call: Any) -> dict[str, Any]:
    state = call.conn.conversation
    users = call.engine.auth
    if state is None or users is None:
        raise CommandError(17, "No SASL session state found")
    if state["done"]:  # the empty exchange that closes a conversation
        call.conn.conversation = None
        return {"conversationId": 1, "done": True, "payload": b""}
    message = _payload(call.command.get("payload"))
    fields = _fields(message)
    without_proof = message.rpartition(",p=")[0]
    expected_binding = base64.b64encode(state["gs2"].encode()).decode()
    user = users.get(state["user"])
    if (
        user is None
        or fields.get("r") != state["nonce"]
        or fields.get("c") != expected_binding
        or "p" not in fields
    ):
        call.conn.conversation = None
        raise CommandError(18, _FAILED)
    auth_message = f"{state['first']},{state['server_first']},{without_proof}".encode()
    stored_key = base64.b64decode(user["stored_key"])
    signature = _hmac(stored_key, auth_message)
    try:
        proof = base64.b64decode(fields["p"], validate=True)
    except ValueError:
        proof = b""
    client_key = bytes(a ^ b for a, b in zip(proof, signature, strict=False))
    if len(proof) != len(signature) or not hmac.compare_digest(
        hashlib.sha256(client_key).digest(), stored_key
    ):
        call.conn.conversation = None
        raise CommandError(18, _FAILED)
    server_signature = _hmac(base64.b64decode(user["server_key"]), auth_message)
    call.conn.user = state["user"]
    payload = f"v={base64.b64encode(server_signature).decode()}".encode()
    if state["skip"]:
        call.conn.conversation = None
        return {"conversationId": 1, "done": True, "payload": payload}
    state["done"] = True
    return {"conversationId": 1, "done": False, "payload": payload}
