"""`queryleaf serve` through pymongo: replies, error codes, cursors and change streams."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pymongo
import pytest
from bson import Timestamp
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

from queryleaf.server import wire
from tests.server_fixtures import client, running


@pytest.fixture
def served(tmp_path) -> Iterator[pymongo.MongoClient]:
    with running(tmp_path / "data") as service, client(service) as connection:
        yield connection


def test_hello_announces_a_replica_set_primary(served) -> None:
    hello = served.admin.command("hello")
    assert hello["isWritablePrimary"] is True
    assert hello["setName"] == "queryleaf"
    assert hello["maxMessageSizeBytes"] == wire.MAX_MESSAGE_SIZE
    assert hello["logicalSessionTimeoutMinutes"] == 30
    assert served.admin.command("buildInfo")["version"].startswith("7.")


def test_an_unknown_command_is_command_not_found(served) -> None:
    with pytest.raises(OperationFailure) as raised:
        served.db.command("frobnicate")
    assert raised.value.code == 59
    assert served.db.command("ping")["ok"] == 1.0  # the connection still serves


def test_collation_is_refused_not_ignored(served) -> None:
    served.db.t.insert_one({"_id": 1, "name": "a"})
    with pytest.raises(OperationFailure) as raised:
        list(served.db.t.find({"name": "A"}, collation={"locale": "en", "strength": 2}))
    assert raised.value.code == 238


def test_transactions_are_refused_with_illegal_operation(served) -> None:
    with (
        served.start_session() as session,
        pytest.raises(OperationFailure) as raised,
        session.start_transaction(),
    ):
        served.db.t.insert_one({"_id": 1}, session=session)
    assert raised.value.code == 20
    assert served.db.t.count_documents({}) == 0


def test_write_errors_ordered_and_unordered(served) -> None:
    coll = served.db.t
    coll.insert_one({"_id": 1})
    with pytest.raises(DuplicateKeyError):
        coll.insert_one({"_id": 1})
    with pytest.raises(BulkWriteError) as ordered:
        coll.insert_many([{"_id": 2}, {"_id": 1}, {"_id": 3}])
    assert ordered.value.details["nInserted"] == 1
    assert [e["index"] for e in ordered.value.details["writeErrors"]] == [1]
    assert ordered.value.details["writeErrors"][0]["code"] == 11000
    with pytest.raises(BulkWriteError) as unordered:
        coll.insert_many([{"_id": 4}, {"_id": 1}, {"_id": 5}], ordered=False)
    assert unordered.value.details["nInserted"] == 2
    assert sorted(d["_id"] for d in coll.find()) == [1, 2, 4, 5]


def test_updates_report_matches_modifications_and_upserted_ids(served) -> None:
    coll = served.db.t
    coll.insert_many([{"_id": i, "x": i} for i in range(5)])
    result = coll.update_many({"x": {"$lt": 3}}, {"$set": {"y": 1}})
    assert (result.matched_count, result.modified_count) == (3, 3)
    again = coll.update_many({"x": {"$lt": 3}}, {"$set": {"y": 1}})
    assert (again.matched_count, again.modified_count) == (3, 0)
    upserted = coll.update_one({"_id": 9}, {"$set": {"x": 9}}, upsert=True)
    assert upserted.upserted_id == 9
    bulk = coll.bulk_write(
        [
            pymongo.UpdateOne({"_id": 10}, {"$set": {"x": 10}}, upsert=True),
            pymongo.ReplaceOne({"_id": 0}, {"x": -1}),
            pymongo.DeleteMany({"x": {"$gte": 3}}),
        ]
    )
    assert bulk.upserted_ids == {0: 10}
    assert bulk.modified_count == 1
    assert bulk.deleted_count == 4  # 3, 4, 9, 10
    assert coll.find_one({"_id": 0}) == {"_id": 0, "x": -1}


def test_engine_errors_keep_their_meaning(served) -> None:
    coll = served.db.t
    coll.insert_one({"_id": 1})
    with pytest.raises(OperationFailure) as bad_operator:
        coll.find_one({"$bad": 1})
    with pytest.raises(OperationFailure) as immutable:
        coll.update_one({"_id": 1}, {"$set": {"_id": 2}})
    assert (bad_operator.value.code, immutable.value.code) == (2, 66)
    assert "$bad" in str(bad_operator.value)


def test_find_and_modify_shapes(served) -> None:
    coll = served.db.t
    coll.insert_one({"_id": 1, "n": 1})
    before = coll.find_one_and_update({"_id": 1}, {"$inc": {"n": 1}})
    after = coll.find_one_and_update(
        {"_id": 1}, {"$inc": {"n": 1}}, return_document=pymongo.ReturnDocument.AFTER
    )
    assert (before["n"], after["n"]) == (1, 3)
    made = coll.find_one_and_update(
        {"_id": 2}, {"$set": {"n": 0}}, upsert=True, return_document=pymongo.ReturnDocument.AFTER
    )
    assert made == {"_id": 2, "n": 0}
    assert coll.find_one_and_delete({"_id": 1}) == {"_id": 1, "n": 3}
    assert coll.find_one_and_delete({"_id": 1}) is None


def test_cursors_batch_get_more_and_kill(served) -> None:
    coll = served.db.t
    coll.insert_many([{"_id": i} for i in range(250)])
    assert [d["_id"] for d in coll.find().sort("_id", 1).batch_size(7)] == list(range(250))
    cursor = coll.find().batch_size(10)
    next(cursor)
    cursor.close()
    assert served.admin.command("serverStatus")["metrics"]["cursor"]["open"]["total"] == 0
    with pytest.raises(OperationFailure) as raised:
        served.db.command("getMore", 12345, collection="t")
    assert raised.value.code == 43
    assert coll.distinct("_id", {"_id": {"$lt": 3}}) == [0, 1, 2]
    assert served.db.command("count", "t", query={"_id": {"$gte": 200}})["n"] == 50


def test_find_with_and_without_sort_or_projection_agree(served) -> None:
    coll = served.db.t
    coll.insert_many([{"_id": i, "g": i % 3, "s": f"v{i}"} for i in range(30)])
    plain = list(coll.find({"g": 1}, skip=2, limit=4))  # read from the store directly
    sorted_ = list(coll.find({"g": 1}, skip=2, limit=4, sort=[("_id", 1)]))
    projected = list(coll.find({"g": 1}, {"s": 1}, skip=2, limit=4))
    assert [d["_id"] for d in plain] == [d["_id"] for d in sorted_] == [7, 10, 13, 16]
    assert plain == sorted_
    assert projected == [{"_id": d["_id"], "s": d["s"]} for d in plain]
    assert list(coll.find({"g": {"$gt": 5}})) == []
    assert len(list(coll.find().batch_size(4))) == 30


def test_views_and_indexes(served) -> None:
    db = served.db
    db.t.insert_many([{"_id": i, "g": i % 2} for i in range(6)])
    db.create_collection("odd", viewOn="t", pipeline=[{"$match": {"g": 1}}])
    kinds = {c["name"]: c["type"] for c in db.list_collections()}
    assert kinds == {"t": "collection", "odd": "view"}
    assert [d["_id"] for d in db.odd.find().sort("_id", 1)] == [1, 3, 5]
    db.t.create_index([("g", 1)], name="by_g")
    assert {i["name"] for i in db.t.list_indexes()} == {"_id_", "by_g"}
    db.t.drop_index("by_g")
    assert {i["name"] for i in db.t.list_indexes()} == {"_id_"}
    served.admin.command("renameCollection", "db.t", to="db.u")
    assert db.list_collection_names(filter={"type": "collection"}) == ["u"]


def test_change_streams_resume_start_after_and_operation_time(served) -> None:
    coll = served.db.events
    coll.insert_one({"_id": 0})
    with coll.watch(max_await_time_ms=200) as stream:
        assert stream.try_next() is None
        high_water = stream.resume_token
        assert high_water is not None  # postBatchResumeToken of an empty batch
        coll.insert_one({"_id": 1})
        coll.update_one({"_id": 1}, {"$set": {"x": 1}})
        first = stream.next()
        token = stream.resume_token
        second = stream.next()
    assert (first["operationType"], second["operationType"]) == ("insert", "update")
    assert second["updateDescription"]["updatedFields"] == {"x": 1}
    with coll.watch(resume_after=token) as resumed:
        assert resumed.next()["_id"] == second["_id"]
    with coll.watch(start_after=high_water) as started:
        assert started.next()["documentKey"] == {"_id": 1}
    at = Timestamp(first["clusterTime"].time, first["clusterTime"].inc)
    with coll.watch(start_at_operation_time=at) as timed:
        assert timed.next()["_id"] == first["_id"]


def test_database_and_cluster_streams(served) -> None:
    db = served.db
    with (
        db.watch(max_await_time_ms=200, show_expanded_events=True) as on_db,
        served.watch(max_await_time_ms=200) as on_cluster,
    ):
        db.a.insert_one({"_id": "a"})
        served.other.b.insert_one({"_id": "b"})
        seen_db = [on_db.next()["ns"]]
        seen_cluster = [on_cluster.next()["ns"], on_cluster.next()["ns"]]
        assert on_db.try_next() is None  # the other database's insert is not its business
    assert seen_db == [{"db": "db", "coll": "a"}]
    assert seen_cluster == [{"db": "db", "coll": "a"}, {"db": "other", "coll": "b"}]


def test_get_more_waits_for_max_time_ms_and_wakes_on_a_write(served) -> None:
    coll = served.db.events
    with coll.watch(max_await_time_ms=300) as stream:
        began = time.monotonic()
        assert stream.try_next() is None
        waited = time.monotonic() - began
        assert 0.25 <= waited < 3
    with coll.watch(max_await_time_ms=5000) as long_wait:
        timer = threading.Timer(0.2, lambda: coll.insert_one({"_id": "late"}))
        timer.start()
        began = time.monotonic()
        event = long_wait.try_next()  # one getMore: it waits, and the insert wakes it
        woke = time.monotonic() - began
        timer.join()
    assert event is not None and event["documentKey"] == {"_id": "late"}
    assert woke < 4  # well before its 5 s maxTimeMS


def test_pre_and_post_images_over_the_wire(served) -> None:
    db = served.db
    db.create_collection("p", changeStreamPreAndPostImages={"enabled": True})
    db.p.insert_one({"_id": 1, "v": "old"})
    with db.p.watch(full_document="required", full_document_before_change="required") as stream:
        db.p.update_one({"_id": 1}, {"$set": {"v": "new"}})
        event = stream.next()
    assert event["fullDocumentBeforeChange"] == {"_id": 1, "v": "old"}
    assert event["fullDocument"] == {"_id": 1, "v": "new"}


def test_a_retried_write_is_answered_not_applied_twice(tmp_path) -> None:
    import uuid

    with running(tmp_path / "data") as service, client(service) as connection:
        connection.db.c.insert_one({"_id": 1, "n": 0})
        command = {
            "update": "c",
            "updates": [{"q": {"_id": 1}, "u": {"$inc": {"n": 1}}}],
            "lsid": {"id": uuid.uuid4()},
            "txnNumber": 7,
            "$db": "db",
        }
        with socket.create_connection(("127.0.0.1", service.port), timeout=5) as sock:
            replies = []
            for request_id in (1, 2):
                sock.sendall(wire.encode_request(request_id, command))
                replies.append(_read_reply(sock))
            command["txnNumber"] = 8
            sock.sendall(wire.encode_request(3, command))
            replies.append(_read_reply(sock))
        assert [r["nModified"] for r in replies] == [1, 1, 1]
        assert connection.db.c.find_one({"_id": 1})["n"] == 2  # txnNumber 7 once, 8 once


def test_the_legacy_op_query_handshake_over_a_socket(tmp_path) -> None:
    import struct

    import bson

    with running(None) as service:
        query = bson.encode({"isMaster": 1})
        body = struct.pack("<i", 0) + b"admin.$cmd\x00" + struct.pack("<ii", 0, -1) + query
        message = struct.pack("<iiii", 16 + len(body), 5, 0, wire.OP_QUERY) + body
        with socket.create_connection(("127.0.0.1", service.port), timeout=5) as sock:
            sock.sendall(message)
            reply = _read_reply(sock)
    assert reply["ismaster"] is True


def test_a_fire_and_forget_write_gets_no_reply(tmp_path) -> None:
    import struct

    with running(None) as service, client(service) as connection:
        insert = {"insert": "c", "documents": [{"_id": 1}], "writeConcern": {"w": 0}, "$db": "db"}
        with socket.create_connection(("127.0.0.1", service.port), timeout=5) as sock:
            sock.sendall(wire.encode_request(1, insert, flags=wire.MORE_TO_COME))
            sock.sendall(wire.encode_request(2, {"ping": 1, "$db": "admin"}))
            header = sock.recv(16, socket.MSG_PEEK | socket.MSG_WAITALL)
            assert struct.unpack("<iiii", header)[2] == 2  # the first reply answers the ping
            assert _read_reply(sock)["ok"] == 1.0
        assert connection.db.c.find_one() == {"_id": 1}


def _read_reply(sock: socket.socket) -> dict:
    import struct

    header = b""
    while len(header) < 4:
        header += sock.recv(4 - len(header))
    (length,) = struct.unpack("<i", header)
    data = header
    while len(data) < length:
        data += sock.recv(length - len(data))
    return wire.decode_reply(data)


def test_get_cmd_line_opts_hides_passwords(served, monkeypatch) -> None:
    import sys

    argv = [
        "queryleaf",
        "serve",
        "--pg-port",
        "5433",
        "--pg-user",
        "ada:pg-secret-1",
        "--pg-user=bob:pg-secret-2",
        "--pg-user",
        "cy:env:CY_PASSWORD",
        "--uri=mongodb://eve:uri-secret@db.example:27017/",
    ]
    monkeypatch.setattr(sys, "argv", argv)
    shown = served.admin.command("getCmdLineOpts")["argv"]
    assert not any("secret" in part for part in shown), shown
    assert shown[:4] == argv[:4]
    assert "ada:<password>" in shown and "--pg-user=bob:<password>" in shown
    assert "cy:env:CY_PASSWORD" in shown  # a variable's name is no secret
    assert "--uri=mongodb://eve:<password>@db.example:27017/" in shown


def test_a_write_older_than_its_session_s_last_is_refused_not_applied(tmp_path) -> None:
    import uuid

    with running(None) as service, client(service) as connection:
        connection.db.c.insert_one({"_id": 1, "n": 0})
        command = {
            "update": "c",
            "updates": [{"q": {"_id": 1}, "u": {"$inc": {"n": 1}}}],
            "lsid": {"id": uuid.uuid4()},
            "txnNumber": 8,
            "$db": "db",
        }
        with socket.create_connection(("127.0.0.1", service.port), timeout=5) as sock:
            sock.sendall(wire.encode_request(1, command))
            first = _read_reply(sock)
            command["txnNumber"] = 7  # a late copy of an earlier write
            sock.sendall(wire.encode_request(2, command))
            late = _read_reply(sock)
        assert first["nModified"] == 1
        assert late["ok"] == 0.0 and late["code"] == 225
        assert late["codeName"] == "TransactionTooOld"
        assert connection.db.c.find_one({"_id": 1})["n"] == 1
