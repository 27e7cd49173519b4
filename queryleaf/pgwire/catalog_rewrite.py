"""Catalog statements into queryleaf's SQL: schema qualifiers dropped, PostgreSQL's catalog
functions folded to constants or columns of the generated tables, `::regclass`-style casts
resolved, `= ANY(ARRAY[...])` as IN, unqualified columns qualified by the one table that has
them. The result runs through queryleaf's own planner on the private catalog database."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp

from queryleaf.pgwire import types
from queryleaf.pgwire.catalog_tables import TABLES, relation_oid
from queryleaf.pgwire.sqltext import scan_code

_SCHEMA = re.compile(r"\bpg_catalog\s*\.\s*", re.IGNORECASE)
_INFO = re.compile(r"\binformation_schema\s*\.\s*(\w+)", re.IGNORECASE)
_OPERATOR = re.compile(r"OPERATOR\s*\(\s*(?:pg_catalog\s*\.\s*)?([~!<>=*+\-/|&^%#@]+)\s*\)", re.I)
_COLLATE = re.compile(r"\bCOLLATE\s+(?:pg_catalog\s*\.\s*)?(?:\"[^\"]+\"|\w+)", re.IGNORECASE)

TRUE_FUNCTIONS = {
    "pg_table_is_visible", "pg_type_is_visible", "pg_function_is_visible", "has_table_privilege",
    "has_schema_privilege", "has_database_privilege", "has_column_privilege", "pg_has_role",
    "has_any_column_privilege", "has_sequence_privilege", "has_function_privilege",
}  # fmt: skip
FALSE_FUNCTIONS = {"pg_relation_is_publishable", "pg_is_in_recovery", "pg_is_other_temp_schema"}
NULL_FUNCTIONS = {
    "pg_get_expr", "pg_get_constraintdef", "pg_get_statisticsobjdef_columns", "obj_description",
    "col_description", "shobj_description", "pg_get_viewdef", "pg_get_triggerdef",
    "pg_get_partkeydef", "pg_get_function_arguments", "pg_get_function_result",
    "pg_get_serial_sequence", "array_to_string", "pg_tablespace_location", "pg_size_pretty",
    "pg_table_size", "pg_relation_size", "pg_total_relation_size", "pg_indexes_size",
    "pg_database_size",
}  # fmt: skip
NUMERIC_COLUMN_TYPES = {types.OID, types.INT2, types.INT4, types.INT8}
OID_COLUMNS = {
    name for cols in TABLES.values() for name, oid in cols if oid in NUMERIC_COLUMN_TYPES
}


@dataclass
class Context:
    user: str
    database: str
    pid: int
    settings: dict[str, str]
    relations: dict[str, int] = field(default_factory=dict)
    version: str = ""


def preclean(sql: str) -> str:
    """Text rewrites in code only (never inside strings)."""
    out = []
    last = 0
    for a, b in scan_code(sql):
        out.append(sql[last:a])
        chunk = sql[a:b]
        chunk = _OPERATOR.sub(r"\1", chunk)
        chunk = _COLLATE.sub("", chunk)
        chunk = _SCHEMA.sub("", chunk)
        chunk = _INFO.sub(lambda m: "information_schema_" + m.group(1).lower(), chunk)
        out.append(chunk)
        last = b
    out.append(sql[last:])
    return "".join(out)


def parse(sql: str) -> exp.Expression:
    return sqlglot.parse_one(preclean(sql), read="postgres")


def rewrite(tree: exp.Expression, ctx: Context, params: list[Any] | None = None) -> exp.Expression:
    tree = tree.copy()
    if params:
        for node in list(tree.find_all(exp.Parameter)):
            text = node.this.name if isinstance(node.this, exp.Expression) else str(node.this)
            if text.isdigit() and int(text) <= len(params):
                node.replace(_literal(params[int(text) - 1]))
    for select in list(tree.find_all(exp.Select)):
        _expand_star(select)
        _label_functions(select)
        _drop_series_joins(select)
    tree = tree.transform(lambda node: _fold(node, ctx))
    for select in tree.find_all(exp.Select):
        _qualify(select)
    return tree


def _expand_star(select: exp.Select) -> None:
    """`SELECT *` from one catalog table lists its columns (not the documents' own _id)."""
    if len(select.expressions) != 1 or not isinstance(select.expressions[0], exp.Star):
        return
    if select.args.get("joins"):
        return
    source = select.args.get("from_") or select.args.get("from")
    derived = source.this if source is not None else None
    if isinstance(derived, exp.Subquery) and isinstance(derived.this, exp.Select):
        # SELECT * over a derived table: its labels, even those NULL in every row.
        labels = [item.alias_or_name for item in derived.this.expressions]
        if all(labels) and not any(isinstance(i, exp.Star) for i in derived.this.expressions):
            alias = derived.alias_or_name
            select.set("expressions", [exp.column(label, table=alias or None) for label in labels])
        return
    scope = scope_tables(select)
    if len(scope) != 1:
        return
    ((alias, table),) = scope.items()
    if table in TABLES:
        select.set("expressions", [exp.column(name, table=alias) for name, _ in TABLES[table]])


def _drop_series_joins(select: exp.Select) -> None:
    """pgjdbc ranks types by search_path with a LEFT JOIN to a generate_series over
    current_schemas(); the catalog has one schema path, so the join and its columns go."""
    joins = select.args.get("joins") or []
    kept = []
    for join in joins:
        source = join.this
        series = source.find(exp.ExplodingGenerateSeries, exp.GenerateSeries)
        if join.side == "LEFT" and isinstance(source, exp.Subquery) and series is not None:
            alias = source.alias_or_name
            for column in list(select.find_all(exp.Column)):
                if column.table == alias:
                    column.replace(exp.Null())
            continue
        kept.append(join)
    if len(kept) != len(joins):
        select.set("joins", kept)


def _literal(value: Any) -> exp.Expression:
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


def function_name(node: exp.Expression) -> str | None:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    named = {
        exp.CurrentVersion: "version", exp.CurrentSchema: "current_schema",
        exp.CurrentDatabase: "current_database", exp.CurrentUser: "current_user",
        exp.SessionUser: "session_user", exp.CurrentSchemas: "current_schemas",
        exp.ArrayToString: "array_to_string",
    }  # fmt: skip
    for kind, name in named.items():
        if isinstance(node, kind):
            return name
    return None


def _label_functions(select: exp.Select) -> None:
    """PostgreSQL labels an unaliased function by its name and a cast by its operand."""
    for index, item in enumerate(select.expressions):
        if isinstance(item, exp.Alias | exp.Column | exp.Star):
            continue
        label = None
        name = function_name(item)
        if name is not None:
            label = name
        elif isinstance(item, exp.Cast):
            inner = item.this
            label = inner.name if isinstance(inner, exp.Column) else (function_name(inner) or None)
        elif isinstance(item, exp.Case):
            label = "case"
        else:
            label = "?column?"
        if label:
            select.expressions[index] = exp.alias_(item, label, quoted=True)


def _fold(node: exp.Expression, ctx: Context) -> exp.Expression:
    name = function_name(node)
    if name is not None:
        return _function(node, name, ctx)
    if isinstance(node, exp.Cast):
        return _cast(node, ctx)
    if isinstance(node, exp.Collate):
        return node.this
    if isinstance(node, exp.EQ | exp.NEQ) and isinstance(node.expression, exp.Any):
        values = _any_values(node.expression, ctx)
        if values is None:
            return exp.false()
        inside = exp.In(this=node.this, expressions=values or [exp.Null()])
        return inside if isinstance(node, exp.EQ) else exp.Not(this=inside)
    if isinstance(node, exp.EQ | exp.NEQ | exp.GT | exp.GTE | exp.LT | exp.LTE):
        return _numeric_comparison(node)
    if isinstance(node, exp.Array) and node.find(exp.Select):
        return exp.Null()
    if (
        isinstance(node, exp.Subquery)
        and isinstance(node.this, exp.Select)
        and not isinstance(node.parent, exp.From | exp.Join)
    ):
        from queryleaf.pgwire.catalog import certainly_empty

        if certainly_empty(node.this):
            return exp.Null()
    if isinstance(node, exp.Ordered) and node.args.get("nulls_first") is not None:
        copy = node.copy()
        copy.set("nulls_first", None)
        return copy
    if isinstance(node, exp.Window):
        order = node.args.get("order")
        if order is not None:
            for item in order.expressions:
                item.set("nulls_first", None)
    return node


def _function(node: exp.Expression, name: str, ctx: Context) -> exp.Expression:
    args = list(node.expressions) if isinstance(node, exp.Anonymous) else []
    if name == "version":
        return exp.Literal.string(ctx.version)
    if name == "current_schema":
        return exp.Literal.string("public")
    if name == "current_database":
        return exp.Literal.string(ctx.database)
    if name in ("current_user", "session_user", "pg_get_userbyid"):
        return exp.Literal.string(ctx.user)
    if name == "pg_backend_pid":
        return exp.Literal.number(ctx.pid)
    if name in TRUE_FUNCTIONS:
        return exp.true()
    if name in FALSE_FUNCTIONS:
        return exp.false()
    if name in NULL_FUNCTIONS:
        return exp.Null()
    if name == "pg_encoding_to_char":
        return exp.Literal.string("UTF8")
    if name == "format_type" and args:
        return _type_case(args[0])
    if name == "pg_get_indexdef" and args and isinstance(args[0], exp.Column):
        return exp.column("indexdef_text", table=args[0].table or None)
    if name in ("to_regtype", "to_regclass") and args and isinstance(args[0], exp.Literal):
        oid = _lookup(args[0].name, name == "to_regtype", ctx)
        return exp.Literal.number(oid) if oid is not None else exp.Null()
    if name == "current_setting" and args and isinstance(args[0], exp.Literal):
        value = ctx.settings.get(args[0].name.lower())
        return exp.Literal.string(value) if value is not None else exp.Null()
    if name == "set_config" and len(args) >= 2:
        if isinstance(args[0], exp.Literal) and isinstance(args[1], exp.Literal):
            ctx.settings[args[0].name.lower()] = args[1].name
        return args[1]
    if name == "quote_ident" and args:
        return args[0]
    return node


def _lookup(text: str, is_type: bool, ctx: Context) -> int | None:
    text = text.strip().strip('"')
    if text.startswith("pg_catalog."):
        text = text[len("pg_catalog.") :]
    if text.startswith("public."):
        text = text[len("public.") :]
    if is_type:
        return types.BY_NAME.get(text.lower())
    if text in ctx.relations:
        return ctx.relations[text]
    if text in TABLES:
        return 1259 if text == "pg_class" else relation_oid("pg_catalog." + text)
    return None


def _type_case(argument: exp.Expression) -> exp.Expression:
    ifs = [
        exp.If(
            this=exp.EQ(this=argument.copy(), expression=exp.Literal.number(oid)),
            true=exp.Literal.string(types.type_name(oid)),
        )
        for oid in types.TYPES
    ]
    return exp.Case(ifs=ifs, default=exp.Null())


def _cast(node: exp.Cast, ctx: Context) -> exp.Expression:
    target = node.to.sql("postgres").lower()
    inner = node.this
    if target in ("regclass", "regtype") and isinstance(inner, exp.Literal) and inner.is_string:
        oid = _lookup(inner.name, target == "regtype", ctx)
        return exp.Literal.number(oid if oid is not None else 0)
    if target == "regproc" and isinstance(inner, exp.Literal):
        return exp.Literal.string(inner.name.split(".")[-1])
    numeric = target in ("oid", "int", "integer", "int2", "int4", "int8", "bigint", "smallint")
    if (
        numeric
        and isinstance(inner, exp.Literal)
        and inner.is_string
        and inner.name.lstrip("-").isdigit()
    ):
        return exp.Literal.number(int(inner.name))
    if target == "text" and isinstance(inner, exp.Cast):
        inner_target = inner.to.sql("postgres").lower()
        if inner_target == "regtype":
            return _type_case(inner.this)
    return inner


def _any_values(node: exp.Any, ctx: Context) -> list[exp.Expression] | None:
    inner = node.this
    while isinstance(inner, exp.Paren):
        inner = inner.this
    if isinstance(inner, exp.Array):
        return list(inner.expressions)
    if isinstance(inner, exp.CurrentSchemas) or function_name(inner) == "current_schemas":
        return [exp.Literal.string("pg_catalog"), exp.Literal.string("public")]
    return None


def _numeric_comparison(node: exp.Expression) -> exp.Expression:
    """`oid = '16384'`: PostgreSQL reads the literal as an oid; MongoDB compares types."""
    left, right = node.this, node.expression
    for column, other, key in ((left, right, "expression"), (right, left, "this")):
        if (
            isinstance(column, exp.Column)
            and column.name in OID_COLUMNS
            and isinstance(other, exp.Literal)
            and other.is_string
            and other.name.lstrip("-").isdigit()
        ):
            copy = node.copy()
            copy.set(key, exp.Literal.number(int(other.name)))
            return copy
    return node


def scope_tables(select: exp.Select) -> dict[str, str]:
    """alias (or name) -> catalog table name, for the FROM and JOINs of one SELECT."""
    found: dict[str, str] = {}
    sources = []
    if select.args.get("from_") is not None:
        sources.append(select.args["from_"].this)
    elif select.args.get("from") is not None:
        sources.append(select.args["from"].this)
    sources.extend(join.this for join in select.args.get("joins") or [])
    for source in sources:
        if isinstance(source, exp.Table):
            found[source.alias_or_name] = source.name
    return found


def _qualify(select: exp.Select) -> None:
    scope = scope_tables(select)
    if len(scope) < 2:
        return
    for column in select.find_all(exp.Column):
        if column.table or _inner_select(column, select):
            continue
        owners = [
            alias
            for alias, table in scope.items()
            if any(name == column.name for name, _ in TABLES.get(table, []))
        ]
        if len(owners) == 1:
            column.set("table", exp.to_identifier(owners[0]))


def _inner_select(node: exp.Expression, select: exp.Select) -> bool:
    parent = node.parent
    while parent is not None and parent is not select:
        if isinstance(parent, exp.Select):
            return True
        parent = parent.parent
    return False
