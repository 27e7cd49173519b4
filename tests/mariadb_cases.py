"""Rows and generated expressions for the MariaDB differential test
(tests/test_differential_mariadb.py).

The same rows go into MariaDB (a typed table) and into queryleaf (documents: a NULL column is
either a `null` field or a missing one). Expressions come from templates over the documented
function library (docs/sql.md), filled with columns and literals by a seeded random generator.
A template may spell the MariaDB side differently where MariaDB lacks MySQL 8's syntax
(`->`/`->>`); the meaning is MySQL 8's.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bson import Decimal128

MISSING = object()  # a field left out of the document (NULL in MariaDB)

COLUMNS = {
    "id": "INT PRIMARY KEY",
    "g": "INT",
    "s": "VARCHAR(64)",
    "t": "VARCHAR(16)",
    "n": "BIGINT",
    "x": "DOUBLE",
    "m": "DECIMAL(14,4)",
    "d": "DATETIME",
    "j": "JSON",
}


def _d(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


# id, g, s, t, n, x, m (text of a DECIMAL(14,4)), d, j
_ROWS: list[tuple[Any, ...]] = [
    (1, 1, "Hello World", "lo", 3, 2.5, "12.3400", _d("2024-02-29 10:20:30"),
     {"a": 1, "b": [1, 2, 3], "c": {"d": "x"}}),
    (2, 1, "ünïcödé ß", "ï", -2, -0.5, "-3.1250", _d("2024-01-31 00:00:00"),
     {"a": "text", "b": []}),
    (3, 2, "", "", 0, 0.0, "0.0000", _d("2023-12-31 23:59:59"), {}),
    (4, 2, None, "a", None, None, None, None, None),
    (5, None, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING),
    (6, 3, "abcabc", "bc", 100, 1e6, "99999.9999", _d("2000-02-29 12:00:00"),
     {"a": [{"b": 1}, {"b": 2}], "k": "v"}),
    (7, 3, "  padded  ", " ", 12, 123456789.0, "1.5000", _d("1999-12-31 23:59:59"),
     {"x": None, "a": 2.5}),
    (8, 1, "12abc", "abc", 3000000000, 1e20, "-0.0001", _d("2024-03-31 08:00:00"),
     {"b": [10, 20], "a": -7}),
    (9, 2, "1e3", "1", -3000000000, -1.25e-7, "100.0000", _d("2023-02-28 23:00:00"),
     {"c": {"d": "y", "e": [1]}}),
    (10, 3, "-7.9", "7", 7, 0.1, "0.1000", _d("2024-12-31 23:59:59"), {"a": None}),
    (11, 1, "xbab", "ab", 1, 1.5, "1.0000", _d("2021-06-15 06:07:08"), {"b": [1, [2, 3]]}),
    (12, 2, "Straße", "ß", -1, -2.5, "-2.5000", _d("2020-02-29 00:00:00"), {"a": "ÄÖ"}),
    (13, None, "日本語テキスト", "語", 2, 3.0, "3.0000", _d("2022-01-01 00:00:00"), {"b": [1]}),
    (14, 3, "a,b,,c", ",", 5, 1e15, "0.5000", _d("2019-11-30 13:14:15"), {"a": 1, "b": 2}),
    (15, 1, "MiXeD CaSe", "Ca", 12, 12.0, "12.0000", _d("2024-07-04 00:00:00"), {"a": True}),
    (16, 2, "😀 emoji ÿ", "😀", 100, 0.30000000000000004, "7.7500", _d("2024-08-31 17:45:00"),
     {"a": [1, 2]}),
    (17, None, "zz", "z", 0, 2.25, "3.3333", _d("2024-02-28 23:59:59"), {"a": {"b": [1]}}),
    (18, None, None, MISSING, 0, None, "1.0001", MISSING, None),
]  # fmt: skip


def rows() -> list[dict[str, Any]]:
    """The rows as column dictionaries; MISSING marks a field left out of the document."""
    return [dict(zip(COLUMNS, row, strict=True)) for row in _ROWS]


def document(row: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for name, value in row.items():
        if value is MISSING:
            continue
        doc[name] = Decimal128(value) if name == "m" and value is not None else value
    return doc


def mariadb_value(name: str, value: Any) -> Any:
    if value is MISSING or value is None:
        return None
    if name == "m":
        return Decimal(value)
    if name == "j":
        import json

        return json.dumps(value, ensure_ascii=False)
    return value


# -- literals and operands ----------------------------------------------------------------------

STRINGS = ["'abc'", "'ab'", "''", "'ÄÖü'", "'x'", "' a '", "'12abc'", "'1e3'", "'-7.9'",
           "'b'", "'aXbXc'", "'ß'", "'0.5'", "NULL"]  # fmt: skip
CHARS = ["'a'", "'b'", "'ab'", "' '", "'x'", "''", "'c'", "'ba'"]
SMALL = ["-5", "-3", "-1", "0", "1", "2", "3", "4", "7", "10", "NULL"]
COUNTS = ["0", "1", "2", "3", "5", "12"]
NUMBERS = ["1", "3", "-2", "0", "7", "1.5", "2.50", "-0.25", "1e0", "-2.5e0", "0.1e0", "0.1", "12.34",
           "123456789e0", "1e6", "1000000", "NULL"]  # fmt: skip
DATES = ["TIMESTAMP '2024-01-31 10:00:00'", "TIMESTAMP '2024-02-29 00:00:00'",
         "TIMESTAMP '2023-03-31 23:59:59'", "DATE '2000-02-29'"]  # fmt: skip
UNITS = ["SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "QUARTER", "YEAR"]
EXTRACT_UNITS = [*UNITS, "YEAR_MONTH", "DAY_HOUR", "DAY_MINUTE", "DAY_SECOND", "HOUR_MINUTE",
                         "HOUR_SECOND", "MINUTE_SECOND"]  # fmt: skip
FORMATS = ["'%Y-%m-%d'", "'%d/%m/%y %H:%i:%s'", "'%W %M %e %Y'", "'%a %b %D'", "'%j %w %U %u'",
           "'%h:%i %p'", "'%r'", "'%T'", "'%c-%k-%l'", "'%v %x'", "'%%%Y'"]  # fmt: skip
JSON_PATHS = ["'$.a'", "'$.b'", "'$.b[1]'", "'$.b[last]'", "'$.c.d'", "'$.c'", "'$.x'",
              "'$.zz'", "'$.b[0]'", "'$.a[0]'", "'$.c.e[0]'"]  # fmt: skip
STRING_COLUMNS = ["s", "s", "t"]
NUMBER_COLUMNS = ["n", "n", "x", "x", "m", "m"]


@dataclass(frozen=True)
class Case:
    """One generated expression: `sql` for queryleaf, `mariadb` for the reference, the
    template's `name` (for exclusions and reports); `aggregate`: a GROUP BY query; `json`: the
    reference's result is JSON text, parsed before the comparison."""

    name: str
    sql: str
    mariadb: str
    aggregate: bool
    json: bool


