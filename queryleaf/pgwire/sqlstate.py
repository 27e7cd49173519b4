"""queryleaf error codes (docs/errors.md) to PostgreSQL SQLSTATEs, and QueryLeafErrors to the
fields of an ErrorResponse (severity, code, message, hint, 1-based character position)."""

from __future__ import annotations

from typing import Any

from queryleaf.errors import QueryLeafError

SQLSTATES = {
    "QL101": "42601",  # syntax_error
    "QL102": "42601",
    "QL103": "42601",
    "QL201": "0A000",  # feature_not_supported
    "QL202": "0A000",
    "QL203": "0A000",
    "QL204": "0A000",
    "QL205": "0A000",
    "QL206": "0A000",
    "QL207": "0A000",
    "QL208": "0A000",
    "QL209": "0A000",
    "QL301": "42702",  # ambiguous_column
    "QL302": "42883",  # undefined_function
    "QL303": "42803",  # grouping_error
    "QL304": "42601",
    "QL305": "42803",
    "QL306": "22P02",  # invalid_text_representation
    "QL310": "42704",  # undefined_object
    "QL311": "22023",  # invalid_parameter_value
    "QL312": "42601",
    "QL313": "42601",
    "QL314": "42703",  # undefined_column
    "QL315": "42703",
    "QL316": "42601",
    "QL317": "42601",
    "QL320": "42710",  # duplicate_object
    "QL321": "42710",
    "QL322": "42704",
    "QL330": "42601",
    "QL331": "42601",
    "QL341": "42P01",  # undefined_table
    "QL342": "42P07",  # duplicate_table
    "QL343": "42809",  # wrong_object_type
    "QL344": "42601",
    "QL345": "42601",
    "QL401": "08P01",  # protocol_violation: a parameter without a value
    "QL402": "08P01",
    "QL403": "08P01",
    "QL501": "XX000",
    "QL502": "21000",  # cardinality_violation: a scalar subquery's several rows
    "QL601": "08001",
    "QL602": "08001",
    "QL603": "08001",  # cannot reach MongoDB
    "QL701": "25006",  # read_only_sql_transaction
}
FAMILIES = {"1": "42601", "2": "0A000", "3": "42000", "4": "22023", "5": "XX000", "6": "08000"}


def sqlstate(code: str) -> str:
    if code in SQLSTATES:
        return SQLSTATES[code]
    return FAMILIES.get(code[2:3], "XX000")


def _execution_state(error: QueryLeafError) -> str:
    """MongoDB's duplicate key (11000) is a unique violation; the rest stays XX000."""
    text = error.message
    if "E11000" in text or "duplicate key" in text:
        return "23505"
    return "XX000"


def error_fields(
    error: BaseException, statement: str = "", offset: int = 0, severity: str = "ERROR"
) -> dict[str, str]:
    """ErrorResponse fields for any exception; QueryLeafErrors keep code, hint and position
    (the caret: a character position in the query string as sent)."""
    if not isinstance(error, QueryLeafError):
        return {
            "S": severity,
            "V": severity,
            "C": getattr(error, "sqlstate", "XX000"),
            "M": str(error) or type(error).__name__,
        }
    state = sqlstate(error.code)
    if error.code == "QL501":
        state = _execution_state(error)
    fields = {"S": severity, "V": severity, "C": state, "M": f"[{error.code}] {error.message}"}
    if error.hint:
        fields["H"] = error.hint
    position = _position(error, statement)
    if position is not None:
        fields["P"] = str(position + offset)
    return fields


def _position(error: QueryLeafError, statement: str) -> int | None:
    """1-based character position of the error in `statement` (the text the error was
    located in), from its line and column."""
    if error.line is None or error.column is None or not statement:
        return None
    lines = statement.split("\n")
    if error.line > len(lines):
        return None
    return sum(len(line) + 1 for line in lines[: error.line - 1]) + error.column


def notice_fields(message: str) -> dict[str, Any]:
    return {"S": "WARNING", "V": "WARNING", "C": "01000", "M": message}
