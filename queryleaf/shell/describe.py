"""What the shell is connected to: the banner's backend line, and the rows of `\\dt`, `\\dv`,
`\\di` and `\\d`, read straight from the database (the user asked, so unlike completion
these may wait on the server)."""

from __future__ import annotations

import fnmatch
from typing import Any

from queryleaf.shell.render import format_value
from queryleaf.shell.schema_cache import CollectionInfo, list_collections


def names(db: Any, kind: str, pattern: str = "") -> list[str]:
    """Collections (kind 'collection') or views ('view') whose names match the glob."""
    return [
        name
        for name, found in list_collections(db)
        if found == kind and (not pattern or fnmatch.fnmatchcase(name, pattern))
    ]


def collection_rows(db: Any, pattern: str = "") -> list[dict[str, Any]]:
    return [
        {"collection": name, "documents": db[name].estimated_document_count()}
        for name in names(db, "collection", pattern)
    ]


def view_rows(db: Any, pattern: str = "") -> list[dict[str, Any]]:
    specs = {spec["name"]: spec for spec in db.list_collections()}
    rows = []
    for name in names(db, "view", pattern):
        options = specs.get(name, {}).get("options", {})
        rows.append(
            {"view": name, "view_on": options.get("viewOn"), "pipeline": options.get("pipeline")}
        )
    return rows


def index_rows(db: Any, name: str) -> list[dict[str, Any]]:
    """One row per index: its name, keys (`age: -1, name: 1`), unique, other options."""
    rows = []
    for index in db[name].list_indexes():
        keys = ", ".join(f"{field}: {format_value(order)}" for field, order in index["key"].items())
        options = {k: v for k, v in index.items() if k not in {"key", "name", "v", "ns", "unique"}}
        rows.append(
            {
                "collection": name,
                "index": index.get("name"),
                "keys": keys,
                # MongoDB lists the _id index without `unique`, yet it always is.
                "unique": bool(index.get("unique")) or index.get("name") == "_id_",
                "options": options or None,
            }
        )
    return rows


def field_rows(info: CollectionInfo) -> list[dict[str, Any]]:
    """One row per path seen in the sample: its types and in how many documents it occurs."""
    return [
        {
            "field": stats.path,
            "types": stats.type_summary(),
            "present": f"{round(100 * stats.present / info.sampled)}%" if info.sampled else "",
        }
        for stats in info.fields
    ]


def describe_backend(conn: Any, uri: str | None) -> tuple[str, str]:
    """(what we are connected to, whether change streams are available)."""
    if getattr(conn, "backend", "") == "embedded":
        from importlib.metadata import PackageNotFoundError, version

        try:
            engine = f"mongomock-ng {version('mongomock-ng')}"
        except PackageNotFoundError:
            engine = "mongomock-ng"
        return (
            f"embedded engine ({engine})",
            "available (emulated by the embedded engine)",
        )
    from queryleaf.engines import redact_uri

    where = redact_uri(uri) if uri else "MongoDB"
    hello = conn.db.command("hello")
    server = conn.db.command("buildInfo").get("version", "?")
    if hello.get("msg") == "isdbgrid":
        streams = "available (sharded cluster)"
    elif hello.get("setName"):
        streams = f"available (replica set {hello['setName']})"
    else:
        streams = "not available: this server is standalone (they need a replica set)"
    return f"MongoDB {server} at {where}", streams
