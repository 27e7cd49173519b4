"""The last test of the second pass (tests/server_pass.py names it explicitly; its file name
keeps it out of the first pass): the tests before it really reached `queryleaf serve`."""

from __future__ import annotations

import pymongo

from tests.conftest import TEST_URI


def test_the_second_pass_went_through_the_server() -> None:
    assert TEST_URI, "the second pass runs with QUERYLEAF_TEST_URI set"
    with pymongo.MongoClient(TEST_URI, serverSelectionTimeoutMS=5000) as client:
        status = client.admin.command("serverStatus")
    assert status["process"] == "queryleaf"
    counters = status["opcounters"]
    print(
        f"queryleaf serve answered {sum(status['commands'].values())} commands over "
        f"{status['connections']['totalCreated']} connections: "
        + ", ".join(f"{k} {v}" for k, v in counters.items())
    )
    assert counters["insert"] > 500 and counters["query"] > 100 and counters["getmore"] > 100
    assert status["commands"].get("aggregate", 0) > 100
