"""`queryleaf serve` never runs server-side JavaScript: `$where`, `$function` and
`$accumulator` are refused with BadValue (2) wherever they appear in a command, and nothing
they name is evaluated (the embedded engine would evaluate `$where` as Python)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pymongo
import pytest
from pymongo.errors import OperationFailure

from tests.server_fixtures import client, running

# Evaluated as Python, this would be true for every document (and could do anything else).
WHERE = "__import__('os').getpid() > 0"


@pytest.fixture
def served(tmp_path) -> Iterator[pymongo.MongoClient]:
    with running(None) as service, client(service) as connection:
        connection.db.c.insert_many([{"_id": i, "x": i} for i in range(3)])
        yield connection


ATTEMPTS: dict[str, Callable[[Any], Any]] = {
    "find": lambda db: list(db.c.find({"$where": WHERE})),
    "count": lambda db: db.c.count_documents({"$where": WHERE}),
    "update": lambda db: db.c.update_many({"$where": WHERE}, {"$set": {"hit": True}}),
    "delete": lambda db: db.c.delete_many({"$or": [{"x": -1}, {"$where": WHERE}]}),
    "findAndModify": lambda db: db.c.find_one_and_update(
        {"$where": WHERE}, {"$set": {"hit": True}}
    ),
    "distinct": lambda db: db.c.distinct("x", {"$where": WHERE}),
    "aggregate $match": lambda db: list(db.c.aggregate([{"$match": {"$where": WHERE}}])),
    "aggregate $function": lambda db: list(
        db.c.aggregate(
            [{"$project": {"y": {"$function": {"body": WHERE, "args": [], "lang": "js"}}}}]
        )
    ),
    "view": lambda db: db.create_collection(
        "v", viewOn="c", pipeline=[{"$match": {"$where": WHERE}}]
    ),
    "validator": lambda db: db.create_collection("w", validator={"$where": WHERE}),
}


@pytest.mark.parametrize("attempt", sorted(ATTEMPTS))
def test_javascript_operators_are_refused_and_never_run(served, attempt) -> None:
    with pytest.raises(OperationFailure) as raised:
        ATTEMPTS[attempt](served.db)
    assert raised.value.code == 2
    assert "JavaScript" in str(raised.value)
    assert served.db.c.count_documents({}) == 3
    assert served.db.c.count_documents({"hit": True}) == 0
    assert set(served.db.list_collection_names()) == {"c"}


def test_inserted_documents_and_literals_are_data(served) -> None:
    served.db.c.insert_one({"_id": 9, "note": {"text": "$where"}})
    rows = list(
        served.db.c.aggregate([{"$match": {"_id": 9}}, {"$project": {"s": {"$literal": "$where"}}}])
    )
    assert rows == [{"_id": 9, "s": "$where"}]
