"""PEP 249 (DB-API 2.0) over queryleaf.Connection, for tools that expect it (pandas.read_sql,
notebooks, small ORMs).

>>> from queryleaf import dbapi
>>> conn = dbapi.connect()                      # the embedded engine
>>> cur = conn.cursor()
>>> _ = cur.executemany("INSERT INTO users (name, age) VALUES (?, ?)", [("ada", 36), ("alan", 41)])
>>> cur.rowcount
2
>>> _ = cur.execute("SELECT name, age FROM users WHERE age > :min ORDER BY age", {"min": 30})
>>> cur.fetchall()
[('ada', 36), ('alan', 41)]
>>> [d[0] for d in cur.description], cur.description[1][1] == dbapi.NUMBER
(['name', 'age'], True)
>>> conn.close()

Parameters are `?` (qmark, a sequence) or `:name` (named, a mapping). Every statement is
applied when it runs (MongoDB writes outside a transaction): `commit()` has nothing to do, and
`rollback()` raises NotSupportedError when writes happened since the last commit, rather than
pretending to undo them."""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from bson import Decimal128, ObjectId

import queryleaf
from queryleaf import errors as ql
from queryleaf.compile import write_kind

apilevel = "2.0"
threadsafety = 1  # threads may share the module, not connections
paramstyle = "qmark"  # ":name" (named) works too


class Warning(Exception):
    pass


class Error(Exception):
    """Base of the DB-API errors; `code` is queryleaf's error code (docs/errors.md)."""

    code = "QL000"


class InterfaceError(Error):
    pass


class DatabaseError(Error):
    pass


class DataError(DatabaseError):
    pass


class OperationalError(DatabaseError):
    pass


class IntegrityError(DatabaseError):
    pass


class InternalError(DatabaseError):
    pass


class ProgrammingError(DatabaseError):
    pass


class NotSupportedError(DatabaseError):
    pass


def _translate(error: ql.QueryLeafError) -> Error:
    """Our error classes to PEP 249's; the message and code are kept."""
    code = error.code
    if isinstance(error, ql.UnsupportedError):
        kind: type[Error] = NotSupportedError
    elif code == "QL306":
        kind = DataError
    elif isinstance(error, ql.ParseError | ql.SemanticError | ql.ParameterError):
        kind = ProgrammingError
    elif isinstance(error, ql.BackendError):
        kind = OperationalError
    elif isinstance(error, ql.ExecutionError):
        duplicate = "E11000" in error.message or "duplicate key" in error.message
        kind = IntegrityError if duplicate else DatabaseError
    else:
        kind = OperationalError if code == "QL701" else DatabaseError
    translated = kind(str(error))
    translated.code = code
    return translated


# --- type objects ----------------------------------------------------------------------------


class _TypeObject:
    def __init__(self, *codes: str) -> None:
        self.codes = frozenset(codes)

    def __eq__(self, other: object) -> bool:
        return other in self.codes if isinstance(other, str) else NotImplemented

    def __hash__(self) -> int:
        return hash(self.codes)


STRING = _TypeObject("string")
BINARY = _TypeObject("binary")
NUMBER = _TypeObject("int", "double", "decimal", "bool")
DATETIME = _TypeObject("date")
ROWID = _TypeObject("objectId")

Date = dt.date
Time = dt.time
Timestamp = dt.datetime
Binary = bytes


def DateFromTicks(ticks: float) -> dt.date:
    return dt.date.fromtimestamp(ticks)


def TimeFromTicks(ticks: float) -> dt.time:
    return dt.datetime.fromtimestamp(ticks).time()


def TimestampFromTicks(ticks: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ticks)


def type_code(values: Sequence[Any]) -> str | None:
    """The BSON type name of a column (first non-NULL value); None when all are NULL."""
    for value in values:
        if value is None:
            continue
        if isinstance(value, bool):
            return "bool"
        if isinstance(value, int):
            return "int"
        if isinstance(value, float):
            return "double"
        if isinstance(value, Decimal128 | decimal.Decimal):
            return "decimal"
        if isinstance(value, dt.datetime | dt.date):
            return "date"
        if isinstance(value, ObjectId):
            return "objectId"
        if isinstance(value, bytes):
            return "binary"
        if isinstance(value, dict):
            return "object"
        if isinstance(value, list):
            return "array"
        return "string"
    return None


def _writes(result: queryleaf.Result) -> bool:
    """The statement changed data (DROP, CREATE, TRUNCATE, INSERT ... SELECT count too): the
    read-only rule's verdict (queryleaf.compile.write_kind) on its first keyword and plan."""
    if result.kind in ("insert", "update", "delete"):
        return True
    keyword = re.match(r"\s*([A-Za-z_]*)", result.statement or "")
    first = keyword.group(1).upper() if keyword else ""
    return write_kind(first, result.plan) is not None


