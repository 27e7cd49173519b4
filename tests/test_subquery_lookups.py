"""Each subquery of a statement becomes one `$lookup`, not more: a grouped query told a
correlated select-list subquery apart from its GROUP BY keys by compiling it (a second,
unused lookup per group), and [NOT] EXISTS as a value compiled its subquery twice (once for
TRUE, once for FALSE, though EXISTS is never NULL)."""

from __future__ import annotations

import json

import pytest

import queryleaf


@pytest.fixture
def shop(conn: queryleaf.Connection) -> queryleaf.Connection:
    conn.db.u.insert_many([{"_id": 1, "g": 1}, {"_id": 2, "g": 2}, {"_id": 3, "g": 1}])
    conn.db.t.insert_many([{"_id": 1, "k": 1, "v": 10}, {"_id": 2, "k": 2, "v": 20}])
    return conn


def _lookups(conn: queryleaf.Connection, sql: str) -> int:
    command = json.loads(conn.run_sql("EXPLAIN " + sql).rows[0]["command"])
    return json.dumps(command["pipeline"]).count('"$lookup"')


@pytest.mark.parametrize(
    ("sql", "rows", "lookups"),
    [
        (
            "SELECT g, (SELECT MAX(v) FROM t WHERE t.k = u.g) AS m FROM u GROUP BY g ORDER BY g",
            [{"g": 1, "m": 10}, {"g": 2, "m": 20}],
            1,
        ),
        (
            "SELECT g, COUNT(*) AS n FROM u GROUP BY g "
            "HAVING COUNT(*) > (SELECT COUNT(*) FROM t WHERE k = 2) ORDER BY g",
            [{"g": 1, "n": 2}],
            1,
        ),
        (
            "SELECT g, EXISTS (SELECT 1 FROM t WHERE t.k = u.g AND v > 15) AS e "
            "FROM u GROUP BY g ORDER BY g",
            [{"g": 1, "e": False}, {"g": 2, "e": True}],
            1,
        ),
        (
            "SELECT _id, NOT (EXISTS (SELECT 1 FROM t WHERE t.k = u.g AND v > 15)) AS e "
            "FROM u ORDER BY _id",
            [{"_id": 1, "e": True}, {"_id": 2, "e": False}, {"_id": 3, "e": True}],
            1,
        ),
    ],
)
def test_one_lookup_per_subquery(shop, sql, rows, lookups):
    assert shop.run_sql(sql).rows == rows
    assert _lookups(shop, sql) == lookups
