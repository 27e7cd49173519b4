"""The package layout (docs/architecture.md): rooms import only rooms below them, no two
modules of different rooms import each other (directly or through others), and modules stay
small. Imports under `if TYPE_CHECKING:` are for type checkers and do not count."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "queryleaf"
MAX_LINES = 500
# A room may import the rooms after it in this list, never those before it. Top-level
# modules (errors, result, system_collections, ...) are rooms of their own, listed by name.
ORDER = [
    "__main__",
    "shell",
    "pgwire",
    "server",
    "dbapi",
    "connection",
    "runtime",
    "compile",
    "subscriptions",
    "execute",
    "plan",
    "parse",
    "engines",
    "grammar",
    "system_collections",
    "result",
    "errors",
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def room_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "queryleaf"


def imports_of(path: Path, modules: set[str]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only.update(id(child) for child in ast.walk(node))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        elif isinstance(node, ast.ImportFrom) and node.level:
            base = module_name(path).split(".")
            if path.name != "__init__.py":
                base.pop()
            base = base[: len(base) - (node.level - 1)]
            prefix = ".".join(base + ([node.module] if node.module else []))
            names = [f"{prefix}.{alias.name}" for alias in node.names] + [prefix]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name.startswith("queryleaf."):
                found.add(name)
                break
    return found


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(paths)
    return {name: imports_of(path, modules) - {name} for name, path in paths.items()}


def test_rooms_import_only_rooms_below_them():
    rank = {room: index for index, room in enumerate(ORDER)}
    upward = []
    for module, targets in import_graph().items():
        for target in targets:
            source_room, target_room = room_of(module), room_of(target)
            if source_room == target_room or source_room == "queryleaf":
                continue
            assert target_room in rank, f"{target_room} is not in ORDER: place the new room"
            assert source_room in rank, f"{source_room} is not in ORDER: place the new room"
            if rank[target_room] < rank[source_room]:
                upward.append(f"{module} -> {target}")
    assert upward == [], "imports of a room above: " + ", ".join(sorted(upward))


def test_no_import_circle_spans_two_rooms():
    graph = import_graph()
    reach: dict[str, set[str]] = defaultdict(set)
    for start in graph:
        stack, seen = [start], set()
        while stack:
            for target in graph.get(stack.pop(), ()):
                if target not in seen:
                    seen.add(target)
                    stack.append(target)
        reach[start] = seen
    circles = sorted(
        f"{a} <-> {b}"
        for a in graph
        for b in reach[a]
        if a < b and a in reach[b] and room_of(a) != room_of(b)
    )
    assert circles == []


def test_modules_are_small_or_say_why():
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if text.count("\n") <= MAX_LINES:
            continue
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if "Over 500 lines:" not in docstring:
            long.append(f"{path.relative_to(PACKAGE.parent)} ({text.count(chr(10))} lines)")
    assert long == [], "split these, or give the reason in the docstring: " + ", ".join(long)