# --- connection and cursor -------------------------------------------------------------------


def connect(
    uri: str | None = None,
    database: str = "queryleaf",
    *,
    connection: queryleaf.Connection | None = None,
    dialect: str = "mysql",
) -> Connection:
    """A DB-API connection to MongoDB at `uri` (the embedded engine when None), or over an
    existing queryleaf Connection."""
    try:
        inner = connection or queryleaf.connect(uri, database, dialect=dialect)
    except ql.QueryLeafError as error:
        raise _translate(error) from error
    return Connection(inner, owns=connection is None)


class Connection:
    Error, Warning, InterfaceError, DatabaseError = Error, Warning, InterfaceError, DatabaseError
    DataError, OperationalError, IntegrityError = DataError, OperationalError, IntegrityError
    InternalError, ProgrammingError, NotSupportedError = (
        InternalError,
        ProgrammingError,
        NotSupportedError,
    )

    def __init__(self, inner: queryleaf.Connection, owns: bool = True) -> None:
        self.inner: queryleaf.Connection | None = inner
        self._owns = owns
        self.writes_since_commit = 0

    def _check(self) -> queryleaf.Connection:
        if self.inner is None:
            raise InterfaceError("the connection is closed")
        return self.inner

    def cursor(self) -> Cursor:
        self._check()
        return Cursor(self)

    def commit(self) -> None:
        self._check()
        self.writes_since_commit = 0

    def rollback(self) -> None:
        self._check()
        if self.writes_since_commit:
            count, self.writes_since_commit = self.writes_since_commit, 0
            raise NotSupportedError(
                f"rollback cannot undo {count} write(s): queryleaf applies each statement "
                "when it runs (MongoDB writes outside a transaction)"
            )

    def close(self) -> None:
        if self.inner is not None and self._owns:
            self.inner.close()
        self.inner = None

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Cursor:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.arraysize = 1
        self.description: list[tuple[Any, ...]] | None = None
        self.rowcount = -1
        self.lastrowid = None
        self._rows: list[tuple[Any, ...]] = []
        self._position = 0
        self._closed = False

    def _conn(self) -> queryleaf.Connection:
        if self._closed:
            raise InterfaceError("the cursor is closed")
        return self.connection._check()

    def execute(
        self, operation: str, parameters: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> Cursor:
        conn = self._conn()
        params = (
            None
            if parameters is None
            else (dict(parameters) if isinstance(parameters, Mapping) else list(parameters))
        )
        try:
            result = conn.run_sql(operation, params)
        except ql.QueryLeafError as error:
            raise _translate(error) from error
        self._load(result)
        return self

    def _load(self, result: queryleaf.Result) -> None:
        self._position = 0
        if _writes(result):
            self.connection.writes_since_commit += 1
        if result.is_query or (result.columns and result.rows):
            labels = result.columns
            self._rows = [tuple(row.get(label) for label in labels) for row in result.rows]
            self.description = [
                (label, type_code([row[i] for row in self._rows]), None, None, None, None, True)
                for i, label in enumerate(labels)
            ]
            self.rowcount = len(self._rows)
            return
        self._rows = []
        self.description = None
        self.rowcount = result.rowcount

    def executemany(self, operation: str, seq_of_parameters: Sequence[Any]) -> Cursor:
        total = 0
        counted = True
        for parameters in seq_of_parameters:
            self.execute(operation, parameters)
            if self.rowcount < 0:
                counted = False
            else:
                total += self.rowcount
        self.description = None
        self._rows = []
        self.rowcount = total if counted else -1
        return self

    def fetchone(self) -> tuple[Any, ...] | None:
        self._require_rows()
        if self._position >= len(self._rows):
            return None
        row = self._rows[self._position]
        self._position += 1
        return row

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        self._require_rows()
        size = self.arraysize if size is None else size
        rows = self._rows[self._position : self._position + size]
        self._position += len(rows)
        return rows

    def fetchall(self) -> list[tuple[Any, ...]]:
        self._require_rows()
        rows = self._rows[self._position :]
        self._position = len(self._rows)
        return rows

    def _require_rows(self) -> None:
        self._conn()
        if self.description is None:
            raise ProgrammingError("the last statement returned no rows to fetch")

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        while (row := self.fetchone()) is not None:
            yield row

    def close(self) -> None:
        self._closed = True
        self._rows = []

    def setinputsizes(self, sizes: Any) -> None:
        return None

    def setoutputsize(self, size: Any, column: Any = None) -> None:
        return None

    def __enter__(self) -> Cursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
