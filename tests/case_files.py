"""Loader for data-driven test cases.

A case file holds blocks that start with `=== name`. Inside a block, a line `key:` starts a
field whose value runs to the next field or block; values of `plan`, `rows`, `params` and
datasets are Extended JSON. Fields: sql, plan (expected command), rows (expected rows),
ordered (true: compare in order), setup (dataset names), error (expected error code),
notes (a substring EXPLAIN notes must contain)."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bson import ObjectId, Regex

CASES = Path(__file__).parent / "cases"
# The seed document's statements, verbatim, as the showcase runs them.
SEED_DIR = Path(__file__).parent.parent / "examples" / "microservices" / "seed"
FIELD = re.compile(r"^(sql|plan|rows|ordered|setup|error|params|notes):\s?(.*)$")
JSON_FIELDS = {"plan", "rows", "params", "ordered"}


@dataclass
class Case:
    name: str
    source: str
    fields: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.fields[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.fields.get(key, default)


def load_cases(folder: str) -> list[Case]:
    cases: list[Case] = []
    for path in sorted((CASES / folder).glob("*.case")):
        current: Case | None = None
        key = None
        for line in path.read_text().splitlines():
            if line.startswith("=== "):
                current = Case(line[4:].strip(), f"{path.name}")
                cases.append(current)
                key = None
                continue
            match = FIELD.match(line)
            if match and current is not None:
                key = match.group(1)
                current.fields[key] = match.group(2)
            elif current is not None and key is not None:
                current.fields[key] += "\n" + line
    for case in cases:
        for key, value in list(case.fields.items()):
            text = value.strip()
            case.fields[key] = loads(text) if key in JSON_FIELDS else text
    return cases


def load_datasets() -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Named datasets: {name: {collection: [documents]}}."""
    return loads((CASES / "datasets.json").read_text())


def loads(text: str) -> Any:
    """JSON with the Extended JSON forms our fixtures use ($oid, $date, $regularExpression). Other `$` keys stay
    as written: `{"$regex": ..., "$options": ...}` is a query operator here, not a regex."""
    return json.loads(text, object_hook=_extended)


def _extended(document: dict[str, Any]) -> Any:
    if list(document) == ["$oid"]:
        return ObjectId(document["$oid"])
    if list(document) == ["$regularExpression"]:
        spec = document["$regularExpression"]
        return Regex(spec["pattern"], spec["options"])
    if list(document) == ["$date"]:
        value = document["$date"]
        if isinstance(value, str):
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return document


def case_id(case: Case) -> str:
    return f"{case.source}:{case.name}"
