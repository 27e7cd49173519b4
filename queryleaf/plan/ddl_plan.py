"""The DDLPlan every DDL and catalog statement becomes, and what the DDL planners share:
the name a statement gives and the error for what is not supported."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from queryleaf.errors import SemanticError, UnsupportedError, node_offset
from queryleaf.plan.plans import Plan

# What a view without FROM is defined on. A MongoDB view must name a collection (`viewOn`)
# and a SELECT without FROM reads none, so its view runs the SELECT's database-level pipeline
# (starting with $documents) in a `$unionWith` without `coll` (MongoDB 6.0+) after a $match
# that lets no document of this collection through. The collection need not exist (a view may
# be defined on a missing one); it is never created, and SHOW TABLES leaves it out.
NO_DOCUMENTS_COLLECTION = "queryleaf_no_documents"

SUPPORTED = (
    "CREATE [OR REPLACE] VIEW, CREATE TABLE [IF NOT EXISTS], CREATE [UNIQUE] INDEX, "
    "DROP TABLE/VIEW/INDEX [IF EXISTS], SHOW TABLES, SHOW INDEXES FROM, DESCRIBE"
)


@dataclass
class DDLPlan(Plan):
    """A DDL or catalog statement. `command` is the MongoDB command it runs; the fields
    below are what the executor needs to check first (nothing runs when a check fails)."""

    action: str = ""  # create_table, create_view, create_index, drop_*, show_*, describe
    name: str = ""  # the table, view or index the statement names
    target: str = ""  # the collection of an index
    if_exists: bool = False  # IF EXISTS / IF NOT EXISTS: no error, nothing done
    replace: bool = False  # CREATE OR REPLACE VIEW
    offset: int | None = None  # where the name is in the statement, for the error caret
    # CREATE VIEW: the labels of the view's columns.
    view_columns: list[str] = field(default_factory=list)
    # Said to the user with the result (the Result's warnings, EXPLAIN's too).
    warnings: list[str] = field(default_factory=list)

    @property
    def tag(self) -> str:
        """The command tag a shell prints: CREATE VIEW, DROP INDEX, SHOW TABLES..."""
        return self.action.replace("_", " ").upper()


def object_name(node: exp.Expression) -> tuple[str, int | None]:
    """The collection (or view, index) a DDL statement names, and where it is written.
    `db.name` is refused: queryleaf works in one database, and a collection whose name
    has dots is written quoted (`` `fs.files` ``)."""
    if isinstance(node, exp.Schema):
        node = node.this
    if isinstance(node, exp.Identifier):
        return node.name, node_offset(node)
    if isinstance(node, exp.Table) and isinstance(node.this, exp.Identifier):
        if node.args.get("db") or node.args.get("catalog"):
            raise SemanticError(
                f"qualified name {node.sql('mysql')}: queryleaf works in the connection's database",
                node=node,
                hint=f"quote a name with dots: `{'.'.join(p.name for p in node.parts)}`",
                code="QL345",
            )
        if not node.name:
            raise SemanticError("empty name", node=node, code="QL345")
        return node.name, node_offset(node)
    raise SemanticError(f"expected a name, not {node.sql('mysql')}", node=node, code="QL345")


ROUTINES = ("FUNCTION", "PROCEDURE", "TRIGGER")


def unsupported(what: str, node: exp.Expression) -> UnsupportedError:
    words = what.upper().split()
    routine = next((w for w in words[1:3] if w in ROUTINES), None)
    if routine is not None:
        # The seed's "traditional" polling functions and triggers: what replaces them.
        return UnsupportedError(
            f"{words[0]} {routine} is not supported: MongoDB runs no stored functions, "
            "procedures or triggers",
            node=node,
            hint="react to changes with CREATE EVENT_SUBSCRIPTION name AS (watch_collections = "
            "..., deliver_to = 'handler:NAME' | 'https://...' | 'collection:NAME'); see "
            "docs/change-streams.md",
            code="QL207",
        )
    return UnsupportedError(
        f"{what} is not supported",
        node=node,
        hint=f"queryleaf runs {SUPPORTED}",
        code="QL207",
    )
