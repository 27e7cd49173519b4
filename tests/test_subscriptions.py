"""EVENT_SUBSCRIPTION statements on a database: persistence, validation, compilation to a
change stream, warnings, EXPLAIN and the system table functions."""

from __future__ import annotations

import json

import pytest

from queryleaf import QueryLeafError, SemanticError
from tests.case_files import SEED_DIR

SEED = (SEED_DIR / "user_service_events.sql").read_text()


def create(conn, options: str, name: str = "s"):
    return conn.run_sql(f"CREATE EVENT_SUBSCRIPTION {name} AS ({options})")


def test_the_seed_statement_runs_verbatim_with_its_warnings(conn) -> None:
    result = conn.run_sql(SEED)
    assert result.rowcount == 1
    text = "\n".join(result.warnings)
    assert "rewritten as a top-level $or" in text
    assert "never matches delete events" in text
    assert "changeStreamPreAndPostImages on users, user_profiles, user_preferences" in text
    stored = conn.db.event_subscriptions.find_one({"_id": "user_service_events"})
    assert stored["subscription_id"] == "user_lifecycle_events"
    assert stored["status"] == "active"
    assert stored["resume_token"] is None and stored["events_received"] == 0
    # Every counter starts at 0, events_replayed included (it read NULL until a REPLAY).
    counters = conn.run_sql(
        "SELECT events_delivered, events_dead_lettered, events_replayed FROM EVENT_SUBSCRIPTIONS()"
    ).rows
    assert counters == [{"events_delivered": 0, "events_dead_lettered": 0, "events_replayed": 0}]


def test_explain_shows_a_pipeline_mongodb_accepts(conn) -> None:
    conn.run_sql(SEED)
    result = conn.run_sql("EXPLAIN EVENT_SUBSCRIPTION user_service_events")
    command = json.loads(result.rows[0]["command"])
    assert command["aggregate"] == 1  # several collections: one database-level stream
    change_stream, match = command["pipeline"]
    assert change_stream == {
        "$changeStream": {
            "fullDocument": "updateLookup",
            "fullDocumentBeforeChange": "whenAvailable",
        }
    }
    assert set(match) == {"$match"}
    first, rewritten = match["$match"]["$and"]
    assert first == {
        "ns.coll": {"$in": ["users", "user_profiles", "user_preferences"]},
        "operationType": {"$in": ["insert", "update", "delete"]},
    }
    assert rewritten["$or"][1] == {
        "operationType": "update",
        "$or": [
            {"updateDescription.updatedFields.email": {"$exists": True}},
            {"updateDescription.updatedFields.status": {"$exists": True}},
            {"updateDescription.updatedFields.subscription_tier": {"$exists": True}},
        ],
    }
    assert "rewritten" in result.rows[0]["notes"]


def test_explain_create_does_not_create(conn) -> None:
    result = conn.run_sql("EXPLAIN " + SEED)
    assert json.loads(result.rows[0]["command"])["pipeline"][0]["$changeStream"]
    assert conn.db.event_subscriptions.count_documents({}) == 0


def test_one_collection_gives_a_collection_stream_with_defaults(conn) -> None:
    create(conn, "watch_collections = JSON_ARRAY('orders')")
    command = json.loads(conn.run_sql("EXPLAIN EVENT_SUBSCRIPTION s").rows[0]["command"])
    assert command == {
        "aggregate": "orders",
        "pipeline": [
            {"$changeStream": {"fullDocument": "updateLookup"}},
            {"$match": {"operationType": {"$in": ["insert", "update", "replace", "delete"]}}},
        ],
        "cursor": {"batchSize": 100},
    }
    stored = conn.db.event_subscriptions.find_one({"_id": "s"})
    assert stored["subscription_id"] == "s"  # defaults to the name
    assert stored["deliver_to"] == "log" and stored["max_retry_attempts"] == 3


def test_sql_event_filter_compiles_to_a_match(conn) -> None:
    create(
        conn,
        "watch_collections = JSON_ARRAY('orders'), event_types = JSON_ARRAY('insert', 'update'), "
        "service_name = 'billing', "
        "event_filter = 'event_data.total > 100 AND service_name = ''billing'' "
        "AND collection_name = ''orders'''",
    )
    command = json.loads(conn.run_sql("EXPLAIN EVENT_SUBSCRIPTION s").rows[0]["command"])
    assert command["pipeline"][1] == {
        "$match": {
            "operationType": {"$in": ["insert", "update"]},
            "fullDocument.total": {"$gt": 100},
            "ns.coll": "orders",
        }
    }


