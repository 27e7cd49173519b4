"""How the shell shows a Result: render.py's renderers, plus what only an interactive user
needs: the row limit, expanded (one field per line) records, and a pager for output taller
than the terminal."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len

from queryleaf.shell import render


@dataclass
class View:
    format: str = "table"
    expanded: str = "auto"  # on, off, auto
    width: int = render.DEFAULT_WIDTH
    color: bool = False
    ascii_only: bool = False
    row_limit: int = 0  # 0: no limit


@dataclass
class Rendered:
    body: str  # the result itself
    status: str  # `(2 rows)`, `INSERT 1`, a row-limit notice... for the terminal only


def render_result(result: Any, view: View) -> Rendered:
    """A Result as text for the screen, its rows cut to `view.row_limit`."""
    rows = result.rows
    shown = rows[: view.row_limit] if view.row_limit else rows
    status = render.row_count(len(rows))
    if view.row_limit and len(rows) > view.row_limit:
        status += f" - showing the first {view.row_limit} (row_limit; \\o FILE writes all)"
    has_rows = bool(result.is_query or result.columns)
    if not has_rows:
        return Rendered("", render.command_tag(result.tag, result.rowcount))
    if view.format != "table":
        return Rendered(render.RENDERERS[view.format](result.columns, shown), status)
    if result.kind == "explain":
        return Rendered(render.render_explain(result.columns, shown), "")
    return Rendered(render_rows(result.columns, shown, view), status)


def render_rows(columns: Sequence[str], rows: Sequence[Mapping[str, Any]], view: View) -> str:
    """Rows as a table, or as expanded records when asked or (auto) when the table would be
    wider than the screen."""
    if view.format != "table":
        return render.RENDERERS[view.format](columns, rows)
    if rows and (
        view.expanded == "on"
        or (
            view.expanded == "auto"
            and len(columns) > 1
            and natural_width(columns, rows) > view.width
        )
    ):
        return render_expanded(columns, rows, view)
    return render.render_table(
        columns, rows, width=view.width, color=view.color, ascii_only=view.ascii_only
    )


def natural_width(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> int:
    """How wide the table would be without wrapping any cell."""
    total = 1
    for column in columns:
        widest = cell_len(column)
        for row in rows:
            text = render.format_value(row.get(column))
            widest = max(widest, max(cell_len(line) for line in text.split("\n")))
        total += widest + 3
    return total


def render_expanded(columns: Sequence[str], rows: Sequence[Mapping[str, Any]], view: View) -> str:
    """psql's `\\x` layout: a `-[ RECORD n ]` header, then `field | value` lines."""
    label_width = max(cell_len(column) for column in columns)
    rule = "-" if view.ascii_only else "─"
    bar = "|" if view.ascii_only else "│"
    lines = []
    for number, row in enumerate(rows, 1):
        header = f"{rule}[ RECORD {number} ]"
        lines.append(header + rule * max(0, min(view.width, label_width + 20) - cell_len(header)))
        for column in columns:
            value = row.get(column)
            text = render.format_value(value)
            if value is None and view.color:
                text = f"\x1b[2m{text}\x1b[0m"
            label = column + " " * (label_width - cell_len(column))
            first, *more = text.split("\n")
            lines.append(f"{label} {bar} {first}")
            lines.extend(f"{' ' * label_width} {bar} {line}" for line in more)
    return "\n".join(lines) + "\n"


def page(text: str, command: str) -> bool:
    """Show `text` through the pager `command`; False when it cannot start (the caller
    then prints the text itself)."""
    env = dict(os.environ)
    env.setdefault("LESS", "-SRXF")  # keep colours, chop long lines, quit if it fits
    try:
        process = subprocess.Popen(command, shell=True, stdin=subprocess.PIPE, env=env)
    except OSError:
        return False
    try:
        assert process.stdin is not None
        process.stdin.write(text.encode("utf-8", errors="replace"))
        process.stdin.close()
    except (BrokenPipeError, OSError):
        pass  # the user quit the pager early
    while True:
        try:
            process.wait()
            break
        except KeyboardInterrupt:
            continue  # Ctrl-C belongs to the pager (less uses it), not to the shell
    return process.returncode != 127  # 127: the shell did not find the command


def format_elapsed(seconds: float) -> str:
    if seconds < 1:
        return f"Time: {seconds * 1000:.1f} ms"
    return f"Time: {seconds:.3f} s"
