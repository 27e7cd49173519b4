"""String expression operators.

mongomock-ng lacked $substrCP, $substrBytes, $strLenCP, $strLenBytes, $indexOfCP, $replaceAll
and $replaceOne, turned a missing $concat operand into text, compared case-sensitively in
$strcasecmp and failed on a null $regexMatch input.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from bson import Decimal128, Regex, Timestamp

from .registry import Scope, operator
from .values import (
    MISSING,
    fail,
    format_date,
    format_double,
    is_nullish,
    is_number,
    require_integral,
    type_name,
)

# What $trim removes when no `chars` are given: NUL, ASCII and Unicode spaces.
_WHITESPACE = "\0 \t\n\v\f\r\u00a0\u1680" + "".join(chr(c) for c in range(0x2000, 0x200B))
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def coerce_to_string(value: Any, name: str) -> str:
    """The server's implicit string coercion ($toUpper, $substr*, $strcasecmp...)."""
    if value is None or value is MISSING:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return format_double(value)
    if isinstance(value, Decimal128):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(int(value))
    if isinstance(value, dt.datetime):
        return format_date(value)
    if isinstance(value, Timestamp):
        return f"Timestamp({value.time}, {value.inc})"
    fail(f"{name}: can't convert from BSON type {type_name(value)} to String", code=16007)


def _string_or_null(name: str, value: Any, what: str = "argument") -> str | None:
    if is_nullish(value):
        return None
    if not isinstance(value, str):
        fail(f"{name} requires its {what} to be a string, found: {type_name(value)}")
    return value


@operator("$concat")
def _concat(scope: Scope, argument: Any) -> str | None:
    values = scope.args("$concat", argument, 0, 10**6)
    for value in values:
        if is_nullish(value):
            return None
        if not isinstance(value, str):
            fail(f"$concat only supports strings, not {type_name(value)}", code=16702)
    return "".join(values)


@operator("$toUpper")
def _to_upper(scope: Scope, argument: Any) -> str:
    # The server maps ASCII letters only; null and missing give "".
    (value,) = scope.args("$toUpper", argument, 1)
    return coerce_to_string(value, "$toUpper").translate(_ASCII_UPPER)


@operator("$toLower")
def _to_lower(scope: Scope, argument: Any) -> str:
    (value,) = scope.args("$toLower", argument, 1)
    return coerce_to_string(value, "$toLower").translate(_ASCII_LOWER)


@operator("$strcasecmp")
def _strcasecmp(scope: Scope, argument: Any) -> int:
    left, right = scope.args("$strcasecmp", argument, 2)
    a = coerce_to_string(left, "$strcasecmp").translate(_ASCII_LOWER).encode()
    b = coerce_to_string(right, "$strcasecmp").translate(_ASCII_LOWER).encode()
    return (a > b) - (a < b)


@operator("$strLenCP")
def _str_len_cp(scope: Scope, argument: Any) -> int:
    (value,) = scope.args("$strLenCP", argument, 1)
    if not isinstance(value, str):
        fail(f"$strLenCP requires a string argument, found: {type_name(value)}", code=34471)
    return len(value)


@operator("$strLenBytes")
def _str_len_bytes(scope: Scope, argument: Any) -> int:
    (value,) = scope.args("$strLenBytes", argument, 1)
    if not isinstance(value, str):
        fail(f"$strLenBytes requires a string argument, found: {type_name(value)}", code=34473)
    return len(value.encode())


@operator("$substrCP")
def _substr_cp(scope: Scope, argument: Any) -> str:
    value, start, length = scope.args("$substrCP", argument, 3)
    if not is_number(start):
        fail(
            f"$substrCP: starting index must be a numeric type (is BSON type {type_name(start)})",
            code=34450,
        )
    if not is_number(length):
        fail(
            f"$substrCP: length must be a numeric type (is BSON type {type_name(length)})",
            code=34452,
        )
    start = require_integral(start, "$substrCP: starting index")
    length = require_integral(length, "$substrCP: length")
    text = coerce_to_string(value, "$substrCP")
    if length < 0:
        fail("$substrCP: length must be a nonnegative integer.", code=34454)
    if start < 0:
        fail("$substrCP: the starting index must be nonnegative integer.", code=34455)
    return text[start : start + length]


def _substr_bytes(name: str, scope: Scope, argument: Any) -> str:
    value, start, length = scope.args(name, argument, 3)
    data = coerce_to_string(value, name).encode()
    start = require_integral(start, f"{name}: starting index")
    length = require_integral(length, f"{name}: length")
    if start < 0:
        fail(f"{name}: starting index must be non-negative (got: {start})", code=50752)
    end = len(data) if length < 0 else min(start + length, len(data))
    if start >= len(data):
        return ""

    def continuation(index: int) -> bool:
        return index < len(data) and data[index] & 0xC0 == 0x80

    if continuation(start):
        fail(f"{name}:  Invalid range, starting index is a UTF-8 continuation byte.", code=28656)
    if continuation(end):
        fail(
            f"{name}:  Invalid range, ending index is in the middle of a UTF-8 character.",
            code=28657,
        )
    return data[start:end].decode()


@operator("$substrBytes")
def _substr_bytes_op(scope: Scope, argument: Any) -> str:
    return _substr_bytes("$substrBytes", scope, argument)


@operator("$substr")
def _substr(scope: Scope, argument: Any) -> str:
    return _substr_bytes("$substr", scope, argument)  # deprecated alias of $substrBytes


