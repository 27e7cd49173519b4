"""Saved queries (`\\fs name SQL`, `\\f name args...`, `\\fd name`), kept in a JSON file.

A saved query may hold `?` or `:name` placeholders; `\\f` binds them from its arguments,
read like `--param` values (JSON when they parse as JSON, else text). Values are bound as
parameters, never pasted into the SQL."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bson import json_util
from sqlglot import exp

from queryleaf.parse import parse_sql, split_statements
from queryleaf.shell.render import EXTENDED_JSON

NAME = re.compile(r"[A-Za-z_][\w-]*\Z")


class SavedQueryError(Exception):
    """A mistake in a \\f, \\fs or \\fd command; the message says what to do."""


class SavedQueries:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            raise SavedQueryError(f"cannot read {self.path}: {error}") from None
        return {str(name): str(sql) for name, sql in data.items()} if isinstance(data, dict) else {}

    def save(self, name: str, sql: str) -> None:
        if not NAME.match(name):
            raise SavedQueryError(
                f"invalid name {name!r}: use letters, digits, '_' and '-', starting with a letter"
            )
        sql = sql.strip().rstrip(";").strip()
        if not sql:
            raise SavedQueryError("nothing to save: \\fs NAME QUERY")
        queries = self.load()
        queries[name] = sql
        self._write(queries)

    def delete(self, name: str) -> None:
        queries = self.load()
        if name not in queries:
            raise SavedQueryError(f"no saved query named {name!r}")
        del queries[name]
        self._write(queries)

    def get(self, name: str) -> str:
        queries = self.load()
        if name not in queries:
            raise SavedQueryError(f"no saved query named {name!r}; \\f lists them")
        return queries[name]

    def _write(self, queries: Mapping[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(dict(sorted(queries.items())), indent=2) + "\n", "utf-8")
        temporary.replace(self.path)  # atomic, so a crash never leaves half a file


def placeholders(sql: str) -> list[str]:
    """The placeholders of `sql` in order: '?' for positional ones, the name for `:name`
    (each name once). Empty when the SQL does not parse (it will fail when run)."""
    found: list[str] = []
    try:
        for statement in split_statements(sql):
            tree = parse_sql(statement.text, "mysql")
            for node in tree.walk(bfs=False):
                if isinstance(node, exp.Placeholder):
                    name = node.name
                    name = "?" if not name or name == "?" or name.isdigit() else name
                    if name == "?" or name not in found:
                        found.append(name)
    except Exception:
        return []
    return found


def parse_value(text: str) -> Any:
    """A `\\f` argument as `--param` reads values: JSON (Extended JSON) when it is, else text."""
    try:
        return json_util.loads(text, json_options=EXTENDED_JSON)
    except ValueError:
        return text
    except Exception:
        return text


def bind_arguments(sql: str, arguments: str) -> Sequence[Any] | Mapping[str, Any] | None:
    """Parameters for `sql` from the text after `\\f name`: values separated by spaces
    (shell quoting: 'New York'), `name=value` for named placeholders or in order."""
    try:
        words = shlex.split(arguments)
    except ValueError as error:
        raise SavedQueryError(f"cannot read the arguments: {error}") from None
    wanted = placeholders(sql)
    if not wanted:
        if words:
            raise SavedQueryError("this saved query takes no arguments")
        return None
    if wanted[0] == "?" or "?" in wanted:
        if len(words) != len(wanted):
            raise SavedQueryError(
                f"this saved query needs {len(wanted)} argument(s), got {len(words)}"
            )
        return [parse_value(word) for word in words]
    values: dict[str, Any] = {}
    positional = [word for word in words if not _named(word, wanted)]
    for word in words:
        if _named(word, wanted):
            name, _, value = word.partition("=")
            values[name] = parse_value(value)
    missing = [name for name in wanted if name not in values]
    if len(positional) != len(missing):
        needed = " ".join(f":{name}" for name in missing)
        raise SavedQueryError(
            f"this saved query needs values for {needed or 'no more parameters'}"
            f" ({len(positional)} positional argument(s) given)"
        )
    values.update({name: parse_value(word) for name, word in zip(missing, positional, strict=True)})
    return values


def _named(word: str, wanted: list[str]) -> bool:
    name, sep, _ = word.partition("=")
    return bool(sep) and name in wanted
