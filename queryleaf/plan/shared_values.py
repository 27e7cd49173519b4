"""Operands used more than once in an expression's translation are bound once with `$let`.

Function builders and comparisons repeat their operands (a NULL guard tests the argument,
then uses it; a comparison checks both sides for NULL and for their type bracket). Repeating
a computed operand at every level of nesting made plans grow exponentially with depth
(`a = a = a ...`, `LENGTH(LENGTH(...))`). ExprCompiler.value compiles each node once and
hands its operands' values here: an operand that is a computed expression and occurs more
than once in the translation becomes `$$qlN`, bound once around it:

    {"$let": {"vars": {"ql1": <operand>}, "in": <translation using "$$ql1">}}

Occurrences are found by identity (the compiler returns the same object for the same node),
so only true repeats are bound. Variable numbers grow outwards (each binding is numbered
above every `ql` binding inside it), so a binding never shadows one its body needs. The walks
use explicit stacks: plans of deeply nested statements do not exhaust Python's stack.
"""

from __future__ import annotations

from typing import Any

PREFIX = "ql"


def is_computed(value: Any) -> bool:
    """An operand worth binding: an expression object (not a field path or a literal)."""
    return isinstance(value, dict) and set(value) != {"$literal"}


def bind_repeated(result: Any, operands: list[Any]) -> Any:
    """`result` with each computed operand that occurs in it more than once bound once."""
    candidates = {id(o): o for o in operands if is_computed(o)}
    if not candidates or id(result) in candidates or not isinstance(result, dict | list):
        return result
    counts = _occurrences(result, candidates)
    repeated = [o for key, o in candidates.items() if counts.get(key, 0) > 1]
    if not repeated:
        return result
    number = _highest_binding(result) + 1
    names = {
        id(o): f"{PREFIX}{number}_{i}" if len(repeated) > 1 else f"{PREFIX}{number}"
        for i, o in enumerate(repeated)
    }
    body = _replace(result, {key: "$$" + name for key, name in names.items()})
    variables = {names[id(o)]: o for o in repeated}
    return {"$let": {"vars": variables, "in": body}}


def _occurrences(tree: Any, candidates: dict[int, Any]) -> dict[int, int]:
    counts: dict[int, int] = {}
    stack = [tree]
    while stack:
        current = stack.pop()
        key = id(current)
        if key in candidates and candidates[key] is current:
            counts[key] = counts.get(key, 0) + 1
            continue
        if isinstance(current, dict):
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return counts


def _highest_binding(tree: Any) -> int:
    """The highest N of a `qlN` (or `qlN_i`) variable bound anywhere in `tree`, 0 if none."""
    highest = 0
    stack = [tree]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            let = current.get("$let")
            if isinstance(let, dict) and isinstance(let.get("vars"), dict):
                for name in let["vars"]:
                    highest = max(highest, _number(name))
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return highest


def _number(name: Any) -> int:
    if not isinstance(name, str) or not name.startswith(PREFIX):
        return 0
    digits = name[len(PREFIX) :].split("_", 1)[0]
    return int(digits) if digits.isdigit() else 0


def _replace(tree: Any, targets: dict[int, str]) -> Any:
    """A copy of `tree` with the objects whose id is in `targets` replaced (by identity)."""
    holder: list[Any] = [None]
    stack: list[tuple[Any, Any, Any]] = [(tree, holder, 0)]
    while stack:
        current, parent, key = stack.pop()
        if id(current) in targets:
            parent[key] = targets[id(current)]
        elif isinstance(current, dict):
            copy: dict[str, Any] = dict.fromkeys(current)
            parent[key] = copy
            stack.extend((value, copy, name) for name, value in current.items())
        elif isinstance(current, list):
            items: list[Any] = [None] * len(current)
            parent[key] = items
            stack.extend((value, items, i) for i, value in enumerate(current))
        else:
            parent[key] = current
    return holder[0]
