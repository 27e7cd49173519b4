"""Result renderers: pure functions from (columns, rows) to text.

Four formats: `table` (rich, for people), `csv`, `json` (one Extended JSON array per result)
and `ndjson` (one Extended JSON object per line). The EXPLAIN renderer and the command tags
of writes (`INSERT 2`) live here too, so the CLI only decides what goes where."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bson import json_util
from bson.json_util import JSONMode, JSONOptions
from bson.objectid import ObjectId
from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

FORMATS = ("table", "csv", "json", "ndjson")

# Relaxed Extended JSON: numbers stay numbers, dates are ISO strings under "$date", and
# `json_util.loads` gives back ObjectId and datetime values.
EXTENDED_JSON = JSONOptions(json_mode=JSONMode.RELAXED, tz_aware=True)

DEFAULT_WIDTH = 160  # table width when the output is not a terminal
FLOAT_DIGITS = 15  # significant digits a double holds exactly (DBL_DIG)
CUT_MARK = "…"  # ends a cell cut to --max-width ("..." with ASCII borders)
UNBROKEN_WORD = 26  # a word up to this long is not folded (an ObjectId has 24 characters)

Row = Mapping[str, Any]


# --- single values ---------------------------------------------------------------------------


def to_extended_json(value: Any, *, indent: int | None = None) -> str:
    """`value` as relaxed Extended JSON text, non-ASCII characters kept as they are."""
    return json_util.dumps(
        value, json_options=EXTENDED_JSON, ensure_ascii=False, indent=indent, default=_fallback
    )


def _fallback(value: Any) -> Any:
    """Values neither JSON nor BSON knows (json_util leaves them to json.dumps)."""
    if isinstance(value, decimal.Decimal):
        return {"$numberDecimal": str(value)}
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def format_datetime(value: dt.datetime | dt.date | dt.time) -> str:
    """ISO 8601. Datetimes are UTC as BSON dates are, written with `Z` (a naive datetime is
    taken as UTC, as Extended JSON takes it), other offsets kept; fractions of a second
    only when there are any, as milliseconds when they are whole milliseconds."""
    if not isinstance(value, (dt.datetime, dt.time)):
        return value.isoformat()
    timespec = "auto"
    if value.microsecond and value.microsecond % 1000 == 0:
        timespec = "milliseconds"
    text = value.isoformat(timespec=timespec)
    if isinstance(value, dt.datetime) and (
        value.tzinfo is None or value.utcoffset() == dt.timedelta(0)
    ):
        text = text.removesuffix("+00:00") + "Z"
    return text


def format_float(value: float) -> str:
    """A double as people read it: Python's shortest repr, unless FLOAT_DIGITS significant
    digits say the same thing in clearly fewer characters, which drops the noise of binary
    arithmetic (98.876875, not 98.87687500000001; 0.3, not 0.30000000000000004) and leaves a
    value that needs every digit (1/3) as it is. Still marked as a float (`100.0`)."""
    text = repr(value)
    if "inf" in text or "nan" in text:
        return text
    short = format(value, f".{FLOAT_DIGITS}g")
    if len(short) > len(text) - 3:
        return text
    if "e" not in short and "." not in short:
        short += ".0"
    return short


def format_value(value: Any, null: str = "NULL", *, exact: bool = False) -> str:
    """One value as the text of a table or CSV cell: strings as they are, ObjectId as its
    hex, dates in ISO 8601, booleans as true/false, documents and arrays as compact
    Extended JSON, None as `null`. Floats have at most FLOAT_DIGITS significant digits
    unless `exact` (CSV: every digit, so the value reads back the same)."""
    if value is None:
        return null
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not exact:
        return format_float(value)
    if isinstance(value, (int, float, decimal.Decimal)):
        return str(value)
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return format_datetime(value)
    if isinstance(value, (Mapping, list, tuple)):
        return to_extended_json(value)
    if type(value).__module__.startswith("bson"):
        # Decimal128, Int64, Timestamp, Regex, Binary...: Decimal128 and Int64 read best as
        # their str(); the rest as the Extended JSON a user could paste back.
        text = str(value)
        if type(value).__name__ in {"Decimal128", "Int64"}:
            return text
        return to_extended_json(value)
    return str(value)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float, decimal.Decimal)):
        return True
    return type(value).__name__ in {"Decimal128", "Int64"}


def ordered(columns: Sequence[str], row: Row) -> dict[str, Any]:
    """The row with keys in column order (a missing column is None); keys the columns do
    not name follow, so nothing is dropped."""
    document = {column: row.get(column) for column in columns}
    for key, value in row.items():
        if key not in document:
            document[key] = value
    return document


# --- table -----------------------------------------------------------------------------------


def render_table(
    columns: Sequence[str],
    rows: Iterable[Row],
    *,
    width: int | None = None,
    color: bool = False,
    ascii_only: bool = False,
) -> str:
    """A rich table of the rows, `width` characters wide at most (DEFAULT_WIDTH when None).
    Without `color` there are no escape codes; NULL is dim when there is colour. Numeric
    columns are right-aligned. Ends with a newline."""
    rows = list(rows)
    if not columns:
        return ""
    table = Table(
        box=box.ASCII2 if ascii_only else box.SQUARE,
        header_style="bold",
        highlight=False,
        show_edge=True,
    )
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    widths = _column_widths(columns, cells, width or DEFAULT_WIDTH)
    for index, column in enumerate(columns):
        values = [row.get(column) for row in rows]
        numeric = any(v is not None for v in values) and all(
            v is None or _is_number(v) for v in values
        )
        table.add_column(
            Text(column),
            justify="right" if numeric else "left",
            overflow="fold",
            width=None if widths is None else widths[index],
        )
    for line in cells:
        table.add_row(*line)
    console = _console(width, color)
    console.print(table)
    return _output(console, color)


def _column_widths(columns: Sequence[str], cells: list[list[Text]], width: int) -> list[int] | None:
    texts = [[column, *(line[i].plain for line in cells)] for i, column in enumerate(columns)]
    natural = [
        max(cell_len(part) for text in column for part in text.split("\n")) for column in texts
    ]
    longest_word = [
        max((cell_len(word) for text in column for word in text.split()), default=1)
        for column in texts
    ]
    # Each column has a border and a blank either side; the table has one more border.
    return fit_widths(natural, longest_word, width - 3 * len(columns) - 1)


def fit_widths(natural: list[int], longest_word: list[int], available: int) -> list[int] | None:
    """Column widths that fit `available` characters: None when the natural widths fit (rich
    then sizes the table itself). Otherwise the widest columns are narrowed first, none
    below its longest word (capped at UNBROKEN_WORD, so ids and dates stay whole while
    long texts and documents wrap). None again when even that does not fit: rich then
    narrows every column alike, which folds words but loses nothing."""
    if sum(natural) <= available:
        return None
    floor = [max(1, min(n, w, UNBROKEN_WORD)) for n, w in zip(natural, longest_word, strict=True)]
    if sum(floor) > available:
        return None
    # The largest cap such that min(natural, max(floor, cap)) summed still fits.
    low, high = 0, max(natural)
    while low < high:
        cap = (low + high + 1) // 2
        if sum(min(n, max(f, cap)) for n, f in zip(natural, floor, strict=True)) <= available:
            low = cap
        else:
            high = cap - 1
    widths = [min(n, max(f, low)) for n, f in zip(natural, floor, strict=True)]
    # Hand the few characters the integer cap leaves over to the columns still cut short.
    spare = available - sum(widths)
    for index, n in enumerate(natural):
        if spare <= 0:
            break
        if widths[index] < n:
            widths[index] += 1
            spare -= 1
    return widths


def _cell(value: Any) -> Text:
    if value is None:
        return Text("NULL", style="dim")
    return Text(format_value(value))


def cut(text: str, max_width: int, ascii_only: bool = False) -> str:
    """`text` on one line of at most `max_width` characters, ending with CUT_MARK when
    something was cut (a value on several lines keeps its first). 0 cuts nothing."""
    if max_width <= 0 or (cell_len(text) <= max_width and "\n" not in text):
        return text
    mark = "..." if ascii_only else CUT_MARK
    first = text.split("\n", 1)[0]
    keep = max(1, max_width - cell_len(mark))
    if cell_len(first) <= keep and first != text:
        return first + mark
    out = ""
    for char in first:
        if cell_len(out + char) > keep:
            break
        out += char
    return out + mark


def row_count(count: int) -> str:
    """psql's status line: `(1 row)`, `(3 rows)`."""
    return f"({count} row)" if count == 1 else f"({count} rows)"


