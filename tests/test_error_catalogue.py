"""docs/errors.md lists every code the source can raise, and every error the source raises
carries a specific code (never only its family's round code, which the catalogue says is
never raised). Codes are found by reading the source: `code="QL..."` arguments and the
`code = "QL..."` of error classes."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

ROOT = Path(__file__).parent.parent
CATALOGUE = ROOT / "docs" / "errors.md"
FAMILY_CODES = {"QL000", "QL100", "QL200", "QL300", "QL400", "QL500", "QL600"}
BASE_CLASSES = {
    "QueryLeafError",
    "ParseError",
    "UnsupportedError",
    "SemanticError",
    "ParameterError",
    "ExecutionError",
    "BackendError",
}


def catalogued() -> set[str]:
    return set(re.findall(r"^\| (QL\d{3}) \|", CATALOGUE.read_text(), re.M))


@functools.cache
def sources() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text())) for p in sorted((ROOT / "queryleaf").rglob("*.py"))]


def class_codes() -> dict[str, str]:
    """Error classes declared with their own code (ReadOnlyError: QL701, ...)."""
    found = {}
    for _, tree in sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                for statement in node.body:
                    if (
                        isinstance(statement, ast.Assign)
                        and [getattr(t, "id", None) for t in statement.targets] == ["code"]
                        and isinstance(statement.value, ast.Constant)
                    ):
                        found[node.name] = statement.value.value
    return found


def raised_codes() -> set[str]:
    codes = set()
    for _, tree in sources():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.keyword)
                and node.arg == "code"
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                codes.add(node.value.value)
    return codes | {c for c in class_codes().values() if c not in FAMILY_CODES}


def test_every_code_the_source_raises_is_catalogued() -> None:
    raised = raised_codes()
    assert raised, "no codes found: the extraction is broken"
    assert raised - catalogued() == set()


def test_no_catalogued_code_is_stale() -> None:
    assert catalogued() - raised_codes() == set()


def test_every_error_built_in_the_source_has_a_specific_code() -> None:
    own = class_codes()
    family_only = {name for name in BASE_CLASSES if own.get(name, "QL000") in FAMILY_CODES}
    missing = []
    for path, tree in sources():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            if node.func.id not in family_only:
                continue
            if path.name == "errors.py":
                continue
            keywords = {k.arg for k in node.keywords}
            if "code" not in keywords and None not in keywords:
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.func.id}")
    assert missing == []
