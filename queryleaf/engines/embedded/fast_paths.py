"""Cheaper paths through mongomock-ng for what the runtime does on every event.

- A filter with an `_id` condition (`{_id: v, ...}` or `{_id: {$in: [...]}, ...}`) reads the
  store by key instead of testing every document, as MongoDB uses the `_id` index; the full
  filter is still applied to what is found, so results are unchanged.
- TTL expiry ran on every read of a collection with a TTL index, scanning all of it.
  MongoDB's TTL monitor removes expired documents in the background about once a minute, so
  expiring at most once a second per collection is, if anything, more eager than a server.
- Every write and every `$match` copies documents to normalise their datetimes (naive UTC,
  milliseconds); the copy now skips immutable leaves without a call, with the same result.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from bson import Decimal128, Int64, ObjectId
from mongomock_ng import filtering, helpers
from mongomock_ng.collection import Collection
from mongomock_ng.store import CollectionStore

_KEY_TYPES = (str, int, float, ObjectId, dt.datetime)
EXPIRY_INTERVAL_SECONDS = 1.0


def _ids(filter: Any) -> list[Any] | None:
    """The `_id` values a filter with an `_id` condition can match (the whole filter is then
    applied to those documents only), or None for any other filter."""
    if not isinstance(filter, dict) or "_id" not in filter:
        return None
    wanted = filter["_id"]
    if isinstance(wanted, _KEY_TYPES) and not isinstance(wanted, bool):
        return [wanted]
    if isinstance(wanted, dict) and list(wanted) == ["$in"] and isinstance(wanted["$in"], list):
        values = wanted["$in"]
        if all(isinstance(v, _KEY_TYPES) and not isinstance(v, bool) for v in values):
            return values
    return None


# Leaves returned as they are (Timestamp is not one: a zero Timestamp becomes the current one).
_LEAVES = frozenset({str, int, float, bool, type(None), bytes, ObjectId, Int64, Decimal128})


def normalise_datetimes(value: Any) -> Any:
    """mongomock-ng's patch_datetime_awareness_in_document, without the per-leaf calls."""
    kind = type(value)
    if kind in _LEAVES:
        return value
    if kind is dict:
        return {k: v if type(v) in _LEAVES else normalise_datetimes(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [v if type(v) in _LEAVES else normalise_datetimes(v) for v in value]
    return _normalise_datetimes(value)  # dict subclasses, datetimes, Timestamps


_normalise_datetimes = helpers.patch_datetime_awareness_in_document


def install() -> None:
    helpers.patch_datetime_awareness_in_document = normalise_datetimes
    iter_documents = Collection._iter_documents

    def iter_documents_(self: Collection, filter: Any) -> Any:
        ids = _ids(filter)
        if ids is None:
            return iter_documents(self, filter)
        from queryleaf.engines.embedded.views import view_definition

        if view_definition(self.database, self.name) is not None:
            return iter_documents(self, filter)
        self._store._remove_expired_documents()
        store = self._store._documents
        found = []
        for value in dict.fromkeys(ids):
            document = store.get(value)
            if document is not None and filtering.filter_applies(filter, document):
                found.append(document)
        # In _id order, as a scan of the _id index returns them (not the $in list's order).
        found.sort(key=lambda document: filtering.resolve_sort_key("_id", document))
        return iter(found)

    Collection._iter_documents = iter_documents_

    remove_expired = CollectionStore._remove_expired_documents

    def remove_expired_(self: CollectionStore) -> None:
        if not self._ttl_indexes:
            return
        now = time.monotonic()
        if now - getattr(self, "_queryleaf_expired_at", -1e9) < EXPIRY_INTERVAL_SECONDS:
            return
        self._queryleaf_expired_at = now
        remove_expired(self)

    CollectionStore._remove_expired_documents = remove_expired_
