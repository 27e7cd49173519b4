"""Catalog statements: SHOW TABLES (`listCollections`), SHOW INDEXES (`listIndexes`) and
DESCRIBE / SHOW COLUMNS (one aggregation that samples documents and counts each field's BSON
types)."""

from __future__ import annotations

import re
from typing import Any

from bson import Regex
from sqlglot import exp

from queryleaf.errors import SemanticError
from queryleaf.plan.ddl_plan import NO_DOCUMENTS_COLLECTION, DDLPlan, object_name, unsupported
from queryleaf.plan.plans import OutputColumn

SAMPLE_SIZE = 1000
# DESCRIBE reports embedded documents' fields this many levels below the top (a.b.c).
DESCRIBE_DEPTH = 2

SHOW_TABLES_COLUMNS = ["name", "type"]
SHOW_INDEXES_COLUMNS = ["name", "columns", "unique", "options"]
DESCRIBE_COLUMNS = ["field", "types", "documents", "sampled"]

# A name in statements sqlglot leaves as text: `quoted`, "quoted" or bare.
_NAME = r"(?:`(?:[^`]|``)+`|\"(?:[^\"]|\"\")+\"|[^\s`\"]+)"
_SHOW_INDEXES = re.compile(
    rf"^(?:INDEX|INDEXES|KEYS)\s+(?:FROM|IN)\s+(?P<name>{_NAME})"
    rf"(?:\s+(?:FROM|IN)\s+(?P<db>{_NAME}))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_SHOW_COLUMNS = re.compile(
    rf"^(?:FULL\s+)?(?:COLUMNS|FIELDS)\s+(?:FROM|IN)\s+(?P<name>{_NAME})"
    rf"(?:\s+(?:FROM|IN)\s+(?P<db>{_NAME}))?\s*$",
    re.IGNORECASE | re.DOTALL,
)


def plan_show(tree: exp.Show) -> DDLPlan:
    what = str(tree.this or "").upper()
    if what == "TABLES":
        return _show_tables(tree)
    if what in {"INDEX", "INDEXES", "KEYS"}:
        _no_database(tree)
        name, offset = object_name(_target(tree))
        return show_indexes(name, offset)
    if what in {"COLUMNS", "FIELDS"}:
        _no_database(tree)
        name, offset = object_name(_target(tree))
        return describe(name, offset)
    raise unsupported(f"SHOW {what}", tree)


def plan_describe(tree: exp.Describe) -> DDLPlan:
    target = tree.this
    if not isinstance(target, exp.Table):
        raise unsupported(
            "DESCRIBE of a query (use EXPLAIN SELECT ...)"
            if isinstance(target, exp.Query)
            else f"DESCRIBE {target.sql('mysql')}",
            tree,
        )
    if tree.args.get("kind") or tree.args.get("style") or tree.args.get("partition"):
        raise unsupported(f"this form of DESCRIBE ({tree.sql('mysql')})", tree)
    name, offset = object_name(target)
    return describe(name, offset)


def plan_command(tree: exp.Command) -> DDLPlan:
    """Statements sqlglot keeps as text: SHOW INDEXES/KEYS FROM t, SHOW FIELDS FROM t."""
    verb = str(tree.this or "").upper()
    text = tree.expression.name if isinstance(tree.expression, exp.Expression) else ""
    text = str(tree.expression) if not text and tree.expression is not None else text
    if verb == "SHOW":
        for pattern, build in ((_SHOW_INDEXES, show_indexes), (_SHOW_COLUMNS, describe)):
            found = pattern.match(text.strip())
            if found:
                if found.group("db"):
                    raise SemanticError(
                        "queryleaf works in the connection's database",
                        node=tree,
                        hint="leave out FROM <database>",
                        code="QL345",
                    )
                return build(_text_name(found.group("name"), tree), None)
    words = text.split()
    if words[:2] == ["OR", "REPLACE"] or words[:2] == ["or", "replace"]:
        words = words[2:]  # CREATE OR REPLACE FUNCTION: the kind is what matters
    raise unsupported(f"{verb} {' '.join(words[:2])}".strip() + " ...", tree)


def _show_tables(tree: exp.Show) -> DDLPlan:
    _no_database(tree)
    if tree.args.get("where") is not None:
        raise unsupported("SHOW TABLES WHERE", tree)
    command: dict[str, Any] = {"listCollections": 1, "nameOnly": False}
    like = tree.args.get("like")
    if like is not None:
        if not isinstance(like, exp.Literal) or not like.is_string:
            raise SemanticError("SHOW TABLES LIKE takes a string pattern", node=like, code="QL345")
        command["filter"] = {"name": {"$regex": Regex(like_regex(like.this))}}
    return DDLPlan(
        command,
        columns=[OutputColumn(label, (label,)) for label in SHOW_TABLES_COLUMNS],
        notes=[
            f"system collections and {NO_DOCUMENTS_COLLECTION} (what views without FROM are "
            "defined on) are left out"
        ],
        action="show_tables",
    )


