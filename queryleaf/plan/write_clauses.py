"""Clauses of INSERT, UPDATE and DELETE that queryleaf does not translate are refused, not
dropped: `INSERT IGNORE`, `ON DUPLICATE KEY UPDATE` / `ON CONFLICT` and `RETURNING` would
otherwise run as the plain statement (a duplicate key failing instead of updating or being
skipped, no rows returned)."""

from __future__ import annotations

from sqlglot import exp

from queryleaf.errors import UnsupportedError


def refuse_dropped_clauses(statement: exp.Expression) -> None:
    verb = statement.key.upper()
    conflict = statement.args.get("conflict")
    if isinstance(statement, exp.Insert) and conflict is not None:
        duplicate = bool(conflict.args.get("duplicate"))
        raise UnsupportedError(
            "INSERT ... ON DUPLICATE KEY UPDATE is not supported"
            if duplicate
            else "INSERT ... ON CONFLICT is not supported",
            node=conflict,
            hint="run an UPDATE for the rows that exist and an INSERT for the others",
            code="QL201",
        )
    if isinstance(statement, exp.Insert) and statement.args.get("ignore"):
        raise UnsupportedError(
            "INSERT IGNORE is not supported",
            node=statement,
            hint="insert only the rows whose keys are new (INSERT ... SELECT with a WHERE "
            "NOT EXISTS), or insert them one statement at a time",
            code="QL201",
        )
    returning = statement.args.get("returning")
    if returning is not None:
        raise UnsupportedError(
            f"{verb} ... RETURNING is not supported",
            node=returning,
            hint=f"run the {verb}, then SELECT the rows it changed",
            code="QL201",
        )
