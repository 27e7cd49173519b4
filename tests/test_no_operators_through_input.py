"""Nothing reaches MongoDB as an operator that the user wrote as a name or as data:
`$` segments in identifiers are refused in every position, quoted or not (QL307), and
server-side JavaScript ($where, $function, $accumulator, $code) is refused wherever raw MQL
enters (QL318): event filters as JSON or text, validators, and any command as a last check."""

from __future__ import annotations

import pytest

from queryleaf.errors import QueryLeafError


@pytest.fixture
def data(conn):
    conn.run_sql(
        "INSERT INTO t (_id, tags, v) VALUES (1, JSON_ARRAY('a', 'b'), 1), "
        "(2, JSON_ARRAY('c'), 'x')"
    )
    return conn


DOLLAR_NAMES = [
    "UPDATE t SET `tags.$[]` = 'x'",
    "UPDATE t SET `tags.$` = 'x' WHERE tags = 'a'",
    "UPDATE t SET `x.$` = 1",
    "UPDATE t SET tags.`$[i]` = 'x'",
    "UPDATE t SET `$set` = 1",
    "SELECT `tags.$` FROM t",
    "SELECT `$v` FROM t",
    "SELECT * FROM t WHERE `tags.$` = 'a'",
    "SELECT * FROM t ORDER BY `tags.$`",
    "SELECT `v.$x`, COUNT(*) FROM t GROUP BY `v.$x`",
    "INSERT INTO t (`$a`) VALUES (1)",
    "INSERT INTO t (`a.$b`) VALUES (1)",
    "INSERT INTO t (`a..b`) VALUES (1)",
    "DELETE FROM t WHERE `$where` = 1",
]


@pytest.mark.parametrize("sql", DOLLAR_NAMES)
def test_dollar_segments_are_refused_in_every_position(data, sql: str) -> None:
    before = list(data.db.t.find({}, sort=[("_id", 1)]))
    with pytest.raises(QueryLeafError) as caught:
        data.run_sql(sql)
    assert caught.value.code == "QL307", str(caught.value)
    assert list(data.db.t.find({}, sort=[("_id", 1)])) == before


JAVASCRIPT_FILTERS = [
    "JSON_OBJECT('$where', 'sleep(1000) || true')",
    "JSON_OBJECT('$expr', JSON_OBJECT('$function', JSON_OBJECT('body', 'function() "
    "{return true}', 'args', JSON_ARRAY(), 'lang', 'js')))",
    "JSON_OBJECT('fullDocument.items', JSON_OBJECT('$elemMatch', JSON_OBJECT('$where', 'true')))",
    "JSON_OBJECT('$and', JSON_ARRAY(JSON_OBJECT('$expr', JSON_OBJECT('$gt', JSON_ARRAY("
    "JSON_OBJECT('$accumulator', JSON_OBJECT()), 1)))))",
]


@pytest.mark.parametrize("event_filter", JAVASCRIPT_FILTERS)
def test_server_javascript_in_an_event_filter_is_refused(conn, event_filter: str) -> None:
    with pytest.raises(QueryLeafError) as caught:
        conn.run_sql(
            "CREATE EVENT_SUBSCRIPTION js AS (watch_collections = JSON_ARRAY('t'), "
            f"deliver_to = 'handler:h', event_filter = {event_filter})"
        )
    assert caught.value.code in ("QL318", "QL312"), str(caught.value)
    assert "JavaScript" in caught.value.message or "$where" in caught.value.message
    assert conn.db.event_subscriptions.count_documents({}) == 0


@pytest.mark.parametrize(
    "validator",
    [
        "JSON_OBJECT('$where', 'true')",
        "JSON_OBJECT('$expr', JSON_OBJECT('$function', JSON_OBJECT('body', 'x', 'args', "
        "JSON_ARRAY(), 'lang', 'js')))",
        '\'{"$or": [{"a": 1}, {"$where": "true"}]}\'',
        '\'{"$expr": {"$eq": ["$a", {"$code": "1"}]}}\'',
    ],
)
def test_server_javascript_in_a_validator_is_refused(conn, validator: str) -> None:
    with pytest.raises(QueryLeafError) as caught:
        conn.run_sql(f"CREATE TABLE guarded (a INT) WITH (validator = {validator})")
    assert caught.value.code == "QL318", str(caught.value)
    assert "guarded" not in conn.db.list_collection_names()


def test_javascript_operator_names_as_data_are_only_data(data) -> None:
    """A string or a $literal document that merely spells an operator is data."""
    data.run_sql("INSERT INTO t (_id, v) VALUES (3, '$where')")
    rows = data.run_sql("SELECT _id FROM t WHERE v = '$where'").rows
    assert rows == [{"_id": 3}]
    data.run_sql("UPDATE t SET v = ? WHERE _id = 3", [{"$function": "not code"}])
    assert data.db.t.find_one({"_id": 3})["v"] == {"$function": "not code"}
