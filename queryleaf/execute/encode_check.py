"""Every document, update and value of a command is encoded as BSON before anything is sent.

A value MongoDB cannot store (an integer beyond 64 bits, a string with a lone surrogate, a
NUL in a field name, a document over 16 MB) would otherwise fail in the driver half-way
through a write, after earlier documents were sent, or, on the embedded engine, not at all.
Checking the whole command first keeps a failing statement free of partial effects (QL308)."""

from __future__ import annotations

from typing import Any

import bson
from bson.errors import InvalidDocument

from queryleaf.errors import SemanticError
from queryleaf.plan.server_javascript import refuse_server_javascript

# MongoDB's largest document (BSONObjMaxUserSize) and what a command may carry around it.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
ENCODE_ERRORS = (InvalidDocument, OverflowError, UnicodeEncodeError, TypeError, ValueError)


def check_command(kind: str, command: dict[str, Any]) -> None:
    """Raise QL308 if any part of `command` cannot be sent to MongoDB, QL318 if it would run
    JavaScript on the server (a last check: raw MQL is refused where it enters)."""
    if kind == "update":  # a SET value of a classic update is data; a pipeline is not
        for statement in command.get("updates") or []:
            refuse_server_javascript(statement.get("q"), "the update command")
            if isinstance(statement.get("u"), list):
                refuse_server_javascript(statement.get("u"), "the update command")
    elif kind != "insert":  # inserted documents are data, whatever their keys
        refuse_server_javascript(command, f"the {kind} command")
    if kind == "insert":
        for number, document in enumerate(command.get("documents") or [], start=1):
            _encode(document, f"row {number} of the INSERT", limit=MAX_DOCUMENT_BYTES)
        return
    if kind == "update":
        for statement in command.get("updates") or []:
            _encode({"q": statement.get("q") or {}}, "the UPDATE's WHERE")
            update = statement.get("u")
            wrapped = {"u": update} if isinstance(update, dict) else {"u": {"$": update}}
            _encode(wrapped, "the UPDATE's SET list")
        return
    _encode(command, f"the {kind} command")


def _encode(document: Any, what: str, limit: int | None = None) -> None:
    try:
        data = bson.encode(document)
    except ENCODE_ERRORS as error:
        raise SemanticError(
            f"{what} holds a value MongoDB cannot store: {reason(error)}",
            hint="integers must fit 64 bits (use DECIMAL or a string), strings must be "
            "valid Unicode, field names must not contain NUL",
            code="QL308",
        ) from None
    if limit is not None and len(data) > limit:
        raise SemanticError(
            f"{what} is {len(data):,} bytes, over MongoDB's document limit of {limit:,}",
            hint="store large values elsewhere (GridFS) or split the document",
            code="QL308",
        )


def reason(error: Exception) -> str:
    if isinstance(error, OverflowError):
        return "an integer beyond 64 bits"
    if isinstance(error, UnicodeEncodeError):
        return "a string that is not valid Unicode (a lone surrogate)"
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:200]


def is_encode_error(error: BaseException) -> bool:
    """Whether `error` (raised while a statement ran) is the BSON encoder refusing a value,
    rather than a bug elsewhere that happens to raise the same class."""
    if isinstance(error, InvalidDocument | UnicodeEncodeError):
        return True
    return isinstance(error, OverflowError) and "8-byte ints" in str(error)
