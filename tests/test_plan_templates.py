"""Plans as templates: a cached plan of a parameterized statement, filled with each
execution's values and NOW(), is exactly the plan planning from scratch gives; values that
change the plan's shape get their own plan or are planned every time."""

from __future__ import annotations

import datetime as dt

import pytest
from bson import ObjectId

from queryleaf import compile as compile_module
from queryleaf.compile import compile_statement
from queryleaf.parse import parse_sql
from queryleaf.plan import plan_statement
from queryleaf.plan.plan_cache import NOT_TEMPLATE, PLANS, SEEN
from queryleaf.plan.templates import Template, _same

OID = "65a1f0c2e4b0a1b2c3d4e5f6"

# Each statement with value sets run in order through one cache: every plan must equal the
# plan made from scratch for those values.
CORPUS: list[tuple[str, list[list[object]]]] = [
    ("SELECT name FROM users WHERE age > ? AND city = ?", [[30, "Paris"], [41, "Lyon"],
        [-5, "Nice"], [0, "x"], [7, ""], [9, "$where"], [9, "2024-01-01"], [None, "a"],
        [1.5, "b"], [True, "c"], [30, OID]]),
    ("SELECT * FROM users WHERE zip = ?", [["75001"], ["69002"], ["007"], ["-5"], ["1e5"]]),
    ("SELECT name FROM users WHERE d > DATE_ADD('2024-01-01', INTERVAL ? DAY)", [["3"], ["4"],
        [5], [6]]),
    ("SELECT * FROM users WHERE _id = ?", [[OID], ["65a1f0c2e4b0a1b2c3d4e5f7"], ["plain"],
        [ObjectId(OID)], [ObjectId()], [5]]),
    ("SELECT * FROM users WHERE _id != ?", [[OID], ["65a1f0c2e4b0a1b2c3d4e5f7"], ["z"]]),
    ("SELECT name FROM users WHERE city IN (?, ?, ?)", [["a", "b", "c"], ["d", None, "e"],
        ["f", "g", OID], [1, "g", 2]]),
    ("SELECT name FROM users WHERE city NOT IN (?, ?)", [["a", "b"], ["c", None], [1, 2]]),
    ("SELECT name FROM users WHERE age BETWEEN ? AND ?", [[1, 5], [10, 50], [None, 3],
        [-20, -10]]),
    ("SELECT name FROM users WHERE name LIKE ?", [["ab%"], ["x_y"], ["%z"], ["plain"]]),
    ("SELECT name FROM users ORDER BY name LIMIT ? OFFSET ?", [[10, 20], [3, 0], [0, 5],
        [5, 7]]),
    ("SELECT age + ? AS a FROM users", [[5], [7], [-3], [0], [2.5]]),
    ("SELECT name FROM users WHERE ? = 5", [[7], [5], [9]]),
    ("SELECT name FROM users WHERE age > ? + 1", [[7], [9]]),
    ("SELECT GREATEST(?, 5) AS g FROM users", [[7], [3], [9]]),
    ("SELECT DATE_FORMAT(d, ?) AS x FROM t", [["%Y"], ["%i"], ["plain"]]),
    ("SELECT name FROM users WHERE created_at > ?", [[dt.datetime(2024, 1, 2, 3, 4, 5,
        678000, tzinfo=dt.UTC)], [dt.datetime(2023, 5, 6, tzinfo=dt.UTC)],
        [dt.datetime(2023, 5, 6)]]),
    ("SELECT name FROM users WHERE created_at > DATE_SUB(?, INTERVAL 1 DAY)",
        [[dt.datetime(2024, 1, 2, tzinfo=dt.UTC)], [dt.datetime(2024, 3, 1, tzinfo=dt.UTC)]]),
    ("SELECT city, COUNT(*) AS n FROM users WHERE age >= ? GROUP BY city HAVING COUNT(*) > ?",
        [[18, 1], [21, 3], [30, 0]]),
    ("SELECT u.name, o.total FROM users u JOIN orders o ON o.user_id = u._id "
        "WHERE o.total > ? AND u.city = ?", [[100, "Paris"], [5, "Nice"]]),
    ("SELECT name FROM users WHERE tags = ?", [[["a", "b"]], [["c", "d"]], [["e"]]]),
    ("SELECT name FROM users WHERE meta = ? AND n = ?", [[{"a": 1}, 3], [{"b": 2}, 4]]),
    ("SELECT name FROM users WHERE flag = ? AND n = ?", [[True, 3], [False, 4], [True, 5]]),
    ("SELECT name, ? AS tag FROM users", [["x"], ["y"], ["$z"], [3]]),
    ("SELECT COALESCE(nick, ?) AS n FROM users", [["a"], [None], ["b"]]),
    ("SELECT name FROM users WHERE name = :who OR nick = :who", [[{"who": "a"}],
        [{"who": "b"}], [{"who": OID}]]),
    ("INSERT INTO users (name, age) VALUES (?, ?)", [["a", 3], ["b", 4], ["c", None]]),
    ("UPDATE users SET age = ? WHERE name = ?", [[3, "a"], [4, "b"], [5, OID]]),
    ("DELETE FROM users WHERE age < ?", [[3], [4], [-1]]),
    ("SELECT name FROM users WHERE ts >= DATE_SUB(NOW(), INTERVAL 1 HOUR) AND age > ?",
        [[3], [4]]),
    ("SELECT name FROM users WHERE d >= CURDATE() - INTERVAL 1 DAY", [[], []]),
    ("SELECT name FROM users WHERE d >= DATE_SUB(NOW(), INTERVAL 1 MONTH)", [[], []]),
    ("SELECT TIMESTAMPDIFF(SECOND, MAX(d), NOW()) AS lag FROM users", [[], []]),
]  # fmt: skip

