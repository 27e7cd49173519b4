"""Running DDL and catalog plans. Each statement first looks at what exists (one
listCollections, and listIndexes for index statements), so a statement that cannot run as
written fails before it changes anything; then it runs its MongoDB command."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from queryleaf.errors import SemanticError
from queryleaf.execute.rows import build_rows
from queryleaf.plan.ddl import NO_DOCUMENTS_COLLECTION, DDLPlan
from queryleaf.result import Result

__all__ = ["kind_of", "run_ddl"]

# What a name is: one of these, or None when nothing has that name.
COLLECTION, VIEW = "collection", "view"


def run_ddl(plan: DDLPlan, db: Any) -> Result:
    return _ACTIONS[plan.action](plan, db)


def kind_of(db: Any, name: str) -> tuple[str | None, dict[str, Any]]:
    """What `name` is in `db` ("collection" for collections of any type, or "view"), with
    its listCollections entry."""
    for spec in db.list_collections(filter={"name": name}):
        options = spec.get("options") or {}
        if spec.get("type") == "view" or "viewOn" in options:
            return VIEW, spec
        return COLLECTION, spec
    return None, {}


# -- results and errors ---------------------------------------------------------------------


def _done(plan: DDLPlan, *warnings: str) -> Result:
    return Result(rowcount=-1, plan=plan, warnings=[*plan.warnings, *warnings])


def _word(kind: str | None) -> str:
    return "table" if kind == COLLECTION else "view"


def _missing(plan: DDLPlan, what: str, name: str | None = None) -> SemanticError:
    return SemanticError(
        f"{what} {name or plan.name} does not exist",
        offset=plan.offset,
        hint="SHOW TABLES lists tables and views; add IF EXISTS to ignore a missing one",
        code="QL341",
    )


def _exists(plan: DDLPlan, what: str) -> SemanticError:
    hint = "add IF NOT EXISTS to leave it as it is"
    if plan.action == "create_view":
        hint = "use CREATE OR REPLACE VIEW to change a view, or another name"
    return SemanticError(
        f"{what} {plan.name} already exists", offset=plan.offset, hint=hint, code="QL342"
    )


def _wrong_kind(plan: DDLPlan, message: str, hint: str) -> SemanticError:
    return SemanticError(message, offset=plan.offset, hint=hint, code="QL343")


def _command(db: Any, command: dict[str, Any]) -> Any:
    # A copy: plans are cached and shared, and some drivers edit the document they send.
    return db.command(copy.deepcopy(command))


# -- tables ---------------------------------------------------------------------------------


def _create_table(plan: DDLPlan, db: Any) -> Result:
    kind, _ = kind_of(db, plan.name)
    if kind is not None:
        if plan.if_exists:
            return _done(plan, f"{_word(kind)} {plan.name} already exists: nothing done")
        raise _exists(plan, _word(kind))
    _command(db, plan.command)
    return _done(plan)


def _drop_table(plan: DDLPlan, db: Any) -> Result:
    kind, _ = kind_of(db, plan.name)
    if kind is None:
        if plan.if_exists:
            return _done(plan, f"table {plan.name} does not exist: nothing done")
        raise _missing(plan, "table")
    if kind != COLLECTION:
        raise _wrong_kind(plan, f"{plan.name} is a view, not a table", f"use DROP VIEW {plan.name}")
    _command(db, plan.command)
    return _done(plan)


# -- views ----------------------------------------------------------------------------------


def _create_view(plan: DDLPlan, db: Any) -> Result:
    kind, _ = kind_of(db, plan.name)
    if kind == COLLECTION:
        if plan.if_exists and not plan.replace:
            return _done(plan, f"table {plan.name} already exists: nothing done")
        if plan.replace:
            raise _wrong_kind(
                plan,
                f"{plan.name} is a table, not a view: OR REPLACE replaces views only",
                f"DROP TABLE {plan.name} first, or choose another name",
            )
        raise _exists(plan, "table")
    if kind is not None and not plan.replace:
        if plan.if_exists:
            return _done(plan, f"view {plan.name} already exists: nothing done")
        raise _exists(plan, "view")
    if kind == VIEW:
        _command(db, {"collMod": plan.name, **_definition(plan)})
    else:
        _command(db, plan.command)
    return _done(plan)


def _definition(plan: DDLPlan) -> dict[str, Any]:
    return {"viewOn": plan.command["viewOn"], "pipeline": plan.command["pipeline"]}


def _drop_view(plan: DDLPlan, db: Any) -> Result:
    kind, _ = kind_of(db, plan.name)
    if kind is None:
        if plan.if_exists:
            return _done(plan, f"view {plan.name} does not exist: nothing done")
        raise _missing(plan, "view")
    if kind == COLLECTION:
        raise _wrong_kind(
            plan, f"{plan.name} is a table, not a view", f"use DROP TABLE {plan.name}"
        )
    _command(db, plan.command)
    return _done(plan)


# -- indexes --------------------------------------------------------------------------------


def _index_target(plan: DDLPlan, db: Any) -> str | None:
    """The kind of the index's collection; views have no indexes."""
    kind, spec = kind_of(db, plan.target)
    if kind == VIEW:
        base = (spec.get("options") or {}).get("viewOn")
        raise _wrong_kind(
            plan,
            f"{plan.target} is a view: views have no indexes",
            f"index the collection it reads ({base})" if base else "index a collection",
        )
    return kind


