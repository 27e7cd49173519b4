"""One lock around the embedded engine's reads and writes, so a Connection (or several) may
be used from many threads.

mongomock-ng keeps each collection in an OrderedDict and updates documents field by field:
two threads incrementing one field lost updates, and a read iterating a collection while a
subscription wrote to it raised "OrderedDict mutated during iteration". Every public
collection and database operation, and a find cursor's first fetch (when a find reads the
collection), now runs under one re-entrant lock: a write is atomic for readers and other
writers, as a MongoDB write is per document, and no read sees a collection mid-mutation.

The lock is coarse on purpose: Python runs one thread at a time anyway, a $lookup or
$unionWith reads several collections inside one operation, and one lock cannot deadlock
with itself. The change-stream journal keeps its own short lock, taken inside this one and
never the other way round (a waiting change stream holds neither)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from mongomock_ng.collection import Collection, Cursor
from mongomock_ng.database import Database

ENGINE_LOCK = threading.RLock()

COLLECTION_METHODS = (
    "insert_one",
    "insert_many",
    "update_one",
    "update_many",
    "replace_one",
    "delete_one",
    "delete_many",
    "find",
    "find_one",
    "find_one_and_delete",
    "find_one_and_replace",
    "find_one_and_update",
    "count_documents",
    "estimated_document_count",
    "distinct",
    "aggregate",
    "bulk_write",
    "drop",
    "rename",
    "create_index",
    "create_indexes",
    "drop_index",
    "drop_indexes",
    "list_indexes",
    "index_information",
    "options",
)
DATABASE_METHODS = (
    "aggregate",
    "create_collection",
    "drop_collection",
    "list_collection_names",
    "list_collections",
    "command",
)
CURSOR_METHODS = ("_compute_results",)


def locked(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def run(*args: Any, **kwargs: Any) -> Any:
        with ENGINE_LOCK:
            return method(*args, **kwargs)

    run._queryleaf_locked = True  # type: ignore[attr-defined]
    return run


def install() -> None:
    """Wrap the entry points (idempotent; after every other correction is installed)."""
    for owner, names in (
        (Collection, COLLECTION_METHODS),
        (Database, DATABASE_METHODS),
        (Cursor, CURSOR_METHODS),
    ):
        for name in names:
            method = getattr(owner, name, None)
            if method is not None and not getattr(method, "_queryleaf_locked", False):
                setattr(owner, name, locked(method))
