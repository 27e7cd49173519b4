"""Plan to Result on a pymongo-compatible Database."""

from __future__ import annotations

from typing import Any

from pymongo.errors import PyMongoError

from queryleaf.errors import ExecutionError, SemanticError
from queryleaf.execute.ddl import run_ddl
from queryleaf.execute.encode_check import ENCODE_ERRORS, check_command, is_encode_error
from queryleaf.execute.encode_check import reason as describe
from queryleaf.execute.index_use import index_notes
from queryleaf.execute.rows import build_rows
from queryleaf.execute.steps import run_steps
from queryleaf.plan.ddl import DDLPlan
from queryleaf.plan.plans import ExplainPlan, Plan
from queryleaf.plan.scalar_rows import is_too_many_rows, too_many_rows
from queryleaf.plan.scalar_steps import StepsPlan
from queryleaf.result import Result
from queryleaf.system_collections import SYSTEM_COLLECTIONS

__all__ = ["run_guarded", "run_plan"]


def run_plan(plan: Any, db: Any) -> Result:
    """Run a find, aggregate, write, DDL or EXPLAIN plan. Live queries and subscription
    statements belong to the rooms above (queryleaf.connection dispatches them)."""
    if isinstance(plan, ExplainPlan):
        warnings, indexes = [], []
        if isinstance(plan.inner, Plan):
            warnings = missing_collections(plan.inner, db)
            if not isinstance(plan.inner, DDLPlan):
                indexes = index_notes(plan.inner, db)
        notes = "\n".join([*plan.inner.notes, *warnings, *indexes]) or None
        return Result(
            columns=["command", "notes"],
            rows=[{"command": plan.inner.to_json(), "notes": notes}],
            plan=plan,
            warnings=[*getattr(plan.inner, "warnings", []), *warnings],
        )
    return run_guarded(plan, lambda: _run(plan, db))


def run_guarded(plan: Any, run: Any) -> Result:
    """`run()`, with MongoDB's refusals turned into QL501 errors naming the plan's command."""
    try:
        return run()
    except ENCODE_ERRORS as error:
        if not is_encode_error(error):
            raise
        raise SemanticError(
            f"the {plan.kind} statement holds a value MongoDB cannot store: {describe(error)}",
            hint="integers must fit 64 bits, strings must be valid Unicode, field names "
            "must not contain NUL",
            code="QL308",
        ) from None
    except RecursionError:
        raise ExecutionError(
            f"the {plan.kind} command nests too deeply for the engine",
            hint="flatten the statement (a CTE or derived table per step)",
            code="QL501",
        ) from None
    except PyMongoError as error:
        from queryleaf.engines.mongodb import unreachable_error

        if is_too_many_rows(error):  # a scalar subquery's several rows (MySQL 1242)
            raise too_many_rows() from None

        unreachable = unreachable_error(error)
        if unreachable is not None:
            raise unreachable from error
        raise ExecutionError(
            f"MongoDB refused the {plan.kind} command: {_describe(error)}",
            hint="run EXPLAIN on the statement to see the command",
            code="QL501",
        ) from error


def _run(plan: Plan, db: Any) -> Result:
    if isinstance(plan, StepsPlan):
        return run_steps(plan, db, _run)
    if isinstance(plan, DDLPlan):  # CREATE/DROP/SHOW/DESCRIBE: queryleaf.execute.ddl
        return run_ddl(plan, db)
    command = plan.command
    kind = plan.kind
    check_command(kind, command)  # nothing is sent unless all of it can be
    if kind == "find":
        cursor = db[command["find"]].find(
            command.get("filter") or {},
            command.get("projection"),
            sort=list(command["sort"].items()) if command.get("sort") else None,
            skip=command.get("skip", 0),
            limit=command.get("limit", 0),
        )
        if command.get("limit") == 0:
            # find's limit 0 means "no limit"; SQL's LIMIT 0 means no rows.
            cursor = iter(())
        return _rows(plan, cursor)
    if kind == "aggregate":
        target = db if command["aggregate"] == 1 else db[command["aggregate"]]
        count = -1
        if plan.columns is None and plan.count_command is not None:
            counted = list(target.aggregate(plan.count_command["pipeline"]))
            count = int(counted[0]["n"]) if counted else 0
        cursor = target.aggregate(command["pipeline"])
        if plan.columns is None:
            for _ in cursor:
                pass
            return Result(rowcount=count, plan=plan)
        return _rows(plan, cursor)
    if kind == "insert":
        documents = [dict(d) for d in command["documents"]]
        inserted = db[command["insert"]].insert_many(documents, ordered=True)
        return Result(rowcount=len(inserted.inserted_ids), plan=plan)
    if kind == "update":
        (statement,) = command["updates"]
        collection = db[command["update"]]
        method = collection.update_many if statement["multi"] else collection.update_one
        updated = method(statement["q"], statement["u"])
        return Result(rowcount=updated.matched_count, plan=plan)
    if kind == "delete":
        (statement,) = command["deletes"]
        collection = db[command["delete"]]
        method = collection.delete_one if statement["limit"] == 1 else collection.delete_many
        deleted = method(statement["q"])
        return Result(rowcount=deleted.deleted_count, plan=plan)
    raise AssertionError(f"unknown plan kind {kind}")


def _rows(plan: Plan, cursor: Any) -> Result:
    labels, rows = build_rows(cursor, plan.columns or [])
    return Result(columns=labels, rows=rows, rowcount=len(rows), plan=plan)


def _describe(error: PyMongoError) -> str:
    details = getattr(error, "details", None)
    if isinstance(details, dict):
        write_errors = details.get("writeErrors") or []
        if write_errors and write_errors[0].get("errmsg"):
            return str(write_errors[0]["errmsg"])  # a bulk write: its first failure
        if details.get("errmsg"):
            return str(details["errmsg"])
    return str(error)


def collections_read(command: dict[str, Any]) -> set[str]:
    """Collections a command reads, nested $lookup/$unionWith pipelines included."""
    names: set[str] = set()
    target = command.get("find") or command.get("aggregate")
    if isinstance(target, str):
        names.add(target)
    stack: list[Any] = [command.get("pipeline") or []]
    while stack:
        current = stack.pop()
        if isinstance(current, list):
            stack.extend(current)
        elif isinstance(current, dict):
            for key, value in current.items():
                if key == "$lookup" and isinstance(value, dict) and "from" in value:
                    names.add(value["from"])
                if key == "$unionWith":
                    coll = value if isinstance(value, str) else value.get("coll")
                    if coll:
                        names.add(coll)
                stack.append(value)
    return names


def missing_collections(plan: Plan, db: Any) -> list[str]:
    """Notes for collections the plan reads that do not exist (not an error: a missing
    collection reads as empty, as in MongoDB)."""
    # queryleaf's own collections appear when the runtime first writes them: no warning.
    wanted = collections_read(plan.command) - set(SYSTEM_COLLECTIONS)
    if not wanted:
        return []
    try:
        existing = set(db.list_collection_names())
    except PyMongoError:
        return []
    return [f"collection {name} does not exist" for name in sorted(wanted - existing)]
