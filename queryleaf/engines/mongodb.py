"""Real MongoDB through pymongo."""

from __future__ import annotations

from typing import Any

from queryleaf.errors import BackendError


def new_client(uri: str) -> Any:
    import pymongo
    from pymongo.errors import ConfigurationError, InvalidURI

    try:
        return pymongo.MongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=10_000)
    except (InvalidURI, ConfigurationError, ValueError) as error:
        from queryleaf.engines.uris import redact_uri

        raise BackendError(
            f"cannot use URI {redact_uri(uri)!r}: {error}",
            hint="check the host, the credentials and the options in the URI",
            code="QL602",
        ) from None
