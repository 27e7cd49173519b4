"""FROM and JOIN items to relations: collections, table functions, CTEs and derived tables."""

from __future__ import annotations

from sqlglot import exp

from queryleaf.errors import SemanticError, UnsupportedError
from queryleaf.plan.context import QueryContext, QueryPipeline
from queryleaf.plan.joins import check_alias
from queryleaf.plan.plans import OutputColumn, StarColumns
from queryleaf.plan.scope import Relation
from queryleaf.plan.table_sources import table_function


def relation_of(node: exp.Expression, ctx: QueryContext) -> Relation:
    if isinstance(node, exp.Table) and isinstance(node.this, exp.Anonymous):
        source = table_function(node.this, ctx.bindings)
        alias = node.alias or node.this.name.lower()
        relation = Relation(alias, source.collection, (), node, source.stages)
    elif isinstance(node, exp.Table) and isinstance(node.this, exp.Identifier):
        alias = node.alias or node.name
        table_alias = node.args.get("alias")
        if table_alias is not None and table_alias.columns:
            # A collection's fields have no order a positional rename could follow.
            raise UnsupportedError(
                f"a column list cannot rename the fields of {node.name}",
                node=node,
                hint=f"rename in a derived table: (SELECT a AS b FROM {node.name}) AS {alias}",
                code="QL201",
            )
        if not node.args.get("db") and node.name in ctx.ctes:
            relation = derived(alias, ctx.ctes[node.name], node)
        else:
            relation = Relation(alias=alias, collection=node.name, node=node)
    elif isinstance(node, exp.Subquery):
        if not node.alias:
            raise SemanticError(
                "a derived table needs an alias",
                node=node,
                hint="write FROM (SELECT ...) AS t",
                code="QL304",
            )
        from queryleaf.plan.queries import query_pipeline, rename_columns

        query = query_pipeline(node.this, ctx.nested())
        alias = node.args.get("alias")
        names = [c.name for c in (alias.columns or [])] if alias is not None else []
        if names:
            query = rename_columns(query, names, node)
        relation = derived(node.alias, query, node)
    else:
        raise UnsupportedError(
            f"FROM {node.sql('mysql')} is not supported", node=node, code="QL201"
        )
    check_alias(relation, node)
    return relation


def derived(alias: str, query: QueryPipeline, node: exp.Expression) -> Relation:
    """A relation over a query's output: exactly its select-list columns."""
    columns: dict[str, str] = {}
    open_columns = False
    for column in query.columns:
        if isinstance(column, OutputColumn):
            columns[column.label] = str(column.path[0])
        elif isinstance(column, StarColumns) and not column.path:
            open_columns = True
        else:
            raise UnsupportedError(
                f"{alias} selects * over a join; list its columns",
                node=node,
                code="QL201",
            )
    return Relation(
        alias=alias,
        collection=query.collection,
        node=node,
        stages=list(query.stages),
        columns=columns,
        open=open_columns,
    )