def _pick(rng: random.Random, key: str) -> str:
    if key == "S":
        return rng.choice(STRING_COLUMNS) if rng.random() < 0.7 else rng.choice(STRINGS)
    if key == "C":
        return rng.choice(CHARS)
    if key == "I":
        return rng.choice(SMALL) if rng.random() < 0.85 else "n"
    if key == "K":
        return rng.choice(COUNTS)
    if key == "N":
        return rng.choice(NUMBER_COLUMNS) if rng.random() < 0.65 else rng.choice(NUMBERS)
    if key == "D":
        return "d" if rng.random() < 0.75 else rng.choice(DATES)
    if key == "U":
        return rng.choice(UNITS)
    if key == "E":
        return rng.choice(EXTRACT_UNITS)
    if key == "F":
        return rng.choice(FORMATS)
    if key == "P":
        return rng.choice(JSON_PATHS)
    if key == "L":
        return rng.choice(["'%a%'", "'a%'", "'%b'", "'_b%'", "'%ß%'", "'%'", "''", "'%c_'"])
    if key == "V":  # any scalar operand
        return _pick(rng, rng.choice("SNDN"))
    if key == "A":  # an amount for intervals
        return rng.choice(["1", "2", "-1", "13", "-13", "0", "31", "g"])
    raise KeyError(key)


