"""INSERT IGNORE, ON DUPLICATE KEY UPDATE, ON CONFLICT and RETURNING are refused (QL201) with
nothing written, instead of running as the plain statement."""

from __future__ import annotations

import pytest

import queryleaf
from queryleaf.errors import QueryLeafError

STATEMENTS = [
    ("mysql", "INSERT INTO t (_id, a) VALUES (1, 5) ON DUPLICATE KEY UPDATE a = 6", "DUPLICATE"),
    ("mysql", "INSERT INTO t (_id, a) SELECT 2, 5 ON DUPLICATE KEY UPDATE a = 6", "DUPLICATE"),
    ("mysql", "INSERT IGNORE INTO t (_id, a) VALUES (1, 5), (2, 6)", "IGNORE"),
    ("mysql", "INSERT INTO t (_id, a) VALUES (2, 5) RETURNING _id", "RETURNING"),
    ("mysql", "UPDATE t SET a = 9 RETURNING a", "RETURNING"),
    ("mysql", "DELETE FROM t RETURNING a", "RETURNING"),
    ("postgres", "INSERT INTO t (_id, a) VALUES (1, 5) ON CONFLICT DO NOTHING", "CONFLICT"),
    ("postgres", "DELETE FROM t WHERE a = 1 RETURNING *", "RETURNING"),
]


@pytest.mark.parametrize(("dialect", "sql", "word"), STATEMENTS)
def test_untranslated_write_clauses_are_refused(conn, dialect, sql, word) -> None:
    conn.run_sql("INSERT INTO t (_id, a) VALUES (1, 1)")
    conn.dialect = dialect
    for run in (lambda: conn.run_sql(sql), lambda: conn.explain(sql)):
        with pytest.raises(QueryLeafError) as refused:
            run()
        assert refused.value.code == "QL201", str(refused.value)
        assert word in refused.value.message
    conn.dialect = "mysql"
    assert conn.run_sql("SELECT _id, a FROM t ORDER BY _id").rows == [{"_id": 1, "a": 1}]


def test_plain_writes_still_run() -> None:
    with queryleaf.connect() as conn:
        conn.run_sql("INSERT INTO t (_id, a) VALUES (1, 1)")
        assert conn.run_sql("UPDATE t SET a = 2").rowcount == 1
        assert conn.run_sql("DELETE FROM t").rowcount == 1