def show_indexes(name: str, offset: int | None) -> DDLPlan:
    return DDLPlan(
        {"listIndexes": name},
        columns=[OutputColumn(label, (label,)) for label in SHOW_INDEXES_COLUMNS],
        action="show_indexes",
        name=name,
        offset=offset,
    )


def describe(name: str, offset: int | None) -> DDLPlan:
    return DDLPlan(
        {
            "aggregate": name,
            "pipeline": [{"$sample": {"size": SAMPLE_SIZE}}, *describe_stages()],
            "cursor": {},
        },
        columns=[OutputColumn(label, (label,)) for label in DESCRIBE_COLUMNS],
        notes=[
            f"fields and their BSON types in a random sample of up to {SAMPLE_SIZE} "
            f"documents; embedded documents' fields {DESCRIBE_DEPTH} levels deep"
        ],
        action="describe",
        name=name,
        offset=offset,
    )


def describe_stages() -> list[dict[str, Any]]:
    """After a $sample: one (field, type) entry per field of each document, grouped by
    field and type, then by field; the sample's size comes along through $facet."""
    fields_of_document = _entries("$$ROOT", None, DESCRIBE_DEPTH)
    types_text = {
        "$cond": [
            {"$eq": [{"$size": "$fields.types"}, 1]},
            {"$arrayElemAt": ["$fields.types.type", 0]},
            {
                "$reduce": {
                    "input": "$fields.types",
                    "initialValue": "",
                    "in": {
                        "$concat": [
                            "$$value",
                            {"$cond": [{"$eq": ["$$value", ""]}, "", ", "]},
                            "$$this.type",
                            " (",
                            {"$toString": "$$this.count"},
                            ")",
                        ]
                    },
                }
            },
        ]
    }
    return [
        {"$project": {"_id": 0, "fields": fields_of_document}},
        {
            "$facet": {
                "sampled": [{"$count": "n"}],
                "fields": [
                    {"$unwind": "$fields"},
                    {
                        "$group": {
                            "_id": {"field": "$fields.k", "type": "$fields.t"},
                            "count": {"$sum": 1},
                        }
                    },
                    {"$sort": {"count": -1, "_id.type": 1}},
                    {
                        "$group": {
                            "_id": "$_id.field",
                            "types": {"$push": {"type": "$_id.type", "count": "$count"}},
                            "count": {"$sum": "$count"},
                        }
                    },
                    {"$sort": {"_id": 1}},
                ],
            }
        },
        {"$unwind": "$fields"},
        {
            "$project": {
                "_id": 0,
                "field": "$fields._id",
                "types": types_text,
                "documents": "$fields.count",
                "sampled": {"$arrayElemAt": ["$sampled.n", 0]},
            }
        },
    ]


def _entries(source: str, prefix: str | None, depth: int) -> dict[str, Any]:
    """An expression for the [{k: path, t: BSON type}] entries of the document `source`,
    with the fields of embedded documents `depth` levels further down."""
    key: Any = "$$this.k" if prefix is None else {"$concat": [prefix, ".", "$$this.k"]}
    parts: list[Any] = ["$$value", [{"k": key, "t": {"$type": "$$this.v"}}]]
    if depth > 0:
        variable = f"p{DESCRIBE_DEPTH - depth}"
        nested = {
            "$let": {
                "vars": {variable: key},
                "in": _entries("$$this.v", f"$${variable}", depth - 1),
            }
        }
        parts.append({"$cond": [{"$eq": [{"$type": "$$this.v"}, "object"]}, nested, []]})
    return {
        "$reduce": {
            "input": {"$objectToArray": source},
            "initialValue": [],
            "in": {"$concatArrays": parts},
        }
    }


def like_regex(pattern: str) -> str:
    """A LIKE pattern as an anchored regular expression (`\\` quotes the next character)."""
    out = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            out.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        out.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        index += 1
    return "^" + "".join(out) + "$"


def _target(tree: exp.Show) -> exp.Expression:
    target = tree.args.get("target")
    if target is None:
        raise SemanticError(f"SHOW {tree.this} needs FROM <collection>", node=tree, code="QL345")
    return target


def _no_database(tree: exp.Show) -> None:
    if tree.args.get("db") is not None:
        raise SemanticError(
            "queryleaf works in the connection's database",
            node=tree.args["db"],
            hint="leave out FROM <database>",
            code="QL345",
        )


def _text_name(text: str, node: exp.Expression) -> str:
    if text[0] in '`"' and text[-1] == text[0] and len(text) >= 2:
        quote = text[0]
        return text[1:-1].replace(quote * 2, quote)
    if "." in text:
        raise SemanticError(
            f"qualified name {text}: queryleaf works in the connection's database",
            node=node,
            hint=f"quote a name with dots: `{text}`",
            code="QL345",
        )
    return text