# name: template (queryleaf and MySQL 8), optional MariaDB spelling. {X1}, {X2} are fresh
# picks of kind X; the same placeholder twice is the same pick.
TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    "strings": {
        "upper": ("UPPER({S1})",),
        "lower": ("LOWER({S1})",),
        "ucase": ("UCASE({S1})",),
        "lcase": ("LCASE({S1})",),
        "substr": ("SUBSTR({S1}, {I1}, {K1})",),
        "greatest_strings": ("GREATEST({S1}, {S2})",),
        "length": ("LENGTH({S1})",),
        "char_length": ("CHAR_LENGTH({S1})",),
        "concat": ("CONCAT({S1}, {S2})",),
        "concat_num": ("CONCAT({S1}, {N1})",),
        "concat_ws": ("CONCAT_WS({C1}, {S1}, {V1}, {S2})",),
        "substring2": ("SUBSTRING({S1}, {I1})",),
        "substring3": ("SUBSTRING({S1}, {I1}, {I2})",),
        "substr_from": ("SUBSTRING({S1} FROM {I1} FOR {K1})",),
        "mid": ("MID({S1}, {I1}, {K1})",),
        "left": ("LEFT({S1}, {I1})",),
        "right": ("RIGHT({S1}, {I1})",),
        "trim": ("TRIM({S1})",),
        "ltrim": ("LTRIM({S1})",),
        "rtrim": ("RTRIM({S1})",),
        "trim_leading": ("TRIM(LEADING {C1} FROM {S1})",),
        "trim_trailing": ("TRIM(TRAILING {C1} FROM {S1})",),
        "trim_both": ("TRIM(BOTH {C1} FROM {S1})",),
        "replace": ("REPLACE({S1}, {C1}, {C2})",),
        "replace_cols": ("REPLACE({S1}, {S2}, 'Z')",),
        "lpad": ("LPAD({S1}, {K1}, {C1})",),
        "rpad": ("RPAD({S1}, {K1}, {C1})",),
        "locate": ("LOCATE({C1}, {S1})",),
        "locate3": ("LOCATE({C1}, {S1}, {I1})",),
        "instr": ("INSTR({S1}, {S2})",),
        "position": ("POSITION({C1} IN {S1})",),
        "reverse": ("REVERSE({S1})",),
        "repeat": ("REPEAT({S1}, {K1})",),
        "space": ("CONCAT('[', SPACE({K1}), ']')",),
        "ascii": ("ASCII({S1})",),
        "strcmp": ("STRCMP({S1}, {S2})",),
        "substring_index": ("SUBSTRING_INDEX({S1}, {C1}, {I1})",),
        "like": ("({S1} LIKE {L1})",),
        "equal_strings": ("({S1} = {S2})",),
    },
    "numbers": {
        "add": ("{N1} + {N2}",),
        "subtract": ("{N1} - {N2}",),
        "multiply": ("{N1} * {N2}",),
        "divide": ("{N1} / {N2}",),
        "modulo": ("{N1} % {N2}",),
        "mod": ("MOD({N1}, {N2})",),
        "div": ("{N1} DIV {N2}",),
        "negate": ("-{N1}",),
        "abs": ("ABS({N1})",),
        "ceil": ("CEIL({N1})",),
        "floor": ("FLOOR({N1})",),
        "round": ("ROUND({N1})",),
        "round2": ("ROUND({N1}, {K1})",),
        "truncate": ("TRUNCATE({N1}, {K1})",),
        "sign": ("SIGN({N1})",),
        "sqrt": ("SQRT({N1})",),
        "ln": ("LN({N1})",),
        "log": ("LOG({N1})",),
        "log2": ("LOG2({N1})",),
        "log10": ("LOG10({N1})",),
        "logb": ("LOG({N1}, {N2})",),
        "pow": ("POW({N1}, {K1})",),
        "exp": ("EXP({I1})",),
        "greatest": ("GREATEST({N1}, {N2}, {N3})",),
        "least": ("LEAST({N1}, {N2})",),
        "compare": ("({N1} < {N2})",),
        "equal_numbers": ("({N1} = {N2})",),
        "between": ("({N1} BETWEEN {I1} AND {I2})",),
        "in_list": ("({N1} IN (3, 2.5, -0.5, 1e6))",),
    },
    "dates": {
        "date_add": ("DATE_ADD({D1}, INTERVAL {A1} {U1})",),
        "date_sub": ("DATE_SUB({D1}, INTERVAL {A1} {U1})",),
        "plus_interval": ("{D1} + INTERVAL {A1} {U1}",),
        "minus_interval": ("{D1} - INTERVAL {A1} {U1}",),
        "timestampadd": ("TIMESTAMPADD({U1}, {A1}, {D1})",),
        "adddate": ("ADDDATE({D1}, INTERVAL {A1} {U1})",),
        "subdate": ("SUBDATE({D1}, INTERVAL {A1} {U1})",),
        "timestampdiff": ("TIMESTAMPDIFF({U1}, {D1}, {D2})",),
        "datediff": ("DATEDIFF({D1}, {D2})",),
        "date_format": ("DATE_FORMAT({D1}, {F1})",),
        "extract": ("EXTRACT({E1} FROM {D1})",),
        "year": ("YEAR({D1})",),
        "month": ("MONTH({D1})",),
        "day": ("DAY({D1})",),
        "hour": ("HOUR({D1})",),
        "minute": ("MINUTE({D1})",),
        "second": ("SECOND({D1})",),
        "dayofweek": ("DAYOFWEEK({D1})",),
        "weekday": ("WEEKDAY({D1})",),
        "dayofyear": ("DAYOFYEAR({D1})",),
        "quarter": ("QUARTER({D1})",),
        "week": ("WEEK({D1})",),
        "week_mode": ("WEEK({D1}, 1)",),
        "week_iso": ("WEEK({D1}, 3)",),
        "date": ("DATE({D1})",),
        "last_day": ("LAST_DAY({D1})",),
        "monthname": ("MONTHNAME({D1})",),
        "dayname": ("DAYNAME({D1})",),
        "unix_timestamp": ("UNIX_TIMESTAMP({D1})",),
        "from_unixtime": ("FROM_UNIXTIME(1700000000 + {I1} * 86400)",),
        "date_compare": ("({D1} < {D2})",),
    },
    "conditionals": {
        "coalesce": ("COALESCE({S1}, {S2})",),
        "coalesce_numbers": ("COALESCE({N1}, {N2}, {N3})",),
        "coalesce_mixed": ("COALESCE({S1}, {N1})",),
        "ifnull": ("IFNULL({S1}, {S2})",),
        "nullif": ("NULLIF({N1}, {N2})",),
        "if": ("IF({N1} > {I1}, {S1}, {S2})",),
        "case": ("CASE WHEN {N1} > {I1} THEN 'big' WHEN {N1} < 0 THEN 'neg' ELSE {S1} END",),
        "case_simple": ("CASE {N1} WHEN 3 THEN 'three' WHEN 0 THEN 'zero' ELSE 'other' END",),
        "is_null": ("({V1} IS NULL)",),
        "not_null_and": ("({N1} > 0 AND {S1} <> '')",),
    },
    "casts": {
        "cast_signed": ("CAST({V1} AS SIGNED)",),
        "cast_decimal": ("CAST({V1} AS DECIMAL(10, 2))",),
        "cast_decimal0": ("CAST({N1} AS DECIMAL)",),
        "cast_char": ("CAST({V1} AS CHAR)",),
        "cast_char_n": ("CAST({S1} AS CHAR(3))",),
        "cast_double": ("CAST({V1} AS DOUBLE)",),
        "cast_date": ("CAST({D1} AS DATE)",),
        "cast_datetime": ("CAST({D1} AS DATETIME)",),
        "convert_signed": ("CONVERT({S1}, SIGNED)",),
        "convert_char": ("CONVERT({N1}, CHAR)",),
        "concat_double": ("CONCAT({N1} * 1e0)",),
        "string_to_number": ("{S1} + 0",),
    },
    "json": {
        "json_extract": ("JSON_EXTRACT(j, {P1})",),
        "json_extract2": ("JSON_EXTRACT(j, {P1}, {P2})",),
        "json_arrow": ("j->{P1}", "JSON_EXTRACT(j, {P1})"),
        "json_length": ("JSON_LENGTH(j)",),
        "json_length_path": ("JSON_LENGTH(j, {P1})",),
        "json_keys": ("JSON_KEYS(j)",),
        "json_keys_path": ("JSON_KEYS(j, '$.c')",),
        "json_object": ("JSON_OBJECT('s', {S1}, 'n', {N1})",),
        "json_array": ("JSON_ARRAY({S1}, {N1}, {D1})",),
        "json_unquote": ("JSON_UNQUOTE(JSON_EXTRACT(j, '$.c.d'))",),
        "json_arrow2": ("j->>'$.c.d'", "JSON_UNQUOTE(JSON_EXTRACT(j, '$.c.d'))"),
    },
    # A computed number compared with a number: the planner leaves out the type test here
    # (queryleaf/plan/value_kinds.py), so these pin that the answer is still SQL's.
    "computed_comparisons": {
        "multiply_gt": ("({N1} * {N2} > {N3})",),
        "multiply_ge": ("({N1} * {N2} >= {N3})",),
        "multiply_lt": ("({N1} * {N2} < {N3})",),
        "multiply_le": ("({N1} * {N2} <= {N3})",),
        "multiply_ne": ("({N1} * {N2} <> {N3})",),
        "multiply_eq": ("({N1} * {N2} = {N3})",),
        "abs_compare": ("(ABS({N1}) <= {N2})",),
        "not_multiply_gt": ("(NOT ({N1} * 2 > {N2}))",),
        "products_compare": ("({N1} * 2 > {N2} * 3)",),
    },
    "aggregates": {
        "count_star": ("COUNT(*)",),
        "count": ("COUNT({V1})",),
        "count_distinct": ("COUNT(DISTINCT {S1})",),
        "sum": ("SUM({N1})",),
        "avg": ("AVG({N1})",),
        "min": ("MIN({V1})",),
        "max": ("MAX({V1})",),
        "sum_expr": ("SUM({N1} * 2)",),
        "max_upper": ("MAX(UPPER({S1}))",),
        "group_concat_ordered": ("GROUP_CONCAT({S1} ORDER BY id)",),
        "group_concat_sep": ("GROUP_CONCAT({S1} ORDER BY {S1} DESC SEPARATOR '|')",),
        "group_concat_distinct": ("GROUP_CONCAT(DISTINCT {N1} ORDER BY {N1})",),
        "group_concat_distinct_s": ("GROUP_CONCAT(DISTINCT {S1})",),
        "group_concat_num": ("GROUP_CONCAT(n ORDER BY n DESC)",),
        "json_arrayagg": ("JSON_ARRAYAGG({V1} ORDER BY id)",),
        "json_objectagg": ("JSON_OBJECTAGG(s, n)",),
        "count_distinct_n": ("COUNT(DISTINCT {N1})",),
        "avg_expr": ("AVG({N1} + {N2})",),
        "sum_condition": ("SUM({N1} > {N2})",),
        "sum_connective": ("SUM({N1} > 0 AND {N2} < 5)",),
        "avg_condition": ("AVG({V1} IS NULL)",),
    },
}

JSON_KINDS = {"json_extract", "json_extract2", "json_arrow", "json_length_path", "json_keys",
              "json_keys_path", "json_objectagg",
              "json_object", "json_array", "json_arrayagg", "json_length"}  # fmt: skip


def _fill(template: str, rng: random.Random, picks: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        key = match.group(0)[1:-1]
        if key not in picks:
            picks[key] = _pick(rng, key[0])
        return picks[key]

    return re.sub(r"\{[A-Z]\d\}", replace, template)


def generate(seed: int, count: int) -> list[Case]:
    """`count` cases, drawn evenly over the templates (each at least once), then at random."""
    rng = random.Random(seed)
    entries = [(family, name, spec) for family, items in TEMPLATES.items()
               for name, spec in items.items()]  # fmt: skip
    cases: list[Case] = []
    order = list(entries)
    while len(cases) < count:
        if not order:
            order = list(entries)
            rng.shuffle(order)
        family, name, spec = order.pop(0)
        picks: dict[str, str] = {}
        sql = _fill(spec[0], rng, picks)
        mariadb = _fill(spec[1], rng, picks) if len(spec) > 1 else sql
        cases.append(Case(name, sql, mariadb, family == "aggregates", name in JSON_KINDS))
    return cases
