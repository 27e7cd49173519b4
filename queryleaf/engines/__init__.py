"""Backends. The rest of queryleaf sees only a pymongo-compatible Database."""

from __future__ import annotations

from typing import Any

from queryleaf.engines.uris import redact_uri
from queryleaf.errors import BackendError

__all__ = ["open_database", "redact_uri"]


def open_database(
    uri: str | None, database: str, connect_timeout: float | None = None
) -> tuple[Any, Any, str]:
    """(client, database, backend name) for `uri`; no URI gives a fresh embedded engine.
    `connect_timeout` bounds how long a MongoDB server is looked for (seconds)."""
    if uri is None or uri in {"", "embedded", "embedded://"}:
        from queryleaf.engines.embedded import new_client

        client = new_client()
        return client, client[database], "embedded"
    if uri.startswith(("mongodb://", "mongodb+srv://")):
        from queryleaf.engines.mongodb import new_client as new_mongo_client

        client = new_mongo_client(uri, connect_timeout)
        return client, client[database], "mongodb"
    raise BackendError(
        f"unsupported URI {redact_uri(uri)!r}",
        hint="use mongodb://host/ or mongodb+srv://host/, or no URI for the embedded engine",
        code="QL601",
    )
