"""A cheaper insert path for plain documents.

mongomock-ng inserts one document at a time through several layers, each paying per document:
the view guard, a deep copy of the collection's options (for a validator), an ABC
`isinstance` per field, the unique-index scan, a read/write lock taken through context
managers, and the change capture's bookkeeping around the store primitive. For a plain
document (a `dict` with string keys and a simple `_id`), outside a session, into a collection
that is not a view and has no validator and no unique index other than `_id`, none of that
can change the outcome, so such a document is checked and stored directly:

- the same checks as mongomock-ng, in the same order: string keys, no NUL character in a
  field name at any depth, no top-level `$` field, BSON-encodable (proven on the way for
  documents of ASCII strings, 64-bit integers and other values BSON always encodes; BSON's
  own check otherwise), `_id` filled in the caller's dict when missing, a duplicate `_id` is
  E11000;
- the stored document is the same normalised copy (naive UTC datetimes, milliseconds);
- the change is recorded exactly as the capture records an insert (the same function).

Anything else (another type of document or `_id`, a document that fails a check, a session,
a view, a validator, a unique index) goes through the full path, document by document, with
the errors mongomock-ng gives. `insert_many` reports write errors as before: a BulkWriteError
with each failure's index, stopping at the first one when ordered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import bson
from bson import Decimal128, Int64, ObjectId
from bson.codec_options import CodecOptions
from mongomock_ng.codec_options import CodecOptions as MockCodecOptions
from mongomock_ng.collection import BulkWriteError, Collection, DuplicateKeyError, WriteError

from .change_streams import capture
from .fast_paths import normalise_datetimes
from .views import view_definition

_UTC = dt.UTC
_PLAIN_IDS = (str, int, ObjectId, Int64)
# Immutable values stored as they are (datetimes are not: they are normalised).
_LEAVES = frozenset({str, int, float, bool, type(None), bytes, ObjectId, Int64, Decimal128})
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_MARK = "_queryleaf_plain_inserts"


def _plain_copy(document: dict[str, Any], top: bool, proof: list[bool]) -> dict[str, Any] | None:
    """The stored form of a plain document (datetimes normalised as mongomock-ng does, one
    copy), checking on the way what mongomock-ng checks: every field name a string without
    NUL (nested documents included) and, at the top, none starting with `$`. None sends the
    document down the full path, which raises the precise error. `proof[0]` stays True when
    every name and value is of a kind BSON always encodes (ASCII strings, 64-bit integers,
    floats, booleans, null, binary, ObjectIds, Decimal128, dates, documents of these), so
    that the BSON check can be skipped; anything else leaves it to BSON's own check."""
    try:
        names = "".join(document)
    except TypeError:
        return None  # a field name that is not a string
    if "\0" in names or (top and "$" in names and any(k[:1] == "$" for k in document)):
        return None
    if not names.isascii():
        proof[0] = False
    copy = dict(document)
    for key, value in document.items():
        kind = type(value)
        if kind in _LEAVES:
            if kind is str:
                if not value.isascii():
                    proof[0] = False
            elif (kind is int or kind is Int64) and not _INT64_MIN <= value <= _INT64_MAX:
                proof[0] = False
            continue
        if kind is dt.datetime:
            # BSON dates: naive UTC, milliseconds (as mongomock-ng stores them).
            ms = value.microsecond // 1000 * 1000
            zone = value.tzinfo
            if zone is _UTC:
                copy[key] = value.replace(tzinfo=None, microsecond=ms)
            elif zone:
                copy[key] = (value - value.utcoffset()).replace(tzinfo=None, microsecond=ms)
            else:
                copy[key] = value.replace(microsecond=ms)
        elif kind is dict:
            nested = _plain_copy(value, False, proof)
            if nested is None:
                return None
            copy[key] = nested
        elif kind is not list and isinstance(value, Mapping):
            return None  # another kind of mapping: the full path checks it
        else:
            proof[0] = False  # arrays and other types: BSON's check decides
            copy[key] = normalise_datetimes(value)
    return copy


def _eligible(collection: Collection, session: Any) -> Any:
    """The collection's store when its inserts may take the plain path, else None."""
    if session is not None or capture._state.session is not None:
        return None
    store = collection._store
    if store.options.get("validator"):
        return None
    for index in store.indexes.values():
        if index.get("unique") and list(index.get("key") or []) != [("_id", 1)]:
            return None
    if view_definition(collection.database, collection.name) is not None:
        return None
    return store


