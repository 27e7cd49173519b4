"""Printing the showcase with the shell's own renderers: rich tables, and errors as
`FILE:line:col: [CODE] message` with a caret, as the CLI prints them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from queryleaf.errors import QueryLeafError
from queryleaf.shell import printer, render


class Printer:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.settings = printer.table_settings(out)

    def heading(self, text: str) -> None:
        self.out.write(f"\n== {text}\n")

    def line(self, text: str = "") -> None:
        self.out.write(text + "\n")

    def table(self, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
        rows = [dict(row) for row in rows]
        self.out.write(render.render_table(list(columns), rows, **self.settings))
        self.out.write(render.row_count(len(rows)) + "\n")

    def vertical(self, row: Mapping[str, Any], skip: Sequence[str] = ()) -> None:
        """One wide row as a two-column table (the shell's \\x mode, in table form)."""
        pairs = [{"column": k, "value": v} for k, v in row.items() if k not in skip]
        self.out.write(render.render_table(["column", "value"], pairs, **self.settings))

    def error(self, error: QueryLeafError, name: str) -> None:
        self.out.write(printer.format_error(error, name) + "\n")

    def flush(self) -> None:
        self.out.flush()
