"""Returned documents to labelled rows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from queryleaf.plan.plans import Column, OutputColumn, Path, StarColumns

_MISSING = object()


def read_path(document: Any, path: Path) -> Any:
    current = document
    for part in path:
        if isinstance(part, int):
            if not isinstance(current, list) or not -len(current) <= part < len(current):
                return None
            current = current[part]
        elif isinstance(current, dict):
            current = current.get(part, _MISSING)
            if current is _MISSING:
                return None
        else:
            return None
    return current


def build_rows(
    documents: Iterable[dict[str, Any]], columns: list[Column]
) -> tuple[list[str], list[dict[str, Any]]]:
    """Labels and rows. Fixed columns keep their labels; `*` contributes each field it
    meets, in order of first appearance, qualified as alias.field when a label is taken."""
    if all(isinstance(c, OutputColumn) for c in columns):
        labels = [c.label for c in columns]  # type: ignore[union-attr]
        unique = _unique(labels)
        paths = [c.path for c in columns]  # type: ignore[union-attr]
        if all(len(path) == 1 and isinstance(path[0], str) for path in paths):
            # Top-level fields (most select lists): a dict lookup each, as read_path does.
            fields = [(label, path[0]) for label, path in zip(unique, paths, strict=True)]
            rows = [
                {label: doc.get(field) for label, field in fields}
                if type(doc) is dict
                else {label: read_path(doc, (field,)) for label, field in fields}
                for doc in documents
            ]
            return unique, rows
        rows = [
            {label: read_path(doc, path) for label, path in zip(unique, paths, strict=True)}
            for doc in documents
        ]
        return unique, rows
    return _build_star_rows(list(documents), columns)


def _build_star_rows(
    documents: list[dict[str, Any]], columns: list[Column]
) -> tuple[list[str], list[dict[str, Any]]]:
    # Per column position, the (label, reader) pairs seen across all documents.
    layout: list[list[tuple[str, Path]]] = []
    taken: set[str] = set()
    for column in columns:
        if isinstance(column, OutputColumn):
            continue
        for name in _fields_seen(documents, column):
            taken.add(name)
    used: set[str] = set()
    for column in columns:
        entries: list[tuple[str, Path]] = []
        if isinstance(column, OutputColumn):
            label = _fresh(column.label, used)
            entries.append((label, column.path))
        else:
            for name in _fields_seen(documents, column):
                label = name
                if label in used and column.qualifier:
                    label = f"{column.qualifier}.{name}"
                label = _fresh(label, used)
                entries.append((label, (*column.path, name)))
        layout.append(entries)
    labels = [label for entries in layout for label, _ in entries]
    readers = [(label, path) for entries in layout for label, path in entries]
    rows = [{label: read_path(doc, path) for label, path in readers} for doc in documents]
    return labels, rows


def _fields_seen(documents: list[dict[str, Any]], star: StarColumns) -> list[str]:
    seen: dict[str, None] = {}
    for doc in documents:
        sub = read_path(doc, star.path) if star.path else doc
        if isinstance(sub, dict):
            for key in sub:
                if not key.startswith(star.hidden_prefix):
                    seen.setdefault(key, None)
    return list(seen)


def _fresh(label: str, used: set[str], next_suffix: dict[str, int] | None = None) -> str:
    name = label
    next_suffix = {} if next_suffix is None else next_suffix
    suffix = next_suffix.get(label, 2)  # linear even for thousands of one label
    while name in used:
        name = f"{label}_{suffix}"
        suffix += 1
    next_suffix[label] = suffix
    used.add(name)
    return name


def _unique(labels: list[str]) -> list[str]:
    used: set[str] = set()
    next_suffix: dict[str, int] = {}
    return [_fresh(label, used, next_suffix) for label in labels]
