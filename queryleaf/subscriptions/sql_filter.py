"""SQL conditions over the CHANGE_STREAM_EVENTS() columns, evaluated against raw change
events: the event_filter of a subscription given as a string, and the WHERE of a live
query."""

from __future__ import annotations

import difflib
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError as SqlglotParseError

from queryleaf.errors import ParseError, SemanticError
from queryleaf.plan import mql
from queryleaf.plan.expressions import ExprCompiler
from queryleaf.plan.filters import FilterCompiler
from queryleaf.plan.literals import Bindings
from queryleaf.plan.paths import dotted, reference_parts
from queryleaf.subscriptions.event_columns import EVENT_COLUMNS, LIVE_PATHS

# Live columns whose value is not a plain path of the event.
COMPUTED: dict[str, Any] = {
    "resume_token_timestamp": {"$toDate": "$clusterTime"},
}


class LiveColumns:
    """Resolves CHANGE_STREAM_EVENTS() columns against raw change events. `constants` are
    the columns a subscription fixes (subscription_id, service_name); other columns that
    are not in the event are NULL in live rows."""

    def __init__(self, constants: dict[str, Any] | None = None, qualifiers: set[str] | None = None):
        self.constants = constants or {}
        self.qualifiers = qualifiers or set()

    def split(self, node: exp.Expression) -> tuple[str, tuple[str | int, ...]]:
        parts = reference_parts(node) or []
        if len(parts) > 1 and parts[0] in self.qualifiers:
            parts = parts[1:]
        column = str(parts[0]) if parts else ""
        if column not in LIVE_PATHS:
            close = difflib.get_close_matches(column, EVENT_COLUMNS, n=1)
            raise SemanticError(
                f"CHANGE_STREAM_EVENTS() has no column {column}",
                node=node,
                hint=(f"did you mean {close[0]}? " if close else "")
                + "columns: "
                + ", ".join(EVENT_COLUMNS),
                code="QL314",
            )
        return column, tuple(parts[1:])

    def value(self, node: exp.Expression) -> Any:
        column, rest = self.split(node)
        path = LIVE_PATHS[column]
        if column in COMPUTED and not rest:
            return COMPUTED[column]
        if path is None:
            value = self.constants.get(column)
            if rest:
                return None
            return mql.literal(value)
        return mql.path_expr((*path, *rest))

    def query_path(self, node: exp.Expression) -> str | None:
        column, rest = self.split(node)
        path = LIVE_PATHS[column]
        if path is None or column in COMPUTED:
            return None
        return dotted((*path, *rest))


def live_filter(
    condition: exp.Expression, columns: LiveColumns, bindings: Bindings | None
) -> dict[str, Any]:
    exprs = ExprCompiler(columns.value, bindings)
    return FilterCompiler(columns.query_path, exprs, bindings).compile_where(condition)


def sql_event_filter(text: str, options: dict[str, Any], offset: int | None) -> dict[str, Any]:
    """A subscription's event_filter written as SQL, to a $match over the change event."""
    try:
        condition = sqlglot.parse_one(text, read="mysql")
    except SqlglotParseError as error:
        detail = error.errors[0] if error.errors else {}
        column = int(detail.get("col") or 1)
        raise ParseError(
            f"event_filter is not a valid SQL condition: {detail.get('description', error)}",
            offset=(offset or 0) + column,
            code="QL101",
        ) from None
    constants = {
        "subscription_id": options.get("subscription_id"),
        "service_name": options.get("service_name"),
    }
    try:
        return live_filter(condition, LiveColumns(constants), None)
    except SemanticError as error:
        # Positions inside the string are relative to the string, not the statement.
        error.node = None
        error.offset = offset
        raise
