"""PostgreSQL catalog emulation: the catalog tables are generated documents in a private
embedded database (one per server), refreshed from the user's database when read, and
catalog statements run through queryleaf's own planner on it after
queryleaf.pgwire.catalog_rewrite. See docs/pgwire.md for why."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

from sqlglot import exp
from sqlglot.errors import ParseError as SqlglotParseError

from queryleaf.errors import ParseError, UnsupportedError
from queryleaf.pgwire import catalog_rewrite, types
from queryleaf.pgwire.catalog_tables import EMPTY, TABLES, build, relation_oid
from queryleaf.pgwire.outcome import Outcome
from queryleaf.pgwire.sqltext import scan_code

REFRESH_SECONDS = 1.0
_CATALOG_NAMES = sorted(
    {name for name in TABLES if name.startswith("pg_")}
    | {
        "pg_catalog",
        "pg_table_is_visible",
        "pg_get_userbyid",
        "pg_get_indexdef",
        "pg_get_expr",
        "pg_backend_pid",
        "pg_encoding_to_char",
        "pg_get_keywords",
        "pg_type_is_visible",
    },
    key=len,
    reverse=True,
)
_CATALOG_WORDS = re.compile(
    r"\bversion\s*\(|\b(" + "|".join(_CATALOG_NAMES) + r"|information_schema|"
    r"current_schemas?\b|current_database|current_user\b|session_user\b|current_setting|"
    r"set_config|to_regtype|to_regclass|format_type|has_\w+_privilege|obj_description|"
    r"col_description|quote_ident)\b",
    re.IGNORECASE,
)


class Catalog:
    def __init__(self, db: Any, database: str | None = None) -> None:
        import queryleaf

        self.db = db
        self.database = database or getattr(db, "name", "queryleaf")
        self.private = queryleaf.connect(database="pg_catalog", dialect="mysql")
        self.lock = threading.RLock()
        self._stamp = 0.0
        self._names: tuple[str, ...] = ()
        self._user = ""
        self.relations: dict[str, int] = {}

    def handles(self, sql: str) -> bool:
        """A statement that reads the catalog or calls a catalog function."""
        return any(_CATALOG_WORDS.search(sql, a, b) for a, b in scan_code(sql))

    def close(self) -> None:
        self.private.close()

    # --- generated documents ----------------------------------------------------------------

    def refresh(self, backend: Any) -> None:
        user = backend.session.user
        names = tuple(sorted(self.db.list_collection_names()))
        fresh = time.monotonic() - self._stamp < REFRESH_SECONDS
        if fresh and names == self._names and user == self._user:
            return
        documents = build(self.db, user, self.database, backend.settings)
        target = self.private.db
        for table, rows in documents.items():
            target[table].drop()
            if rows:
                target[table].insert_many([dict(row) for row in rows])
        self.relations = {d["relname"]: d["oid"] for d in documents["pg_class"]}
        self._stamp = time.monotonic()
        self._names = names
        self._user = user

    # --- statements -------------------------------------------------------------------------

    def _prepare(self, sql: str, params: list[Any] | None, backend: Any) -> exp.Expression:
        try:
            tree = catalog_rewrite.parse(sql)
        except SqlglotParseError as error:
            raise ParseError(f"cannot read the catalog statement: {error}", code="QL101") from None
        ctx = catalog_rewrite.Context(
            user=backend.session.user,
            database=self.database,
            pid=backend.session.pid,
            settings=backend.settings,
            relations=self.relations,
            version=f"PostgreSQL {backend.session.server_parameters['server_version']}, "
            "queryleaf front end over MongoDB",
        )
        return catalog_rewrite.rewrite(tree, ctx, params)

    def parameter_types(self, sql: str, count: int, given: list[int]) -> list[int]:
        from queryleaf.pgwire.describe import parameter_types

        try:
            tree = catalog_rewrite.parse(sql)
        except SqlglotParseError:
            return [oid or types.TEXT for oid in given] + [types.TEXT] * (count - len(given))
        return parameter_types(tree, count, _CatalogTypes(), given)

    def describe(self, sql: str, backend: Any) -> list[tuple[str, int]] | None:
        with self.lock:
            self.refresh(backend)
            tree = self._prepare(sql, None, backend)
        if not isinstance(tree, exp.Query):
            return None
        return static_fields(tree)

    def execute(self, sql: str, params: list[Any] | None, backend: Any) -> Outcome:
        with self.lock:
            self.refresh(backend)
            tree = self._prepare(sql, params, backend)
            if not isinstance(tree, exp.Query):
                raise UnsupportedError(
                    "queryleaf's PostgreSQL catalog answers queries only", code="QL207"
                )
            fields = static_fields(tree)
            if certainly_empty(tree):
                return Outcome(columns=fields, rows=iter(()))
            result = self.private.run_sql(tree.sql("mysql"))
        labels = result.columns
        rows = [tuple(row.get(label) for label in labels) for row in result.rows]
        if [name for name, _ in fields] != labels:
            fields = [(label, _value_type(rows, i)) for i, label in enumerate(labels)]
        return Outcome(columns=fields, rows=iter(rows))


class _CatalogTypes:
    """The catalog's column types, shaped like describe.FieldTypes."""

    def of(self, table: str) -> dict[str, int]:
        return dict(TABLES.get(table, []))


