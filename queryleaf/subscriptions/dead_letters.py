"""DISCARD DEAD_LETTER_EVENTS FOR name [WHERE ...]: removes dead letters of one
subscription, with the WHERE translated like any other (columns of DEAD_LETTER_EVENTS())."""

from __future__ import annotations

from typing import Any

from queryleaf.errors import QueryLeafError, SemanticError
from queryleaf.parse import parse_sql
from queryleaf.parse.extensions import DeadLetterCommand
from queryleaf.plan import mql
from queryleaf.plan.expressions import ExprCompiler
from queryleaf.plan.filters import FilterCompiler, merge_and
from queryleaf.plan.paths import dotted
from queryleaf.plan.scope import Relation, Scope
from queryleaf.result import Result
from queryleaf.subscriptions.event_columns import DEAD_LETTERS, SUBSCRIPTIONS


def dead_letter_filter(command: DeadLetterCommand, db: Any) -> dict[str, Any]:
    subscription = db[SUBSCRIPTIONS].find_one({"_id": command.name})
    if subscription is None:
        raise SemanticError(
            f"event subscription {command.name} does not exist",
            hint="SHOW EVENT_SUBSCRIPTIONS lists them",
            code="QL322",
        )
    query: dict[str, Any] = {"subscription_id": subscription["subscription_id"]}
    if command.condition is None:
        return query
    try:
        select = parse_sql(f"SELECT 1 FROM {DEAD_LETTERS} WHERE {command.condition}")
    except QueryLeafError as error:
        error.offset = command.condition_offset
        raise
    scope = Scope([Relation(DEAD_LETTERS, DEAD_LETTERS)])
    exprs = ExprCompiler(lambda node: mql.path_expr(scope.full_path(node)))
    filters = FilterCompiler(lambda node: dotted(scope.full_path(node)), exprs, None)
    try:
        condition = filters.compile_where(select.args["where"].this)
    except QueryLeafError as error:
        error.node = None
        error.offset = command.condition_offset
        raise
    return merge_and([query, condition])


def discard(command: DeadLetterCommand, db: Any, plan: Any) -> Result:
    query = dead_letter_filter(command, db)
    deleted = db[DEAD_LETTERS].delete_many(query).deleted_count
    return Result(rowcount=deleted, plan=plan)
