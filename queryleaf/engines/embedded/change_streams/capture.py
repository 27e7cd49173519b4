"""Turning mongomock-ng's writes into journal changes.

Every document write ends in a few store primitives, so that is where we listen:
`CollectionStore.__setitem__` (insert, or update/replace of an existing key), `__delitem__`
(delete, TTL expiry included) and `drop`. What the primitives cannot know comes from thin
wrappers higher up, passed along in thread-local state:

* the pre-image of an update: mongomock-ng updates the stored dict in place, so
  `_apply_update_document` / `_apply_update_pipeline` copy it first (keyed by the dict's id);
  a store write with no pending pre-image is a rollback restoring the old document, not a change;
* an insert is published only once `Collection._insert` returns, because a unique-index
  violation deletes the just-stored document again;
* the session of the operation (public methods take it; nested calls do not pass it on), so
  writes inside a transaction are held back and published at commit, sharing one cluster time.

Namespaces: stores do not know their names, so the store factories tag each DatabaseStore with
(journal, name) when they create it, and each CollectionStore with its DatabaseStore.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable, Mapping
from typing import Any

from bson import Int64
from mongomock_ng import MongoClient, store
from mongomock_ng.collection import Collection
from mongomock_ng.database import Database
from mongomock_ng.session import ClientSession

from queryleaf.system_collections import SYSTEM_COLLECTIONS

from . import events
from .events import Change, clone
from .journal import Journal

PRE_AND_POST_IMAGES = "changeStreamPreAndPostImages"
# queryleaf's own collections: their writes are recorded only while a stream could see them.
QUIET_COLLECTIONS = frozenset(SYSTEM_COLLECTIONS)

# Public Collection methods that start an operation (and may carry its session).
_OPERATIONS = (
    "insert_one",
    "insert_many",
    "update_one",
    "update_many",
    "replace_one",
    "delete_one",
    "delete_many",
    "find_one_and_delete",
    "find_one_and_replace",
    "find_one_and_update",
    "bulk_write",
    "drop",
    "rename",
)


class _State(threading.local):
    def __init__(self) -> None:
        self.depth = 0  # nesting of public operations
        self.session: ClientSession | None = None
        self.inserting = 0
        # (collection store, stored document, where) of the insert under way
        self.inserted: tuple[Any, dict, tuple[Journal, str]] | None = None
        self.pre_images: dict[int, tuple[dict, Any]] = {}  # id(stored doc) -> (copy, update)
        self.renaming = 0


_state = _State()
_journal_lock = threading.Lock()


def journal_of(server: store.ServerStore) -> Journal:
    """The journal of a server store (one per client, shared by clients sharing a store)."""
    journal = server.__dict__.get("_ql_journal")
    if journal is None:
        with _journal_lock:
            journal = server.__dict__.setdefault("_ql_journal", Journal())
    return journal


def images_enabled(collection_store: store.CollectionStore) -> bool:
    option = collection_store.options.get(PRE_AND_POST_IMAGES)
    return isinstance(option, dict) and option.get("enabled") is True


def _where(collection_store: store.CollectionStore) -> tuple[Journal, str] | None:
    """(journal, database name) for a collection's writes; None for a store built outside a
    client (nobody can watch it)."""
    db_store = collection_store._ql_db
    return None if db_store is None else db_store._ql_where


def _emit(journal: Journal, change: Change) -> None:
    session = _state.session
    if session is not None and session.in_transaction:
        pending = session.__dict__.get("_ql_changes")
        if pending is not None:
            change.lsid = dict(session.session_id)
            change.txn_number = Int64(session.__dict__.get("_ql_txn_number", 1))
            pending.append((journal, change))
            return
    journal.publish((change,))


# --- document writes -----------------------------------------------------------------------------


def _unseen(journal: Journal, db: str, coll: str) -> bool:
    """A write to one of queryleaf's bookkeeping collections that no open stream could see
    (recorded as a placeholder: see Journal.skip_unseen)."""
    if journal.record_bookkeeping or coll not in QUIET_COLLECTIONS:
        return False
    session = _state.session
    if session is not None and session.in_transaction:
        return False  # published at commit with the transaction's other writes
    return journal.skip_unseen(db, coll)


def insert_change(collection_store: Any, document: dict, where: tuple[Journal, str]) -> Any:
    """The change recording an insert (None when it is not recorded, or only as lost history);
    published by the caller."""
    journal, db = where
    if not journal.recording() or _unseen(journal, db, collection_store.name):
        return None
    return Change(events.INSERT, db, collection_store.name, document.get("_id"), clone(document))


def _record_insert(collection_store: Any, document: dict, where: tuple[Journal, str]) -> None:
    change = insert_change(collection_store, document, where)
    if change is not None:
        _emit(where[0], change)


def _record_update(
    collection_store: Any, where: tuple[Journal, str], before: dict, after: dict, update: Any
) -> None:
    journal, db = where
    if _unseen(journal, db, collection_store.name):
        return
    images = images_enabled(collection_store)
    key = after.get("_id")
    if isinstance(update, Mapping) and (not update or not next(iter(update)).startswith("$")):
        change = Change(events.REPLACE, db, collection_store.name, key, clone(after))
    else:
        post_image = clone(after) if images else None
        change = Change(events.UPDATE, db, collection_store.name, key, post_image)
        change.describe_later(before, post_image or clone(after), clone(update))
    change.before = before if images else None
    _emit(journal, change)


def _patch_collection_store() -> None:
    cls = store.CollectionStore
    cls._ql_db = None
    cls._supported_options = {*cls._supported_options, PRE_AND_POST_IMAGES}
    original_set, original_del, original_drop = cls.__setitem__, cls.__delitem__, cls.drop

    def __setitem__(self: Any, key: Any, value: dict) -> None:
        # A written collection exists until dropped, emptied or not (mongomock-ng forgot a
        # collection once its last document was deleted: no drop event, not listed).
        self._is_force_created = True
        where = _where(self)
        if where is None:
            return original_set(self, key, value)
        existed = key in self._documents
        original_set(self, key, value)
        if not existed:
            if _state.inserting:
                _state.inserted = (self, value, where)  # published when _insert succeeds
            else:
                _record_insert(self, value, where)
            return
        pending = _state.pre_images.pop(id(value), None)
        if pending is not None:
            before, update = pending
            _record_update(self, where, before, value, update)
        return None

    def __delitem__(self: Any, key: Any) -> None:
        where = _where(self)
        document = self._documents.get(key) if where is not None else None
        original_del(self, key)
        if where is None or document is None:
            return
        inserted = _state.inserted
        if inserted is not None and inserted[1] is document:
            _state.inserted = None  # _insert rolling back a duplicate: nothing happened
            return
        journal, db = where
        if not journal.recording() or _unseen(journal, db, self.name):
            return
        before = document if images_enabled(self) else None
        _emit(journal, Change(events.DELETE, db, self.name, document.get("_id"), before=before))

    def drop(self: Any) -> None:
        where = _where(self)
        # Views (stored by the engine as options {viewOn, pipeline}) have no drop event; nor
        # does the target a dropTarget rename replaces.
        announce = bool(self.is_created) and "viewOn" not in self.options and not _state.renaming
        original_drop(self)
        # mongomock-ng keeps options across a drop; a re-created collection starts without them.
        self.options.pop(PRE_AND_POST_IMAGES, None)
        if where is not None and announce:
            journal, db = where
            _emit(journal, Change(events.DROP, db, self.name))

    cls.__setitem__, cls.__delitem__, cls.drop = __setitem__, __delitem__, drop


def _patch_store_factories() -> None:
    server_cls, database_cls = store.ServerStore, store.DatabaseStore
    database_cls._ql_where = None
    server_get, database_get = server_cls.__getitem__, database_cls.__getitem__

    # The fast path (an existing store) stays a plain dict lookup; only creation is wrapped.
    def server_getitem(self: Any, name: str) -> Any:
        try:
            return self._databases[name]
        except KeyError:
            database = server_get(self, name)
            database._ql_where = (journal_of(self), name)
            return database

    def database_getitem(self: Any, name: str) -> Any:
        try:
            return self._collections[name]
        except KeyError:
            collection = database_get(self, name)
            collection._ql_db = self
            return collection

    server_cls.__getitem__ = server_getitem
    database_cls.__getitem__ = database_getitem


def _patch_collection() -> None:
    insert = Collection._insert
    update_documents = Collection._update_documents
    apply_document, apply_pipeline = (
        Collection._apply_update_document,
        Collection._apply_update_pipeline,
    )

    def _insert(self: Collection, data: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(data, Mapping):
            return insert(self, data, *args, **kwargs)  # a list: recurses one document at a time
        outer = _state.inserted
        _state.inserting += 1
        _state.inserted = None
        try:
            result = insert(self, data, *args, **kwargs)
            inserted = _state.inserted
        finally:
            _state.inserting -= 1
            _state.inserted = outer
        if inserted is not None:
            _record_insert(*inserted)
        return result

    def _update_documents(self: Collection, *args: Any, **kwargs: Any) -> Any:
        try:
            return update_documents(self, *args, **kwargs)
        finally:
            _state.pre_images.clear()  # rolled-back or no-op updates leave theirs behind

    def _apply_update_document(
        self: Collection, existing: dict, spec: Any, document: Any, was_insert: bool
    ) -> Any:
        if not was_insert and _recording(self):
            _state.pre_images[id(existing)] = (clone(existing), document)
        return apply_document(self, existing, spec, document, was_insert)

    def _apply_update_pipeline(
        self: Collection, existing: dict, pipeline: Any, session: Any
    ) -> Any:
        if _recording(self):
            _state.pre_images[id(existing)] = (clone(existing), pipeline)
        return apply_pipeline(self, existing, pipeline, session)

    Collection._insert = _insert
    Collection._update_documents = _update_documents
    Collection._apply_update_document = _apply_update_document
    Collection._apply_update_pipeline = _apply_update_pipeline
    for name in _OPERATIONS:
        setattr(Collection, name, _with_session(getattr(Collection, name)))


def _recording(collection: Collection) -> bool:
    where = _where(collection._store)
    return where is not None and where[0].recording()


def _with_session(method: Callable[..., Any]) -> Callable[..., Any]:
    """Remember the session of the outermost operation for the writes it makes."""
    parameters = list(inspect.signature(method).parameters)[1:]
    index = parameters.index("session") if "session" in parameters else None

    @functools.wraps(method)
    def operation(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _state.depth:
            return method(self, *args, **kwargs)
        session = kwargs.get("session")
        if session is None and index is not None and len(args) > index:
            session = args[index]
        _state.depth, _state.session = 1, session
        try:
            return method(self, *args, **kwargs)
        finally:
            _state.depth, _state.session = 0, None

    return operation


# --- namespace operations and transactions ------------------------------------------------------


def _patch_namespaces() -> None:
    rename, drop_database = Database.rename_collection, MongoClient.drop_database

    def rename_collection(
        self: Database, name: str, new_name: str, *args: Any, **kwargs: Any
    ) -> Any:
        # A dropTarget rename drops the target as part of one oplog entry: no drop event.
        _state.renaming += 1
        try:
            result = rename(self, name, new_name, *args, **kwargs)
        finally:
            _state.renaming -= 1
        where = self._store._ql_where
        if where is not None:
            change = Change(events.RENAME, self.name, name, to=(self.name, new_name))
            _emit(where[0], change)
        return result

    def drop_database_(self: MongoClient, name_or_db: Any) -> None:
        name = name_or_db if isinstance(name_or_db, str) else getattr(name_or_db, "name", None)
        existed = isinstance(name, str) and name in self._store
        drop_database(self, name_or_db)  # a drop event per collection, through the store hook
        if existed and name not in self._store:
            _emit(journal_of(self._store), Change(events.DROP_DATABASE, name))

    Database.rename_collection = rename_collection
    MongoClient.drop_database = drop_database_


def _patch_sessions() -> None:
    start, commit, abort = (
        ClientSession.start_transaction,
        ClientSession.commit_transaction,
        ClientSession.abort_transaction,
    )

    def start_transaction(self: ClientSession, *args: Any, **kwargs: Any) -> Any:
        context = start(self, *args, **kwargs)
        self._ql_changes = []
        self._ql_txn_number = self.__dict__.get("_ql_txn_number", 0) + 1
        return context

    def commit_transaction(self: ClientSession) -> None:
        commit(self)
        pending, self._ql_changes = self.__dict__.get("_ql_changes") or [], None
        if pending:
            journal = pending[0][0]
            journal.publish([change for _, change in pending], transaction=True)

    def abort_transaction(self: ClientSession) -> None:
        abort(self)
        self._ql_changes = None  # the writes were rolled back: they never happened

    ClientSession.start_transaction = start_transaction
    ClientSession.commit_transaction = commit_transaction
    ClientSession.abort_transaction = abort_transaction


def install() -> None:
    _patch_store_factories()
    _patch_collection_store()
    _patch_collection()
    _patch_namespaces()
    _patch_sessions()
