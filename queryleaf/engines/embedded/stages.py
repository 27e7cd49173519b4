"""Pipeline stages the embedded engine runs itself.

- $documents (MongoDB 5.1) did not exist in mongomock-ng;
- $count answered {n: 0} on empty input, where the server outputs no document;
- $lookup refused a dotted `as` and read timezone-aware foreign documents into a naive pipeline;
- $set/$addFields replaced an embedded document given an object literal instead of merging into
  it, and kept a field whose new value is missing ($$REMOVE) instead of removing it;
- $sort compared arrays by their first element and could not compare decimals with numbers;
- $unwind left out `includeArrayIndex` (null) for documents passed through unchanged;
- $merge and $out returned the documents written, where the server returns an empty cursor,
  and $merge failed on documents without `_id` instead of generating one.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
from typing import Any

from bson import Int64, ObjectId
from mongomock_ng import aggregate, filtering, helpers

from .client import read_documents
from .compiled import evaluate
from .normal_form import shared_documents
from .ordering import compare, sort_value
from .registry import Scope, stage
from .values import MISSING, fail, is_nullish

_FAILED_TO_PARSE = 9


@stage("$documents")
def documents_stage(
    documents: list[dict], database: Any, spec: Any, variables: dict | None
) -> list[dict]:
    values = Scope.for_document({}, variables).eval(spec)
    if not isinstance(values, list) or not all(isinstance(value, dict) for value in values):
        fail(
            "$documents requires an expression that evaluates to an array of objects", code=5858203
        )
    return [copy.deepcopy(value) for value in values]


@stage("$count")
def count_stage(
    documents: list[dict], database: Any, spec: Any, variables: dict | None
) -> list[dict]:
    if not isinstance(spec, str) or not spec:
        fail("the count field must be a non-empty string", code=40156)
    if spec.startswith("$"):
        fail("the count field cannot be a $-prefixed path", code=40158)
    if "." in spec:
        fail("the count field cannot contain '.'", code=40160)
    return [{spec: len(documents)}] if documents else []


def _set_path(document: dict, path: str, value: Any) -> None:
    """Set a dotted path in `document`, copying the embedded documents it goes through so the
    input documents (possibly shared with other pipelines) are left untouched."""
    head, _, rest = path.partition(".")
    if not rest:
        if value is MISSING:
            document.pop(head, None)
        else:
            document[head] = value
        return
    child = document.get(head)
    if value is MISSING and not isinstance(child, dict):
        return  # nothing to remove
    child = dict(child) if isinstance(child, dict) else {}
    document[head] = child
    _set_path(child, rest, value)


def _field_tree(spec: dict) -> dict:
    """{"a.b": e1, "a.c": e2} -> {"a": {"b": e1, "c": e2}}: dotted paths as nested specs."""
    tree: dict = {}
    for path, expression in spec.items():
        *parents, leaf = path.split(".")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict) or _is_operator(node):
                fail(
                    f"Invalid $addFields :: caused by :: specification conflicts at path {path!r}",
                    code=40176,
                )
        node[leaf] = expression
    return tree


def _is_operator(expression: Any) -> bool:
    return isinstance(expression, dict) and any(str(key).startswith("$") for key in expression)


def _apply(current: Any, expression: Any, document: dict, variables: dict | None) -> Any:
    """New value of a field: expression objects merge into an embedded document (each one of an
    array of documents); anything else is evaluated (on `document`) and replaces the field."""
    if not isinstance(expression, dict) or not expression or _is_operator(expression):
        return evaluate(expression, document, variables)
    if isinstance(current, list):
        return [
            _apply(item if isinstance(item, dict) else {}, expression, document, variables)
            for item in current
        ]
    merged = dict(current) if isinstance(current, dict) else {}
    for key, sub_expression in expression.items():
        value = _apply(merged.get(key, MISSING), sub_expression, document, variables)
        if value is MISSING:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _add_fields(
    documents: list[dict], database: Any, spec: Any, variables: dict | None
) -> list[dict]:
    if not isinstance(spec, dict) or not spec:
        fail(
            "Invalid $addFields :: caused by :: specification must have at least one field",
            code=40177,
        )
    tree = _field_tree(spec)
    return [_apply(document, tree, document, variables) for document in documents]


stage("$set")(_add_fields)
stage("$addFields")(_add_fields)


@stage("$sort")
def sort_stage(
    documents: list[dict], database: Any, spec: Any, variables: dict | None
) -> list[dict]:
    if not isinstance(spec, dict) or not spec:
        fail("$sort stage must have at least one sort key", code=15976)
    keys = []
    for path, direction in spec.items():
        if direction not in (1, -1):
            raise NotImplementedError(
                f"$sort direction {direction!r} is not supported by the embedded engine"
            )
        keys.append((path, direction))

    def row(document: dict) -> list[Any]:
        return [
            sort_value(
                helpers.get_value_by_dot(document, path, can_generate_array=True), direction < 0
            )
            for path, direction in keys
        ]

    def order(left: tuple[list[Any], dict], right: tuple[list[Any], dict]) -> int:
        for (_, direction), a, b in zip(keys, left[0], right[0], strict=True):
            result = compare(a, b)
            if result:
                return result * direction
        return 0

    rows = [(row(document), document) for document in documents]
    rows.sort(key=functools.cmp_to_key(order))
    return [document for _, document in rows]


@stage("$lookup")
def lookup_stage(
    documents: list[dict], database: Any, spec: Any, variables: dict | None
) -> list[dict]:
    if not isinstance(spec, dict):
        fail("the $lookup stage specification must be an object", code=_FAILED_TO_PARSE)
    for key in spec:
        if key not in {"from", "as", "localField", "foreignField", "let", "pipeline"}:
            fail(f"unknown argument to $lookup: {key}", code=_FAILED_TO_PARSE)
    if not isinstance(spec.get("as"), str):
        fail("must specify 'as' field for a $lookup", code=_FAILED_TO_PARSE)
    local_field, foreign_field = spec.get("localField"), spec.get("foreignField")
    if (local_field is None) != (foreign_field is None):
        fail(
            "$lookup requires both or neither of 'localField' and 'foreignField'",
            code=_FAILED_TO_PARSE,
        )
    pipeline = spec.get("pipeline")
    if local_field is None and pipeline is None:
        fail(
            "$lookup requires either 'pipeline' or both 'localField' and 'foreignField'",
            code=_FAILED_TO_PARSE,
        )
    pipeline, query = _leading_query(pipeline)
    # The foreign documents are only read here (what is handed on is copied): no copy.
    foreign = (
        shared_documents(database.get_collection(spec["from"]), query) if "from" in spec else []
    )
    if local_field is None and not spec.get("let") and not _nondeterministic(pipeline):
        # Uncorrelated: every outer document gets the same result, so the sub-pipeline runs
        # once (MongoDB caches an uncorrelated sub-pipeline's results the same way).
        filters, rest = _leading_matches(pipeline or [])
        passed = foreign
        if filters:  # $match reads documents without changing them: copy what passes
            passed = list(
                aggregate.process_pipeline(foreign, database, filters, None, user_vars=variables)
            )
        result = _run_copied(passed, database, rest, variables)
        output = []
        for index, document in enumerate(documents):
            joined = dict(document)
            _set_path(joined, spec["as"], result if index == 0 else copy.deepcopy(result))
            output.append(joined)
        return output

    filters, rest = _leading_matches(pipeline or [])
    probe = _equality_probe(filters, foreign) if spec.get("let") else None
    output = []
    for document in documents:
        matches = foreign
        if local_field is not None:
            local = helpers.get_value_by_dot(document, local_field, can_generate_array=True)
            wanted = local if isinstance(local, list) else [None if local is MISSING else local]
            query = {foreign_field: {"$in": wanted}}
            matches = [item for item in foreign if filtering.filter_applies(query, item)]
        if pipeline is not None:
            scope = Scope.for_document(document, variables)
            let = {
                name: scope.eval_or_null(value) for name, value in (spec.get("let") or {}).items()
            }
            sub_variables = {**(variables or {}), **let}
            if probe is not None:
                matches = probe(sub_variables, matches)
            if filters:  # $match reads documents without changing them: copy what passes
                matches = list(
                    aggregate.process_pipeline(
                        matches, database, filters, None, user_vars=sub_variables
                    )
                )
            matches = _run_copied(matches, database, rest, sub_variables)
        else:
            matches = copy.deepcopy(matches)
        joined = dict(document)
        _set_path(joined, spec["as"], matches)
        output.append(joined)
    return output


def _leading_query(pipeline: list | None) -> tuple[list | None, dict | None]:
    """A sub-pipeline's first $match, when it is a plain query (no $expr, which may read
    the lookup's variables), is applied while reading the collection, as an index would."""
    if not pipeline or not isinstance(pipeline[0], dict) or list(pipeline[0]) != ["$match"]:
        return pipeline, None
    query = pipeline[0]["$match"]
    if not isinstance(query, dict) or _mentions(query, ("$expr", "$where", "$function")):
        return pipeline, None
    return pipeline[1:], query