def command_tag(kind: str, rowcount: int) -> str:
    """The tag a write prints in table mode, as psql does: `INSERT 2`, `UPDATE 3`,
    `DELETE 0`; just the verb when the count is unknown (-1)."""
    verb = kind.upper()
    return verb if rowcount is None or rowcount < 0 else f"{verb} {rowcount}"


def render_explain(columns: Sequence[str], rows: Iterable[Row]) -> str:
    """EXPLAIN rows (`command`, `notes`) for people: each command's JSON pretty-printed
    as it is, each note on a `note:` line below it. Ends with a newline."""
    blocks = []
    for row in rows:
        command = row.get("command")
        lines = [_pretty_command(command)]
        lines.extend(f"note: {note}" for note in _notes(row.get("notes")))
        # Columns other than the two EXPLAIN defines are shown rather than dropped.
        lines.extend(
            f"{column}: {format_value(row.get(column))}"
            for column in columns
            if column not in {"command", "notes"}
        )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n" if blocks else ""


def _pretty_command(command: Any) -> str:
    if command is None:
        return "NULL"
    if not isinstance(command, str):
        return to_extended_json(command, indent=2)
    if "\n" in command:
        return command.rstrip("\n")
    try:
        parsed = json.loads(command)
    except ValueError:
        return command
    return json.dumps(parsed, indent=2, ensure_ascii=False)