_CODECS: dict[int, tuple[Any, CodecOptions | None]] = {}


def codec_options(options: Any) -> CodecOptions | None:
    """pymongo's codec options for mongomock-ng's (which it encodes with; None for options
    of another kind), cached per options object: the collections of a database share one."""
    cached = _CODECS.get(id(options))
    if cached is not None and cached[0] is options:
        return cached[1]
    converted = options.to_pymongo() if isinstance(options, MockCodecOptions) else options
    found = converted if isinstance(converted, CodecOptions) else None
    if len(_CODECS) < 64:
        _CODECS[id(options)] = (options, found)  # holding it keeps its id from being reused
    return found


def _bson_check(collection: Collection) -> Any:
    """How mongomock-ng checks a document: `{}` (no codec options: plain BSON), pymongo
    codec options, or None (options of another kind: no check)."""
    options = collection._codec_options
    if not options:
        return {}
    return codec_options(options)


class _Changes:
    """The changes of one insert call, published together (one wake-up of the streams) and
    in order: before any document that takes the full path, and when the call ends."""

    def __init__(self) -> None:
        self.journal: Any = None
        self.items: list[Any] = []

    def add(self, store: Any, stored: dict[str, Any]) -> None:
        where = capture._where(store)
        if where is None:
            return
        change = capture.insert_change(store, stored, where)
        if change is not None:
            self.journal = where[0]
            self.items.append(change)

    def publish(self) -> None:
        if self.items:
            items, self.items = self.items, []
            self.journal.publish(items)


def install() -> None:
    """Idempotent; after the change capture and the view guards wrapped `_insert`."""
    if getattr(Collection, _MARK, False):
        return
    full = Collection._insert

    def insert_plain(
        self: Collection,
        store: Any,
        check: Any,
        data: Any,
        validate: bool,
        changes: _Changes,
    ) -> Any:
        """One document: stored directly when plain, else through the full path."""
        proof = [True]
        stored = _plain_copy(data, True, proof) if type(data) is dict else None
        key = data.get("_id") if stored is not None else None
        if stored is None or ("_id" in data and type(key) not in _PLAIN_IDS):
            changes.publish()  # what went before is published first
            return full(self, data, validate=validate)
        if proof[0]:
            pass  # nothing BSON could refuse
        elif isinstance(check, CodecOptions):
            bson.encode(data, check_keys=False, codec_options=check)
        elif check is not None:
            bson.encode(data, check_keys=False)
        if "_id" not in data:
            data["_id"] = stored["_id"] = key = ObjectId()
        documents = store._documents
        if key in documents:
            raise DuplicateKeyError(
                "E11000 Duplicate Key Error",
                11000,
                {"keyPattern": {"_id": 1}, "keyValue": {"_id": key}},
            )
        lock = store._rwlock  # its writer() without the context manager's generator
        lock._writer_acquire()
        try:
            documents[key] = stored
        finally:
            lock._writer_release()
        store._is_force_created = True
        changes.add(store, stored)
        return key

    def _insert(
        self: Collection,
        data: Any,
        session: Any = None,
        ordered: bool = True,
        validate: bool = True,
    ) -> Any:
        store = _eligible(self, session)
        if store is None:
            return full(self, data, session, ordered, validate)
        store._remove_expired_documents()  # what a membership test of the store does first
        check = _bson_check(self)
        changes = _Changes()
        try:
            if isinstance(data, Mapping):
                return insert_plain(self, store, check, data, validate, changes)
            results = []
            write_errors = []
            inserted = 0
            for index, item in enumerate(data):
                try:
                    results.append(insert_plain(self, store, check, item, validate, changes))
                except WriteError as error:
                    write_errors.append(
                        {"index": index, "code": error.code, "errmsg": str(error), "op": item}
                    )
                    if ordered:
                        break
                    continue
                inserted += 1
        finally:
            changes.publish()
        if write_errors:
            raise BulkWriteError({"writeErrors": write_errors, "nInserted": inserted})
        return results

    Collection._insert = _insert
    setattr(Collection, _MARK, True)
