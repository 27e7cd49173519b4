"""Where the shell's output goes: results to the screen (through the pager when they are
taller than it) or, after `\\o FILE`, to a file; status lines, messages and errors to the
terminal. Errors are one line plus the caret excerpt, never a traceback."""

from __future__ import annotations

import os
import shutil
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from queryleaf.errors import QueryLeafError
from queryleaf.shell import output, render
from queryleaf.shell.printer import Printer, format_error, table_settings


class OutputError(Exception):
    """The output file cannot be opened."""


class Screen:
    """`settings` is the shell's live Settings (format, expanded, timing, row_limit, pager,
    pager_command); `clean` hides secrets (the URI's password) in messages."""

    def __init__(
        self, out: TextIO, err: TextIO, settings: Any, clean: Callable[[str], str] = str
    ) -> None:
        self.out = out
        self.err = err
        self.settings = settings
        self.clean = clean
        self._file: TextIO | None = None
        self._file_printer: Printer | None = None

    def view(self) -> output.View:
        terminal = table_settings(self.out)
        return output.View(
            format=self.settings.format,
            expanded=self.settings.expanded,
            width=terminal["width"],
            color=terminal["color"],
            ascii_only=terminal["ascii_only"],
            row_limit=self.settings.row_limit,
        )

    # --- results -----------------------------------------------------------------------------

    def show_result(self, result: Any, elapsed: float, notes: list[str] | None = None) -> None:
        """The result (rows capped at row_limit on screen), its status line (`(2 rows)`,
        `INSERT 1`) and the time it took, the planner's warnings and the shell's `notes`,
        then a blank line."""
        rendered = output.render_result(result, self.view())
        status = rendered.status
        if self._file_printer is not None and self._file is not None:
            self._file_printer.result(result)  # every row, exactly as batch mode writes it
            if rendered.body:
                status = f"{render.row_count(len(result.rows))} written to {self._file.name}"
        else:
            self.emit(rendered.body)
        lines = [status] if status else []
        lines.extend(getattr(result, "notices", None) or [])
        if self.settings.timing:
            lines.append(output.format_elapsed(elapsed))
        self.out.write("".join(line + "\n" for line in lines))
        for warning in getattr(result, "warnings", None) or []:
            self.warn(f"warning: {warning}")
        for note in notes or []:
            self.warn(f"note: {note}")
        self.out.write("\n")  # a blank line before the next prompt, as psql
        self.out.flush()

    def show_rows(self, columns: list[str], rows: list[dict[str, Any]], count: bool = True) -> None:
        """Rows a backslash command produced (\\dt, \\d ...), in the current format."""
        self.emit(output.render_rows(columns, rows, self.view()))
        if count and self.settings.format == "table":
            self.message(render.row_count(len(rows)))
        self.message("")

    def emit(self, text: str) -> None:
        """Result text to the screen, through the pager when it is taller than the screen."""
        if not text:
            return
        if self._should_page(text) and output.page(text, self.settings.pager_command):
            return
        self.out.write(text)
        self.out.flush()

    def _should_page(self, text: str) -> bool:
        # Like pgcli: only for a person at a terminal, never in a pipe or a test.
        if self.settings.pager == "off" or not _isatty(self.out) or not _isatty(sys.stdin):
            return False
        if self.settings.pager == "always":
            return True
        size = shutil.get_terminal_size()
        lines = text.split("\n")
        return len(lines) > size.lines - 2 or any(len(line) > size.columns for line in lines)

    # --- messages ----------------------------------------------------------------------------

    def message(self, text: str) -> None:
        self.out.write(text if text.endswith("\n") else text + "\n")
        self.out.flush()

    def warn(self, text: str) -> None:
        self.out.flush()
        self.err.write(self.clean(text).rstrip("\n") + "\n")
        self.err.flush()

    def error(self, error: QueryLeafError, source_name: str | None) -> None:
        if error.source_name:  # from a file: FILE:line:col, as in batch mode
            self.warn(format_error(error, source_name or ""))
        else:
            self.warn(f"error: {error}")

    def exception(self, error: BaseException, source_name: str | None) -> None:
        from pymongo.errors import PyMongoError

        where = f"{source_name}: " if source_name else ""
        first = (str(error).strip().splitlines() or [""])[0]
        if isinstance(error, PyMongoError):
            from queryleaf.engines.mongodb import unreachable_error

            unreachable = unreachable_error(error)
            if unreachable is not None:
                self.warn(f"{where}error: {unreachable}")
                return
            self.warn(f"{where}MongoDB error: {type(error).__name__}: {first}")
            return
        self.warn(f"{where}internal error: {type(error).__name__}: {first}")
        if os.environ.get("QUERYLEAF_DEBUG"):
            self.warn("".join(traceback.format_exception(error)))
        else:
            self.warn("this is a bug in queryleaf; set QUERYLEAF_DEBUG=1 to see the traceback")

    # --- \o ----------------------------------------------------------------------------------

    def set_output(self, path: str | None, *, quiet: bool = False) -> None:
        if self._file is not None:
            self._file.close()
            if not quiet:
                self.message(f"Output back on the screen ({self._file.name} closed).")
            self._file = self._file_printer = None
        if not path:
            return
        try:
            self._file = open(Path(path).expanduser(), "w", encoding="utf-8")  # noqa: SIM115
        except OSError as error:
            raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
        self._file_printer = Printer(self.settings.format, self._file, **table_settings(self._file))
        self.message(f"Results go to {path} ({self.settings.format}); \\o alone ends it.")

    def close(self) -> None:
        self.set_output(None, quiet=True)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