def _run_copied(documents: list[dict], database: Any, pipeline: list, variables: Any) -> list:
    """The pipeline over private copies of `documents`: a pipeline that only reads them runs
    on them and its (usually few, grouped) output is copied instead. A pipeline that starts
    by only reading them up to a $group (or $count, $facet) runs that part on them, and the
    rest on a copy of what it outputs."""
    if _reads_only(pipeline):
        output = aggregate.process_pipeline(
            list(documents), database, pipeline, None, user_vars=variables
        )
        return copy.deepcopy(list(output))
    split = _grouping_prefix(pipeline)
    if split:
        output = aggregate.process_pipeline(
            list(documents), database, pipeline[:split], None, user_vars=variables
        )
        documents, pipeline = copy.deepcopy(list(output)), pipeline[split:]
    else:
        documents = copy.deepcopy(documents)
    return list(
        aggregate.process_pipeline(documents, database, pipeline, None, user_vars=variables)
    )


# Stages that build new documents from their input and never change it in place.
_READING_STAGES = frozenset({"$group", "$count", "$match", "$limit", "$skip", "$sort"})


def _reads_only(pipeline: list) -> bool:
    """Whether a sub-pipeline leaves its input documents as they are (no copy needed)."""
    for step in pipeline:
        if not isinstance(step, dict) or len(step) != 1:
            return False
        (name, spec), = step.items()  # fmt: skip
        if name == "$facet" and isinstance(spec, dict):
            if not all(isinstance(b, list) and _reads_only(b) for b in spec.values()):
                return False
        elif name not in _READING_STAGES:
            return False
    return True