NOWS = [
    dt.datetime(2026, 3, 31, 10, 11, 12, 345000, tzinfo=dt.UTC),
    dt.datetime(2026, 5, 31, 23, 59, 59, 999000, tzinfo=dt.UTC),
    dt.datetime(2027, 1, 1, 0, 0, 0, 0, tzinfo=dt.UTC),
]


def _params(values: list[object]) -> object:
    if len(values) == 1 and isinstance(values[0], dict):
        return values[0]
    return values or None


@pytest.mark.parametrize("sql,value_sets", CORPUS, ids=[c[0][:50] for c in CORPUS])
def test_cached_plans_equal_cold_plans(monkeypatch, sql: str, value_sets: list) -> None:
    PLANS.clear()
    for round_ in range(2):  # the second round runs every value set from the cache
        for index, values in enumerate(value_sets):
            now = NOWS[(index + round_) % len(NOWS)]
            monkeypatch.setattr(compile_module, "statement_now", lambda now=now: now)
            params = _params(values)
            cold = plan_statement(parse_sql(sql), params, text=sql, now=now)
            cached = compile_statement(sql, params=params)
            assert _same(cached, cold), (sql, params)


def test_a_parameterized_plan_is_served_from_the_cache() -> None:
    PLANS.clear()
    sql = "SELECT name FROM users WHERE age > ? AND city = ? ORDER BY name LIMIT ?"
    compile_statement(sql, params=[30, "Paris", 10])
    (entry,) = PLANS._entries.values()
    assert entry is SEEN  # a one-off execution costs one planning
    compile_statement(sql, params=[31, "Nice", 11])
    (entry,) = PLANS._entries.values()
    assert isinstance(entry, Template)
    plan = compile_statement(sql, params=[41, "Lyon", 5])
    assert plan.command["filter"] == {"age": {"$gt": 41}, "city": "Lyon"}
    assert plan.command["limit"] == 5
    assert len(PLANS) == 1


def test_values_the_plan_depends_on_are_not_templated() -> None:
    PLANS.clear()
    for value in (7, 8):
        compile_statement("SELECT name FROM users WHERE ? = 5", params=[value])
    (entry,) = PLANS._entries.values()
    assert entry is NOT_TEMPLATE
    assert compile_statement("SELECT name FROM users WHERE ? = 5", params=[5]).command == {
        "find": "users",
        "projection": {"name": 1, "_id": 0},
    }


def test_shapes_that_change_the_plan_have_their_own_entries() -> None:
    PLANS.clear()
    sql = "SELECT * FROM users WHERE _id = ?"
    assert compile_statement(sql, params=["plain"]).command["filter"] == {"_id": "plain"}
    assert compile_statement(sql, params=[OID]).command["filter"] == {
        "_id": {"$in": [ObjectId(OID), OID]}
    }
    assert compile_statement(sql, params=[None]).command["filter"] == {"$expr": False}
    assert len(PLANS) == 3


def test_now_is_bound_once_per_execution_and_filters_use_indexes(monkeypatch) -> None:
    sql = "SELECT a FROM events WHERE event_timestamp >= DATE_SUB(NOW(), INTERVAL 1 HOUR)"
    for now in NOWS:
        monkeypatch.setattr(compile_module, "statement_now", lambda now=now: now)
        plan = compile_statement(sql)
        assert plan.command["filter"] == {"event_timestamp": {"$gte": now - dt.timedelta(hours=1)}}