def _index_of(name: str, scope: Scope, argument: Any, unit: str) -> int | None:
    values = scope.args(name, argument, 2, 4)
    text, token = values[0], values[1]
    if is_nullish(text):
        return None
    if not isinstance(text, str):
        fail(f"{name} requires a string as the first argument, found: {type_name(text)}")
    if not isinstance(token, str):
        fail(f"{name} requires a string as the second argument, found: {type_name(token)}")
    if unit == "bytes":
        text, token = text.encode(), token.encode()
    bounds = [require_integral(value, f"{name} index") for value in values[2:]]
    if any(bound < 0 for bound in bounds):
        fail(f"{name} requires a nonnegative start and end index")
    start = bounds[0] if bounds else 0
    end = bounds[1] if len(bounds) > 1 else len(text)
    if start > len(text) or start > end:
        return -1
    return text.find(token, start, end)


@operator("$indexOfCP")
def _index_of_cp(scope: Scope, argument: Any) -> int | None:
    return _index_of("$indexOfCP", scope, argument, "code points")


@operator("$indexOfBytes")
def _index_of_bytes(scope: Scope, argument: Any) -> int | None:
    return _index_of("$indexOfBytes", scope, argument, "bytes")


def _replace(name: str, scope: Scope, argument: Any, count: int) -> str | None:
    spec = scope.named(name, argument, ("input", "find", "replacement"))
    values = [scope.eval(spec[key]) for key in ("input", "find", "replacement")]
    for key, value in zip(("input", "find", "replacement"), values, strict=True):
        if not is_nullish(value) and not isinstance(value, str):
            fail(f"{name} requires that '{key}' be a string, found: {type_name(value)}", code=51746)
    if any(is_nullish(value) for value in values):
        return None
    text, find, replacement = values
    return text.replace(find, replacement, count)


@operator("$replaceAll")
def _replace_all(scope: Scope, argument: Any) -> str | None:
    return _replace("$replaceAll", scope, argument, -1)


@operator("$replaceOne")
def _replace_one(scope: Scope, argument: Any) -> str | None:
    return _replace("$replaceOne", scope, argument, 1)


def _trim(name: str, scope: Scope, argument: Any) -> str | None:
    spec = scope.named(name, argument, ("input",), ("chars",))
    text = _string_or_null(name, scope.eval(spec["input"]), "input")
    if text is None:
        return None
    chars = _WHITESPACE
    if "chars" in spec:
        chars = _string_or_null(name, scope.eval(spec["chars"]), "chars")
        if chars is None:
            return None
    if name != "$rtrim":
        text = text.lstrip(chars)
    if name != "$ltrim":
        text = text.rstrip(chars)
    return text


def _register_trim(name: str) -> None:
    @operator(name)
    def handler(scope: Scope, argument: Any) -> str | None:
        return _trim(name, scope, argument)


for _name in ("$trim", "$ltrim", "$rtrim"):
    _register_trim(_name)


_REGEX_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE, "u": 0}


def compile_regex(name: str, pattern: Any, options: Any) -> re.Pattern[str]:
    """A Python regex for a MongoDB pattern (string or BSON regex) plus an options string."""
    if options is not None and not isinstance(options, str):
        fail(f"{name} needs 'options' to be of type string", code=51106)
    if isinstance(pattern, Regex | re.Pattern):
        own_flags = pattern.flags if isinstance(pattern, Regex) else pattern.flags & ~re.UNICODE
        if own_flags and options:
            fail(
                f"{name}: found regex option(s) specified in both 'regex' and 'option' fields",
                code=51107,
            )
        if own_flags:
            return pattern.try_compile() if isinstance(pattern, Regex) else pattern
        pattern = pattern.pattern
    if not isinstance(pattern, str):
        fail(f"{name} needs 'regex' to be of type string or regex", code=51105)
    flags = 0
    for letter in options or "":
        if letter not in _REGEX_FLAGS:
            fail(f"{name} invalid flag in regex options: {letter}", code=51108)
        flags |= _REGEX_FLAGS[letter]
    return re.compile(pattern, flags)


@operator("$regexMatch")
def _regex_match(scope: Scope, argument: Any) -> bool:
    spec = scope.named("$regexMatch", argument, ("input", "regex"), ("options",))
    text = scope.eval(spec["input"])
    pattern = scope.eval(spec["regex"])
    options = scope.eval_or_null(spec.get("options"))
    if is_nullish(text) or is_nullish(pattern):
        return False
    if not isinstance(text, str):
        fail("$regexMatch needs 'input' to be of type string", code=51104)
    return compile_regex("$regexMatch", pattern, options).search(text) is not None


@operator("$regexFind")
def _regex_find(scope: Scope, argument: Any) -> Any:
    """The first match as {match, idx, captures} (idx in code points), null when none."""
    spec = scope.named("$regexFind", argument, ("input", "regex"), ("options",))
    text = scope.eval(spec["input"])
    pattern = scope.eval(spec["regex"])
    options = scope.eval(spec["options"]) if "options" in spec else None
    if text is None:
        return None
    if not isinstance(text, str):
        fail("$regexFind needs 'input' to be of type string", code=51104)
    found = compile_regex("$regexFind", pattern, options).search(text)
    if found is None:
        return None
    return {"match": found.group(0), "idx": found.start(), "captures": list(found.groups())}