def _grouping_prefix(pipeline: list) -> int:
    """How many leading stages only read their input and end with one that outputs new
    documents ($group, $count, $facet); 0 when there is no such prefix."""
    split = 0
    for index, step in enumerate(pipeline):
        if not _reads_only([step]):
            break
        if isinstance(step, dict) and set(step) & {"$group", "$count", "$facet"}:
            split = index + 1
    return split


def _leading_matches(pipeline: list) -> tuple[list, list]:
    """The $match stages a pipeline starts with, and the rest."""
    count = 0
    while count < len(pipeline) and isinstance(pipeline[count], dict):
        if list(pipeline[count]) != ["$match"]:
            break
        count += 1
    return pipeline[:count], pipeline[count:]


_EXACT_KEYS = (str, ObjectId, dt.datetime)


def _equality_probe(filters: list, foreign: list[dict]) -> Any:
    """For `$expr` joins on `$$var == $field` (a top-level field): a function giving the
    documents whose field holds the variable's value, from a hash of the foreign documents,
    where a server would use an index. Only a pre-selection: the $match still runs on what
    it returns. Used for strings, ObjectIds and dates, which equal only their own kind."""
    for match in filters:
        expr = match["$match"].get("$expr") if isinstance(match["$match"], dict) else None
        terms = expr.get("$and", [expr]) if isinstance(expr, dict) else []
        for term in terms:
            pair = term.get("$eq") if isinstance(term, dict) and len(term) == 1 else None
            if not isinstance(pair, list) or len(pair) != 2:
                continue
            names = [p for p in pair if isinstance(p, str) and p.startswith("$$")]
            fields = [p for p in pair if isinstance(p, str) and p[:1] == "$" and p[1:2] != "$"]
            if len(names) != 1 or len(fields) != 1 or "." in fields[0]:
                continue
            return _hash_probe(names[0][2:], fields[0][1:], foreign)
    return None


