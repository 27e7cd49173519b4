"""Printing a live query (EMIT CHANGES) as its rows arrive, in every output format."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TextIO

from queryleaf.shell import render


def row_line(columns: list[str], row: dict[str, Any]) -> str:
    """One arriving row in table mode: `column: value` pairs on one line (a table cannot
    be drawn before its last row is known)."""
    return "  ".join(f"{column}: {render.format_value(row.get(column))}" for column in columns)


def stream_live(
    result: Any,
    fmt: str,
    out: TextIO,
    timeout: float | None = None,
    on_row: Callable[[int], None] | None = None,
    before_row: Callable[[], None] | None = None,
) -> list[dict[str, Any]]:
    """Write each row of a live result as it arrives; json prints one array at the end
    (it must be one document), the other formats stream. `before_row` is called before
    anything is written (a status line makes room), `on_row` after each row. Returns the
    rows."""
    columns = list(result.columns)
    rows: list[dict[str, Any]] = []
    if fmt == "csv":
        out.write(render.render_csv(columns, []))
    for row in result.live(timeout):
        rows.append(row)
        if before_row is not None:
            before_row()
        if fmt == "table":
            out.write(row_line(columns, row) + "\n")
        elif fmt == "csv":
            out.write(render.render_csv(columns, [row]).split("\n", 1)[1])
        elif fmt == "ndjson":
            out.write(render.render_ndjson(columns, [row]))
        out.flush()
        if on_row is not None:
            on_row(len(rows))
    if before_row is not None:
        before_row()  # the closing lines take the status line's place too
    if fmt == "json":
        out.write(render.render_json(columns, rows))
    elif fmt == "table":
        out.write(render.row_count(len(rows)) + "\n")
    out.flush()
    result.rows = rows
    result.rowcount = len(rows)
    return rows
