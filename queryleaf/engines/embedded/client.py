"""Client construction and the aggregate entry points (collection and database level).

Pipelines run on naive UTC datetimes (the stored form); when the client is tz_aware, like
pymongo's `MongoClient(tz_aware=True)`, the documents an aggregation returns get UTC tzinfo.
"""

from __future__ import annotations

from typing import Any

import mongomock_ng
from mongomock_ng import aggregate, helpers
from mongomock_ng.collection import Collection
from mongomock_ng.command_cursor import CommandCursor
from mongomock_ng.database import Database

from .values import fail

# Stages that may open a database-level pipeline (no collection to read from).
_SOURCE_STAGES = {"$documents"}


def new_client() -> mongomock_ng.MongoClient:
    """A fresh in-memory client with the engine's corrections installed."""
    from . import (
        change_streams,  # noqa: F401 - importing it installs watch() and write capture
        document_ids,
        plain_inserts,
        update_errors,
        write_checks,
    )
    from .hooks import install

    install()
    document_ids.install()  # after the capture: it wraps the store the capture patched
    update_errors.install()  # likewise around the capture's update hooks
    plain_inserts.install()  # around the capture's and the view guard's insert hooks
    write_checks.install()
    return mongomock_ng.MongoClient(tz_aware=True)


def read_documents(collection: Collection, query: dict | None = None) -> list[dict]:
    """A collection's documents (matching `query`) in the engine's internal form: private,
    normalised copies of what is stored (normalising copies containers and keeps immutable
    leaves), without find()'s deep copy and datetime round trip, which dominated every
    $lookup. Normalising matters for values written without it ($currentDate)."""
    from .fast_paths import normalise_datetimes

    return [normalise_datetimes(doc) for doc in collection._iter_documents(query or {})]


def _results(documents: Any, codec_options: Any) -> CommandCursor:
    documents = list(documents)
    if codec_options.tz_aware:
        documents = [helpers.make_datetime_timezone_aware_in_document(doc) for doc in documents]
    return CommandCursor(documents)


def _variables(let: dict | None) -> dict | None:
    """pymongo's `let=`: constants (or expressions on no document) as $$variables."""
    if not let:
        return None
    from .registry import Scope

    scope = Scope.for_document({})
    return {name: scope.eval_or_null(value) for name, value in let.items()}


def _collection_aggregate(
    self: Collection, pipeline: list, session: Any = None, let: dict | None = None, **unused: Any
) -> CommandCursor:
    documents = read_documents(self)
    cursor = aggregate.process_pipeline(
        documents, self.database, pipeline, session, user_vars=_variables(let)
    )
    return _results(cursor, self.codec_options)


def _database_aggregate(
    self: Database, pipeline: list, session: Any = None, let: dict | None = None, **unused: Any
) -> CommandCursor:
    # MongoDB 5.1+: `db.aggregate([{$documents: [...]}, ...])`, e.g. SELECT without FROM.
    if not pipeline or not isinstance(pipeline[0], dict) or not _SOURCE_STAGES & set(pipeline[0]):
        fail(
            "Collectionless aggregations must begin with $documents "
            "(or another source stage that does not read a collection)",
            code=73,
        )
    cursor = aggregate.process_pipeline([], self, pipeline, session, user_vars=_variables(let))
    return _results(cursor, self.codec_options)


def patch_entry_points() -> None:
    Collection.aggregate = _collection_aggregate
    Database.aggregate = _database_aggregate
