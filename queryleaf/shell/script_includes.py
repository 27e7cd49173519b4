"""`\\i FILE` and `\\ir FILE` in scripts: the lines of another script run in their place.

As in psql, `\\i` names a file relative to the working directory and `\\ir` one relative to the
directory of the script that includes it; the command stands alone on its line (a trailing `;`
is allowed). A script is cut into parts at its include lines: the text before, the included
script (itself cut the same way), the text after. The text after keeps its line numbers
(it is padded with the lines before it), so an error points into the file it is in.

Every file is read before anything runs, so a missing include runs nothing; a script that
includes itself, directly or not, is refused, and includes nest at most 16 deep.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

INCLUDE = re.compile(r"^[ \t]*\\(ir|i|include_relative|include)[ \t]+(\S(?:.*\S)?)[ \t]*;?[ \t]*$")
MAX_DEPTH = 16


class IncludeError(Exception):
    """An include that cannot be read, or that would loop."""


def expand(name: str, text: str, *, base: Path | None = None) -> list[tuple[str, str]]:
    """(source name, text) parts of the script `name` with its includes in place. `base` is
    the directory `\\ir` resolves against (the script's own; the working directory for
    stdin and -e)."""
    directory = base if base is not None else Path(name).resolve().parent
    return _expand(name, text, directory, [os.path.abspath(name)], 0)


def _expand(
    name: str, text: str, directory: Path, chain: list[str], depth: int
) -> list[tuple[str, str]]:
    if depth > MAX_DEPTH:
        raise IncludeError(f"{name}: includes nest more than {MAX_DEPTH} deep")
    parts: list[tuple[str, str]] = []
    lines = text.splitlines(keepends=True)
    start = 0  # first line of the current part
    for number, line in enumerate(lines):
        found = INCLUDE.match(line.rstrip("\r\n"))
        if found is None or _inside_text(lines[start:number]):
            continue
        command, target = found.group(1), found.group(2).rstrip(";").strip().strip("'\"")
        path = Path(target).expanduser()
        if not path.is_absolute():
            path = (directory if command in ("ir", "include_relative") else Path.cwd()) / path
        resolved = os.path.abspath(path)
        where = f"{name}:{number + 1}"
        if resolved in chain:
            raise IncludeError(f"{where}: \\{command} {target} includes a script that includes it")
        try:
            included = path.read_text(encoding="utf-8")
        except OSError as error:
            raise IncludeError(
                f"{where}: cannot read {target}: {error.strerror or error}"
            ) from None
        except UnicodeDecodeError as error:
            raise IncludeError(
                f"{where}: cannot read {target}: not UTF-8 ({error.reason})"
            ) from None
        parts.append((name, "\n" * start + "".join(lines[start:number])))
        label = target if not os.path.isabs(target) else str(path)
        parts += _expand(label, included, path.resolve().parent, [*chain, resolved], depth + 1)
        start = number + 1
    parts.append((name, "\n" * start + "".join(lines[start:])))
    return [(source, part) for source, part in parts if part.strip()]


def _inside_text(lines: list[str]) -> bool:
    """Whether the text so far leaves a string or block comment open (the include line is
    then part of it, not a command)."""
    quote: str | None = None
    block = False
    text = "".join(lines)
    index = 0
    while index < len(text):
        char = text[index]
        if block:
            if text.startswith("*/", index):
                block = False
                index += 1
        elif quote is not None:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = None
        elif char in "'\"`":
            quote = char
        elif text.startswith("/*", index):
            block = True
            index += 1
        elif text.startswith("--", index) or char == "#":
            newline = text.find("\n", index)
            index = len(text) if newline < 0 else newline
        index += 1
    return quote is not None or block
