"""WHERE clauses to MongoDB query filters. Each conjunct becomes a query-language predicate
when it is a plain path compared with constants (so indexes apply), and `$expr` over the
exact three-valued translation otherwise. Nothing is ever dropped: a conjunct that cannot
be translated raises."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from bson import ObjectId, Regex
from sqlglot import exp

from queryleaf.plan import mql
from queryleaf.plan.decimal_literals import decimal_form, range_bound, with_decimal_forms
from queryleaf.plan.expressions import (
    COMPARISONS,
    FLIPPED,
    NEGATED,
    ExprCompiler,
    expand_object_ids,
    like_pattern,
)
from queryleaf.plan.literals import (
    Bindings,
    NotConstant,
    constant_value,
    is_object_id_text,
    moved_date,
    parse_datetime,
)
from queryleaf.plan.paths import reference_parts
from queryleaf.plan.scope import chain_terms, split_conjuncts

FALSE_FILTER: dict[str, Any] = {"$expr": False}
_ARITHMETIC: dict[type, Callable[[Any, Any], Any]] = {
    exp.Add: lambda a, b: a + b,
    exp.Sub: lambda a, b: a - b,
    exp.Mul: lambda a, b: a * b,
}

PathOf = Callable[[exp.Expression], str | None]


class FilterCompiler:
    """`path_of` gives the query-language path of a reference, or None when the reference
    is not a field of the documents being filtered (then `$expr` is used)."""

    def __init__(self, path_of: PathOf, exprs: ExprCompiler, bindings: Bindings | None) -> None:
        self.path_of = path_of
        self.exprs = exprs
        self.bindings = bindings

    def compile(self, conjuncts: list[exp.Expression]) -> dict[str, Any]:
        return merge_and([self.conjunct(c) for c in conjuncts])

    def compile_where(self, where: exp.Expression | None) -> dict[str, Any]:
        return self.compile(split_conjuncts(where))

    def conjunct(self, node: exp.Expression) -> dict[str, Any]:
        query = self.query(node, negate=False)
        if query is not None:
            return query
        truth = self.exprs.truth(node)
        if truth is True:
            return {}
        if truth is False:
            return dict(FALSE_FILTER)
        return {"$expr": truth}

    # Each case returns a filter, or None to let the caller fall back to $expr.
    def query(self, node: exp.Expression, negate: bool) -> dict[str, Any] | None:
        if isinstance(node, exp.Paren):
            return self.query(node.this, negate)
        if isinstance(node, exp.Not):
            return self.query(node.this, not negate)
        if isinstance(node, exp.And | exp.Or):
            parts = []
            for term in chain_terms(node):  # a long chain is one flat list
                part = self.query(term, negate)
                if part is None:
                    return None
                parts.append(part)
            conjunction = isinstance(node, exp.And) != negate
            return merge_and(parts) if conjunction else merge_or(parts)
        if isinstance(node, exp.Boolean):
            return {} if bool(node.this) != negate else dict(FALSE_FILTER)
        if type(node) in COMPARISONS:
            return self._comparison(node, negate)
        if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
            path = self._path(node.this)
            if path is None:
                return None
            return {path: {"$ne": None}} if negate else {path: None}
        if isinstance(node, exp.In) and not node.args.get("query"):
            return self._in(node, negate)
        if isinstance(node, exp.Between):
            return self._between(node, negate)
        if isinstance(node, exp.Like | exp.ILike | exp.Escape):
            return self._like(node, negate)
        return None

    def _path(self, node: exp.Expression) -> str | None:
        parts = reference_parts(node)
        if parts is None:
            return None
        if any(isinstance(part, int) and part < 0 for part in parts):
            return None  # items[-1] counts from the end: $arrayElemAt in $expr, not a path
        return self.path_of(node)

    def _constant(self, node: exp.Expression) -> Any:
        try:
            return constant_value(node, self.bindings)
        except NotConstant:
            return self._arithmetic(node)

    def _arithmetic(self, node: exp.Expression) -> Any:
        """`x > 5 * 2`: +, - and * of constant numbers fold (as the server would compute
        them), so the comparison stays a query operator an index can serve."""
        while isinstance(node, exp.Paren):
            node = node.this
        if isinstance(node, exp.DateAdd | exp.DateSub) or (
            isinstance(node, exp.Add | exp.Sub) and isinstance(node.expression, exp.Interval)
        ):
            return self._moved_date(node)
        operation = _ARITHMETIC.get(type(node))
        if operation is None or isinstance(node.expression, exp.Interval):
            return NotConstant
        a, b = self._constant(node.this), self._constant(node.expression)
        if not all(type(v) in (int, float) for v in (a, b)):
            return NotConstant
        result = operation(a, b)
        if isinstance(result, int) and not -(2**63) <= result < 2**63:
            return NotConstant  # out of BIGINT's range: MySQL refuses it, $expr reports it
        return result

    def _comparison(self, node: exp.Expression, negate: bool) -> dict[str, Any] | None:
        op = COMPARISONS[type(node)]
        left, right = node.this, node.expression
        path = self._path(left)
        value = self._constant(right)
        if path is None or value is NotConstant:
            path = self._path(right)
            value = self._constant(left)
            op = FLIPPED[op]
            if path is None or value is NotConstant:
                return None
        if negate:
            op = NEGATED[op]
        if value is None:
            return dict(FALSE_FILTER)  # a comparison with NULL is never TRUE
        if not queryable(value):
            return None  # document equality and regex values: exact in $expr
        written = decimal_form(value)  # 19.99: also the decimal it was written as
        if op == "$eq":
            if is_object_id_text(value):
                return {path: {"$in": [ObjectId(value), value]}}
            return {path: {"$in": [value, written]}} if written is not None else {path: value}
        if written is not None:
            if op == "$ne":
                return {path: {"$nin": [value, written], "$type": "number"}}
            return {path: {op: range_bound(op, value, written)}}
        if op == "$ne":
            if is_object_id_text(value):
                return {path: {"$nin": [ObjectId(value), value], "$type": ["string", "objectId"]}}
            kind = mql.type_name_of(value)
            if kind is None:
                return {path: {"$nin": [value, None]}}
            return {path: {"$ne": value, "$type": kind}}
        return {path: {op: value}}

    def _in(self, node: exp.In, negate: bool) -> dict[str, Any] | None:
        path = self._path(node.this)
        values = [self._constant(item) for item in node.expressions]
        if path is None or any(v is NotConstant for v in values):
            return None
        if not all(queryable(v) for v in values):
            return None
        present = with_decimal_forms(expand_object_ids([v for v in values if v is not None]))
        if not negate:
            return {path: {"$in": present}} if present else dict(FALSE_FILTER)
        if None in values:
            return dict(FALSE_FILTER)  # x NOT IN (..., NULL) is never TRUE
        kinds = {mql.type_name_of(v) for v in present}
        if kinds == {"string", "objectId"}:
            return {path: {"$nin": present, "$type": ["string", "objectId"]}}
        if len(kinds) == 1 and None not in kinds:
            return {path: {"$nin": present, "$type": kinds.pop()}}
        if None in kinds:
            return {path: {"$nin": [*present, None]}}
        return None  # mixed types: $expr keeps type bracketing

    def _between(self, node: exp.Between, negate: bool) -> dict[str, Any] | None:
        path = self._path(node.this)
        low = self._constant(node.args["low"])
        high = self._constant(node.args["high"])
        if path is None or low is NotConstant or high is NotConstant:
            return None
        if low is None or high is None:
            return None
        if negate:
            return {"$or": [{path: {"$lt": low}}, {path: {"$gt": high}}]}
        return {path: {"$gte": low, "$lte": high}}

    def _like(self, node: exp.Expression, negate: bool) -> dict[str, Any] | None:
        like = node.this if isinstance(node, exp.Escape) else node
        path = self._path(like.this)
        if path is None or self._constant(like.expression) is NotConstant:
            return None
        pattern = like_pattern(node, self.bindings)
        if like.args.get("negate"):
            negate = not negate
        # A BSON regex value, not {$regex: "...", $options: "..."}: Extended JSON readers
        # (pymongo's json_util, mongosh's EJSON) read a string $regex beside other operators
        # ($ne, $type) as a bare regex and drop the others, so EXPLAIN would not round-trip.
        regex = {"$regex": Regex(pattern.regex, pattern.options)}
        if negate:
            return {path: {"$not": regex, "$type": "string"}}
        return {path: regex}

    def _moved_date(self, node: exp.Expression) -> Any:
        """`DATE_ADD(TIMESTAMP '2024-01-01 00:00:00', INTERVAL 3 DAY)` and `'2024-01-01' +
        INTERVAL 1 MONTH` with whole amounts fold to the date (as $dateAdd computes it)."""
        start = self._constant(node.this)
        if isinstance(start, str):
            start = parse_datetime(start, node.this)
        if not isinstance(start, dt.datetime):
            return NotConstant
        if isinstance(node, exp.DateAdd | exp.DateSub):
            amount, unit = node.expression, node.args.get("unit")
        else:
            amount, unit = node.expression.this, node.expression.args.get("unit")
        sign = -1 if isinstance(node, exp.DateSub | exp.Sub) else 1
        try:
            return moved_date(start, amount, unit, sign)
        except NotConstant:
            return NotConstant


def queryable(value: Any) -> bool:
    """Whether a constant means itself in a query filter. Documents and arrays have subtle
    matching rules there, and a regex (a bound re.Pattern or bson Regex) would become a
    pattern match instead of an equality: those compare in $expr, exactly."""
    return not isinstance(value, dict | list | re.Pattern | Regex)


def merge_and(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """AND of filters: merged into one document where field names do not collide."""
    kept = [p for p in parts if p != {}]
    if any(p == FALSE_FILTER for p in kept):
        return dict(FALSE_FILTER)
    merged: dict[str, Any] = {}
    overflow: list[dict[str, Any]] = []
    for part in kept:
        for key, condition in part.items():
            if key not in merged:
                merged[key] = condition
            elif not key.startswith("$") and _mergeable(merged[key], condition):
                # Operator documents of one field combine ({$gte} and {$lte}); top-level
                # operators ($expr, $or, ...) never do: each is one expression.
                merged[key] = {**merged[key], **condition}
            else:
                overflow.append({key: condition})
    if not overflow:
        return merged
    return {"$and": [{k: v} for k, v in merged.items()] + overflow}


def _mergeable(a: Any, b: Any) -> bool:
    return (
        isinstance(a, dict)
        and isinstance(b, dict)
        and all(k.startswith("$") for k in [*a, *b])
        and not set(a) & set(b)
    )


def merge_or(parts: list[dict[str, Any]]) -> dict[str, Any]:
    kept = [p for p in parts if p != FALSE_FILTER]
    if any(p == {} for p in kept):
        return {}
    if not kept:
        return dict(FALSE_FILTER)
    if len(kept) == 1:
        return kept[0]
    flat: list[dict[str, Any]] = []
    for part in kept:
        flat.extend(part["$or"] if list(part) == ["$or"] else [part])
    return {"$or": flat}
