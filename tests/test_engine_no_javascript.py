"""The embedded engine (and so `queryleaf serve`) runs no `$where`: mongomock-ng evaluates its
text with Python's eval(), which a client could use to run any code in the engine's process.
The filter is refused as a server without a JavaScript engine refuses it."""

from __future__ import annotations

import os
import warnings

import pytest
from pymongo.errors import OperationFailure

from queryleaf.engines.embedded import new_client
from tests.server_fixtures import client, running


def _payload(marker: str) -> str:
    # Reaches os.system from eval() without builtins; it must never run.
    return (
        "[x for x in ().__class__.__base__.__subclasses__() if x.__name__ == "
        "'catch_warnings'][0]()._module.__builtins__['__import__']('os')"
        f".system('touch {marker}') == 0 or True"
    )


FILTERS = [
    lambda p: {"$where": p},
    lambda p: {"$and": [{"a": 1}, {"$where": p}]},
    lambda p: {"$nor": [{"$where": p}]},
    lambda p: {"items": {"$elemMatch": {"$where": p}}},
]


@pytest.mark.parametrize("shape", range(len(FILTERS)))
def test_embedded_engine_refuses_where(tmp_path, shape: int) -> None:
    marker = tmp_path / "ran"
    coll = new_client()["db"]["t"]
    coll.insert_one({"a": 1, "items": [{"b": 1}]})
    query = FILTERS[shape](_payload(str(marker)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for run in (
            lambda: list(coll.find(query)),
            lambda: coll.count_documents(query),
            lambda: coll.delete_many(query),
            lambda: list(coll.aggregate([{"$match": query}])),
        ):
            with pytest.raises(OperationFailure) as refused:
                run()
            assert refused.value.code == 2
            assert "$where" in str(refused.value)
    assert not os.path.exists(marker)
    assert coll.count_documents({}) == 1


def test_local_server_refuses_where_from_any_client(tmp_path) -> None:
    marker = tmp_path / "ran"
    with running(tmp_path / "data") as service, client(service) as connection:
        coll = connection.db.t
        coll.insert_one({"a": 1})
        with pytest.raises(OperationFailure) as refused:
            coll.find_one({"$where": _payload(str(marker))})
        assert refused.value.code == 2
        assert coll.find_one({"a": 1}) is not None
    assert not os.path.exists(marker)
