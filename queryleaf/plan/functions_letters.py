"""UPPER, LOWER and ASCII beyond ASCII text.

MongoDB's `$toUpper`/`$toLower` are defined for ASCII letters only, and no operator gives a
character's code. Text with a character beyond U+007F is mapped one character at a time
through a table of the letters with a one-to-one case mapping (Latin-1 and Latin Extended-A,
Greek, basic Cyrillic: `UPPER('ünï')` is `'ÜNÏ'`; `'ß'` stays, as in MySQL; other letters are
left as they are); ASCII(s) of such a character is the first
byte of its UTF-8 form, as in MySQL, found by comparing the character with the first character
of each lead byte's range (strings compare by code point).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlglot import exp

from queryleaf.plan import mql
from queryleaf.plan.function_registry import TYPED, as_string

if TYPE_CHECKING:
    from queryleaf.plan.expressions import ExprCompiler

_RANGES = [(0x41, 0x5B), (0x61, 0x7B), (0xC0, 0x180), (0x370, 0x400), (0x400, 0x460)]


def _pairs(upper: bool) -> tuple[str, str]:
    sources, targets = [], []
    for start, stop in _RANGES:
        for code in range(start, stop):
            char = chr(code)
            other = char.upper() if upper else char.lower()
            back = other.lower() if upper else other.upper()
            if len(other) == 1 and other != char and back == char:
                sources.append(char)
                targets.append(other)
    return "".join(sources), "".join(targets)


_TO_UPPER = _pairs(upper=True)
_TO_LOWER = _pairs(upper=False)
_ASCII_ONLY = "^[\\x00-\\x7f]*$"


def _mapped(table: tuple[str, str], operator: str) -> Any:
    sources, targets = table
    char = {"$substrCP": ["$$qs", "$$this", 1]}
    one = {
        "$let": {
            "vars": {"qi": {"$indexOfCP": [sources, char]}},
            "in": {"$cond": [{"$lt": ["$$qi", 0]}, char, {"$substrCP": [targets, "$$qi", 1]}]},
        }
    }
    each = {
        "$reduce": {
            "input": {"$range": [0, {"$strLenCP": "$$qs"}]},
            "initialValue": "",
            "in": {"$concat": ["$$value", one]},
        }
    }
    ascii_only = {"$regexMatch": {"input": "$$qs", "regex": _ASCII_ONLY}}
    return {"$cond": [ascii_only, {operator: "$$qs"}, each]}


def _case(table: tuple[str, str], operator: str) -> Any:
    def build(compiler: ExprCompiler, node: exp.Expression) -> Any:
        x = compiler.value(node.this)
        if mql.is_constant(x):
            value = mql.constant_of(x)
            if value is None:
                return None
            text = str(value)
            sources, targets = table
            return mql.literal(
                "".join(targets[sources.index(c)] if c in sources else c for c in text)
            )
        body = mql.null_guard(["$$qs"], _mapped(table, operator))
        return {"$let": {"vars": {"qs": as_string(x)}, "in": body}}

    return build


def _lead_bytes() -> list[list[Any]]:
    """[first character, lead byte] of each UTF-8 lead byte's range beyond ASCII."""
    bounds = [[chr(max(0x80, (lead - 0xC0) << 6)), lead] for lead in range(0xC2, 0xE0)]
    bounds += [[chr(max(0x800, (lead - 0xE0) << 12)), lead] for lead in range(0xE0, 0xF0)]
    bounds += [[chr(max(0x10000, (lead - 0xF0) << 18)), lead] for lead in range(0xF0, 0xF5)]
    return bounds


_ASCII_TABLE = "".join(chr(code) for code in range(1, 128))


def _ascii(compiler: ExprCompiler, node: exp.Expression) -> Any:
    """ASCII(s): the first byte of s's UTF-8 form, 0 for ''."""
    s = compiler.value(node.this)
    if mql.is_constant(s):
        value = mql.constant_of(s)
        return None if value is None else (str(value).encode()[:1] or b"\0")[0]
    first = {"$substrCP": ["$$qs", 0, 1]}
    code = {"$add": [{"$indexOfCP": [_ASCII_TABLE, "$$qc"]}, 1]}
    lead = {
        "$reduce": {
            "input": {"$literal": _lead_bytes()},
            "initialValue": 0,
            "in": {
                "$cond": [
                    {"$gte": ["$$qc", {"$arrayElemAt": ["$$this", 0]}]},
                    {"$arrayElemAt": ["$$this", 1]},
                    "$$value",
                ]
            },
        }
    }
    body = {
        "$cond": [
            {"$eq": ["$$qs", ""]},
            0,
            {
                "$let": {
                    "vars": {"qc": first},
                    "in": {"$cond": [{"$lt": ["$$qc", "\x80"]}, code, lead]},
                }
            },
        ]
    }
    return {"$let": {"vars": {"qs": as_string(s)}, "in": mql.null_guard(["$$qs"], body)}}


TYPED.update(
    {
        exp.Upper: _case(_TO_UPPER, "$toUpper"),
        exp.Lower: _case(_TO_LOWER, "$toLower"),
        exp.Ascii: _ascii,
    }
)