def _notes(notes: Any) -> list[str]:
    if notes is None or notes == "":
        return []
    if isinstance(notes, str):
        return [line for line in notes.splitlines() if line.strip()]
    if isinstance(notes, (list, tuple)):
        return [format_value(note) for note in notes]
    return [format_value(notes)]


def _console(width: int | None, color: bool) -> Console:
    return Console(
        file=io.StringIO(),
        width=width or DEFAULT_WIDTH,
        force_terminal=color,
        color_system="standard" if color else None,
        no_color=not color,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
    )


def _output(console: Console, color: bool) -> str:
    text = console.file.getvalue()  # type: ignore[attr-defined]
    if not color:
        # Rich pads every cell to the column width; trailing blanks are noise in files.
        text = "\n".join(line.rstrip() for line in text.split("\n"))
    return text


# --- machine-readable formats ----------------------------------------------------------------


def render_csv(columns: Sequence[str], rows: Iterable[Row]) -> str:
    """A header line and one line per row (RFC 4180 quoting, `\\n` line ends). None is an
    empty field; documents and arrays are compact Extended JSON; dates ISO 8601."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([format_value(row.get(column), null="", exact=True) for column in columns])
    return buffer.getvalue()


def render_json(columns: Sequence[str], rows: Iterable[Row]) -> str:
    """The rows as one JSON array of objects (keys in column order) in relaxed Extended
    JSON, on a single line ending with a newline. `json_util.loads` reads it back with
    ObjectId and datetime values."""
    return to_extended_json([ordered(columns, row) for row in rows]) + "\n"


def render_ndjson(columns: Sequence[str], rows: Iterable[Row]) -> str:
    """One relaxed Extended JSON object per line (nothing for no rows)."""
    return "".join(to_extended_json(ordered(columns, row)) + "\n" for row in rows)


RENDERERS = {"csv": render_csv, "json": render_json, "ndjson": render_ndjson}
