"""String and math functions beyond the core table in `functions`: padding, searching,
repeating, reversing, comparing; PI, and a clear refusal for RAND.

Strings are compared and searched by code point (case-sensitive), as everywhere in queryleaf;
MySQL's default collation would ignore case in LOCATE, INSTR and STRCMP.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from queryleaf.errors import SemanticError, UnsupportedError
from queryleaf.plan import function_registry as registry
from queryleaf.plan import mql

if TYPE_CHECKING:
    from queryleaf.plan.expressions import ExprCompiler

as_string = registry.as_string


def _let(variables: dict[str, Any], body: Any) -> Any:
    return {"$let": {"vars": variables, "in": body}}


def _repeat_text(text: str, times: str) -> Any:
    """`text` repeated `times` times (both variables); '' for 0 or fewer. Built by doubling
    (ceil(log2(times)) concatenations, then cut), so the work is linear in the result and a
    result over MongoDB's 16 MB limit fails at once in the server."""
    steps = {"$toInt": {"$ceil": {"$log": [{"$max": [times, 1]}, 2]}}}
    doubled = {
        "$reduce": {
            "input": {"$range": [0, steps]},
            "initialValue": text,
            "in": {"$concat": ["$$value", "$$value"]},
        }
    }
    size = {"$multiply": [{"$max": [times, 0]}, {"$strLenCP": text}]}
    return {"$cond": [{"$lte": [times, 0]}, "", {"$substrCP": [doubled, 0, size]}]}


def _whole(count: Any) -> Any:
    """A count rounded to an integer, half away from zero, as MySQL converts a fractional
    count (REPEAT('ab', 1.5) is 'abab', SPACE(2.5) three spaces); constants are rounded here."""
    if isinstance(count, int):
        return count
    if isinstance(count, float) and math.isfinite(count):
        return math.floor(count + 0.5) if count >= 0 else math.ceil(count - 0.5)
    rounded = {
        "$cond": [
            {"$gte": ["$$qw", 0]},
            {"$floor": {"$add": ["$$qw", 0.5]}},
            {"$ceil": {"$subtract": ["$$qw", 0.5]}},
        ]
    }
    return _let({"qw": count}, rounded)


def _pad(compiler: ExprCompiler, node: exp.Expression) -> Any:
    """LPAD/RPAD(s, n, pad): s cut or padded to n characters; NULL when n < 0, or when
    padding is needed and pad is ''."""
    s = compiler.value(node.this)
    n = compiler.value(node.expression)
    fill = node.args.get("fill_pattern")
    pad = compiler.value(fill) if fill is not None else " "
    size = {"$strLenCP": "$$qs"}
    missing = {"$subtract": ["$$qn", size]}
    # Enough copies of pad, then cut to the missing length.
    copies = _repeat_text("$$qp", missing)
    padding = {"$substrCP": [copies, 0, missing]}
    joined = ["$$qs", padding] if not node.args.get("is_left") else [padding, "$$qs"]
    body = {
        "$switch": {
            "branches": [
                {"case": {"$lt": ["$$qn", 0]}, "then": None},
                {"case": {"$gte": [size, "$$qn"]}, "then": {"$substrCP": ["$$qs", 0, "$$qn"]}},
                {"case": {"$eq": ["$$qp", ""]}, "then": None},
            ],
            "default": {"$concat": joined},
        }
    }
    variables = {"qs": as_string(s), "qn": _whole(n), "qp": as_string(pad)}
    return _let(variables, mql.null_guard(["$$qs", "$$qn", "$$qp"], body))


def _position(compiler: ExprCompiler, node: exp.Expression) -> Any:
    """POSITION(sub IN s), LOCATE(sub, s[, pos]), INSTR(s, sub): 1-based, 0 when absent."""
    s = compiler.value(node.this)
    sub = compiler.value(node.args["substr"])
    start = node.args.get("position")
    if start is None:
        found = {"$indexOfCP": [as_string(s), as_string(sub)]}
        return mql.null_guard([s, sub], {"$add": [found, 1]})
    pos = compiler.value(start)
    found = {"$indexOfCP": ["$$qs", "$$qf", {"$subtract": ["$$qp", 1]}]}
    body = {"$cond": [{"$lt": ["$$qp", 1]}, 0, {"$add": [found, 1]}]}
    variables = {"qs": as_string(s), "qf": as_string(sub), "qp": pos}
    return _let(variables, mql.null_guard(["$$qs", "$$qf", "$$qp"], body))


