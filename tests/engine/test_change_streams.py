"""Change streams on the embedded engine: the events every write produces, their shape, the
update descriptions, pre- and post-images, scopes and the user's pipeline. Each expectation is
MongoDB 6.0+'s documented behaviour (a replica set and pymongo 4 would pass these tests)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from bson import Timestamp
from change_stream_support import AWAIT_MS, drain, kinds, shape
from pymongo import DeleteOne, InsertOne, ReplaceOne, UpdateOne
from pymongo.errors import OperationFailure

from queryleaf.engines.embedded import new_client

NO_CHANGE = {"removedFields": [], "truncatedArrays": []}


@pytest.fixture
def client() -> Any:
    return new_client()


@pytest.fixture
def coll(client: Any) -> Any:
    collection = client.csdb.items
    collection.insert_many([{"_id": 1, "n": 1}, {"_id": 2, "n": 2}])
    return collection


def events_of(coll: Any, action: Callable[[Any], Any], **options: Any) -> list[dict]:
    """The events `action` causes on a stream of `coll`; a marker insert written afterwards
    proves that nothing else arrived."""
    with coll.watch(max_await_time_ms=AWAIT_MS, **options) as stream:
        action(coll)
        coll.database.marker.insert_one({})  # not in the stream's scope...
        coll.insert_one({"_id": "end"})  # ...this is
        events: list[dict] = []
        while not events or events[-1].get("documentKey") != {"_id": "end"}:
            more = drain(stream, 1)
            assert more, f"the marker never arrived after {kinds(events)}"
            events += more
    return events[:-1]


def insert(key: Any, document: dict) -> dict:
    return {"operationType": "insert", "documentKey": {"_id": key}, "fullDocument": document}


def update(key: Any, updated: dict) -> dict:
    description = {"updatedFields": updated, **NO_CHANGE}
    return {
        "operationType": "update",
        "documentKey": {"_id": key},
        "updateDescription": description,
    }


def replace(key: Any, document: dict) -> dict:
    return {"operationType": "replace", "documentKey": {"_id": key}, "fullDocument": document}


def delete(key: Any) -> dict:
    return {"operationType": "delete", "documentKey": {"_id": key}}


WRITES: list[tuple[str, Callable[[Any], Any], list[dict]]] = [
    ("insert_one", lambda c: c.insert_one({"_id": 3, "n": 3}), [insert(3, {"_id": 3, "n": 3})]),
    (
        "insert_many",
        lambda c: c.insert_many([{"_id": 3}, {"_id": 4}]),
        [insert(3, {"_id": 3}), insert(4, {"_id": 4})],
    ),
    ("update_one", lambda c: c.update_one({"_id": 1}, {"$set": {"n": 10}}), [update(1, {"n": 10})]),
    (
        "update_many",
        lambda c: c.update_many({}, {"$inc": {"n": 1}}),
        [update(1, {"n": 2}), update(2, {"n": 3})],
    ),
    ("update that changes nothing", lambda c: c.update_one({"_id": 1}, {"$set": {"n": 1}}), []),
    ("update matching nothing", lambda c: c.update_one({"_id": 9}, {"$set": {"n": 1}}), []),
    (
        "upsert",
        lambda c: c.update_one({"_id": 9}, {"$set": {"n": 9}}, upsert=True),
        [insert(9, {"_id": 9, "n": 9})],
    ),
    (
        "update pipeline",
        lambda c: c.update_one({"_id": 1}, [{"$set": {"m": {"$add": ["$n", 1]}}}]),
        [update(1, {"m": 2})],
    ),
    (
        "replace_one",
        lambda c: c.replace_one({"_id": 1}, {"x": 1}),
        [replace(1, {"_id": 1, "x": 1})],
    ),
    (
        "replace_one upsert",
        lambda c: c.replace_one({"_id": 9}, {"x": 1}, upsert=True),
        [insert(9, {"_id": 9, "x": 1})],
    ),
    ("delete_one", lambda c: c.delete_one({"_id": 1}), [delete(1)]),
    ("delete_many", lambda c: c.delete_many({}), [delete(1), delete(2)]),
    (
        "find_one_and_update",
        lambda c: c.find_one_and_update({"_id": 2}, {"$unset": {"n": ""}}),
        [
            {
                **update(2, {}),
                "updateDescription": {"updatedFields": {}, **NO_CHANGE, "removedFields": ["n"]},
            }
        ],
    ),
    (
        "find_one_and_update upsert",
        lambda c: c.find_one_and_update({"_id": 9}, {"$set": {"n": 9}}, upsert=True),
        [insert(9, {"_id": 9, "n": 9})],
    ),
    (
        "find_one_and_replace",
        lambda c: c.find_one_and_replace({"_id": 2}, {"y": 2}),
        [replace(2, {"_id": 2, "y": 2})],
    ),
    ("find_one_and_delete", lambda c: c.find_one_and_delete({"_id": 2}), [delete(2)]),
    (
        "bulk_write",
        lambda c: c.bulk_write(
            [
                InsertOne({"_id": 3}),
                UpdateOne({"_id": 1}, {"$set": {"n": 0}}),
                ReplaceOne({"_id": 2}, {"r": 1}),
                DeleteOne({"_id": 3}),
            ]
        ),
        [insert(3, {"_id": 3}), update(1, {"n": 0}), replace(2, {"_id": 2, "r": 1}), delete(3)],
    ),
]


@pytest.mark.parametrize(
    ("action", "expected"), [(a, e) for _, a, e in WRITES], ids=[n for n, _, _ in WRITES]
)
def test_every_write_emits_its_events(coll, action, expected):
    events = events_of(coll, action)
    assert [shape(e, *x) for e, x in zip(events, expected, strict=False)] == expected
    assert len(events) == len(expected)
    for event in events:
        assert event["ns"] == {"db": "csdb", "coll": "items"}
        if event["operationType"] in ("update", "delete"):
            assert "fullDocument" not in event  # fullDocument 'default'
        assert "fullDocumentBeforeChange" not in event  # fullDocumentBeforeChange 'off'


def test_failed_writes_emit_nothing(coll):
    from pymongo.errors import BulkWriteError, DuplicateKeyError

    def failing(c: Any) -> None:
        c.create_index("u", unique=True, sparse=True)
        c.insert_one({"_id": 5, "u": 1})
        with pytest.raises(DuplicateKeyError):
            c.insert_one({"_id": 6, "u": 1})  # unique index
        with pytest.raises(DuplicateKeyError):
            c.update_one({"_id": 1}, {"$set": {"u": 1}})
        with pytest.raises(BulkWriteError):
            c.insert_many([{"_id": 7}, {"_id": 1}, {"_id": 8}])  # ordered: stops at the dup

    assert [e["documentKey"] for e in events_of(coll, failing)] == [{"_id": 5}, {"_id": 7}]


def test_common_fields(coll):
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    events = events_of(coll, lambda c: [c.insert_one({"_id": k}) for k in range(3, 8)])
    tokens = [e["_id"]["_data"] for e in events]
    times = [e["clusterTime"] for e in events]
    assert all(
        set(e["_id"]) == {"_data"} and isinstance(t, str)
        for e, t in zip(events, tokens, strict=True)
    )
    assert tokens == sorted(tokens) and len(set(tokens)) == len(tokens)
    assert all(isinstance(t, Timestamp) for t in times) and times == sorted(times)
    assert len(set(times)) == len(times)  # one oplog entry each
    for event in events:
        assert before <= event["wallTime"] <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)


# --- updateDescription --------------------------------------------------------------------------

DOC = {"_id": 1, "n": 1, "a": {"b": 1, "c": 1}, "arr": [1, 2, 3], "pad": "p" * 64}
ITEMS = [{"k": 1, "v": 0}, {"k": 2, "v": 0}]

OPERATOR_UPDATES = [
    ("$set nested field", {"$set": {"a.b": 2}}, {"a.b": 2}, []),
    ("$set a subdocument", {"$set": {"a": {"b": 2, "c": 1}}}, {"a": {"b": 2, "c": 1}}, []),
    ("$set new field", {"$set": {"z": True}}, {"z": True}, []),
    ("$set int to double", {"$set": {"n": 1.5}}, {"n": 1.5}, []),
    ("$unset", {"$unset": {"n": ""}}, {}, ["n"]),
    ("$unset nested", {"$unset": {"a.c": ""}}, {}, ["a.c"]),
    ("$inc", {"$inc": {"n": 5}}, {"n": 6}, []),
    ("$push", {"$push": {"arr": 4}}, {"arr.3": 4}, []),
    ("$push $each", {"$push": {"arr": {"$each": [4, 5]}}}, {"arr.3": 4, "arr.4": 5}, []),
    ("$push to a new array", {"$push": {"list": 1}}, {"list": [1]}, []),
    ("$pull", {"$pull": {"arr": 2}}, {"arr": [1, 3]}, []),
    ("$set array element", {"$set": {"arr.1": 9}}, {"arr.1": 9}, []),
    ("$rename", {"$rename": {"n": "m"}}, {"m": 1}, ["n"]),
    ("several operators", {"$set": {"a.b": 0}, "$unset": {"pad": ""}}, {"a.b": 0}, ["pad"]),
]


@pytest.mark.parametrize(
    ("spec", "updated", "removed"),
    [case[1:] for case in OPERATOR_UPDATES],
    ids=[case[0] for case in OPERATOR_UPDATES],
)
def test_update_description_of_operator_updates(client, spec, updated, removed):
    coll = client.csdb.docs
    coll.insert_one(dict(DOC))
    (event,) = events_of(coll, lambda c: c.update_one({"_id": 1}, spec))
    assert event["updateDescription"] == {
        "updatedFields": updated,
        "removedFields": removed,
        "truncatedArrays": [],
    }


def test_update_description_of_positional_update(client):
    coll = client.csdb.docs
    coll.insert_one({"_id": 1, "items": ITEMS, "pad": "p" * 64})
    (event,) = events_of(coll, lambda c: c.update_one({"items.k": 2}, {"$set": {"items.$.v": 7}}))
    assert event["updateDescription"]["updatedFields"] == {"items.1.v": 7}


LONG = ["a" * 16, "b" * 16, "c" * 16, "d" * 16]
PIPELINE_UPDATES = [
    ("nested field", [{"$set": {"a.b": 2}}], {"a.b": 2}, [], []),
    ("removed field", [{"$unset": "n"}], {}, ["n"], []),
    (
        "truncated array",
        [{"$set": {"arr": {"$slice": ["$arr", 2]}}}],
        {},
        [],
        [{"field": "arr", "newSize": 2}],
    ),
    (
        "appended element",
        [{"$set": {"arr": {"$concatArrays": ["$arr", ["e" * 16]]}}}],
        {"arr.4": "e" * 16},
        [],
        [],
    ),
]


@pytest.mark.parametrize(
    ("pipeline", "updated", "removed", "truncated"),
    [case[1:] for case in PIPELINE_UPDATES],
    ids=[case[0] for case in PIPELINE_UPDATES],
)
def test_update_description_of_pipeline_updates(client, pipeline, updated, removed, truncated):
    coll = client.csdb.docs
    coll.insert_one({**DOC, "arr": LONG, "pad": "p" * 256})
    (event,) = events_of(coll, lambda c: c.update_one({"_id": 1}, pipeline))
    assert event["updateDescription"] == {
        "updatedFields": updated,
        "removedFields": removed,
        "truncatedArrays": truncated,
    }


# --- fullDocument and fullDocumentBeforeChange --------------------------------------------------


def test_update_lookup_reads_the_document_when_the_event_is_read(coll):
    stream = coll.watch(full_document="updateLookup", max_await_time_ms=AWAIT_MS)
    coll.update_one({"_id": 1}, {"$set": {"n": 10}})
    coll.update_one({"_id": 1}, {"$set": {"n": 11}})
    coll.update_one({"_id": 2}, {"$set": {"n": 20}})
    coll.delete_one({"_id": 2})
    first, second, third, _ = drain(stream, 4)
    assert first["fullDocument"] == {"_id": 1, "n": 11}  # the current version, not n: 10
    assert second["fullDocument"] == {"_id": 1, "n": 11}
    assert third["operationType"] == "update" and third["fullDocument"] is None  # deleted since


def test_update_lookup_leaves_inserts_and_replaces_alone(coll):
    stream = coll.watch(full_document="updateLookup", max_await_time_ms=AWAIT_MS)
    coll.replace_one({"_id": 1}, {"v": 1})
    coll.replace_one({"_id": 1}, {"v": 2})
    first, second = drain(stream, 2)
    assert first["fullDocument"] == {"_id": 1, "v": 1}
    assert second["fullDocument"] == {"_id": 1, "v": 2}


@pytest.fixture
def imaged(client: Any) -> Any:
    client.csdb.create_collection("imaged", changeStreamPreAndPostImages={"enabled": True})
    collection = client.csdb.imaged
    collection.insert_one({"_id": 1, "n": 1})
    return collection


@pytest.mark.parametrize("mode", ["whenAvailable", "required"])
def test_pre_and_post_images(imaged, mode):
    stream = imaged.watch(
        full_document=mode, full_document_before_change=mode, max_await_time_ms=AWAIT_MS
    )
    imaged.update_one({"_id": 1}, {"$inc": {"n": 1}})
    imaged.replace_one({"_id": 1}, {"r": 1})
    imaged.delete_one({"_id": 1})
    imaged.insert_one({"_id": 2})
    updated, replaced, deleted, inserted = drain(stream, 4)
    assert updated["fullDocumentBeforeChange"] == {"_id": 1, "n": 1}
    assert updated["fullDocument"] == {"_id": 1, "n": 2}  # the post-image, not a lookup
    assert replaced["fullDocumentBeforeChange"] == {"_id": 1, "n": 2}
    assert replaced["fullDocument"] == {"_id": 1, "r": 1}
    assert deleted["fullDocumentBeforeChange"] == {"_id": 1, "r": 1}
    assert "fullDocument" not in deleted
    assert "fullDocumentBeforeChange" not in inserted and inserted["fullDocument"] == {"_id": 2}


def test_images_when_available_are_null_where_not_enabled(coll):
    options = {"full_document": "whenAvailable", "full_document_before_change": "whenAvailable"}
    updated, deleted = events_of(
        coll,
        lambda c: (c.update_one({"_id": 1}, {"$inc": {"n": 1}}), c.delete_one({"_id": 1})),
        **options,
    )
    assert updated["fullDocument"] is None and updated["fullDocumentBeforeChange"] is None
    assert deleted["fullDocumentBeforeChange"] is None


@pytest.mark.parametrize(
    "options", [{"full_document": "required"}, {"full_document_before_change": "required"}]
)
def test_required_images_fail_where_not_enabled(coll, options):
    stream = coll.watch(max_await_time_ms=AWAIT_MS, **options)
    coll.insert_one({"_id": 3})
    coll.update_one({"_id": 1}, {"$inc": {"n": 1}})
    assert stream.try_next()["operationType"] == "insert"  # inserts need no image
    with pytest.raises(OperationFailure) as failure:
        stream.try_next()
    assert failure.value.code == 47  # NoMatchingDocument
    assert not stream.alive


def test_pre_images_start_with_coll_mod(coll):
    stream = coll.watch(full_document_before_change="whenAvailable", max_await_time_ms=AWAIT_MS)
    coll.update_one({"_id": 1}, {"$inc": {"n": 1}})
    coll.database.command("collMod", "items", changeStreamPreAndPostImages={"enabled": True})
    coll.update_one({"_id": 1}, {"$inc": {"n": 1}})
    before, after = drain(stream, 2)
    assert before["fullDocumentBeforeChange"] is None  # written before pre-images were on
    assert after["fullDocumentBeforeChange"] == {"_id": 1, "n": 2}


def test_pre_image_option_is_listed(client, imaged):
    client.csdb.create_collection("plain")
    options = {c["name"]: c["options"] for c in client.csdb.list_collections()}
    assert options["imaged"] == {"changeStreamPreAndPostImages": {"enabled": True}}
    assert "changeStreamPreAndPostImages" not in options["plain"]
    client.csdb.command("collMod", "imaged", changeStreamPreAndPostImages={"enabled": False})
    (info,) = client.csdb.list_collections(filter={"name": "imaged"})
    assert info["options"]["changeStreamPreAndPostImages"] == {"enabled": False}


@pytest.mark.parametrize("value", [True, {"enabled": 1}, {}, {"enabled": True, "x": 1}])
def test_pre_image_option_is_validated(client, value):
    with pytest.raises(OperationFailure):
        client.csdb.create_collection("bad", changeStreamPreAndPostImages=value)


@pytest.mark.parametrize(
    "options",
    [
        {"full_document": "sometimes"},
        {"full_document_before_change": "default"},
    ],
)
def test_unknown_image_modes_are_refused(coll, options):
    with pytest.raises(OperationFailure):
        coll.watch(**options)


# --- scopes ---------------------------------------------------------------------------------


def test_scopes(client):
    db, other = client.csdb, client.otherdb
    streams = {
        "collection": db.a.watch(max_await_time_ms=AWAIT_MS),
        "database": db.watch(max_await_time_ms=AWAIT_MS),
        "client": client.watch(max_await_time_ms=AWAIT_MS),
    }
    db.a.insert_one({"_id": "a"})
    db.b.insert_one({"_id": "b"})
    other.c.insert_one({"_id": "c"})
    expected = {"collection": ["a"], "database": ["a", "b"], "client": ["a", "b", "c"]}
    for name, stream in streams.items():
        events = drain(stream, len(expected[name]))
        assert [e["documentKey"]["_id"] for e in events] == expected[name], name
        assert drain(stream) == [], name
        stream.close()


def test_drop_invalidates_a_collection_stream_only(client):
    db = client.csdb
    db.a.insert_one({})
    collection_stream = db.a.watch(max_await_time_ms=AWAIT_MS)
    database_stream = db.watch(max_await_time_ms=AWAIT_MS)
    db.a.drop()
    db.b.insert_one({"_id": 1})
    dropped, invalidate = drain(collection_stream, 2)
    assert shape(dropped, "ns") == {"operationType": "drop", "ns": {"db": "csdb", "coll": "a"}}
    assert set(invalidate) == {"_id", "operationType", "clusterTime", "wallTime"}
    assert invalidate["operationType"] == "invalidate"
    assert invalidate["clusterTime"] == dropped["clusterTime"]
    assert not collection_stream.alive
    assert collection_stream.try_next() is None
    with pytest.raises(StopIteration):
        next(collection_stream)
    assert kinds(drain(database_stream, 2)) == ["drop", "insert"]
    assert database_stream.alive


def test_an_emptied_collection_still_exists_and_its_drop_is_an_event(client):
    db = client.csdb
    stream = db.e.watch(max_await_time_ms=AWAIT_MS)
    db.e.insert_one({"_id": 1})
    db.e.delete_one({"_id": 1})
    assert "e" in db.list_collection_names()  # as on the server: emptied, not gone
    db.e.drop()
    assert kinds(drain(stream, 4)) == ["insert", "delete", "drop", "invalidate"]
    assert "e" not in db.list_collection_names()


def test_drop_of_a_missing_collection_emits_nothing(client):
    stream = client.csdb.watch(max_await_time_ms=AWAIT_MS)
    client.csdb.never.drop()
    client.csdb.b.insert_one({})
    assert kinds(drain(stream, 1)) == ["insert"]


@pytest.mark.parametrize("watched", ["a", "b"])
def test_rename_invalidates_source_and_target_streams(client, watched):
    db = client.csdb
    db.a.insert_one({})
    stream = db[watched].watch(max_await_time_ms=AWAIT_MS)
    database_stream = db.watch(max_await_time_ms=AWAIT_MS)
    db.a.rename("b")
    renamed, invalidate = drain(stream, 2)
    assert shape(renamed, "ns", "to") == {
        "operationType": "rename",
        "ns": {"db": "csdb", "coll": "a"},
        "to": {"db": "csdb", "coll": "b"},
    }
    assert invalidate["operationType"] == "invalidate" and not stream.alive
    assert kinds(drain(database_stream)) == ["rename"]


def test_rename_with_drop_target(client):
    db = client.csdb
    db.a.insert_one({})
    db.b.insert_one({})
    target = db.b.watch(max_await_time_ms=AWAIT_MS)
    db.a.rename("b", dropTarget=True)
    assert kinds(drain(target, 2)) == ["rename", "invalidate"]


def test_drop_database(client):
    db = client.csdb
    db.a.insert_one({})
    db.b.insert_one({})
    collection_stream = db.a.watch(max_await_time_ms=AWAIT_MS)
    database_stream = db.watch(max_await_time_ms=AWAIT_MS)
    client_stream = client.watch(max_await_time_ms=AWAIT_MS)
    client.drop_database("csdb")
    assert kinds(drain(collection_stream, 2)) == ["drop", "invalidate"]
    events = drain(database_stream, 4)
    assert kinds(events) == ["drop", "drop", "dropDatabase", "invalidate"]
    assert {e["ns"]["coll"] for e in events[:2]} == {"a", "b"}
    assert events[2]["ns"] == {"db": "csdb"}
    assert not database_stream.alive
    assert kinds(drain(client_stream, 3)) == ["drop", "drop", "dropDatabase"]
    assert client_stream.alive


# --- the user's pipeline --------------------------------------------------------------------


def test_pipeline_filters_and_reshapes_events(coll):
    pipeline = [
        {"$match": {"operationType": {"$in": ["insert", "update"]}, "ns.coll": "items"}},
        {"$project": {"operationType": 1, "key": "$documentKey._id"}},
        {"$addFields": {"seen": True}},
    ]
    stream = coll.watch(pipeline, max_await_time_ms=AWAIT_MS)
    coll.insert_one({"_id": 3})
    coll.delete_one({"_id": 3})
    coll.update_one({"_id": 1}, {"$set": {"n": 0}})
    coll.insert_one({"_id": "end"})
    events = drain(stream, 3)
    assert [{k: v for k, v in e.items() if k != "_id"} for e in events] == [
        {"operationType": "insert", "key": 3, "seen": True},
        {"operationType": "update", "key": 1, "seen": True},
        {"operationType": "insert", "key": "end", "seen": True},
    ]
    assert all(set(e["_id"]) == {"_data"} for e in events)


def test_pipeline_redact_and_unset(coll):
    pipeline = [
        {"$redact": {"$cond": [{"$eq": ["$operationType", "delete"]}, "$$PRUNE", "$$KEEP"]}},
        {"$unset": ["wallTime", "clusterTime"]},
    ]
    events = events_of(
        coll, lambda c: (c.delete_one({"_id": 1}), c.insert_one({"_id": 3})), pipeline=pipeline
    )
    assert kinds(events) == ["insert"] and "wallTime" not in events[0]


@pytest.mark.parametrize(
    "stage",
    [
        {"$group": {"_id": None}},
        {"$sort": {"_id": 1}},
        {"$limit": 1},
        {"$lookup": {"from": "x", "localField": "a", "foreignField": "b", "as": "c"}},
        {"$nosuchstage": {}},
    ],
)
def test_stages_not_allowed_after_change_stream(coll, stage):
    with pytest.raises(OperationFailure):
        coll.watch([stage])


@pytest.mark.parametrize(
    "stage",
    [
        {"$project": {"_id": 0}},
        {"$unset": "_id"},
        {"$set": {"_id": "mine"}},
        {"$replaceRoot": {"newRoot": "$fullDocument"}},
        {"$replaceWith": {"k": "$documentKey"}},
    ],
)
def test_changing_the_resume_token_fails_the_stream(coll, stage):
    stream = coll.watch([stage], max_await_time_ms=AWAIT_MS)
    coll.insert_one({"_id": 3})
    with pytest.raises(OperationFailure) as failure:
        stream.try_next()
    assert failure.value.code == 280  # ChangeStreamFatalError
    assert not stream.alive


def test_events_are_copies(coll):
    stream = coll.watch(max_await_time_ms=AWAIT_MS)
    other = coll.watch(max_await_time_ms=AWAIT_MS)
    coll.insert_one({"_id": 3, "sub": {"x": 1}})
    (event,) = drain(stream, 1)
    event["fullDocument"]["sub"]["x"] = "changed"
    assert drain(other, 1)[0]["fullDocument"] == {"_id": 3, "sub": {"x": 1}}
    coll.update_one({"_id": 3}, {"$set": {"sub.x": 2}})
    assert drain(stream, 1)[0]["updateDescription"]["updatedFields"] == {"sub.x": 2}