def test_full_document_predicate_warns_that_deletes_never_match(conn) -> None:
    result = create(
        conn,
        "watch_collections = JSON_ARRAY('orders'), "
        "event_filter = JSON_OBJECT('fullDocument.status', 'paid')",
    )
    assert any("delete events have no fullDocument" in w for w in result.warnings)


def test_pre_images_enabled_means_no_warning(conn) -> None:
    conn.db.create_collection("users", changeStreamPreAndPostImages={"enabled": True})
    result = create(
        conn,
        "watch_collections = JSON_ARRAY('users'), full_document_before_change = 'required'",
    )
    assert result.warnings == []


@pytest.mark.parametrize(
    ("options", "code", "fragment"),
    [
        ("watch_colections = JSON_ARRAY('a')", "QL310", "did you mean watch_collections"),
        ("batch_size = 0", "QL311", "from 1 to 10000"),
        ("event_types = JSON_ARRAY('insertt')", "QL311", "did you mean 'insert'"),
        ("full_document = 'updatelookup'", "QL311", "did you mean 'updateLookup'"),
        ("preserve_order = 'yes'", "QL311", "TRUE or FALSE"),
        ("deliver_to = 'ftp://x'", "QL311", "http(s)://"),
        ("watch_collections = JSON_ARRAY()", "QL311", "at least one collection"),
        (
            "event_filter = JSON_OBJECT('a', JSON_OBJECT('$regx', 'x'))",
            "QL312",
            "did you mean $regex",
        ),
        ("event_filter = 'colection_name = 1'", "QL314", "did you mean collection_name"),
    ],
)
def test_invalid_options_are_rejected_before_anything_is_stored(
    conn, options: str, code: str, fragment: str
) -> None:
    with pytest.raises(QueryLeafError) as caught:
        create(conn, options)
    error = caught.value
    assert error.code == code, str(error)
    assert fragment in (error.message + " " + (error.hint or "")), str(error)
    assert error.line == 1 and error.column and error.column > 30
    assert conn.db.event_subscriptions.count_documents({}) == 0


def test_create_twice_or_replace_if_not_exists(conn) -> None:
    create(conn, "batch_size = 10")
    with pytest.raises(SemanticError) as caught:
        create(conn, "batch_size = 20")
    assert caught.value.code == "QL320"
    assert (
        conn.run_sql("CREATE EVENT_SUBSCRIPTION IF NOT EXISTS s AS (batch_size = 30)").rowcount == 0
    )
    conn.db.event_subscriptions.update_one({"_id": "s"}, {"$set": {"events_received": 7}})
    conn.run_sql("CREATE OR REPLACE EVENT_SUBSCRIPTION s AS (batch_size = 40)")
    stored = conn.db.event_subscriptions.find_one({"_id": "s"})
    assert stored["batch_size"] == 40 and stored["events_received"] == 7


def test_subscription_ids_are_unique(conn) -> None:
    create(conn, "subscription_id = 'shared'", name="a")
    with pytest.raises(SemanticError) as caught:
        create(conn, "subscription_id = 'shared'", name="b")
    assert caught.value.code == "QL321"


def test_alter_merges_and_recompiles(conn) -> None:
    create(conn, "watch_collections = JSON_ARRAY('a'), batch_size = 10")
    result = conn.run_sql(
        "ALTER EVENT_SUBSCRIPTION s SET (watch_collections = JSON_ARRAY('a', 'b'))"
    )
    assert result.tag == "ALTER EVENT_SUBSCRIPTION"  # the shell prints it as the command tag
    stored = conn.db.event_subscriptions.find_one({"_id": "s"})
    assert stored["batch_size"] == 10 and stored["stream_target"] == "*"
    assert json.loads(stored["stream_pipeline"])[0]["$match"]["ns.coll"] == {"$in": ["a", "b"]}


