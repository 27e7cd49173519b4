"""DATE_FORMAT: MySQL's format codes to MQL ($dateToString where a code maps to one of its
own, composed expressions for the rest: month and day names, 12-hour clock, week modes)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlglot import exp
from sqlglot.dialects.mysql import MySQL

from queryleaf.errors import SemanticError, UnsupportedError
from queryleaf.plan import function_registry as registry
from queryleaf.plan import mql
from queryleaf.plan.functions_date import (
    DAY_NAMES,
    MONTH_NAMES,
    ORDINALS,
    constant_or_not,
    date_value,
    let_var,
    unwrap_date_argument,
)
from queryleaf.plan.literals import NotConstant

if TYPE_CHECKING:
    from queryleaf.plan.expressions import ExprCompiler


def _pad2(number: Any) -> Any:
    text = {"$toString": number}
    return {"$cond": [{"$lt": [number, 10]}, {"$concat": ["0", text]}, text]}


def _hour12(d: str) -> Any:
    return {"$add": [{"$mod": [{"$add": [{"$hour": d}, 11]}, 12]}, 1]}


def name_of(names: list[str], index: Any) -> Any:
    return {"$arrayElemAt": [mql.literal(names), {"$subtract": [index, 1]}]}


def week_mode_1(d: str) -> Any:
    """WEEK(d, 1): weeks start on Monday, week 1 is the first with 4 or more days of the year,
    days before it are week 0 (ISO weeks without wrapping into the next or previous year)."""
    iso_year = {"$isoWeekYear": d}
    year = {"$year": d}
    return {
        "$cond": [
            {"$lt": [iso_year, year]},
            0,
            {"$cond": [{"$gt": [iso_year, year]}, 53, {"$isoWeek": d}]},
        ]
    }


def quarter_of(d: Any) -> Any:
    return {"$toInt": {"$ceil": {"$divide": [{"$month": d}, 3]}}}


# MySQL DATE_FORMAT codes that $dateToString writes the same way.
NATIVE_CODES = {"Y": "%Y", "m": "%m", "d": "%d", "H": "%H", "i": "%M", "s": "%S", "S": "%S",
                "j": "%j", "T": "%H:%M:%S", "f": "%L000", "U": "%U", "v": "%V", "x": "%G",
                "%": "%%"}  # fmt: skip


def _composed_code(code: str, d: str) -> Any:
    """MySQL DATE_FORMAT codes $dateToString lacks (in MongoDB 6.0), built from date parts."""
    if code == "y":
        return {"$substrCP": [{"$dateToString": {"date": d, "format": "%Y"}}, 2, 2]}
    if code == "c":
        return {"$toString": {"$month": d}}
    if code == "e":
        return {"$toString": {"$dayOfMonth": d}}
    if code == "k":
        return {"$toString": {"$hour": d}}
    if code in ("h", "I"):
        return _pad2(_hour12(d))
    if code == "l":
        return {"$toString": _hour12(d)}
    if code == "p":
        return {"$cond": [{"$lt": [{"$hour": d}, 12]}, "AM", "PM"]}
    if code == "r":
        return {
            "$concat": [
                _pad2(_hour12(d)),
                {"$dateToString": {"date": d, "format": ":%M:%S "}},
                _composed_code("p", d),
            ]
        }
    if code == "W":
        return name_of(DAY_NAMES, {"$dayOfWeek": d})
    if code == "a":
        return name_of([n[:3] for n in DAY_NAMES], {"$dayOfWeek": d})
    if code == "M":
        return name_of(MONTH_NAMES, {"$month": d})
    if code == "b":
        return name_of([n[:3] for n in MONTH_NAMES], {"$month": d})
    if code == "w":
        return {"$toString": {"$subtract": [{"$dayOfWeek": d}, 1]}}
    if code == "D":
        return name_of(ORDINALS, {"$dayOfMonth": d})
    if code == "u":
        return _pad2(week_mode_1(d))
    return None


def format_date(date: Any, pattern: str, node: exp.Expression) -> Any:
    """MySQL DATE_FORMAT: runs of codes $dateToString knows become one $dateToString, the
    others are composed from date parts, all joined with $concat."""
    if date is None:
        return None
    d = "$$qd"
    parts: list[Any] = []
    native = ""  # pending $dateToString format
    has_code = False

    def flush() -> None:
        nonlocal native, has_code
        if native:
            if has_code:
                parts.append({"$dateToString": {"date": d, "format": native}})
            else:
                parts.append(mql.literal(native.replace("%%", "%")))
        native, has_code = "", False

    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char != "%" or index + 1 >= len(pattern):
            native += "%%" if char == "%" else char
            index += 1
            continue
        code = pattern[index + 1]
        index += 2
        if code in NATIVE_CODES:
            native += NATIVE_CODES[code]
            has_code = has_code or code != "%"
            continue
        composed = _composed_code(code, d)
        if composed is None:
            if code in "VX":
                raise UnsupportedError(
                    f"DATE_FORMAT code %{code} is not supported",
                    node=node,
                    hint="use %U (Sunday weeks), %u (Monday weeks) or %v with %x (ISO weeks)",
                    code="QL201",
                )
            native += "%%" if code == "%" else code  # MySQL prints an unknown code's letter
            continue
        flush()
        parts.append(composed)
    flush()
    if not parts:
        return mql.null_guard([date], "")
    body = parts[0] if len(parts) == 1 else {"$concat": parts}
    if len(parts) == 1 and isinstance(body, dict) and "$dateToString" in body:
        return {"$dateToString": {"date": date, "format": body["$dateToString"]["format"]}}
    return let_var("qd", date, mql.null_guard([d], body))


# sqlglot's rewriting of MySQL format codes (MySQL.TIME_MAPPING), undone code by code; %T and
# %r come back spelled out (%H:%i:%s, %h:%i:%s %p), which means the same.
_FROM_SQLGLOT = {value: key for key, value in MySQL.TIME_MAPPING.items() if len(value) <= 3}


def _from_sqlglot_format(text: str) -> str:
    out = []
    index = 0
    while index < len(text):
        if text[index] != "%" or index + 1 >= len(text):
            out.append(text[index])
            index += 1
            continue
        code = text[index : index + 3] if text[index + 1] == "-" else text[index : index + 2]
        out.append(_FROM_SQLGLOT.get(code, code))
        index += len(code)
    return "".join(out)


def mysql_format(compiler: ExprCompiler, node: exp.Expression | None, owner: exp.Expression) -> str:
    """The MySQL format string of DATE_FORMAT & co. sqlglot rewrites a literal format into
    its own strftime-like notation; map it back (the mapping is one-to-one in meaning).
    A bound parameter arrives as written."""
    if node is None:
        raise SemanticError("a date format is required", node=owner, code="QL304")
    if isinstance(node, exp.Literal) and node.is_string:
        return _from_sqlglot_format(node.this)
    value = constant_or_not(compiler, node)
    if value is NotConstant or not isinstance(value, str):
        raise UnsupportedError(
            "DATE_FORMAT needs a constant format string",
            node=node,
            hint="write the format as a string literal or bind it as a parameter",
            code="QL201",
        )
    return value


def _date_format(compiler: ExprCompiler, node: exp.Expression) -> Any:
    date = date_value(compiler, unwrap_date_argument(node.this))
    return format_date(date, mysql_format(compiler, node.args.get("format"), node), node)


registry.TYPED.update(
    {
        exp.TimeToStr: _date_format,
    }
)
