"""Real MongoDB through pymongo: the client, and what a user reads when the server cannot be
reached."""

from __future__ import annotations

import re
from typing import Any

from queryleaf.errors import BackendError

# How long to look for a server before saying it cannot be reached (the whole command,
# start-up included, then answers within about 3 s): long enough for a server
# across a network, short enough that a typo in the URI is not a wait.
DEFAULT_CONNECT_TIMEOUT = 2.0

_SERVER = re.compile(r"([^\s,()]+:\d+): (.+?) \(configured timeouts")
_ERRNO = re.compile(r"^\[Errno -?\d+\] ")


def new_client(uri: str, connect_timeout: float | None = None) -> Any:
    """A pymongo client for `uri`; servers are looked for `connect_timeout` seconds (default
    DEFAULT_CONNECT_TIMEOUT) unless the URI sets serverSelectionTimeoutMS itself."""
    import pymongo
    from pymongo.errors import ConfigurationError, InvalidURI

    seconds = DEFAULT_CONNECT_TIMEOUT if connect_timeout is None else connect_timeout
    options: dict[str, Any] = {}
    lowered = uri.lower()
    if "serverselectiontimeoutms" not in lowered:
        options["serverSelectionTimeoutMS"] = max(1, int(seconds * 1000))
    if "connecttimeoutms" not in lowered:
        options["connectTimeoutMS"] = max(1, int(seconds * 1000))
    try:
        return pymongo.MongoClient(uri, tz_aware=True, **options)
    except (InvalidURI, ConfigurationError, ValueError) as error:
        from queryleaf.engines.uris import redact_uri

        raise BackendError(
            f"cannot use URI {redact_uri(uri)!r}: {error}",
            hint="check the host, the credentials and the options in the URI",
            code="QL602",
        ) from None


def unreachable_error(error: BaseException) -> BackendError | None:
    """QL603 for a driver error that means no server could be reached (none answered within
    the timeout, or the connection dropped), None for any other error. The message names
    the hosts and why each failed; it has no position in the SQL, which is not at fault."""
    from pymongo.errors import ConnectionFailure

    if not isinstance(error, ConnectionFailure):
        return None
    text = str(error)
    found = _SERVER.findall(text.split(", Timeout:")[0])
    if found:
        where = "; ".join(f"{host}: {_ERRNO.sub('', reason)}" for host, reason in found)
    else:
        where = text.split(", Timeout:")[0].split(" (configured timeouts")[0].strip()
        where = f"the server: {where}" if where else "the server"
    return BackendError(
        f"cannot reach MongoDB at {where}",
        hint="check the host and port in the URI (--uri), that the server runs and accepts "
        "connections from here, and ?replicaSet=NAME for a replica set; "
        "--connect-timeout SECONDS waits longer",
        code="QL603",
        positional=False,
    )
