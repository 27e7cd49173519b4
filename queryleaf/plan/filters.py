"""WHERE clauses to MongoDB query filters. Each conjunct becomes a query-language predicate
when it is a plain path compared with constants (so indexes apply), and `$expr` over the
exact three-valued translation otherwise. Nothing is ever dropped: a conjunct that cannot
be translated raises."""

from __future__ import annotations

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
from queryleaf.plan.literals import Bindings, NotConstant, constant_value, is_object_id_text
from queryleaf.plan.paths import reference_parts
from queryleaf.plan.scope import split_conjuncts

FALSE_FILTER: dict[str, Any] = {"$expr": False}

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
            left = self.query(node.this, negate)
            right = self.query(node.expression, negate)
            if left is None or right is None:
                return None
            conjunction = isinstance(node, exp.And) != negate
            return merge_and([left, right]) if conjunction else merge_or([left, right])
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
        if reference_parts(node) is None:
            return None
        return self.path_of(node)

    def _constant(self, node: exp.Expression) -> Any:
        try:
            return constant_value(node, self.bindings)
        except NotConstant:
            return NotConstant

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
