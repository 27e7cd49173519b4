"""JSON functions over document and array values.

MongoDB stores documents, not JSON text, and cannot parse JSON text inside a pipeline: the JSON
functions work on document and array values (a field holding a sub-document, JSON_OBJECT(...),
JSON_ARRAY(...)). A string is a JSON string value, never parsed as JSON text. JSON_EXTRACT returns
the value found (a document, an array, a number, ...) rather than its JSON text.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from queryleaf.errors import SemanticError, UnsupportedError
from queryleaf.plan import function_registry as registry
from queryleaf.plan import mql
from queryleaf.plan.literals import NotConstant, constant_value, struct_pairs

if TYPE_CHECKING:
    from queryleaf.plan.expressions import ExprCompiler

SIMPLE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Path steps: ("key", name), ("index", n) (negative: from the end, as [last - k]),
# ("keys",) for .* and ("items",) for [*].
Step = tuple[Any, ...]


# -- JSON_OBJECT / JSON_ARRAY --------------------------------------------------------------


def _constant(compiler: ExprCompiler, node: exp.Expression) -> Any:
    try:
        return constant_value(node, compiler.bindings)
    except NotConstant:
        return NotConstant


def document_expression(fields: list[tuple[str, Any]]) -> Any:
    """An MQL expression building a document with these fields, in order. Names a document
    expression cannot spell (empty, dotted, starting with '$') are set with $setField."""
    plain: dict[str, Any] = {}
    special: list[tuple[str, Any]] = []
    for name, value in fields:
        if name and "." not in name and not name.startswith("$") and not special:
            plain[name] = value
        else:
            special.append((name, value))
    result: Any = plain
    for name, value in special:
        field = {"$literal": name} if name.startswith("$") else name
        result = {"$setField": {"field": field, "input": result, "value": value}}
    return result


def _present(value: Any) -> Any:
    """A value that keeps its key in a document expression: missing becomes null."""
    return value if mql.is_constant(value) else {"$ifNull": [value, None]}


def _json_object(compiler: ExprCompiler, node: exp.Expression) -> Any:
    fields: dict[str, Any] = {}
    for pair in node.expressions:
        if not isinstance(pair, exp.JSONKeyValue):
            raise UnsupportedError(
                f"JSON_OBJECT argument {pair.sql('mysql')} is not supported",
                node=pair,
                code="QL201",
            )
        key = _constant(compiler, pair.this)
        if key is NotConstant or not isinstance(key, str):
            raise SemanticError(
                "JSON_OBJECT keys must be constant strings",
                node=pair.this,
                hint="write the key as a string literal",
                code="QL304",
            )
        # A repeated key keeps its first place and its last value, as $arrayToObject does.
        fields[key] = _present(compiler.value(pair.expression))
    return document_expression(list(fields.items()))


def _document_literal(compiler: ExprCompiler, node: exp.Expression) -> Any:
    """`{"city": "Paris", "tags": [...]}` (QueryLeaf's document literal): as JSON_OBJECT."""
    assert isinstance(node, exp.Struct)
    fields = {key: _present(compiler.value(value)) for key, value in struct_pairs(node)}
    return document_expression(list(fields.items()))


def _json_array(compiler: ExprCompiler, node: exp.Expression) -> Any:
    # Array expressions turn a missing element into null.
    return [compiler.value(item) for item in node.expressions]


# -- paths ---------------------------------------------------------------------------------


def parse_path(text: str, node: exp.Expression) -> list[Step]:
    """A MySQL JSON path: $, .key, ."quoted key", [n], [last], [last - n], .*, [*]."""

    def bad(detail: str) -> SemanticError:
        return SemanticError(
            f"invalid JSON path {text!r}: {detail}",
            node=node,
            hint="write paths like '$.a.b[0]', '$.\"key with spaces\"', '$.items[*].sku'",
            code="QL306",
        )

    text = text.strip()
    if not text.startswith("$"):
        raise bad("a path starts with $")
    steps: list[Step] = []
    index = 1
    while index < len(text):
        char = text[index]
        if char.isspace():
            index += 1
        elif text.startswith("**", index):
            raise UnsupportedError(
                "the JSON path wildcard ** is not supported", node=node, code="QL201"
            )
        elif char == ".":
            index += 1
            if text.startswith("*", index):
                steps.append(("keys",))
                index += 1
            elif text.startswith('"', index):
                match = re.match(r'"((?:[^"\\]|\\.)*)"', text[index:])
                if not match:
                    raise bad("unterminated quoted key")
                steps.append(("key", re.sub(r"\\(.)", r"\1", match.group(1))))
                index += match.end()
            else:
                match = re.match(r"[^.\[\s]+", text[index:])
                if not match:
                    raise bad("empty key")
                steps.append(("key", match.group(0)))
                index += match.end()
        elif char == "[":
            end = text.find("]", index)
            if end < 0:
                raise bad("unclosed [")
            inside = text[index + 1 : end].strip()
            index = end + 1
            if inside == "*":
                steps.append(("items",))
            elif inside.isdigit():
                steps.append(("index", int(inside)))
            else:
                match = re.fullmatch(r"last\s*(?:-\s*(\d+))?", inside)
                if not match:
                    raise bad(f"[{inside}] is not an array index")
                steps.append(("index", -1 - int(match.group(1) or 0)))
        else:
            raise bad(f"unexpected {char!r}")
    return steps


def _steps_of(node: exp.JSONPath, owner: exp.Expression) -> list[Step]:
    steps: list[Step] = []
    for part in node.expressions:
        if isinstance(part, exp.JSONPathRoot):
            continue
        if isinstance(part, exp.JSONPathKey):
            if isinstance(part.this, exp.JSONPathWildcard):
                steps.append(("keys",))
            else:
                steps.append(("key", str(part.this)))
        elif isinstance(part, exp.JSONPathSubscript) and isinstance(part.this, int):
            steps.append(("index", part.this))
        elif isinstance(part, exp.JSONPathSubscript) and isinstance(
            part.this, exp.JSONPathWildcard
        ):
            steps.append(("items",))
        else:
            return parse_path(node.sql("mysql").strip("'"), owner)
    return steps


def path_steps(compiler: ExprCompiler, node: exp.Expression, owner: exp.Expression) -> list[Step]:
    if isinstance(node, exp.JSONPath):
        return _steps_of(node, owner)
    text = _constant(compiler, node)
    if text is NotConstant or not isinstance(text, str):
        raise UnsupportedError(
            "a JSON path must be a constant string",
            node=node,
            hint="write the path as a string literal or bind it as a parameter",
            code="QL201",
        )
    return parse_path(text, owner)


def _let(name: str, value: Any, body: Any) -> Any:
    return {"$let": {"vars": {name: value}, "in": body}}


def _is_object(x: Any) -> Any:
    return {"$eq": [{"$type": x}, "object"]}


def _field(x: str, name: str) -> Any:
    """Field `name` of the value `x` (a variable), missing when x is not a document."""
    if SIMPLE_KEY.match(name):
        return f"{x}.{name}"
    field = {"$literal": name}
    return {"$getField": {"field": field, "input": {"$cond": [_is_object(x), x, None]}}}


def _scalar_step(value: Any, step: Step) -> Any:
    kind = step[0]
    if kind == "key":
        name = step[1]
        if (
            SIMPLE_KEY.match(name)
            and isinstance(value, str)
            and value.startswith("$")
            and not value.startswith("$$")
        ):
            return f"{value}.{name}"  # a field path: read the sub-field directly
        return _let("qj", value, _field("$$qj", name))
    index = step[1]
    # MySQL treats a value that is not an array as an array of one: [0] and [last] are it.
    itself = "$$qj" if index in (0, -1) else "$$REMOVE"  # nothing found: missing, not null
    element = {"$arrayElemAt": ["$$qj", index]}
    return _let("qj", value, {"$cond": [{"$isArray": "$$qj"}, element, itself]})


def _wildcard(value: Any, step: Step) -> Any:
    """The list of matches of a wildcard step applied to one value."""
    if step[0] == "items":
        return _let("qj", value, {"$cond": [{"$isArray": "$$qj"}, "$$qj", []]})
    values = {"$map": {"input": {"$objectToArray": "$$qj"}, "as": "qe", "in": "$$qe.v"}}
    return _let("qj", value, {"$cond": [_is_object("$$qj"), values, []]})


def _list_step(matches: Any, step: Step) -> Any:
    """A path step applied to every match so far; what it finds, flattened."""
    kind = step[0]
    if kind == "key":
        name = step[1]
        found = {"$getField": {"field": {"$literal": name}, "input": "$$qi"}}
        # $cond, not $and: $getField fails on a value that is not a document.
        keep = {"$cond": [_is_object("$$qi"), {"$ne": [{"$type": found}, "missing"]}, False]}
        kept = {"$filter": {"input": matches, "as": "qi", "cond": keep}}
        return {"$map": {"input": kept, "as": "qi", "in": found}}
    if kind == "index":
        index = step[1]
        itself = ["$$this"] if index in (0, -1) else []
        in_range = {"$gt": [{"$size": "$$this"}, index if index >= 0 else -1 - index]}
        element = {"$cond": [in_range, [{"$arrayElemAt": ["$$this", index]}], []]}
        each = {"$cond": [{"$isArray": "$$this"}, element, itself]}
    elif kind == "items":
        each = {"$cond": [{"$isArray": "$$this"}, "$$this", []]}
    else:
        values = {"$map": {"input": {"$objectToArray": "$$this"}, "as": "qe", "in": "$$qe.v"}}
        each = {"$cond": [_is_object("$$this"), values, []]}
    return {
        "$reduce": {
            "input": matches,
            "initialValue": [],
            "in": {"$concatArrays": ["$$value", each]},
        }
    }


def extract_path(value: Any, steps: list[Step]) -> tuple[Any, bool]:
    """(expression, is_list): the value at the path, or the list of matches once the path
    has a wildcard."""
    is_list = False
    for step in steps:
        if is_list:
            value = _list_step(value, step)
        elif step[0] in ("items", "keys"):
            value = _wildcard(value, step)
            is_list = True
        else:
            value = _scalar_step(value, step)
    return value, is_list


def _matches(value: Any, is_list: bool) -> Any:
    if is_list:
        return value
    return _let("qj", value, {"$cond": [{"$eq": [{"$type": "$$qj"}, "missing"]}, [], ["$$qj"]]})


def json_extract(compiler: ExprCompiler, node: exp.Expression) -> Any:
    document = compiler.value(node.this)
    paths = [node.expression, *node.expressions]
    if mql.is_constant(document) and mql.constant_of(document) is None:
        return None
    extracted = [extract_path(document, path_steps(compiler, p, node)) for p in paths]
    if len(extracted) == 1 and not extracted[0][1]:
        return extracted[0][0]
    # Wildcards or several paths: an array of every match, NULL when nothing matched.
    matches = [_matches(value, is_list) for value, is_list in extracted]
    combined = matches[0] if len(matches) == 1 else {"$concatArrays": matches}
    return _let("qm", combined, {"$cond": [{"$eq": [{"$size": "$$qm"}, 0]}, None, "$$qm"]})


def arrow_extract(node: exp.Expression) -> exp.Expression:
    """sqlglot reads `col->'$.path'` inside a function's arguments as a lambda `x -> body`
    (MySQL has no lambdas): such a node is JSON_EXTRACT(col, '$.path')."""
    if (
        isinstance(node, exp.Lambda)
        and len(node.expressions) == 1
        and isinstance(node.expressions[0], exp.Identifier)
        and isinstance(node.this, exp.Literal | exp.Placeholder)
    ):
        column = exp.Column(this=node.expressions[0].copy())
        return exp.JSONExtract(this=column, expression=node.this.copy())
    return node


def _arrow(compiler: ExprCompiler, node: exp.Expression) -> Any:
    extract = arrow_extract(node)
    if extract is node:
        raise UnsupportedError(
            f"lambda expressions are not supported: {node.sql('mysql')}", node=node, code="QL201"
        )
    return json_extract(compiler, extract)


def _json_unquote(compiler: ExprCompiler, node: exp.Expression) -> Any:
    """JSON_UNQUOTE of an extracted value is the value (a string found in a document is
    already unquoted text). Of text: the text between the double quotes of a JSON string
    literal, with \\" and \\\\ unescaped; other text unchanged."""
    if len(node.expressions) != 1:
        raise SemanticError("JSON_UNQUOTE takes one argument", node=node, code="QL304")
    argument = arrow_extract(node.expressions[0])
    if isinstance(argument, exp.JSONExtract | exp.JSONExtractScalar):
        return compiler.value(argument)
    value = compiler.value(argument)
    if mql.is_constant(value) and mql.constant_of(value) is None:
        return None
    inner = {"$substrCP": ["$$qu", 1, {"$subtract": [{"$strLenCP": "$$qu"}, 2]}]}
    for find, replacement in (('\\"', '"'), ("\\\\", "\\")):
        inner = {"$replaceAll": {"input": inner, "find": find, "replacement": replacement}}
    quoted = {"$regexMatch": {"input": "$$qu", "regex": '^"[\\s\\S]*"(?![\\s\\S])'}}
    is_text = {"$eq": [{"$type": "$$qu"}, "string"]}
    unquoted = {"$cond": [is_text, {"$cond": [quoted, inner, "$$qu"]}, {"$ifNull": ["$$qu", None]}]}
    return _let("qu", value, unquoted)


def _length_of(value: Any, at_path: bool = False) -> Any:
    """JSON_LENGTH of a value; a JSON null found at a path is a scalar (1), a path that finds
    nothing is NULL."""
    absent = {"$eq": [{"$type": "$$ql"}, "missing"]} if at_path else {"$lte": ["$$ql", None]}
    return _let(
        "ql",
        value,
        {
            "$switch": {
                "branches": [
                    {"case": absent, "then": None},
                    {"case": {"$isArray": "$$ql"}, "then": {"$size": "$$ql"}},
                    {"case": _is_object("$$ql"), "then": {"$size": {"$objectToArray": "$$ql"}}},
                ],
                "default": 1,
            }
        },
    )


def _json_length(compiler: ExprCompiler, node: exp.Expression) -> Any:
    """JSON_LENGTH(doc[, path]): elements of an array, keys of a document, 1 for a scalar."""
    if not 1 <= len(node.expressions) <= 2:
        raise SemanticError("JSON_LENGTH takes one or two arguments", node=node, code="QL304")
    value = compiler.value(node.expressions[0])
    if len(node.expressions) == 2:
        steps = path_steps(compiler, node.expressions[1], node)
        if any(step[0] in ("items", "keys") for step in steps):
            raise SemanticError(
                "JSON_LENGTH does not take a path with wildcards", node=node, code="QL304"
            )
        value, _ = extract_path(value, steps)
        return _length_of(value, at_path=True)
    return _length_of(value)


def _json_keys(compiler: ExprCompiler, node: exp.Expression) -> Any:
    """JSON_KEYS(doc[, path]): the keys of a document as an array; NULL for anything else."""
    value = compiler.value(node.this)
    if node.expression is not None:
        value, _ = extract_path(value, path_steps(compiler, node.expression, node))
    keys = {"$map": {"input": {"$objectToArray": "$$qk"}, "as": "qe", "in": "$$qe.k"}}
    return _let("qk", value, {"$cond": [_is_object("$$qk"), keys, None]})


registry.TYPED.update(
    {
        exp.JSONObject: _json_object,
        exp.Struct: _document_literal,
        exp.Array: _json_array,
        exp.JSONExtract: json_extract,
        exp.JSONExtractScalar: json_extract,
        exp.JSONKeys: _json_keys,
        exp.Lambda: _arrow,
    }
)
registry.ANONYMOUS.update(
    {
        "JSON_ARRAY": _json_array,
        "JSON_UNQUOTE": _json_unquote,
        "JSON_LENGTH": _json_length,
    }
)
registry.KNOWN_NAMES.update(
    {"JSON_OBJECT", "JSON_ARRAY", "JSON_EXTRACT", "JSON_UNQUOTE", "JSON_LENGTH", "JSON_KEYS",
     # the aggregates of queryleaf/plan/aggregate_functions.py, for "did you mean" hints
     "GROUP_CONCAT", "STRING_AGG", "JSON_ARRAYAGG", "ARRAY_AGG", "JSON_AGG", "JSON_OBJECTAGG",
     "JSON_OBJECT_AGG"}
)  # fmt: skip