def test_now_in_a_view_stays_the_servers_clock(conn) -> None:
    conn.run_sql(
        "CREATE VIEW recent AS SELECT a FROM t WHERE d >= DATE_SUB(NOW(), INTERVAL 1 HOUR)"
    )
    (info,) = [c for c in conn.db.list_collections() if c["name"] == "recent"]
    assert "$$NOW" in repr(info["options"]["pipeline"])


def test_insert_now_writes_the_statement_time(conn) -> None:
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    conn.run_sql("INSERT INTO t (a, b) VALUES (NOW(), CURRENT_TIMESTAMP)")
    (doc,) = conn.db.t.find({}, {"_id": 0})
    assert doc["a"] == doc["b"]
    written = doc["a"].replace(tzinfo=None)
    assert before - dt.timedelta(seconds=1) <= written <= before + dt.timedelta(seconds=60)


def _random_values(rng, count: int) -> list[object]:
    pool = [
        lambda: rng.randint(-5, 5),
        lambda: rng.randint(-(10**12), 10**12),
        lambda: rng.choice([0.5, -2.25, 3.0, 1e20, float("nan")]),
        lambda: rng.choice(["a", "b c", "", "$x", "12", "75001", "2024-01-01", OID, "ab%_", "x.y"]),
        lambda: None,
        lambda: rng.choice([True, False]),
        lambda: dt.datetime(2024, rng.randint(1, 12), rng.randint(1, 28), tzinfo=dt.UTC),
        lambda: ObjectId(),
        lambda: [rng.randint(0, 3) for _ in range(rng.randint(0, 3))],
    ]
    return [rng.choice(pool)() for _ in range(count)]


RANDOM_SHAPES = [
    "SELECT a FROM t WHERE x = ?",
    "SELECT a FROM t WHERE x <> ? AND y < ?",
    "SELECT a FROM t WHERE x IN (?, ?) OR y BETWEEN ? AND ?",
    "SELECT a, ? AS c FROM t WHERE NOT (x >= ?)",
    "SELECT a FROM t WHERE x LIKE ? OR y IS NULL",
    "SELECT k, COUNT(*) AS n FROM t WHERE x > ? GROUP BY k HAVING COUNT(*) >= ?",
    "SELECT a + ? AS s FROM t ORDER BY a LIMIT 5",
    "SELECT IFNULL(a, ?) AS v, CASE WHEN x > ? THEN 1 ELSE 0 END AS w FROM t",
    "SELECT a FROM t WHERE ts > DATE_SUB(NOW(), INTERVAL 3 DAY) AND x = ?",
    "UPDATE t SET a = ?, b = NOW() WHERE x = ?",
    "INSERT INTO t (a, b) VALUES (?, ?)",
]


@pytest.mark.parametrize("sql", RANDOM_SHAPES)
def test_random_values_get_the_plan_planning_gives(monkeypatch, sql: str) -> None:
    """Values of every kind, in random order through one cache: each plan equals the plan
    made from scratch (or both refuse the values with the same error code)."""
    import random

    from queryleaf.errors import QueryLeafError

    rng = random.Random(sql)
    PLANS.clear()
    count = sql.count("?")
    for index in range(60):
        now = NOWS[index % len(NOWS)]
        monkeypatch.setattr(compile_module, "statement_now", lambda now=now: now)
        params = _random_values(rng, count)
        try:
            cold = plan_statement(parse_sql(sql), params, text=sql, now=now)
        except QueryLeafError as error:
            with pytest.raises(QueryLeafError) as raised:
                compile_statement(sql, params=params)
            assert raised.value.code == error.code
            continue
        assert _same(compile_statement(sql, params=params), cold), (sql, params)


def test_a_one_off_statement_without_parameters_is_planned_once(monkeypatch) -> None:
    PLANS.clear()
    calls = []
    original = compile_module.plan_statement

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(compile_module, "plan_statement", counting)
    sql = "SELECT name FROM users WHERE age > 30 ORDER BY name"
    compile_statement(sql)
    assert len(calls) == 1
    compile_statement(sql)
    (entry,) = PLANS._entries.values()
    assert isinstance(entry, Template)
    calls.clear()
    assert compile_statement(sql).command["filter"] == {"age": {"$gt": 30}}
    assert calls == []
