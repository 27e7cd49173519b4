"""CREATE TABLE: a MongoDB `create` command. Collections are schemaless, so column
definitions are documentation; `WITH (validator = ...)` sets a server-side validator."""

from __future__ import annotations

from typing import Any

from bson import json_util
from sqlglot import exp

from queryleaf.errors import SemanticError, UnsupportedError
from queryleaf.plan.ddl_plan import DDLPlan, object_name, unsupported
from queryleaf.plan.literals import Bindings, NotConstant, constant_value

VALIDATION_LEVELS = ("off", "strict", "moderate")
VALIDATION_ACTIONS = ("error", "warn")

# WITH (...) option spellings: validation_level and validationLevel are one option.
_OPTIONS = {
    "validator": "validator",
    "validationlevel": "validationLevel",
    "validationaction": "validationAction",
}

# MySQL table options that mean nothing to MongoDB; they are accepted (dumps carry them).
_IGNORED = (
    exp.EngineProperty,
    exp.CharacterSetProperty,
    exp.CollateProperty,
    exp.SchemaCommentProperty,
    exp.AutoIncrementProperty,
)


def plan_create_table(tree: exp.Create, bindings: Bindings | None) -> DDLPlan:
    if tree.expression is not None:
        raise UnsupportedError(
            "CREATE TABLE ... AS SELECT is not supported",
            node=tree.expression,
            hint="CREATE TABLE t, then INSERT INTO t (...) SELECT ...",
            code="QL207",
        )
    if tree.args.get("replace"):
        raise unsupported("CREATE OR REPLACE TABLE", tree)
    name, offset = object_name(tree.this)
    command: dict[str, Any] = {"create": name}
    notes: list[str] = []
    properties = tree.args.get("properties")
    ignored: list[str] = []
    for prop in properties.expressions if properties is not None else []:
        if isinstance(prop, exp.TemporaryProperty):
            raise unsupported("CREATE TEMPORARY TABLE", tree)
        if isinstance(prop, _IGNORED):
            ignored.append(prop.sql("mysql"))
            continue
        if not isinstance(prop, exp.Property):
            raise unsupported(f"the table option {prop.sql('mysql')}", prop)
        option = _OPTIONS.get(prop.name.lower().replace("_", ""))
        if option is None:
            raise SemanticError(
                f"unknown table option {prop.name}",
                node=prop,
                hint="CREATE TABLE takes WITH (validator = ..., validation_level = ..., "
                "validation_action = ...)",
                code="QL345",
            )
        command[option] = _option_value(option, prop, bindings)
    if ignored:
        notes.append("ignored MySQL table options (no MongoDB equivalent): " + ", ".join(ignored))
    warnings = _column_warnings(tree.this)
    if "validator" not in command and (
        "validationLevel" in command or "validationAction" in command
    ):
        raise SemanticError(
            "validation_level and validation_action need a validator",
            node=tree,
            hint="add validator = JSON_OBJECT(...) to WITH (...)",
            code="QL345",
        )
    return DDLPlan(
        command,
        notes=notes,
        action="create_table",
        name=name,
        if_exists=bool(tree.args.get("exists")),
        offset=offset,
        warnings=warnings,
    )


def _option_value(option: str, prop: exp.Property, bindings: Bindings | None) -> Any:
    node = prop.args.get("value")
    try:
        value = constant_value(node, bindings)
    except NotConstant:
        raise SemanticError(
            f"{prop.name} must be a constant",
            node=node,
            hint="write a JSON_OBJECT(...), a JSON string or a parameter",
            code="QL345",
        ) from None
    if option == "validator":
        if isinstance(value, str):
            try:
                value = json_util.loads(value)
            except ValueError as error:
                raise SemanticError(
                    f"the validator is not valid JSON: {error}",
                    node=node,
                    hint='write Extended JSON, e.g. \'{"$jsonSchema": {"required": ["name"]}}\'',
                    code="QL345",
                ) from None
        if not isinstance(value, dict):
            raise SemanticError(
                "the validator must be a document (a query filter or {$jsonSchema: ...})",
                node=node,
                code="QL345",
            )
        return value
    allowed = VALIDATION_LEVELS if option == "validationLevel" else VALIDATION_ACTIONS
    if not isinstance(value, str) or value.lower() not in allowed:
        raise SemanticError(
            f"{prop.name} must be one of " + ", ".join(f"'{a}'" for a in allowed),
            node=node,
            code="QL345",
        )
    return value.lower()


def _column_warnings(schema: exp.Expression) -> list[str]:
    """What the column list asks for and MongoDB will not enforce."""
    if not isinstance(schema, exp.Schema) or not schema.expressions:
        return []
    warnings = [
        "column definitions are not enforced: MongoDB collections are schemaless "
        "(use WITH (validator = ...) to check documents)"
    ]
    keys: list[str] = []
    for item in schema.expressions:
        if isinstance(item, exp.ColumnDef):
            for constraint in item.args.get("constraints") or []:
                kind = constraint.args.get("kind")
                keyed = isinstance(
                    kind, exp.UniqueColumnConstraint | exp.PrimaryKeyColumnConstraint
                )
                if keyed and item.name != "_id":
                    keys.append(f"{item.name} ({kind.sql('mysql')})")
        elif isinstance(
            item,
            exp.UniqueColumnConstraint | exp.PrimaryKey | exp.IndexColumnConstraint,
        ):
            keys.append(item.sql("mysql"))
    if keys:
        warnings.append(
            "keys and indexes in the column list are not created: "
            + ", ".join(keys)
            + "; use CREATE [UNIQUE] INDEX"
        )
    return warnings
