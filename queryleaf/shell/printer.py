"""Printing results and errors for the command line and the shell: the Printer (tables,
csv, json, ndjson, command tags, live queries), the table settings a stream calls for, and
the `FILE:line:col: [CODE] message` form of errors."""

from __future__ import annotations

import os
import shutil
from typing import Any, TextIO

from queryleaf.shell import render

BATCH_WIDTH = 100  # the width a batch table must fit when stdout is not a terminal
BATCH_MAX_WIDTH = 60  # cells longer than this are cut in batch tables (--max-width)


class Printer:
    """Writes each Result as it arrives, in one of render.FORMATS.

    table: query results as tables followed by `(N rows)`, EXPLAIN as its pretty command
    and notes, writes as psql-style tags (`INSERT 2`); a blank line between a table and
    whatever is next to it. csv: one header-and-rows block per query result, blocks
    separated by a blank line. json: one array per query result, each on its own line.
    ndjson: one object per row. Writes print nothing in the last three.

    A table whose rows would not fit `width` is printed vertically instead (`-[ RECORD n ]`
    then `column | value` lines, as the shell's \\x); with `max_width` every table cell longer
    than that is cut, ending with a marker (csv, json and ndjson are never cut)."""

    def __init__(
        self,
        fmt: str,
        out: TextIO,
        *,
        width: int | None = None,
        color: bool = False,
        ascii_only: bool = False,
        max_width: int = 0,
    ) -> None:
        self.format = fmt
        self.max_width = max_width
        self.out = out
        self.width = width
        self.color = color
        self.ascii_only = ascii_only
        self._written = False
        self._last_was_block = False
        self.timeout: float | None = None  # for live queries (EMIT CHANGES)

    def result(self, result: Any) -> None:
        if getattr(result, "live", None) is not None:
            from queryleaf.shell.live_output import stream_live

            if self._written:
                self.out.write("\n")
            stream_live(result, self.format, self.out, self.timeout)
            self._written = self._last_was_block = True
            return
        has_rows = bool(result.is_query or result.columns)
        if self.format != "table":
            if has_rows:
                text = render.RENDERERS[self.format](result.columns, result.rows)
                self._emit(text, block=self.format == "csv")
            return
        if result.kind == "explain":
            self._emit(render.render_explain(result.columns, result.rows), block=True)
        elif has_rows:
            table = self.rows_text(result.columns, result.rows)
            self._emit(table + render.row_count(len(result.rows)) + "\n", block=True)
        else:
            notices = getattr(result, "notices", None) or []
            lines = [render.command_tag(result.tag, result.rowcount), *notices]
            self._emit("".join(line + "\n" for line in lines), block=False)

    def rows_text(self, columns: list[str], rows: list[dict[str, Any]]) -> str:
        """The rows as a table, or vertically when the table would not fit the width."""
        from queryleaf.shell import output

        if self.max_width > 0:
            rows = [self._cut_row(columns, row) for row in rows]
        width = self.width or render.DEFAULT_WIDTH
        view = output.View(width=width, color=self.color, ascii_only=self.ascii_only)
        if rows and len(columns) > 1 and output.natural_width(columns, rows) > width:
            return output.render_expanded(columns, rows, view)
        return render.render_table(
            columns, rows, width=self.width, color=self.color, ascii_only=self.ascii_only
        )

    def _cut_row(self, columns: list[str], row: dict[str, Any]) -> dict[str, Any]:
        cut = dict(row)
        for column in columns:
            value = row.get(column)
            if value is None or isinstance(value, (bool, int, float)):
                continue
            text = render.format_value(value)
            short = render.cut(text, self.max_width, self.ascii_only)
            if short != text:
                cut[column] = short
        return cut

    def _emit(self, text: str, *, block: bool) -> None:
        if not text:
            return
        if self._written and (block or self._last_was_block):
            self.out.write("\n")
        self.out.write(text)
        self.out.flush()
        self._written = True
        self._last_was_block = block


def table_settings(out: TextIO, *, batch: bool = False) -> dict[str, Any]:
    """Width, colour and box characters for tables on `out`: a terminal gets its width and
    colour (unless NO_COLOR is set or TERM=dumb); anything else gets no colour and
    $COLUMNS, else BATCH_WIDTH for the batch command (`batch`), else render.DEFAULT_WIDTH."""
    tty = isatty(out)
    if tty:
        width = shutil.get_terminal_size((render.DEFAULT_WIDTH, 24)).columns
    else:
        width = _int_env("COLUMNS") or (BATCH_WIDTH if batch else render.DEFAULT_WIDTH)
    color = tty and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
    encoding = (getattr(out, "encoding", None) or "utf-8").lower().replace("-", "")
    return {"width": width, "color": color, "ascii_only": not encoding.startswith("utf")}


def isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _int_env(name: str) -> int | None:
    try:
        value = int(os.environ.get(name, ""))
    except ValueError:
        return None
    return value if value > 0 else None


def format_error(error: Any, name: str) -> str:
    """`FILE:line:col: [CODE] message`, then the caret excerpt and the hint, from a
    QueryLeafError; `name` stands in when the error has no source of its own."""
    where = error.source_name or name
    if error.line is not None:
        where = f"{where}:{error.line}:{error.column}"
    lines = [f"{where}: [{error.code}] {error.message}"]
    if error.excerpt:
        lines.append(error.excerpt)
    if error.hint:
        lines.append(f"hint: {error.hint}")
    return "\n".join(lines)
