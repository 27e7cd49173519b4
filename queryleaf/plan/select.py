"""SELECT to one `find` or one aggregation pipeline."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from queryleaf.errors import SemanticError, UnsupportedError
from queryleaf.plan import mql
from queryleaf.plan.aggregate_calls import contains_aggregate
from queryleaf.plan.aggregates import Grouping
from queryleaf.plan.context import QueryContext, QueryPipeline
from queryleaf.plan.expressions import ExprCompiler
from queryleaf.plan.filters import FilterCompiler
from queryleaf.plan.joins import join_kind, lookup_stages, on_conjuncts
from queryleaf.plan.null_order import nulls_first_wanted
from queryleaf.plan.paths import dotted, reference_parts
from queryleaf.plan.plans import Column, OutputColumn, Plan
from queryleaf.plan.relations import relation_of
from queryleaf.plan.scalar_rows import limit_before_lookups
from queryleaf.plan.scope import JOINED_PREFIX, Relation, Scope, split_conjuncts
from queryleaf.plan.select_items import (
    assign_fields,
    plain_path,
    position_of,
    select_items,
)
from queryleaf.plan.select_order import OrderAndLimit
from queryleaf.plan.subqueries import SubqueryPlanner


class SelectCompiler(OrderAndLimit):
    def __init__(self, select: exp.Select, ctx: QueryContext, ctes_done: bool = False) -> None:
        if not ctes_done:
            _reject_unsupported(select)
        self.select = select
        self.ctx = ctx
        self.bindings = ctx.bindings
        self.scope = Scope([])
        self.joins: list[tuple[Relation, str, exp.Join]] = []
        from_ = select.args.get("from_") or select.args.get("from")
        if from_ is not None:
            self.scope.relations.append(relation_of(from_.this, ctx))
            for join in select.args.get("joins") or []:
                relation = relation_of(join.this, ctx)
                relation.prefix = (JOINED_PREFIX + relation.alias,)
                if self.scope.find(relation.alias):
                    raise SemanticError(
                        f"table alias {relation.alias} is used twice",
                        node=join.this,
                        hint="give each table its own alias",
                        code="QL304",
                    )
                self.scope.relations.append(relation)
                self.joins.append((relation, join_kind(join), join))
        else:
            for clause in ("where", "group", "having", "joins"):
                if select.args.get(clause):
                    raise SemanticError(
                        f"{clause.upper()} needs a FROM clause", node=select, code="QL303"
                    )
        self.base = self.scope.relations[0] if self.scope.relations else None
        self.subqueries = SubqueryPlanner(ctx, self.scope)
        self.exprs = ExprCompiler(self._column_value, self.bindings, subquery=self.subqueries.hook)
        self.filters = FilterCompiler(self._column_path, self.exprs, self.bindings)
        self.items = select_items(select, self.scope)
        if self.base is None and any(item.star for item in self.items):
            raise SemanticError("SELECT * needs a FROM clause", node=select, code="QL303")
        self.notes: list[str] = []

    def _outer_reference(self, node: exp.Expression) -> bool:
        """A column qualified with an alias of the enclosing query (and of no relation
        here) belongs to it: a correlated reference."""
        outer = self.ctx.outer
        if outer is None:
            return False
        parts = reference_parts(node) or []
        return (
            len(parts) >= 2
            and isinstance(parts[0], str)
            and parts[0] in outer.aliases
            and self.scope.find(parts[0]) is None
        )

    def _column_value(self, node: exp.Expression) -> Any:
        if self._outer_reference(node):
            assert self.ctx.outer is not None
            return self.ctx.outer.reference(node)
        return mql.path_expr(self.scope.full_path(node))

    def _column_path(self, node: exp.Expression) -> str | None:
        if self._outer_reference(node):
            return None  # not a field of these documents: $expr reads the variable
        return dotted(self.scope.full_path(node))

    # -- top level ----------------------------------------------------------------------------

    def plan(self) -> Plan:
        if self._find_eligible():
            return self._plan_find(self._where())
        query = self.pipeline()
        target = query.collection if query.collection is not None else 1
        return Plan(
            {"aggregate": target, "pipeline": query.stages, "cursor": {}},
            columns=query.columns,
            notes=query.notes,
        )

    def pipeline(self) -> QueryPipeline:
        """The query as one aggregation pipeline."""
        if self.base is None:
            stages: list[dict[str, Any]] = [{"$documents": [{}]}]
            stages += self._output_stages(self.exprs, bool(self.select.args.get("distinct")))
            return QueryPipeline(None, stages, self._columns(), self.notes)
        stages = self._source_stages(self._where())
        if self._is_grouped():
            stages += self._grouped_stages()
        else:
            stages += self._projected_stages()
        return QueryPipeline(self.base.collection, stages, self._columns(), self.notes)

    def _where(self) -> list[exp.Expression]:
        where = self.select.args.get("where")
        return split_conjuncts(where.this) if where is not None else []

    def _is_grouped(self) -> bool:
        if self.select.args.get("group") or self.select.args.get("having"):
            return True
        nodes = [i.node for i in self.items if i.node is not None]
        nodes += [o.this for o in self._order()]
        return any(contains_aggregate(n) for n in nodes)

    # -- find ---------------------------------------------------------------------------------

    def _find_eligible(self) -> bool:
        if self.base is None or self.base.stages or self.base.collection is None:
            return False
        if self.joins or self.select.args.get("distinct") or self._is_grouped():
            return False
        if self.ctx.outer is not None or _has_subquery(self.select):
            return False
        for item in self.items:
            if item.node is not None and not plain_path(item.node):
                return False
        return all(self._order_path(o) is not None for o in self._order())

    def _order_path(self, ordered: exp.Ordered) -> str | None:
        if nulls_first_wanted(ordered) is not None:
            return None  # NULLS FIRST/LAST other than $sort's: a pipeline sorts on a flag
        item = self._order_item(ordered.this)
        node = item.node if item is not None else ordered.this
        if node is None or not plain_path(node):
            return None
        return self._column_path(node)

    def _plan_find(self, where: list[exp.Expression]) -> Plan:
        assert self.base is not None
        command: dict[str, Any] = {"find": self.base.collection}
        query = self.filters.compile(where)
        if query:
            command["filter"] = query
        if not any(item.star for item in self.items):
            paths = sorted({self._column_path(i.node) for i in self.items if i.node is not None})
            kept = [p for p in paths if not any(p.startswith(q + ".") for q in paths)]
            projection: dict[str, Any] = {p: 1 for p in kept}
            if "_id" not in kept and not any(p.startswith("_id.") for p in kept):
                projection["_id"] = 0
            command["projection"] = projection
        sort = {}
        for ordered in self._order():
            path = self._order_path(ordered)
            assert path is not None
            sort.setdefault(path, -1 if ordered.args.get("desc") else 1)
        if sort:
            command["sort"] = sort
        skip, limit = self._skip_limit()
        if skip:
            command["skip"] = skip
        if limit is not None:
            command["limit"] = limit
        columns: list[Column] = []
        for item in self.items:
            if item.star is not None:
                columns.append(item.star)
            else:
                assert item.node is not None
                columns.append(OutputColumn(item.label, self.scope.full_path(item.node)))
        return Plan(command, columns=columns, notes=self.notes)

    # -- pipeline -----------------------------------------------------------------------------

    def _source_stages(self, where: list[exp.Expression]) -> list[dict[str, Any]]:
        """$match on the first relation, then each join, with WHERE conjuncts placed as early
        as SQL allows."""
        pending = list(where)
        assert self.base is not None
        first = [
            c
            for c in pending
            if self.scope.relations_of(c, self._outer_reference) <= {self.base.alias}
        ]
        pending = [c for c in pending if c not in first]
        assert self.base is not None
        stages: list[dict[str, Any]] = list(self.base.stages)
        stages += self._match(first)
        seen = {self.base.alias}
        for relation, kind, join in self.joins:
            seen.add(relation.alias)
            conditions = on_conjuncts(join, self.scope, relation)
            if kind != "LEFT":
                movable = [
                    c
                    for c in pending
                    if self.scope.relations_of(c, self._outer_reference) <= seen
                    and not _has_subquery(c)
                ]
                pending = [c for c in pending if c not in movable]
                conditions += movable
            stages += lookup_stages(relation, kind, conditions, self.scope, self.bindings)
        stages += self._match(pending)
        return stages

    def _match(self, conjuncts: list[exp.Expression]) -> list[dict[str, Any]]:
        """$match of the conjuncts, after the lookups of any subqueries they hold."""
        query = self.filters.compile(conjuncts)
        stages = self.subqueries.flush()
        if query:
            stages.append({"$match": query})
        return stages

    def _projected_stages(self) -> list[dict[str, Any]]:
        stars = [i for i in self.items if i.star is not None]
        if stars:
            if self.select.args.get("distinct"):
                raise UnsupportedError(
                    "SELECT DISTINCT * is not supported",
                    node=self.select,
                    hint="list the columns",
                    code="QL201",
                )
            return self._star_stages()
        return self._output_stages(self.exprs, distinct=bool(self.select.args.get("distinct")))

    def _star_stages(self) -> list[dict[str, Any]]:
        """`*` keeps whole documents; computed columns are added beside them under hidden
        names so they never overwrite a field that `*` shows."""
        window_stages, compiler = self._windows(self.exprs)
        computed: dict[str, Any] = {}
        for index, item in enumerate(self.items):
            if item.node is not None:
                item.field = f"{JOINED_PREFIX}c{index}"
                computed[item.field] = compiler.value(item.node)
        stages: list[dict[str, Any]] = list(window_stages)
        sort_keys: dict[str, Any] = {}
        sort: dict[str, int] = {}
        nulls: dict[str, bool] = {}
        for index, ordered in enumerate(self._order()):
            item = self._order_item(ordered.this)
            if item is not None and item.node is not None:
                key = item.field
            elif plain_path(ordered.this):
                key = self._column_path(ordered.this)
            else:
                key = f"{JOINED_PREFIX}s{index}"
                sort_keys[key] = compiler.value(ordered.this)
            sort.setdefault(key, -1 if ordered.args.get("desc") else 1)
            if nulls_first_wanted(ordered) is not None:
                nulls.setdefault(key, bool(nulls_first_wanted(ordered)))
        stages += self.subqueries.flush()
        if computed or sort_keys:
            stages.append({"$set": {**computed, **sort_keys}})
        stages += self._sort_skip_limit(sort, nulls)
        stages += [{"$unset": list(sort_keys)}] if sort_keys else []
        stages = limit_before_lookups(stages)  # MySQL reads the select list of sent rows only
        if self.joins:
            self.notes.append(
                "SELECT * over a join: each joined document is embedded under "
                f"'{JOINED_PREFIX}<alias>' and its fields are laid out as columns client-side"
            )
        return stages

    def _output_stages(
        self, compiler: ExprCompiler, distinct: bool, having: Any = None
    ) -> list[dict[str, Any]]:
        """$project of the select list (and hidden sort keys), DISTINCT, ORDER BY, LIMIT."""
        assign_fields(self.items)
        window_stages, compiler = self._windows(compiler)
        projection: dict[str, Any] = {}
        for item in self.items:
            assert item.node is not None
            projection[item.field] = mql.projected(compiler.value(item.node))
        sort: dict[str, int] = {}
        sort_keys: dict[str, Any] = {}
        nulls: dict[str, bool] = {}
        for index, ordered in enumerate(self._order()):
            item = self._order_item(ordered.this)
            if item is None:
                item = self._matching_item(ordered.this, compiler)
            if item is not None:
                key = item.field
            elif distinct:
                raise SemanticError(
                    "ORDER BY of a SELECT DISTINCT must use columns of the select list",
                    node=ordered.this,
                    hint=f"add {ordered.this.sql('mysql')} to the select list",
                    code="QL303",
                )
            else:
                key = f"{JOINED_PREFIX}s{index}"
                sort_keys[key] = mql.projected(compiler.value(ordered.this))
            sort.setdefault(key, -1 if ordered.args.get("desc") else 1)
            if nulls_first_wanted(ordered) is not None:
                nulls.setdefault(key, bool(nulls_first_wanted(ordered)))
        stages: list[dict[str, Any]] = self.subqueries.flush()
        if having is not None and having is not True:
            stages.append({"$match": {"$expr": having}})
        stages += window_stages
        keep_id = "_id" in projection
        stages.append({"$project": {**({} if keep_id else {"_id": 0}), **projection, **sort_keys}})
        if distinct:
            # Missing and null are one value in SQL: normalise before grouping.
            fields = {item.field: {"$ifNull": [f"${item.field}", None]} for item in self.items}
            stages.append({"$group": {"_id": fields}})
            stages.append({"$replaceWith": "$_id"})
        stages += self._sort_skip_limit(sort, nulls)
        if sort_keys:
            stages.append({"$unset": list(sort_keys)})
        return limit_before_lookups(stages)  # MySQL reads the select list of sent rows only

    def _windows(self, compiler: ExprCompiler) -> tuple[list[dict[str, Any]], ExprCompiler]:
        """$setWindowFields for the windows of the select list and ORDER BY, and a compiler
        that reads each window from the field it lands in."""
        nodes = [i.node for i in self.items if i.node is not None]
        nodes += [o.this for o in self._order()]
        windows = [
            w
            for node in nodes
            for w in node.find_all(exp.Window)
            if w.find_ancestor(exp.Select) is self.select  # not those of a subquery
        ]
        if not windows:
            return [], compiler
        from queryleaf.plan.windows import plan_windows

        plan = plan_windows(windows, compiler)
        outer = compiler.substitute

        def substitute(node: exp.Expression) -> Any:
            if isinstance(node, exp.Window) and id(node) in plan.fields:
                return "$" + plan.fields[id(node)]
            return outer(node) if outer is not None else mql.Missing

        windowed = ExprCompiler(
            compiler.column, compiler.bindings, compiler.aggregate, substitute, compiler.subquery
        )
        return plan.stages, windowed

    def _grouped_stages(self) -> list[dict[str, Any]]:
        if any(item.star for item in self.items):
            raise SemanticError(
                "SELECT * cannot be used with GROUP BY or aggregates",
                node=self.select,
                hint="list the grouped columns and aggregates",
                code="QL303",
            )
        keys = [self._group_key_node(node) for node in self._group_nodes()]
        grouping = Grouping(self.exprs, keys, self.bindings, subquery=self.subqueries.hook)
        having_node = self.select.args.get("having")
        having = None
        if having_node is not None:
            having = grouping.post.truth(self._expand_aliases(having_node.this, grouping))
        output = self._output_stages(
            grouping.post, bool(self.select.args.get("distinct")), having=having
        )
        return grouping.stages() + output

    def _expand_aliases(self, node: exp.Expression, grouping: Grouping) -> exp.Expression:
        """MySQL lets HAVING name select-list aliases (`HAVING n > 1`); a name that is also a
        GROUP BY key keeps its column meaning."""
        aliases = {
            item.label: item.node for item in self.items if item.aliased and item.node is not None
        }

        named = [
            column
            for column in node.find_all(exp.Column)
            if not column.table and column.name in aliases
        ]
        if not named:
            return node

        def replace(current: exp.Expression) -> exp.Expression:
            if (
                isinstance(current, exp.Column)
                and not current.table
                and current.name in aliases
                and not grouping.is_key(current)
            ):
                return aliases[current.name].copy()
            return current

        return node.transform(replace)

    def _group_nodes(self) -> list[exp.Expression]:
        group = self.select.args.get("group")
        return list(group.expressions) if group is not None else []

    def _group_key_node(self, node: exp.Expression) -> exp.Expression:
        """GROUP BY 2 and GROUP BY alias name select-list entries, as MySQL allows."""
        position = position_of(node, self.bindings)
        if position is not None:
            return self._item_at(position, node).node  # type: ignore[return-value]
        if isinstance(node, exp.Column) and not node.table:
            for item in self.items:
                named = item.aliased and item.label == node.name and item.node is not None
                if named and not contains_aggregate(item.node):
                    return item.node
        return node

    def _columns(self) -> list[Column]:
        columns: list[Column] = []
        for item in self.items:
            if item.star is not None:
                columns.append(item.star)
            else:
                columns.append(OutputColumn(item.label, (item.field,)))
        return columns


def _reject_unsupported(select: exp.Select) -> None:
    if select.args.get("with") or select.args.get("with_"):
        # A WITH reaching here was not handled by query_pipeline (e.g. inside a subquery).
        from queryleaf.plan.queries import UNSUPPORTED_WITH

        raise UnsupportedError(UNSUPPORTED_WITH, node=select, code="QL201")


def _has_subquery(node: exp.Expression) -> bool:
    return node.find(exp.Subquery, exp.Exists) is not None
