"""Documents already in the engine's internal form are read without copying them.

Inside the engine a document's datetimes are naive UTC with millisecond precision (what
`normalise_datetimes` produces). mongomock-ng's `$match` normalised every document it tested,
copying each one only to throw the copy away, and a `$lookup` copied the whole foreign
collection before its sub-pipeline filtered it. Both now test first whether a document is
already normal, an allocation-free walk, and copy only those that are not: with the same
results, and far less garbage for the collector, which grew with the documents in memory.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bson import Decimal128, Int64, ObjectId
from mongomock_ng import filtering, helpers

from .fast_paths import normalise_datetimes
from .registry import stage

_LEAVES = frozenset({str, int, float, bool, type(None), bytes, ObjectId, Int64, Decimal128})


def is_normal(value: Any) -> bool:
    """Whether normalising `value` would give an equal value of the same types (plain dicts
    and lists, naive datetimes in whole milliseconds, no zero Timestamp). Conservative:
    any other type counts as not normal, and is normalised as before."""
    kind = type(value)
    if kind in _LEAVES:
        return True
    if kind is dict:
        return all(type(item) in _LEAVES or is_normal(item) for item in value.values())
    if kind is list:
        return all(type(item) in _LEAVES or is_normal(item) for item in value)
    if kind is dt.datetime:
        return value.tzinfo is None and value.microsecond % 1000 == 0
    return False


def normal(value: Any) -> Any:
    """`value` itself when it is normal, else its normalised copy (for reading only)."""
    return value if is_normal(value) else normalise_datetimes(value)


def shared_documents(collection: Any, query: dict | None = None) -> list[dict]:
    """A collection's documents (matching `query`) in the internal form, for a reader that
    never changes them nor hands them on uncopied: stored documents that are normal are
    returned as they are (`client.read_documents` copies every one)."""
    return [normal(doc) for doc in collection._iter_documents(query or {})]


@stage("$match")
def match_stage(documents: list[dict], database: Any, spec: Any, variables: dict | None) -> list:
    """mongomock-ng's $match, testing normal documents as they are."""
    from mongomock_ng.profiler import get_profiler

    spec = helpers.patch_datetime_awareness_in_document(spec)
    get_profiler().record(spec, f"{database.name}.<aggregate>", "aggregate")
    return [
        document
        for document in documents
        if filtering.filter_applies(spec, normal(document), user_vars=variables)
    ]
