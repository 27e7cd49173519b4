"""Installs change streams into mongomock-ng: write capture, the pre-image collection option,
and `watch()` on MongoClient, Database and Collection with pymongo 4's signature."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import mongomock_ng
from bson import Timestamp
from mongomock_ng import MongoClient, helpers, store
from mongomock_ng.collection import Collection
from mongomock_ng.database import Database

from . import capture, collection_options
from .cursor import ChangeStream, Scope
from .events import clone

_MARK = "_queryleaf_change_streams_installed"


def install() -> None:
    """Patch mongomock-ng; idempotent. Call after the engine's other corrections."""
    if getattr(mongomock_ng, _MARK, False):
        return
    capture.install()
    collection_options.install()
    MongoClient.watch = _watcher(lambda client: (client, Scope(), client["admin"]))
    Database.watch = _watcher(lambda db: (db.client, Scope(db.name), db))
    Collection.watch = _watcher(
        lambda coll: (coll.database.client, Scope(coll.database.name, coll.name), coll.database)
    )
    setattr(mongomock_ng, _MARK, True)


def configure_journal(
    client: MongoClient,
    *,
    history_size: int | None = None,
    record_unwatched: bool | None = None,
    record_bookkeeping: bool | None = None,
) -> None:
    """Tune a client's journal (shared by clients sharing its store).

    history_size: how many changes are kept for resuming (default 100,000); older resume
        points fail with ChangeStreamHistoryLost, like an oplog that has rolled over.
    record_unwatched: record writes made while no stream is open (default True, as the oplog
        does). False makes unwatched writes cheaper; resuming from before one of them then
        fails with ChangeStreamHistoryLost.
    record_bookkeeping: record writes to queryleaf's own collections in full (default True).
        False records them only while an open stream could see them (see journal.py): cheaper,
        for a process that knows nobody watches those collections.
    """
    journal = capture.journal_of(client._store)
    if history_size is not None:
        journal.resize(history_size)
    if record_unwatched is not None:
        journal.record_unwatched = record_unwatched
    if record_bookkeeping is not None:
        journal.record_bookkeeping = record_bookkeeping


def _watcher(target: Callable[[Any], tuple[MongoClient, Scope, Database]]) -> Callable[..., Any]:
    def watch(
        self: Any,
        pipeline: list[dict[str, Any]] | None = None,
        full_document: str | None = None,
        resume_after: Mapping[str, Any] | None = None,
        max_await_time_ms: int | None = None,
        batch_size: int | None = None,
        collation: Any = None,
        start_at_operation_time: Timestamp | None = None,
        session: Any = None,
        start_after: Mapping[str, Any] | None = None,
        comment: Any = None,
        full_document_before_change: str | None = None,
        show_expanded_events: bool | None = None,
    ) -> ChangeStream:
        """Watch changes (pymongo's watch(); collation, session, comment and
        show_expanded_events are accepted and ignored)."""
        client, scope, database = target(self)
        client._check_closed()
        return ChangeStream(
            capture.journal_of(client._store),
            scope,
            database=database,
            lookup=_lookup(client._store),
            tz_aware=bool(self.codec_options.tz_aware),
            pipeline=pipeline,
            full_document=full_document,
            full_document_before_change=full_document_before_change,
            resume_after=resume_after,
            start_after=start_after,
            start_at_operation_time=start_at_operation_time,
            max_await_time_ms=max_await_time_ms,
            batch_size=batch_size,
        )

    return watch


def _lookup(server: store.ServerStore) -> Callable[[str, str, Any], dict | None]:
    """fullDocument 'updateLookup': the document as stored when the event is read."""

    def lookup(db: str, coll: str, key: Any) -> dict | None:
        database = server._databases.get(db)
        collection = database._collections.get(coll) if database is not None else None
        if collection is None:
            return None
        if isinstance(key, dict):
            key = helpers.hashdict(key)
        with collection._rwlock.reader():
            document = collection._documents.get(key)
            return None if document is None else clone(document)

    return lookup
