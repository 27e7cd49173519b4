"""Notes under a query's result for what MongoDB answers silently: a collection that does not
exist reads as an empty one, and a field that no document has reads as NULL. The shell shows
them as it shows the result; nothing here changes what a statement does."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from typing import Any

from sqlglot import exp

from queryleaf.parse.sql import parse_sql
from queryleaf.shell.schema_cache import sample_documents

SAMPLE_SIZE = 200


def is_table_function(name: str, statement: str) -> bool:
    """True when `name` is called in the statement (`EVENT_SUBSCRIPTIONS()`): a table
    function, not a collection."""
    return re.search(rf"(?<![\w`]){re.escape(name)}\s*\(", statement) is not None


def unknown_column_notes(
    statement: str,
    dialect: str,
    result: Any,
    fields_of: Callable[[str], list[str] | None],
) -> list[str]:
    """For a SELECT over one collection: each selected column that is NULL in every row and
    that no sampled document of the collection has, with the closest sampled field names.
    `fields_of(collection)` gives the sampled top-level field names (None: nothing sampled)."""
    try:
        tree = parse_sql(statement, dialect)
    except Exception:  # the statement ran; a note is never worth an error
        return []
    if not isinstance(tree, exp.Select) or tree.args.get("joins"):
        return []
    source = tree.args.get("from_") or tree.args.get("from")
    table = source.this if source is not None else None
    if not isinstance(table, exp.Table) or not table.name or table.args.get("db"):
        return []
    qualifiers = {table.name, table.alias_or_name}
    notes: list[str] = []
    known: list[str] | None = None
    for projection in tree.expressions:
        column = projection.this if isinstance(projection, exp.Alias) else projection
        if not isinstance(column, exp.Column) or isinstance(column.this, exp.Star):
            continue
        parts = [part.name for part in column.parts]
        if len(parts) > 1 and parts[0] in qualifiers:
            parts = parts[1:]
        label = projection.alias if isinstance(projection, exp.Alias) else ".".join(parts)
        if any(_value(row, label) is not None for row in result.rows):
            continue
        if known is None:
            known = fields_of(table.name) or []
        if not known or parts[0] in known:
            continue
        close = difflib.get_close_matches(parts[0], known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        notes.append(
            f"no sampled document of {table.name} has a field {parts[0]}, so "
            f"{'.'.join(parts)} is NULL{hint}"
        )
    return notes


def _value(row: Mapping[str, Any], label: str) -> Any:
    return row.get(label)


def sampled_fields(db: Any, name: str, cached: list[str] | None) -> list[str] | None:
    """The top-level field names of collection `name`: from the shell's cache when it has
    sampled the collection, else from a small sample."""
    paths = cached
    if not paths:
        documents = sample_documents(db, name, SAMPLE_SIZE)
        if not documents:
            return None
        names: dict[str, None] = {}
        for document in documents:
            names.update(dict.fromkeys(str(key) for key in document))
        return list(names)
    return list(dict.fromkeys(path.split(".")[0] for path in paths))
