"""A failing write has no partial effect where queryleaf can see the failure before sending
(everything is encoded first), and MongoDB's per-document rule where only the server can
(docs/errors.md)."""

from __future__ import annotations

import pytest

from queryleaf.errors import QueryLeafError


def stored(conn) -> list[dict]:
    return list(conn.db.t.find({}, sort=[("_id", 1)]))


@pytest.fixture
def t(conn):
    conn.run_sql("INSERT INTO t (_id, a, b) VALUES (1, 1, 1), (2, 2, 2)")
    return conn


@pytest.mark.parametrize(
    ("sql", "params"),
    [
        ("INSERT INTO t (_id, a) VALUES (3, 1), (4, ?)", [2**70]),
        ("INSERT INTO t (_id, a) VALUES (3, 1), (4, ?)", ["\ud800"]),
        ("INSERT INTO t (_id, a) VALUES (3, 1), (4, 99999999999999999999999)", None),
        ("INSERT INTO t (_id, `a\x00b`) VALUES (3, 1)", None),
        ("UPDATE t SET a = 5, b = ?", [2**70]),
        ("UPDATE t SET a = 5, b = ?", ["x\udfff"]),
        ("UPDATE t SET a = 5, `c\x00d` = 1", None),
        ("DELETE FROM t WHERE a = ?", [2**64]),
    ],
)
def test_a_value_mongodb_cannot_store_fails_before_anything_is_written(t, sql: str, params) -> None:
    before = stored(t)
    with pytest.raises(QueryLeafError) as caught:
        t.run_sql(sql, params)
    assert caught.value.code in ("QL306", "QL307", "QL308"), str(caught.value)
    assert stored(t) == before


def test_a_document_the_server_cannot_update_is_left_whole(conn) -> None:
    """MongoDB applies a multi-document update per document: the first keeps its change,
    the failing one is unchanged (never half-updated), the rest are not reached."""
    conn.run_sql(
        "INSERT INTO t (_id, a, tags) VALUES (1, 1, JSON_OBJECT('x', 1)), "
        "(2, 1, JSON_ARRAY('s')), (3, 1, JSON_OBJECT('x', 2))"
    )
    with pytest.raises(QueryLeafError) as caught:
        conn.run_sql("UPDATE t SET a = 2, tags.x = 9")
    assert caught.value.code == "QL501"
    rows = stored(conn)
    assert rows[1] == {"_id": 2, "a": 1, "tags": ["s"]}
    assert rows[0] == {"_id": 1, "a": 2, "tags": {"x": 9}}


def test_an_index_from_the_end_filters_by_the_last_element_and_is_refused_in_set(conn) -> None:
    conn.run_sql(
        "INSERT INTO o (_id, items) VALUES (1, JSON_ARRAY(1, 2, 105)), (2, JSON_ARRAY(105, 1)), "
        "(3, JSON_ARRAY())"
    )
    assert conn.run_sql("SELECT _id FROM o WHERE items[-1] = 105").rows == [{"_id": 1}]
    assert conn.run_sql("DELETE FROM o WHERE items[-1] = 1").rowcount == 1
    with pytest.raises(QueryLeafError) as caught:
        conn.run_sql("UPDATE o SET items[-1] = 5")
    assert caught.value.code == "QL203"
    assert list(conn.db.o.find({}, sort=[("_id", 1)])) == [
        {"_id": 1, "items": [1, 2, 105]},
        {"_id": 3, "items": []},
    ]
