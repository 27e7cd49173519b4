"""SQL expressions to MQL aggregation expressions, with SQL's NULL semantics.

Every boolean expression has three translations: `value` (true, false or null, for the
select list), `truth` (true exactly when the SQL value is TRUE: what WHERE, HAVING and ON
keep) and `falsity` (true exactly when it is FALSE, which NOT needs under three-valued
logic)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bson import ObjectId
from sqlglot import exp

from queryleaf.errors import SemanticError, UnsupportedError
from queryleaf.plan import mql
from queryleaf.plan.aggregate_calls import is_aggregate
from queryleaf.plan.decimal_literals import decimal_form, range_bound, with_decimal_forms
from queryleaf.plan.functions import translate_function
from queryleaf.plan.literals import (
    Bindings,
    NotConstant,
    constant_value,
    could_be_constant,
    is_object_id_text,
)
from queryleaf.plan.paths import reference_parts
from queryleaf.plan.scope import chain_terms
from queryleaf.plan.shared_values import bind_repeated
from queryleaf.plan.value_kinds import compare_number_or_null, number_or_null

ColumnResolver = Callable[[exp.Expression], Any]
SubqueryHook = Callable[..., Any]
AggregateResolver = Callable[[exp.Expression], Any]

COMPARISONS: dict[type, str] = {
    exp.EQ: "$eq",
    exp.NEQ: "$ne",
    exp.GT: "$gt",
    exp.GTE: "$gte",
    exp.LT: "$lt",
    exp.LTE: "$lte",
}
NEGATED = {"$eq": "$ne", "$ne": "$eq", "$gt": "$lte", "$gte": "$lt", "$lt": "$gte", "$lte": "$gt"}
FLIPPED = {"$eq": "$eq", "$ne": "$ne", "$gt": "$lt", "$gte": "$lte", "$lt": "$gt", "$lte": "$gte"}


PREDICATES = (
    exp.And,
    exp.Or,
    exp.Not,
    exp.Xor,
    exp.Is,
    exp.In,
    exp.Between,
    exp.Like,
    exp.ILike,
    exp.Escape,
    exp.RegexpLike,
    exp.NullSafeEQ,
    exp.Exists,
    *COMPARISONS,
)


class ExprCompiler:
    """Translates expressions in one scope. `column` maps a column reference to an MQL
    expression; `aggregate` maps an aggregate call (None where aggregates are not allowed);
    `substitute` may replace a whole sub-expression (GROUP BY keys after $group)."""

    def __init__(
        self,
        column: ColumnResolver,
        bindings: Bindings | None = None,
        aggregate: AggregateResolver | None = None,
        substitute: Callable[[exp.Expression], Any] | None = None,
        subquery: SubqueryHook | None = None,
    ) -> None:
        self.column = column
        self.bindings = bindings
        self.aggregate = aggregate
        self.substitute = substitute
        self.subquery = subquery
        # Field references known to hold a number or null (a group's $count, $sum, $avg).
        self.numbers: set[str] = set()
        # Each node's value, compiled once (node kept so that its id stays its own).
        self._values: dict[int, tuple[exp.Expression, Any]] = {}

    def _subquery(
        self, node: exp.Expression, mode: str, operand: exp.Expression | None = None
    ) -> Any:
        """A subquery through the hook of the SELECT being compiled: "scalar" gives its value,
        "in" and "exists" give (truth, falsity)."""
        select = node.this if isinstance(node, exp.Subquery) else node
        if self.subquery is None or not isinstance(select, exp.Select | exp.SetOperation):
            raise UnsupportedError(
                "a subquery cannot be used here",
                node=node,
                hint="subqueries work in the select list, WHERE and HAVING of a SELECT",
                code="QL201",
            )
        return self.subquery(select, mode, self, operand)

    # -- values ---------------------------------------------------------------------------

    def value(self, node: exp.Expression) -> Any:
        """The node's value, compiled once; operands it repeats are bound once (`$let`), so
        the plan grows linearly with nesting (queryleaf/plan/shared_values.py)."""
        known = self._values.get(id(node))
        if known is not None and known[0] is node:
            return known[1]
        result = self._value(node)
        if isinstance(result, dict):
            operands = [self._values.get(id(child)) for child in node.iter_expressions()]
            result = bind_repeated(result, [o[1] for o in operands if o is not None])
        self._values[id(node)] = (node, result)
        return result

    def _value(self, node: exp.Expression) -> Any:
        if self.substitute is not None:
            replaced = self.substitute(node)
            if replaced is not mql.Missing:
                return replaced
        if could_be_constant(node):
            try:
                return mql.literal(constant_value(node, self.bindings))
            except NotConstant:
                pass
        if isinstance(node, exp.Paren):
            return self.value(node.this)
        if isinstance(node, exp.Subquery):
            return self._subquery(node, "scalar")
        if reference_parts(node) is not None:
            return self.column(node)
        if isinstance(node, exp.Window):
            raise SemanticError(
                "window functions (OVER) are allowed only in the select list and ORDER BY",
                node=node,
                hint="compute the window in a CTE or derived table, then filter on it",
                code="QL305",
            )
        if is_aggregate(node):
            if self.aggregate is None:
                raise SemanticError(
                    f"aggregate {node.sql('mysql')} is not allowed here",
                    node=node,
                    hint="aggregates belong in the select list, HAVING or ORDER BY of a "
                    "grouped query",
                    code="QL305",
                )
            return self.aggregate(node)
        if isinstance(node, (*PREDICATES, exp.Boolean)):
            return self._predicate_value(node)
        return translate_function(self, node)

    def _predicate_value(self, node: exp.Expression) -> Any:
        truth = self.truth(node)
        if _never_null(node):  # one subquery, not a second one for the NOT
            return mql.cond(truth, True, False)
        falsity = self.falsity(node)
        return mql.cond(truth, True, mql.cond(falsity, False, None))

    # -- truth ------------------------------------------------------------------------------

    def truth(self, node: exp.Expression) -> Any:
        return self._logic(node, negate=False)

    def falsity(self, node: exp.Expression) -> Any:
        return self._logic(node, negate=True)

    def _logic(self, node: exp.Expression, negate: bool) -> Any:
        if isinstance(node, exp.Paren):
            return self._logic(node.this, negate)
        if isinstance(node, exp.And):
            parts = [self._logic(term, negate) for term in chain_terms(node)]
            return mql.or_(*parts) if negate else mql.and_(*parts)
        if isinstance(node, exp.Or):
            parts = [self._logic(term, negate) for term in chain_terms(node)]
            return mql.and_(*parts) if negate else mql.or_(*parts)
        if isinstance(node, exp.Not):
            return self._logic(node.this, not negate)
        if isinstance(node, exp.Xor):
            a, b = node.this, node.expression
            if negate:
                return mql.or_(
                    mql.and_(self.truth(a), self.truth(b)),
                    mql.and_(self.falsity(a), self.falsity(b)),
                )
            return mql.or_(
                mql.and_(self.truth(a), self.falsity(b)),
                mql.and_(self.falsity(a), self.truth(b)),
            )
        if type(node) in COMPARISONS:
            op = COMPARISONS[type(node)]
            return self.compare(NEGATED[op] if negate else op, node.this, node.expression)
        if isinstance(node, exp.NullSafeEQ):
            a = self.value(node.this)
            b = self.value(node.expression)
            same = {"$eq": [{"$ifNull": [a, None]}, {"$ifNull": [b, None]}]}
            return mql.not_(same) if negate else same
        if isinstance(node, exp.Is):
            return self._is(node, negate)
        if isinstance(node, exp.In):
            return self._in(node, negate)
        if isinstance(node, exp.Between):
            low = exp.GTE(this=node.this, expression=node.args["low"])
            high = exp.LTE(this=node.this, expression=node.args["high"])
            if negate:
                return mql.or_(self.falsity(low), self.falsity(high))
            return mql.and_(self.truth(low), self.truth(high))
        if isinstance(node, exp.Like | exp.ILike | exp.Escape):
            return self._like(node, negate)
        if isinstance(node, exp.RegexpLike):
            return self._regexp(node, negate)
        if isinstance(node, exp.Boolean):
            return (not node.this) if negate else bool(node.this)
        if isinstance(node, exp.Exists):
            truth, falsity = self._subquery(node.this, "exists")
            return falsity if negate else truth
        # Any other value used as a condition (`WHERE v`): MySQL's numeric truth for numbers
        # and booleans (non-zero is TRUE, zero FALSE); NULL, missing and every other type
        # (strings, dates, documents, arrays) are UNKNOWN: neither `WHERE v` nor
        # `WHERE NOT v` keeps them, as a comparison across types (docs/sql.md).
        value = self.value(node)
        if mql.is_constant(value):
            constant = mql.constant_of(value)
            if isinstance(constant, int | float):  # bool is an int
                truthy = bool(constant)
                return (not truthy) if negate else truthy
            return False
        if negate:
            return {"$in": [value, [False, 0]]}
        numeric = mql.or_({"$isNumber": value}, {"$eq": [{"$type": value}, "bool"]})
        return mql.and_(numeric, {"$not": [{"$in": [value, [False, 0]]}]})

    def compare(self, op: str, left: exp.Expression, right: exp.Expression) -> Any:
        """True exactly when `left op right` is TRUE in SQL: both sides non-null and of
        comparable types (MongoDB's type bracketing: other pairs never match)."""
        a = self.value(left)
        b = self.value(right)
        return compare_values(op, a, b, frozenset(self.numbers))

    def _is(self, node: exp.Is, negate: bool) -> Any:
        target = node.expression
        a = self.value(node.this)
        if isinstance(target, exp.Null):
            test = mql.is_null(a)
        elif isinstance(target, exp.Boolean):
            if target.this:
                test = mql.and_(mql.not_null(a), {"$not": [{"$in": [a, [False, 0]]}]})
            else:
                test = {"$in": [a, [False, 0]]}
        else:
            raise UnsupportedError(
                f"IS {target.sql('mysql')} is not supported",
                node=node,
                hint="use IS NULL, IS TRUE or IS FALSE",
                code="QL201",
            )
        return mql.not_(test) if negate else test

    def _in(self, node: exp.In, negate: bool) -> Any:
        if node.args.get("query") is not None:
            truth, falsity = self._subquery(node.args["query"], "in", node.this)
            return falsity if negate else truth
        if node.args.get("unnest") is not None:
            raise UnsupportedError("IN UNNEST is not supported", node=node, code="QL201")
        a = self.value(node.this)
        items = [self.value(item) for item in node.expressions]
        constants = [mql.constant_of(i) for i in items if mql.is_constant(i)]
        others = [i for i in items if not mql.is_constant(i)]
        has_null = any(c is None for c in constants)
        values = with_decimal_forms(expand_object_ids([c for c in constants if c is not None]))
        if negate:
            if has_null:
                return False
            parts = [mql.not_null(a)]
            if values:
                parts.append(bracket_for_list(a, values))
                parts.append({"$not": [{"$in": [a, mql.literal(values)]}]})
            parts.extend(compare_values("$ne", a, other) for other in others)
            return mql.and_(*parts)
        options = []
        if values:
            options.append(mql.and_(mql.not_null(a), {"$in": [a, mql.literal(values)]}))
        options.extend(compare_values("$eq", a, other) for other in others)
        return mql.or_(*options)

    def _like(self, node: exp.Expression, negate: bool) -> Any:
        pattern = like_pattern(node, self.bindings)
        like = node.this if isinstance(node, exp.Escape) else node
        if like.args.get("negate"):
            negate = not negate
        a = self.value(like.this)
        regex = {"$regexMatch": {"input": a, "regex": pattern.regex, "options": pattern.options}}
        is_string = {"$eq": [{"$type": a}, "string"]}
        matched = mql.cond(is_string, regex, False)
        if negate:
            return mql.cond(is_string, {"$not": [regex]}, False)
        return matched

    def _regexp(self, node: exp.RegexpLike, negate: bool) -> Any:
        a = self.value(node.this)
        pattern = self.value(node.expression)
        if not mql.is_constant(pattern) or not isinstance(mql.constant_of(pattern), str):
            raise UnsupportedError(
                "REGEXP needs a constant pattern", node=node.expression, code="QL201"
            )
        regex = {"$regexMatch": {"input": a, "regex": mql.constant_of(pattern)}}
        is_string = {"$eq": [{"$type": a}, "string"]}
        return mql.cond(is_string, {"$not": [regex]} if negate else regex, False)


def compare_values(op: str, a: Any, b: Any, numbers: frozenset[str] = frozenset()) -> Any:
    """`numbers`: field references known to hold a number or null."""
    if mql.is_constant(a) and not mql.is_constant(b):
        return compare_values(FLIPPED[op], b, a, numbers)
    if mql.is_constant(b):
        constant = mql.constant_of(b)
        if constant is None:
            return False
        if mql.is_constant(a):
            return _fold_comparison(op, mql.constant_of(a), constant)
        if op in {"$eq", "$ne"} and is_object_id_text(constant):
            both = [ObjectId(constant), constant]
            member = {"$in": [a, both]}
            if op == "$eq":
                return member
            kinds = {"$in": [{"$type": a}, ["string", "objectId"]]}
            return mql.and_(kinds, {"$not": [member]})
        written = decimal_form(constant)  # 19.99: also the decimal it was written as
        if written is not None and op == "$eq":
            return {"$in": [a, [constant, written]]}
        if written is not None and op != "$ne":
            b = range_bound(op, constant, written)
        if op == "$eq":
            return {op: [a, b]}  # a NULL or missing a never equals a non-NULL constant
        if mql.type_name_of(constant) == "number" and number_or_null(a, numbers):
            return compare_number_or_null(op, a, b, written)  # no type test needed
        if isinstance(a, dict) and "$literal" not in a:
            # A computed operand is evaluated once, then tested and compared.
            return {"$let": {"vars": {"cmp": a}, "in": compare_values(op, "$$cmp", b)}}
        guard = mql.type_guard(a, constant)
        if written is not None and op == "$ne":
            return mql.and_(guard, {"$not": [{"$in": [a, [constant, written]]}]})
        if guard is True:
            return mql.and_(mql.not_null(a), {op: [a, b]})
        return mql.and_(guard, {op: [a, b]})  # the type test already excludes NULL
    parts = [mql.not_null(a), mql.not_null(b)]
    if op != "$eq" and not (number_or_null(a, numbers) and number_or_null(b, numbers)):
        parts.append(mql.same_bracket(a, b))
    parts.append({op: [a, b]})
    return mql.and_(*parts)


def _fold_comparison(op: str, a: Any, b: Any) -> Any:
    if a is None or b is None:
        return False
    try:
        return {
            "$eq": a == b,
            "$ne": a != b,
            "$gt": a > b,
            "$gte": a >= b,
            "$lt": a < b,
            "$lte": a <= b,
        }[op]
    except TypeError:
        return False


def expand_object_ids(values: list[Any]) -> list[Any]:
    """A 24-hex string also matches the ObjectId it spells."""
    expanded: list[Any] = []
    for value in values:
        expanded.append(value)
        if is_object_id_text(value):
            expanded.append(ObjectId(value))
    return expanded


def bracket_for_list(a: Any, values: list[Any]) -> Any:
    kinds = {mql.type_name_of(v) for v in values}
    if len(kinds) == 1:
        return mql.type_guard(a, values[0])
    if kinds == {"string", "objectId"}:
        return {"$in": [{"$type": a}, ["string", "objectId"]]}
    if None in kinds:
        return True  # a constant without a comparison bracket (a document, an array)
    # Mixed brackets: a value of any other type compares with none of them.
    representatives = {mql.type_name_of(v): v for v in values}
    return mql.or_(*[mql.type_guard(a, v) for v in representatives.values()])


class LikePattern:
    def __init__(self, regex: str, options: str) -> None:
        self.regex = regex
        self.options = options


def like_pattern(node: exp.Expression, bindings: Bindings | None) -> LikePattern:
    """LIKE/ILIKE pattern to an anchored regular expression: % and _ are wildcards, the
    escape character (backslash unless ESCAPE says otherwise) quotes the next character, and
    every other character, regex metacharacters included, is literal."""
    escape = "\\"
    if isinstance(node, exp.Escape):
        escape_value = _constant(node.expression, bindings)
        if not isinstance(escape_value, str) or len(escape_value) != 1:
            raise SemanticError(
                "ESCAPE takes a single character", node=node.expression, code="QL304"
            )
        escape = escape_value
        node = node.this
    pattern = _constant(node.expression, bindings)
    if not isinstance(pattern, str):
        raise UnsupportedError(
            "LIKE needs a constant string pattern",
            node=node.expression,
            hint="use a string literal or a bound parameter",
            code="QL201",
        )
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == escape and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(re.escape(ch))
        i += 1
    options = "s" + ("i" if isinstance(node, exp.ILike) else "")
    body = "".join(out)
    # A trailing % needs no anchor (and keeps prefix patterns index-friendly). Otherwise
    # anchor at the very end: a bare $ would also match before a final newline.
    if body.endswith(".*"):
        body = body[:-2]
    else:
        body += r"$(?!\n)"
    if body.startswith(".*"):
        return LikePattern(body[2:], options)
    return LikePattern("^" + body, options)


def _constant(node: exp.Expression, bindings: Bindings | None) -> Any:
    try:
        return constant_value(node, bindings)
    except NotConstant:
        return NotConstant


def contains_window(node: exp.Expression) -> bool:
    return any(isinstance(n, exp.Window) for n in node.walk())


def _never_null(node: exp.Expression) -> bool:
    """[NOT] EXISTS (...): TRUE or FALSE, never NULL."""
    while isinstance(node, exp.Paren | exp.Not):
        node = node.this
    return isinstance(node, exp.Exists)