def _value_type(rows: list[tuple[Any, ...]], index: int) -> int:
    return types.column_oid(row[index] for row in rows)


# --- static result types ------------------------------------------------------------------------


def static_fields(tree: exp.Expression) -> list[tuple[str, int]]:
    """(label, oid) of a catalog query's columns from the catalog's column types."""
    select = tree
    while isinstance(select, exp.SetOperation):
        select = select.this
    if isinstance(select, exp.Subquery):
        select = select.this
    if not isinstance(select, exp.Select):
        return []
    scope = catalog_rewrite.scope_tables(select)
    out: list[tuple[str, int]] = []
    for item in select.expressions:
        if isinstance(item, exp.Star):
            out.extend(_star(select, scope))
            continue
        label = item.alias_or_name if not isinstance(item, exp.Alias) else item.alias
        out.append((label or "?column?", _expression_type(item.unalias(), scope, select)))
    return out


def _star(select: exp.Select, scope: dict[str, str]) -> list[tuple[str, int]]:
    source = select.args.get("from_") or select.args.get("from")
    target = source.this if source is not None else None
    if isinstance(target, exp.Subquery):
        return static_fields(target.this)
    out: list[tuple[str, int]] = []
    for table in scope.values():
        out.extend(TABLES.get(table, []))
    return out


def _expression_type(node: exp.Expression, scope: dict[str, str], select: exp.Select) -> int:
    if isinstance(node, exp.Column):
        tables = [scope[node.table]] if node.table in scope else list(scope.values())
        for table in tables:
            for name, oid in TABLES.get(table, []):
                if name == node.name:
                    return types.NAME if oid == types.NAME else oid
        source = select.args.get("from_") or select.args.get("from")
        if source is not None and isinstance(source.this, exp.Subquery):
            for name, oid in static_fields(source.this.this):
                if name == node.name:
                    return oid
        return types.TEXT
    if isinstance(node, exp.Literal):
        return types.TEXT if node.is_string else types.INT4
    if isinstance(node, exp.Boolean | exp.Predicate | exp.Not | exp.And | exp.Or | exp.In):
        return types.BOOL
    if isinstance(node, exp.Count | exp.RowNumber):
        return types.INT8
    if isinstance(node, exp.Case):
        for branch in node.args.get("ifs") or []:
            return _expression_type(branch.args["true"], scope, select)
    if isinstance(node, exp.Paren):
        return _expression_type(node.this, scope, select)
    if isinstance(node, exp.Subquery) and isinstance(node.this, exp.Select):
        inner = static_fields(node.this)
        return inner[0][1] if inner else types.TEXT
    if isinstance(node, exp.Window):
        return _expression_type(node.this, scope, select)
    return types.TEXT


def certainly_empty(tree: exp.Expression) -> bool:
    """Every branch reads a table that is always empty through FROM or an inner join."""
    if isinstance(tree, exp.SetOperation):
        return certainly_empty(tree.this) and certainly_empty(tree.expression)
    if not isinstance(tree, exp.Select):
        return False
    source = tree.args.get("from_") or tree.args.get("from")
    tables = [source.this] if source is not None else []
    for join in tree.args.get("joins") or []:
        if not join.side:
            tables.append(join.this)
    return any(isinstance(t, exp.Table) and t.name in EMPTY for t in tables)


__all__ = ["Catalog", "relation_oid"]
