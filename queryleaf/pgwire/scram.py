"""SCRAM-SHA-256 (RFC 5802 / RFC 7677) as PostgreSQL uses it, server side, without
channel binding (no -PLUS). Pure functions and one small exchange object; no I/O."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

MECHANISM = "SCRAM-SHA-256"
ITERATIONS = 4096


class AuthFailed(Exception):
    """The client's proof or messages are wrong (SQLSTATE 28P01 / 08P01)."""


@dataclass(frozen=True)
class Verifier:
    """What a server stores instead of a password."""

    salt: bytes
    iterations: int
    stored_key: bytes
    server_key: bytes

    @classmethod
    def from_password(
        cls, password: str, salt: bytes | None = None, iterations: int = ITERATIONS
    ) -> Verifier:
        salt = salt if salt is not None else secrets.token_bytes(16)
        salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
        client_key = _hmac(salted, b"Client Key")
        return cls(
            salt=salt,
            iterations=iterations,
            stored_key=hashlib.sha256(client_key).digest(),
            server_key=_hmac(salted, b"Server Key"),
        )

    @classmethod
    def mock(cls, user: str, secret: bytes) -> Verifier:
        """A verifier for a user that does not exist, the same at every attempt (a salt that
        changed would tell the user apart) and as cheap as a stored one; nothing matches it."""
        derived = _hmac(secret, b"mock\0" + user.encode("utf-8"))
        return cls(
            salt=derived[:16],
            iterations=ITERATIONS,
            stored_key=_hmac(derived, b"Stored Key"),
            server_key=_hmac(derived, b"Server Key"),
        )


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def _attributes(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for part in text.split(","):
        if len(part) < 2 or part[1] != "=":
            raise AuthFailed(f"malformed SCRAM attribute {part!r}")
        values[part[0]] = part[2:]
    return values


class ScramExchange:
    """One server-side exchange: `first(client_first)` gives server-first, `final(client_final)`
    checks the proof and gives server-final."""

    def __init__(self, verifier: Verifier, nonce: str | None = None) -> None:
        self.verifier = verifier
        self.server_nonce = nonce or base64.b64encode(secrets.token_bytes(18)).decode()
        self.client_first_bare = ""
        self.server_first = ""
        self.nonce = ""
        self.gs2_header = ""

    def first(self, client_first: str) -> str:
        parts = client_first.split(",", 2)
        if len(parts) != 3 or parts[0] not in ("n", "y") or parts[0].startswith("p"):
            raise AuthFailed("channel binding is not supported (no SCRAM-SHA-256-PLUS)")
        self.gs2_header = f"{parts[0]},{parts[1]},"
        self.client_first_bare = parts[2]
        attrs = _attributes(self.client_first_bare)
        client_nonce = attrs.get("r", "")
        if not client_nonce:
            raise AuthFailed("SCRAM client-first message without a nonce")
        self.nonce = client_nonce + self.server_nonce
        salt = base64.b64encode(self.verifier.salt).decode()
        self.server_first = f"r={self.nonce},s={salt},i={self.verifier.iterations}"
        return self.server_first

    def final(self, client_final: str) -> str:
        without_proof, _, proof_part = client_final.rpartition(",p=")
        if not without_proof:
            raise AuthFailed("SCRAM client-final message without a proof")
        attrs = _attributes(without_proof)
        expected_binding = base64.b64encode(self.gs2_header.encode()).decode()
        if attrs.get("c") != expected_binding:
            raise AuthFailed("SCRAM channel-binding data does not match")
        if attrs.get("r") != self.nonce:
            raise AuthFailed("SCRAM nonce does not match")
        try:
            proof = base64.b64decode(proof_part, validate=True)
        except ValueError:
            raise AuthFailed("SCRAM proof is not base64") from None
        auth_message = f"{self.client_first_bare},{self.server_first},{without_proof}".encode()
        signature = _hmac(self.verifier.stored_key, auth_message)
        if len(proof) != len(signature):
            raise AuthFailed("password authentication failed")
        client_key = bytes(a ^ b for a, b in zip(proof, signature, strict=True))
        if not hmac.compare_digest(hashlib.sha256(client_key).digest(), self.verifier.stored_key):
            raise AuthFailed("password authentication failed")
        server_signature = _hmac(self.verifier.server_key, auth_message)
        return "v=" + base64.b64encode(server_signature).decode()


def client_proof(
    password: str, salt: bytes, iterations: int, auth_message: bytes
) -> tuple[bytes, bytes]:
    """(ClientProof, ServerSignature) a client computes; used by tests and the benchmark."""
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    client_key = _hmac(salted, b"Client Key")
    stored = hashlib.sha256(client_key).digest()
    signature = _hmac(stored, auth_message)
    proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
    return proof, _hmac(_hmac(salted, b"Server Key"), auth_message)