def _reverse(compiler: ExprCompiler, node: exp.Expression) -> Any:
    s = compiler.value(node.this)
    reversed_text = {
        "$reduce": {
            "input": {"$range": [0, {"$strLenCP": "$$qs"}]},
            "initialValue": "",
            "in": {"$concat": [{"$substrCP": ["$$qs", "$$this", 1]}, "$$value"]},
        }
    }
    return _let({"qs": as_string(s)}, mql.null_guard(["$$qs"], reversed_text))


def _repeat(compiler: ExprCompiler, node: exp.Expression) -> Any:
    s = compiler.value(node.this)
    times = compiler.value(node.args["times"])
    body = _repeat_text("$$qs", "$$qt")
    variables = {"qs": as_string(s), "qt": _whole(times)}
    return _let(variables, mql.null_guard(["$$qs", "$$qt"], body))


def _space(compiler: ExprCompiler, node: exp.Expression) -> Any:
    times = compiler.value(node.this)
    return _let({"qt": _whole(times)}, mql.null_guard(["$$qt"], _repeat_text(" ", "$$qt")))


def _strcmp(compiler: ExprCompiler, node: exp.Expression) -> Any:
    if len(node.expressions) != 2:
        raise SemanticError("STRCMP takes two arguments", node=node, code="QL304")
    a, b = (compiler.value(arg) for arg in node.expressions)
    return mql.null_guard([a, b], {"$cmp": [as_string(a), as_string(b)]})


def _substring_index(compiler: ExprCompiler, node: exp.Expression) -> Any:
    """SUBSTRING_INDEX(s, delim, n): the part of s before the n-th delim (n > 0), or after the
    n-th from the end (n < 0); '' when n is 0 or delim is ''."""
    s = compiler.value(node.this)
    delim = compiler.value(node.args["delimiter"])
    count = compiler.value(node.args["count"])
    parts = {"$split": ["$$qs", "$$qd"]}
    kept = {"$slice": ["$$qp", "$$qn"]}  # the first n parts, or the last -n
    joined = {
        "$reduce": {
            "input": kept,
            "initialValue": None,
            "in": {
                "$cond": [
                    {"$eq": ["$$value", None]},
                    "$$this",
                    {"$concat": ["$$value", "$$qd", "$$this"]},
                ]
            },
        }
    }
    body = {
        "$cond": [
            {"$or": [{"$eq": ["$$qn", 0]}, {"$eq": ["$$qd", ""]}]},
            "",
            _let({"qp": parts}, {"$ifNull": [joined, ""]}),
        ]
    }
    variables = {"qs": as_string(s), "qd": as_string(delim), "qn": count}
    return _let(variables, mql.null_guard(["$$qs", "$$qd", "$$qn"], body))


def _pi(compiler: ExprCompiler, node: exp.Expression) -> Any:
    return math.pi


def _rand(compiler: ExprCompiler, node: exp.Expression) -> Any:
    raise UnsupportedError(
        "RAND() is not supported: its value would differ between runs and between the "
        "server's evaluations of the same row",
        node=node,
        hint="to pick random documents, use $sample through the MongoDB shell, or order by "
        "a stored random field",
        code="QL201",
    )


registry.TYPED.update(
    {
        exp.Pad: _pad,
        exp.StrPosition: _position,
        exp.Reverse: _reverse,
        exp.Repeat: _repeat,
        exp.Space: _space,
        exp.SubstringIndex: _substring_index,
        exp.Pi: _pi,
        exp.Rand: _rand,
    }
)
registry.ANONYMOUS.update({"STRCMP": _strcmp})
registry.KNOWN_NAMES.update(
    {
        "LPAD", "RPAD", "POSITION", "LOCATE", "INSTR", "STRPOS", "REVERSE", "REPEAT", "SPACE",
        "ASCII", "STRCMP", "SUBSTRING_INDEX", "PI", "LOG2", "CHARACTER_LENGTH",
    }
)  # fmt: skip
