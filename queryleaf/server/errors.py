"""Command errors with MongoDB's codes and code names, and the mapping of engine exceptions."""

from __future__ import annotations

from typing import Any

CODE_NAMES = {
    1: "InternalError",
    2: "BadValue",
    8: "UnknownError",
    9: "FailedToParse",
    11: "UserNotFound",
    13: "Unauthorized",
    14: "TypeMismatch",
    17: "ProtocolError",
    18: "AuthenticationFailed",
    20: "IllegalOperation",
    26: "NamespaceNotFound",
    27: "IndexNotFound",
    40: "ConflictingUpdateOperators",
    43: "CursorNotFound",
    48: "NamespaceExists",
    50: "MaxTimeMSExpired",
    52: "DollarPrefixedFieldName",
    59: "CommandNotFound",
    66: "ImmutableField",
    67: "CannotCreateIndex",
    68: "IndexAlreadyExists",
    72: "InvalidOptions",
    73: "InvalidNamespace",
    85: "IndexOptionsConflict",
    86: "IndexKeySpecsConflict",
    96: "OperationFailed",
    115: "CommandNotSupported",
    121: "DocumentValidationFailure",
    166: "CommandNotSupportedOnView",
    225: "TransactionTooOld",
    238: "NotImplemented",
    251: "NoSuchTransaction",
    260: "InvalidResumeToken",
    263: "OperationNotSupportedInTransaction",
    280: "ChangeStreamFatalError",
    286: "ChangeStreamHistoryLost",
    11000: "DuplicateKey",
}


class CommandError(Exception):
    """A command failed: the reply is {ok: 0, errmsg, code, codeName}."""

    def __init__(self, code: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra

    def reply(self) -> dict[str, Any]:
        return error_reply(self.code, self.message, **self.extra)


def error_reply(code: int, message: str, **extra: Any) -> dict[str, Any]:
    reply: dict[str, Any] = {"ok": 0.0, "errmsg": message, "code": code}
    reply["codeName"] = CODE_NAMES.get(code, "UnknownError")
    reply.update(extra)
    return reply


def engine_error(error: BaseException) -> tuple[int, str, dict[str, Any]] | None:
    """(code, message, details) of an exception the engine raises for bad input, or None for a
    bug. mongomock-ng raises its own OperationFailure family (with code and details) and plain
    TypeError/ValueError for arguments pymongo would have refused before sending them."""
    code = getattr(error, "code", None)
    if isinstance(code, int):
        details = getattr(error, "details", None) or {}
        message = details.get("errmsg") if isinstance(details, dict) else None
        text = message or _message(error)
        return code, text, details if isinstance(details, dict) else {}
    from pymongo import errors as driver

    if isinstance(error, driver.PyMongoError):  # mongomock-ng raises the driver's, often codeless
        text = _message(error)
        if isinstance(error, driver.InvalidName):
            return 73, text, {}
        if isinstance(error, driver.CollectionInvalid):
            return 48, text, {}
        if "immutable" in text:
            return 66, text, {}
        return 2, text, {}
    if isinstance(error, NotImplementedError):
        return 238, f"not implemented by queryleaf serve: {_message(error)}", {}
    if isinstance(error, TypeError):
        return 14, _message(error), {}
    if isinstance(error, ValueError | KeyError):
        return 2, _message(error), {}
    return None


def _message(error: BaseException) -> str:
    text = str(error.args[0]) if getattr(error, "args", None) else str(error)
    return text or type(error).__name__