def _hash_probe(variable: str, field: str, foreign: list[dict]) -> Any:
    table: dict[Any, list[dict]] = {}
    for document in foreign:
        value = document.get(field)
        if isinstance(value, _EXACT_KEYS):
            table.setdefault((type(value), value), []).append(document)

    def probe(variables: dict, documents: list[dict]) -> list[dict]:
        wanted = variables.get(variable)
        if not isinstance(wanted, _EXACT_KEYS) or documents is not foreign:
            return documents
        return table.get((type(wanted), wanted), [])

    return probe


def _nondeterministic(pipeline: list | None) -> bool:
    """Stages MongoDB runs again for every document even without variables."""
    return _mentions(pipeline, ("$sample", "$rand", "$sampleRate"))


def _mentions(value: Any, names: tuple[str, ...]) -> bool:
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            for key, item in current.items():
                if key in names:
                    return True
                stack.append(item)
        elif isinstance(current, list):
            stack.extend(current)
    return False


@stage("$unionWith")
def union_with_stage(
    documents: list[dict], database: Any, spec: Any, variables: dict | None
) -> list[dict]:
    if isinstance(spec, str):
        spec = {"coll": spec}
    if not isinstance(spec, dict):
        fail("$unionWith requires a 'coll' name", code=_FAILED_TO_PARSE)
    pipeline = spec.get("pipeline") or []
    # MongoDB 6.0+: without `coll`, the pipeline must start with $documents.
    starts_with_documents = bool(pipeline) and "$documents" in pipeline[0]
    if "coll" not in spec and not starts_with_documents:
        fail(
            "$unionWith needs 'coll', or a pipeline whose first stage is $documents",
            code=_FAILED_TO_PARSE,
        )
    if "coll" in spec and not isinstance(spec["coll"], str):
        fail("$unionWith requires a 'coll' name", code=_FAILED_TO_PARSE)
    others = read_documents(database.get_collection(spec["coll"])) if "coll" in spec else []
    if spec.get("pipeline"):
        others = list(
            aggregate.process_pipeline(
                others, database, spec["pipeline"], None, user_vars=variables
            )
        )
    return [*documents, *others]


@stage("$unwind")
def unwind_stage(
    documents: list[dict], database: Any, spec: Any, variables: dict | None
) -> list[dict]:
    if isinstance(spec, str):
        spec = {"path": spec}
    path = spec.get("path") if isinstance(spec, dict) else None
    if not isinstance(path, str) or not path.startswith("$") or len(path) < 2:
        fail("$unwind requires a path that starts with '$'", code=28818)
    path, index_field = path[1:], spec.get("includeArrayIndex")
    preserve = bool(spec.get("preserveNullAndEmptyArrays"))
    output = []
    for document in documents:
        value = helpers.get_value_by_dot(document, path)
        if isinstance(value, list) and value:
            for position, item in enumerate(value):
                unwound = dict(document)
                _set_path(unwound, path, item)
                if index_field:
                    _set_path(unwound, index_field, Int64(position))
                output.append(unwound)
            continue
        if (isinstance(value, list) or is_nullish(value)) and not preserve:
            continue
        # A null, missing or empty value (preserved), or a scalar taken as a one-element array.
        kept = dict(document)
        if value == []:
            _set_path(kept, path, MISSING)
        if index_field:
            _set_path(kept, index_field, None)
        output.append(kept)
    return output


def _writes_and_returns_nothing(name: str) -> None:
    """$merge/$out write through mongomock-ng's handler; the aggregate itself returns nothing.
    $merge on `_id` (the default) gives documents without one a new ObjectId, as the server
    does, instead of failing."""
    write = aggregate._PIPELINE_HANDLERS[name]

    @stage(name)
    def handler(
        documents: list[dict], database: Any, spec: Any, variables: dict | None
    ) -> list[dict]:
        on = spec.get("on", "_id") if isinstance(spec, dict) else "_id"
        if name == "$merge" and on in ("_id", ["_id"]):
            documents = [doc if "_id" in doc else {"_id": ObjectId(), **doc} for doc in documents]
        write(documents, database, spec, variables)
        return []


_writes_and_returns_nothing("$merge")
_writes_and_returns_nothing("$out")