def test_status_statements_and_drop(conn) -> None:
    create(conn, "batch_size = 10")

    def status() -> str:
        return conn.run_sql("SELECT status FROM EVENT_SUBSCRIPTIONS() WHERE name = 's'").scalar()

    conn.run_sql("PAUSE EVENT_SUBSCRIPTION s")
    assert status() == "paused"
    conn.run_sql("RESUME EVENT_SUBSCRIPTION s")
    assert status() == "active"
    conn.run_sql("STOP EVENT_SUBSCRIPTION s")
    assert status() == "stopped"
    assert conn.run_sql("DROP EVENT_SUBSCRIPTION s").rowcount == 1
    assert conn.run_sql("DROP EVENT_SUBSCRIPTION IF EXISTS s").rowcount == 0
    with pytest.raises(SemanticError) as caught:
        conn.run_sql("START EVENT_SUBSCRIPTION s")
    assert caught.value.code == "QL322"


def test_show_event_subscriptions(conn) -> None:
    create(conn, "service_name = 'billing', watch_collections = JSON_ARRAY('orders')", name="b")
    create(conn, "service_name = 'auth'", name="a")
    result = conn.run_sql("SHOW EVENT_SUBSCRIPTIONS")
    assert [row["name"] for row in result.rows] == ["a", "b"]
    assert result.rows[1]["watch_collections"] == ["orders"]
    assert result.rows[0]["watch_collections"] == "*"


def test_table_functions_work_like_tables(conn) -> None:
    create(conn, "service_name = 'billing'", name="a")
    create(conn, "service_name = 'billing'", name="b")
    create(conn, "service_name = 'auth'", name="c")
    conn.run_sql("PAUSE EVENT_SUBSCRIPTION c")
    conn.db.change_stream_events.insert_many(
        [
            {"subscription_id": "a", "collection_name": "orders", "processing_status": "completed"},
            {"subscription_id": "a", "collection_name": "users", "processing_status": "failed"},
            {"subscription_id": "b", "collection_name": "orders", "processing_status": "completed"},
        ]
    )
    grouped = conn.run_sql(
        "SELECT service_name, COUNT(*) AS n FROM EVENT_SUBSCRIPTIONS() "
        "WHERE status = 'active' GROUP BY service_name"
    )
    assert grouped.rows == [{"service_name": "billing", "n": 2}]
    joined = conn.run_sql(
        "SELECT s.name, COUNT(e.subscription_id) AS events FROM EVENT_SUBSCRIPTIONS() s "
        "LEFT JOIN CHANGE_STREAM_EVENTS('orders') e ON e.subscription_id = s.subscription_id "
        "GROUP BY s.name ORDER BY s.name"
    )
    assert joined.rows == [
        {"name": "a", "events": 1},
        {"name": "b", "events": 1},
        {"name": "c", "events": 0},
    ]
    assert conn.run_sql("SELECT COUNT(*) FROM CHANGE_STREAM_EVENTS()").scalar() == 3
    assert conn.run_sql("SELECT COUNT(*) FROM DEAD_LETTER_EVENTS()").scalar() == 0
    assert conn.run_sql("SELECT COUNT(*) FROM ACTIVE_CHANGE_STREAMS()").scalar() == 0
    lag = conn.run_sql("SELECT resume_token_lag_seconds FROM EVENT_SUBSCRIPTIONS() LIMIT 1")
    assert lag.scalar() is None


def test_unknown_table_function(conn) -> None:
    with pytest.raises(SemanticError) as caught:
        conn.run_sql("SELECT * FROM EVENT_SUBSCRIPTION()")
    assert caught.value.code == "QL302"
    assert "EVENT_SUBSCRIPTIONS()" in (caught.value.hint or "")


def test_discard_dead_letters(conn) -> None:
    create(conn, "subscription_id = 'sid'")
    conn.db.dead_letter_events.insert_many(
        [
            {"subscription_id": "sid", "retry_count": 1},
            {"subscription_id": "sid", "retry_count": 5},
            {"subscription_id": "other", "retry_count": 5},
        ]
    )
    assert conn.run_sql("DISCARD DEAD_LETTER_EVENTS FOR s WHERE retry_count > 2").rowcount == 1
    assert conn.run_sql("DISCARD DEAD_LETTER_EVENTS FOR s").rowcount == 1
    assert conn.db.dead_letter_events.count_documents({}) == 1
