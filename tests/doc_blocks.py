"""The command blocks of README.md and docs/*.md, read so that tests/test_doc_blocks.py can
run each one as written.

A command block is a fenced block tagged `sh`, `console`, `python` or `sql`:

- `sh`: every line is a command run with bash from the repository root (a `make TARGET`
  line is checked with `make -n TARGET`: `make test` would run the suite inside itself and
  `make shell` waits for a person); each must exit 0.
- `console`: `$ command` lines run in order, as one bash script in an empty directory;
  the other lines are the output they must print. A transcript of the interactive shell
  (`queryleaf> ...` and `-> ...` lines) is typed into a real shell instead.
- `python`: the block runs as a script in an empty directory and must exit 0.
- `sql`: the block runs as a script on a fresh embedded engine (`queryleaf --timeout 2 -`,
  so a live query ends) and must exit 0.

`queryleaf` is on the PATH for all of them, as after `. .venv/bin/activate`.

A block that cannot run unattended says so on the line before its fence, with a reason:

    <!-- doc-test: skip needs a MongoDB server -->
    <!-- doc-test: skip a syntax summary, not statements -->

and a block that needs a part of queryleaf that is not built yet names the module; it runs
as soon as that module exists:

    <!-- doc-test: needs queryleaf.server -->
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = {"sh", "console", "python", "sql"}
MARKER = re.compile(r"^<!--\s*doc-test:\s*(skip|needs)\s+(.*?)\s*-->$")
FENCE = re.compile(r"^```(\w*)\s*$")
PROMPT = "queryleaf> "
CONTINUATION = re.compile(r"^\s*-> ?")


@dataclass(frozen=True)
class Block:
    path: str  # relative to the repository root
    line: int  # the fence's line number
    language: str
    text: str
    marker: str | None = None  # "skip" or "needs"
    argument: str = ""  # the reason, or the module

    @property
    def id(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def is_shell_transcript(self) -> bool:
        return self.language == "console" and any(
            line.startswith(PROMPT) for line in self.text.splitlines()
        )


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def read_blocks(path: Path) -> list[Block]:
    """Every command block of one Markdown file, with the marker before it, if any."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opened = FENCE.match(lines[index])
        if not opened:
            index += 1
            continue
        start = index
        index += 1
        body: list[str] = []
        while index < len(lines) and lines[index].strip() != "```":
            body.append(lines[index])
            index += 1
        index += 1  # the closing fence
        language = opened.group(1)
        if language not in LANGUAGES:
            continue
        marker = argument = None
        previous = start - 1
        while previous >= 0 and not lines[previous].strip():
            previous -= 1
        if previous >= 0 and (found := MARKER.match(lines[previous].strip())):
            marker, argument = found.group(1), found.group(2)
        blocks.append(
            Block(
                str(path.relative_to(ROOT)),
                start + 1,
                language,
                "\n".join(body) + "\n",
                marker,
                argument or "",
            )
        )
    return blocks


def all_blocks() -> list[Block]:
    return [block for path in doc_files() for block in read_blocks(path)]


# --- console transcripts ---------------------------------------------------------------------


def console_script(block: Block) -> tuple[str, list[str]]:
    """(the bash script of the `$ ` lines, the output lines expected from it)."""
    commands, expected = [], []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            commands.append(line[2:])
        else:
            expected.append(line)
    return "\n".join(commands) + "\n", expected


def shell_inputs(block: Block) -> tuple[str, list[str]]:
    """(the keys to type into the shell, the output lines expected) of a shell transcript:
    `queryleaf> ` starts an input, `-> ` lines continue it; `$ queryleaf` is the shell
    itself."""
    keys: list[str] = []
    expected: list[str] = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            continue
        if line.startswith(PROMPT):
            keys.append(line[len(PROMPT) :])
        elif CONTINUATION.match(line) and keys:
            keys.append(CONTINUATION.sub("", line, count=1))
        else:
            expected.append(line)
    return "\n".join(keys) + "\n", expected


VOLATILE = [
    (re.compile(r"\b[0-9a-f]{24}\b"), "<objectid>"),
    (re.compile(r"\d+(\.\d+)? (ms|s)\b"), "<time>"),
]


def normalise(lines: list[str]) -> list[str]:
    """Lines with ids and times made alike, trailing blanks and blank lines dropped."""
    out = []
    for line in lines:
        line = line.rstrip()
        for pattern, replacement in VOLATILE:
            line = pattern.sub(replacement, line)
        if line:
            out.append(line)
    return out


def missing_lines(expected: list[str], actual: list[str]) -> list[str]:
    """The expected lines not found, in order, among the actual ones (`...` stands for
    lines left out of the documentation)."""
    position = 0
    missing = []
    for line in normalise(expected):
        if line == "...":
            continue
        try:
            position = actual.index(line, position) + 1
        except ValueError:
            missing.append(line)
    return missing