def _create_index(plan: DDLPlan, db: Any) -> Result:
    kind = _index_target(plan, db)
    warnings = []
    if kind is None:
        warnings.append(f"collection {plan.target} did not exist: MongoDB created it")
    elif any(index["name"] == plan.name for index in db[plan.target].list_indexes()):
        if plan.if_exists:
            return _done(plan, f"index {plan.name} already exists on {plan.target}: nothing done")
        raise SemanticError(
            f"index {plan.name} already exists on {plan.target}",
            offset=plan.offset,
            hint="SHOW INDEXES FROM " + plan.target + " lists them; add IF NOT EXISTS to "
            "leave it as it is",
            code="QL342",
        )
    _command(db, plan.command)
    return _done(plan, *warnings)


def _drop_index(plan: DDLPlan, db: Any) -> Result:
    kind = _index_target(plan, db)
    names = [index["name"] for index in db[plan.target].list_indexes()] if kind else []
    if plan.name not in names:
        if plan.if_exists:
            return _done(plan, f"index {plan.name} does not exist on {plan.target}: nothing done")
        if kind is None:
            raise _missing(plan, "table", plan.target)
        raise SemanticError(
            f"index {plan.name} does not exist on {plan.target}",
            offset=plan.offset,
            hint=f"SHOW INDEXES FROM {plan.target} lists its indexes: " + ", ".join(names),
            code="QL341",
        )
    _command(db, plan.command)
    return _done(plan)


# -- catalog --------------------------------------------------------------------------------


def _rows(plan: DDLPlan, rows: list[dict[str, Any]]) -> Result:
    columns = [column.label for column in plan.columns or []]  # type: ignore[union-attr]
    rows = [{column: row.get(column) for column in columns} for row in rows]
    return Result(columns=columns, rows=rows, rowcount=len(rows), plan=plan)


def _show_tables(plan: DDLPlan, db: Any) -> Result:
    found: dict[str, str] = {}
    for spec in db.list_collections(filter=plan.command.get("filter")):
        name = spec["name"]
        if name.startswith("system.") or name == NO_DOCUMENTS_COLLECTION:
            continue
        options = spec.get("options") or {}
        kind = spec.get("type") or "collection"
        found[name] = "view" if "viewOn" in options else kind
    rows = [{"name": name, "type": found[name]} for name in sorted(found)]
    return _rows(plan, rows)


def _show_indexes(plan: DDLPlan, db: Any) -> Result:
    kind, _ = kind_of(db, plan.name)
    if kind is None:
        raise _missing(plan, "table")
    if kind != COLLECTION:
        return _rows(plan, [])  # views have no indexes (MySQL shows none either)
    rows = []
    for index in db[plan.name].list_indexes():
        key = dict(index["key"])
        options = {
            name: value
            for name, value in dict(index).items()
            if name not in {"v", "key", "name", "ns", "unique"}
        }
        rows.append(
            {
                "name": index["name"],
                "columns": ", ".join(_key_text(field, order) for field, order in key.items()),
                "unique": bool(index.get("unique")) or index["name"] == "_id_",
                "options": options or None,
            }
        )
    return _rows(plan, rows)


def _key_text(field: str, order: Any) -> str:
    if order == -1:
        return f"{field} DESC"
    if isinstance(order, str):
        return f"{field} {order.upper()}"
    return field


def _describe(plan: DDLPlan, db: Any) -> Result:
    kind, _ = kind_of(db, plan.name)
    if kind is None:
        raise _missing(plan, "table")
    cursor = db[plan.name].aggregate(copy.deepcopy(plan.command["pipeline"]))
    labels, rows = build_rows(cursor, plan.columns or [])
    return Result(columns=labels, rows=rows, rowcount=len(rows), plan=plan)


_ACTIONS: dict[str, Callable[[DDLPlan, Any], Result]] = {
    "create_table": _create_table,
    "drop_table": _drop_table,
    "create_view": _create_view,
    "drop_view": _drop_view,
    "create_index": _create_index,
    "drop_index": _drop_index,
    "show_tables": _show_tables,
    "show_indexes": _show_indexes,
    "describe": _describe,
}
