"""GROUP BY, aggregates and HAVING to `$group`. Select-list expressions are rewritten over
the group's output: a sub-expression equal to a GROUP BY key reads `$_id.gN`, an aggregate
reads its accumulator, and any other column is an error as in SQL."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from queryleaf.errors import SemanticError, UnsupportedError
from queryleaf.plan import mql
from queryleaf.plan.aggregate_calls import contains_aggregate, is_library_aggregate
from queryleaf.plan.aggregate_functions import library_aggregate
from queryleaf.plan.expressions import ExprCompiler
from queryleaf.plan.literals import Bindings, NotConstant, constant_value
from queryleaf.plan.value_kinds import summable

# Accumulators whose value is always a number or null.
NUMBER_ACCUMULATORS = frozenset({"$count", "$sum", "$avg", "$stdDevPop", "$stdDevSamp"})


def _key(value: Any) -> str:
    # Translations are built deterministically, so their repr identifies them.
    return repr(value)


class Grouping:
    """Collects group keys and accumulators while the post-group expressions compile."""

    def __init__(
        self,
        pre: ExprCompiler,
        keys: list[exp.Expression],
        bindings: Bindings | None,
        subquery: Any = None,
    ):
        self.pre = pre
        self.bindings = bindings
        self.key_exprs: dict[str, Any] = {}
        self._key_names: dict[str, str] = {}
        raw: dict[str, Any] = {}
        for node in keys:
            value = pre.value(node)
            identity = _key(value)
            if identity not in self._key_names:
                name = f"g{len(self._key_names)}"
                self._key_names[identity] = name
                raw[name] = value
                # A missing key and a null key are one group in SQL. Inside an _id document
                # a missing field is left out (a group apart), so it is made null.
                self.key_exprs[name] = (
                    value if mql.is_constant(value) else {"$ifNull": [value, None]}
                )
        # One key groups on its value directly: a scalar _id already puts missing and null
        # together, and the plain form is cheaper.
        # Telling whether a node is a key compiles it; a subquery compiled only to be told
        # apart would leave an unused $lookup behind, so one is no key unless a key holds one.
        self._subquery_keys = any(node.find(exp.Select) is not None for node in keys)
        self._single = raw.popitem()[1] if len(raw) == 1 else None
        self._has_single = len(self.key_exprs) == 1
        self.accumulators: dict[str, Any] = {}
        self.defaults: dict[str, Any] = {}
        self._accumulator_names: dict[str, str] = {}
        self.post = ExprCompiler(
            self._ungrouped_column,
            bindings,
            aggregate=self._aggregate,
            substitute=self._group_key,
            subquery=subquery,
        )

    @property
    def has_keys(self) -> bool:
        return bool(self.key_exprs)

    def group_stage(self) -> dict[str, Any]:
        group_id: Any = dict(self.key_exprs) if self.key_exprs else None
        if self._has_single:
            group_id = self._single
        return {"$group": {"_id": group_id, **self.accumulators}}

    def stages(self) -> list[dict[str, Any]]:
        """$group; without GROUP BY, SQL still returns one row on empty input, so the
        group runs inside $facet and an empty result is replaced by the accumulators'
        empty values."""
        group = self.group_stage()
        if self.has_keys:
            return [group]
        empty = {"_id": None, **self.defaults}
        return [
            {"$facet": {"groups": [group]}},
            {"$replaceWith": {"$ifNull": [{"$first": "$groups"}, {"$literal": empty}]}},
        ]

    def is_key(self, node: exp.Expression) -> bool:
        return self._group_key(node) is not mql.Missing

    def _group_key(self, node: exp.Expression) -> Any:
        if isinstance(node, exp.Star) or contains_aggregate(node):
            return mql.Missing
        if not self._subquery_keys and node.find(exp.Select) is not None:
            return mql.Missing
        try:
            constant_value(node, self.bindings)
            return mql.Missing
        except NotConstant:
            pass
        try:
            identity = _key(self.pre.value(node))
        except (SemanticError, UnsupportedError):
            return mql.Missing
        name = self._key_names.get(identity)
        if name is None:
            return mql.Missing
        return "$_id" if self._has_single else f"$_id.{name}"

    def _ungrouped_column(self, node: exp.Expression) -> Any:
        raise SemanticError(
            f"column {node.sql('mysql')} must appear in GROUP BY or be used in an aggregate",
            node=node,
            hint=f"add {node.sql('mysql')} to GROUP BY, or wrap it in MIN(), MAX() or another "
            "aggregate",
            code="QL303",
        )

    def accumulate(self, spec: dict[str, Any], default: Any) -> str:
        """Register an accumulator (deduplicated) and return its field reference; `default`
        is its value over no documents."""
        return self._accumulate(spec, default)

    def _accumulate(self, spec: dict[str, Any], default: Any) -> str:
        identity = _key(spec)
        name = self._accumulator_names.get(identity)
        if name is None:
            name = f"a{len(self._accumulator_names)}"
            self._accumulator_names[identity] = name
            self.accumulators[name] = spec
            self.defaults[name] = default
            if next(iter(spec)) in NUMBER_ACCUMULATORS:
                self.post.numbers.add(f"${name}")
        return f"${name}"

    def _aggregate(self, node: exp.Expression) -> Any:
        if is_library_aggregate(node):
            return library_aggregate(self, node)
        inner = node.this
        distinct = isinstance(inner, exp.Distinct)
        if distinct:
            if len(inner.expressions) != 1:
                raise UnsupportedError(
                    f"{type(node).__name__.upper()}(DISTINCT ...) takes one expression",
                    node=node,
                    code="QL201",
                )
            inner = inner.expressions[0]
        if inner is not None and contains_aggregate(inner):
            raise SemanticError("aggregates cannot be nested", node=node, code="QL305")
        if isinstance(node, exp.Count):
            if inner is None:
                raise SemanticError(
                    "COUNT needs an argument",
                    node=node,
                    hint="COUNT(*) or COUNT(expr)",
                    code="QL304",
                )
            if isinstance(inner, exp.Star):
                return self._accumulate({"$count": {}}, 0)
            value = self.pre.value(inner)
            if distinct:
                values = self._accumulate({"$addToSet": value}, [])
                return {"$size": _present(values)}
            counted = {"$cond": [mql.not_null(value), 1, 0]}
            return self._accumulate({"$sum": counted}, 0)
        value = self.pre.value(inner)
        if isinstance(node, exp.Sum | exp.Avg):
            value = summable(inner, value)
            if distinct:
                values = _present(self._accumulate({"$addToSet": value}, []))
                operator = "$sum" if isinstance(node, exp.Sum) else "$avg"
                return mql.cond({"$eq": [{"$size": values}, 0]}, None, {operator: values})
            if isinstance(node, exp.Avg):
                return self._accumulate({"$avg": value}, None)
            # SUM over no non-null number is NULL in SQL; $sum gives 0.
            total = self._accumulate({"$sum": value}, 0)
            # Whether any value was a number: $avg ignores non-numbers and is null over none
            # (one accumulator on the value itself, shared with an AVG of the same value).
            average = self._accumulate({"$avg": value}, None)
            return mql.cond(mql.not_null(average), total, None)
        if isinstance(node, exp.Min | exp.Max):
            operator = "$min" if isinstance(node, exp.Min) else "$max"
            return self._accumulate({operator: value}, None)
        raise UnsupportedError(
            f"aggregate {node.sql('mysql')} is not supported", node=node, code="QL201"
        )


def _present(values: str) -> dict[str, Any]:
    return {"$filter": {"input": values, "cond": {"$gt": ["$$this", None]}}}
