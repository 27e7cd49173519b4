"""Connection strings as shown to users: passwords never printed."""

from __future__ import annotations


def redact_uri(uri: str) -> str:
    """The URI with any password replaced, for banners and error messages."""
    scheme, sep, rest = uri.partition("://")
    if not sep or "@" not in rest:
        return uri
    credentials, at, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***{at}{host}"
