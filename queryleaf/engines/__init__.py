"""Backends. The rest of queryleaf sees only a pymongo-compatible Database."""

from __future__ import annotations

from typing import Any

from queryleaf.errors import BackendError


def open_database(uri: str | None, database: str) -> tuple[Any, Any, str]:
    """(client, database, backend name) for `uri`; no URI gives a fresh embedded engine."""
    if uri is None or uri in {"", "embedded", "embedded://"}:
        from queryleaf.engines.embedded import new_client

        client = new_client()
        return client, client[database], "embedded"
    if uri.startswith(("mongodb://", "mongodb+srv://")):
        from queryleaf.engines.mongodb import new_client as new_mongo_client

        client = new_mongo_client(uri)
        return client, client[database], "mongodb"
    raise BackendError(
        f"unsupported URI {redact_uri(uri)!r}",
        hint="use mongodb://host/ or mongodb+srv://host/, or no URI for the embedded engine",
        code="QL601",
    )


def redact_uri(uri: str) -> str:
    """The URI with any password replaced, for banners and error messages."""
    scheme, sep, rest = uri.partition("://")
    if not sep or "@" not in rest:
        return uri
    credentials, at, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***{at}{host}"
