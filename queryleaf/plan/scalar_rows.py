"""A scalar subquery must return at most one row (MySQL's error 1242, "Subquery returns more
than 1 row"); queryleaf raises QL502 where MySQL raises 1242, never takes the first row.

- Run first as a step (plan/scalar_steps.py): the step's command fetches at most two rows
  (`bounded`), and two rows are the error (`check_rows`).
- Read through a `$lookup` (select list, correlated WHERE, HAVING): the lookup keeps at most
  two rows, and the expression that reads it evaluates to a conversion MongoDB refuses when
  it holds two (`one_row_or_error`); `$cond` evaluates only the branch it takes, so the
  error is raised for an outer row whose subquery returns several rows, and only then. The
  refusal's message carries `MARKER`, which the executor turns into QL502 (`is_too_many_rows`)
  when the error is that conversion's (ConversionFailure, 241): another error that merely
  quotes a stored value reading like the marker (a duplicate key) stays what it is.
"""

from __future__ import annotations

from typing import Any

from queryleaf.errors import ExecutionError

MARKER = "QL502 scalar subquery returned more than one row"
MESSAGE = "a subquery used as a value returned more than one row (MySQL error 1242)"
HINT = (
    "make it return at most one row: add a condition, LIMIT 1, or an aggregate such as "
    "MAX(...); or compare with IN (subquery)"
)


def too_many_rows() -> ExecutionError:
    return ExecutionError(MESSAGE, hint=HINT, code="QL502")


CONVERSION_FAILURE = 241  # MongoDB's code for a conversion it refuses ($toInt of a non-number)


def is_too_many_rows(error: BaseException) -> bool:
    """True for the refusal `one_row_or_error` builds, as MongoDB reports it."""
    return getattr(error, "code", None) == CONVERSION_FAILURE and MARKER in str(error)


def one_row_or_error(field: str, value: Any) -> Any:
    """`value` (read from the lookup's array `field`), or a MongoDB error when the array
    holds more than one row. The text to convert reads the field (an empty piece of it), so
    MongoDB cannot fold the conversion as a constant when it optimizes the pipeline: it is
    evaluated, and refused, only in the branch `$cond` takes."""
    size = {"$size": f"${field}"}
    text = {"$concat": [MARKER, {"$substrCP": [{"$toString": size}, 0, 0]}]}
    refused = {"$toInt": text}  # not a number: MongoDB refuses it, naming the text
    return {"$cond": [{"$gt": [size, 1]}, refused, value]}


def bounded(command: dict[str, Any]) -> dict[str, Any]:
    """The read command of a scalar step, fetching at most two rows (enough to tell one row
    from several)."""
    if "aggregate" in command:
        return {**command, "pipeline": [*command["pipeline"], {"$limit": 2}]}
    if "find" in command:
        limit = command.get("limit")
        if limit is None or limit > 2:  # a limit of 0 is SQL's LIMIT 0: no row, kept
            return {**command, "limit": 2}
    return command


def check_rows(rows: list[Any]) -> None:
    if len(rows) > 1:
        raise too_many_rows()


def limit_before_lookups(stages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The select list's stages with ORDER BY, OFFSET and LIMIT moved before the lookups of
    its scalar subqueries, as MySQL evaluates the select list only for the rows it sends: an
    outer row that LIMIT leaves out cannot raise the several-rows error (nor pay a lookup).

    Applies to `[$lookup..., $project or $set (SELECT *), ($sort), $skip/$limit...,
    ($unset)]` when the lookups feed a scalar subquery and no sort key reads them (sorting on
    a subquery reads it for every row, as MySQL does). A $project's sort keys are computed
    under hidden names first, so a select-list alias that shadows a field sorts as the alias;
    a $set's sorted fields are set before the sort and again after the lookups. Anything
    else is unchanged."""
    count = next((i for i, stage in enumerate(stages) if "$lookup" not in stage), len(stages))
    if count == 0 or count == len(stages) or len(stages[count]) != 1:
        return stages
    lookups, ((kind, spec),) = stages[:count], stages[count].items()
    rest = stages[count + 1 :]
    sort: dict[str, Any] = rest.pop(0)["$sort"] if rest and set(rest[0]) == {"$sort"} else {}
    cut = []
    while rest and (set(rest[0]) <= {"$skip", "$limit"} or rest[0] == _NO_ROW):
        cut.append(rest.pop(0))
    unset = [rest.pop(0)] if rest and set(rest[0]) == {"$unset"} else []
    names = {lookup["$lookup"].get("as") for lookup in lookups}
    if rest or not cut or kind not in ("$project", "$set") or MARKER not in repr(spec):
        return stages
    if kind == "$set":  # SELECT *: sort keys are fields of the document or set here
        if any(_reads(spec.get(k, f"${k}"), names) for k in sort):
            return stages
        early = {key: spec[key] for key in sort if key in spec}
        ordered = [*([{"$set": early}] if early else []), *([{"$sort": sort}] if sort else [])]
        return [*ordered, *cut, *lookups, {"$set": spec}, *unset]
    if any(key not in spec or _reads(spec[key], names) for key in sort):
        return stages
    keys = {key: f"__ql_o{n}" for n, key in enumerate(sort)}
    ordered = [
        {"$set": {keys[key]: spec[key] for key in sort}},
        {"$sort": {keys[key]: direction for key, direction in sort.items()}},
    ]
    hidden = unset[0]["$unset"] if unset else []
    kept = {field: value for field, value in spec.items() if field not in hidden}
    return [*(ordered if sort else []), *cut, *lookups, {"$project": kept}]


_NO_ROW = {"$match": {"$expr": False}}  # LIMIT 0


def _reads(value: Any, names: set[Any]) -> bool:
    """Whether an expression may read one of the fields `names` (or the whole document)."""
    if isinstance(value, str):
        if value.startswith(("$$ROOT", "$$CURRENT")):
            return True
        return (
            value.startswith("$")
            and not value.startswith("$$")
            and (value[1:].split(".")[0] in names)
        )
    if isinstance(value, dict):
        return any(_reads(k, names) or _reads(v, names) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_reads(item, names) for item in value)
    return False
