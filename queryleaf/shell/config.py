"""The shell's config file (INI, read with configparser) and where its files live.

    $XDG_CONFIG_HOME/queryleaf/config          (default ~/.config/queryleaf/config)
    $XDG_CONFIG_HOME/queryleaf/saved_queries.json
    $XDG_DATA_HOME/queryleaf/history           (default ~/.local/share/queryleaf/history)

The file is created from TEMPLATE, every key commented out, the first time the shell
starts. Only the interactive shell reads it: `-e`, files and stdin behave the same on
every machine. A bad value is reported as a warning and its default used, so a typo never
keeps the shell from starting."""

from __future__ import annotations

import configparser
import contextlib
import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from prompt_toolkit.history import FileHistory

from queryleaf.shell.render import FORMATS

SECTION = "main"
DESTRUCTIVE_KINDS = ("delete", "update", "drop", "truncate", "alter", "create", "discard", "replay")

TEMPLATE = """\
# queryleaf shell configuration (INI). Remove the '#' in front of a key to set it.
# Every key is described in docs/shell.md; the values shown are the defaults.
[main]
# MongoDB connection string; empty means the embedded in-memory engine.
# --uri on the command line wins.
# uri =
# Database to use; --db wins.
# database = queryleaf
# Output format: table, csv, json or ndjson (\\format changes it for a session).
# format = table
# Expanded (one field per line) rows: on, off, or auto (when a table is wider than
# the terminal). \\x changes it for a session.
# expanded = auto
# Print the time each statement took: on or off (\\timing).
# timing = on
# Show at most this many rows of a result (0: no limit). \\o FILE writes every row.
# row_limit = 1000
# Page long output: auto (only when it is taller than the terminal), always or off.
# pager = auto
# Pager command; empty means $PAGER, or 'less -SRXF' when $PAGER is not set.
# pager_command =
# History file; empty means $XDG_DATA_HOME/queryleaf/history.
# history_file =
# Number of entries kept in the history file.
# history_size = 10000
# Statements that ask for confirmation before they run. delete and update ask only
# when they change every document (no WHERE); the others always ask.
# destructive = delete, update, drop, truncate, alter, discard, replay
# Refuse every write (the same as --read-only): on or off.
# read_only = off
# Colour scheme: a Pygments style name (default, monokai, native, solarized-dark, ...)
# or none for no colours.
# color_scheme = default
# Documents sampled per collection to learn field names for completion and \\d.
# sample_size = 100
# File of saved queries (\\fs, \\f); empty means next to this config file.
# saved_queries_file =
"""


def config_home() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(Path.home(), ".config")
    return Path(base) / "queryleaf"


def data_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(base) / "queryleaf"


def default_config_path() -> Path:
    return config_home() / "config"


@dataclass
class Config:
    uri: str = ""
    database: str = "queryleaf"
    format: str = "table"
    expanded: str = "auto"
    timing: bool = True
    row_limit: int = 1000
    pager: str = "auto"
    pager_command: str = ""
    history_file: str = ""
    history_size: int = 10000
    destructive: tuple[str, ...] = (
        "delete",
        "update",
        "drop",
        "truncate",
        "alter",
        "discard",
        "replay",
    )
    read_only: bool = False
    color_scheme: str = "default"
    sample_size: int = 100
    saved_queries_file: str = ""
    path: Path | None = field(default=None, compare=False)
    warnings: list[str] = field(default_factory=list, compare=False)

    def history_path(self) -> Path:
        return (
            Path(self.history_file).expanduser() if self.history_file else data_home() / "history"
        )

    def saved_queries_path(self) -> Path:
        if self.saved_queries_file:
            return Path(self.saved_queries_file).expanduser()
        folder = self.path.parent if self.path is not None else config_home()
        return folder / "saved_queries.json"

    def resolved_pager_command(self) -> str:
        return self.pager_command or os.environ.get("PAGER") or "less -SRXF"


_CHOICES = {
    "format": FORMATS,
    "expanded": ("on", "off", "auto"),
    "pager": ("auto", "always", "off"),
}
_BOOLEANS = {"on": True, "true": True, "yes": True, "1": True}
_BOOLEANS.update({"off": False, "false": False, "no": False, "0": False})


def load_config(path: Path | None = None, *, create: bool = True) -> Config:
    """The config at `path` (default: the XDG location), written from TEMPLATE first when
    it does not exist and `create` is true. Problems become `Config.warnings`."""
    path = path or default_config_path()
    config = Config(path=path)
    if not path.exists():
        if create:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(TEMPLATE, encoding="utf-8")
            except OSError as error:
                config.warnings.append(f"cannot create {path}: {error.strerror or error}")
        return config
    parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=("#", ";"))
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError) as error:
        config.warnings.append(f"{path}: {error}; using the defaults")
        return config
    known = {f.name: f for f in fields(Config) if f.name not in {"path", "warnings"}}
    for section in parser.sections():
        if section != SECTION:
            config.warnings.append(f"{path}: unknown section [{section}] ignored")
    if not parser.has_section(SECTION):
        return config
    for key, raw in parser.items(SECTION):
        if key not in known:
            config.warnings.append(f"{path}: unknown key {key!r} ignored")
            continue
        value = raw.strip()
        if value == "" and key not in {"uri", "pager_command", "history_file"}:
            continue
        try:
            setattr(config, key, _convert(key, value, getattr(Config, key, None)))
        except ValueError as error:
            config.warnings.append(f"{path}: {key}: {error}; using the default")
    return config


def _convert(key: str, value: str, default: object) -> object:
    if key in _CHOICES:
        if value.lower() not in _CHOICES[key]:
            raise ValueError(f"{value!r} is not one of {', '.join(_CHOICES[key])}")
        return value.lower()
    if key == "destructive":
        kinds = tuple(part.strip().lower() for part in value.split(",") if part.strip())
        unknown = [kind for kind in kinds if kind not in DESTRUCTIVE_KINDS]
        if unknown:
            raise ValueError(f"unknown statement kind {unknown[0]!r}")
        return kinds
    if isinstance(default, bool):
        if value.lower() not in _BOOLEANS:
            raise ValueError(f"{value!r} is not on or off")
        return _BOOLEANS[value.lower()]
    if isinstance(default, int):
        number = int(value)
        if number < 0:
            raise ValueError("must not be negative")
        return number
    return value


class BoundedFileHistory(FileHistory):
    """prompt-toolkit's FileHistory (same file format), kept to the last `size` entries:
    the file is rewritten when it has grown past them."""

    def __init__(self, filename: Path, size: int) -> None:
        filename.parent.mkdir(parents=True, exist_ok=True)
        super().__init__(str(filename))
        self.size = size

    def load_history_strings(self):  # type: ignore[no-untyped-def]
        newest_first = list(super().load_history_strings())
        if self.size and len(newest_first) > self.size:
            newest_first = newest_first[: self.size]
            self._rewrite(list(reversed(newest_first)))
        return newest_first

    def _rewrite(self, oldest_first: list[str]) -> None:
        text = "".join(
            "\n# kept\n" + "".join(f"+{line}\n" for line in entry.split("\n"))
            for entry in oldest_first
        )
        with contextlib.suppress(OSError):  # a read-only history file still works
            Path(self.filename).write_text(text, encoding="utf-8")
