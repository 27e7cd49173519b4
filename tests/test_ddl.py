"""Views and DDL: CREATE/DROP TABLE, VIEW and INDEX, SHOW TABLES, SHOW INDEXES, DESCRIBE.
Each test asserts the command a statement becomes and the state it leaves; all of them hold on
the embedded engine and on a real server (QUERYLEAF_TEST_URI)."""

from __future__ import annotations

from typing import Any

import pytest

import queryleaf
from queryleaf import ExecutionError, SemanticError, UnsupportedError

USERS = [
    {"_id": 1, "name": "ada", "age": 36, "address": {"city": "London", "zip": "N1"}},
    {"_id": 2, "name": "alan", "age": 41, "address": {"city": "Leeds"}},
    {"_id": 3, "name": "bob", "age": None},
    {"_id": 4, "name": "cy", "age": "old", "tags": ["x"]},
]
ORDERS = [
    {"_id": 10, "user_id": 1, "total": 5, "status": "paid"},
    {"_id": 11, "user_id": 1, "total": 7, "status": "new"},
    {"_id": 12, "user_id": 2, "total": 9, "status": "paid"},
]


@pytest.fixture
def shop(conn) -> queryleaf.Connection:
    conn.db.users.insert_many([dict(d) for d in USERS])
    conn.db.orders.insert_many([dict(d) for d in ORDERS])
    return conn


def error_of(conn, sql: str, params: Any = None) -> queryleaf.QueryLeafError:
    with pytest.raises(queryleaf.QueryLeafError) as caught:
        conn.run_sql(sql, params)
    return caught.value


def spec_of(conn, name: str) -> dict[str, Any] | None:
    specs = list(conn.db.list_collections(filter={"name": name}))
    return specs[0] if specs else None


def tables(conn) -> list[dict[str, Any]]:
    return conn.run_sql("SHOW TABLES").rows


# -- views ----------------------------------------------------------------------------------


def test_create_view_is_a_mongodb_view_with_the_select_labels(shop) -> None:
    result = shop.run_sql(
        "CREATE VIEW adults AS SELECT name, address.city, age AS years FROM users "
        "WHERE age > 30 ORDER BY name"
    )
    assert result.plan.command == {
        "create": "adults",
        "viewOn": "users",
        "pipeline": [
            {"$match": {"age": {"$gt": 30}}},
            {"$sort": {"name": 1}},
            {"$project": {"_id": 0, "name": 1, "address.city": 1, "years": "$age"}},
        ],
    }
    assert result.tag == "CREATE VIEW"
    spec = spec_of(shop, "adults")
    assert spec is not None and spec["type"] == "view"
    assert spec["options"]["viewOn"] == "users"
    rows = shop.run_sql("SELECT name, address.city, years FROM adults").rows
    assert rows == [
        {"name": "ada", "address.city": "London", "years": 36},
        {"name": "alan", "address.city": "Leeds", "years": 41},
    ]
    # The view's documents hold exactly its columns.
    assert list(shop.db.adults.find({}, sort=[("name", 1)])) == [
        {"name": "ada", "address": {"city": "London"}, "years": 36},
        {"name": "alan", "address": {"city": "Leeds"}, "years": 41},
    ]


def test_views_over_aggregates_joins_and_distinct(shop) -> None:
    shop.run_sql(
        "CREATE VIEW spend AS SELECT user_id, SUM(total) AS spent, COUNT(*) FROM orders "
        "GROUP BY user_id"
    )
    assert shop.run_sql("SELECT user_id, spent, count FROM spend ORDER BY user_id").rows == [
        {"user_id": 1, "spent": 12, "count": 2},
        {"user_id": 2, "spent": 9, "count": 1},
    ]
    shop.run_sql(
        "CREATE VIEW bought AS SELECT u.name, o.total FROM users u "
        "JOIN orders o ON o.user_id = u._id WHERE o.status = 'paid'"
    )
    assert shop.run_sql("SELECT name, total FROM bought ORDER BY total").rows == [
        {"name": "ada", "total": 5},
        {"name": "alan", "total": 9},
    ]
    shop.run_sql("CREATE VIEW statuses AS SELECT DISTINCT status FROM orders")
    assert shop.run_sql("SELECT status FROM statuses ORDER BY status").rows == [
        {"status": "new"},
        {"status": "paid"},
    ]
    # A view over a view.
    shop.run_sql("CREATE VIEW big_spenders AS SELECT user_id FROM spend WHERE spent > 10")
    assert spec_of(shop, "big_spenders")["options"]["viewOn"] == "spend"
    assert shop.run_sql("SELECT * FROM big_spenders").rows == [{"user_id": 1}]


def test_views_over_ctes_and_unions(shop) -> None:
    shop.run_sql(
        "CREATE VIEW older AS WITH o AS (SELECT name, age FROM users WHERE age > 40) "
        "SELECT name FROM o"
    )
    assert shop.run_sql("SELECT * FROM older").rows == [{"name": "alan"}]
    result = shop.run_sql(
        "CREATE VIEW labels (label) AS SELECT name FROM users WHERE _id = 1 "
        "UNION SELECT status FROM orders"
    )
    assert result.plan.command["viewOn"] == "users"
    rows = shop.run_sql("SELECT label FROM labels ORDER BY label").rows
    assert rows == [{"label": "ada"}, {"label": "new"}, {"label": "paid"}]


def test_view_with_star_and_computed_columns(shop) -> None:
    shop.run_sql("CREATE VIEW aged AS SELECT *, UPPER(name) AS shout FROM users WHERE _id < 3")
    rows = shop.run_sql("SELECT _id, shout, address.city FROM aged ORDER BY _id").rows
    assert rows == [
        {"_id": 1, "shout": "ADA", "address.city": "London"},
        {"_id": 2, "shout": "ALAN", "address.city": "Leeds"},
    ]
    # queryleaf's working fields do not leak into the view.
    assert all(not key.startswith("__") for doc in shop.db.aged.find() for key in doc)


def test_view_column_list_renames_the_columns(shop) -> None:
    shop.run_sql("CREATE VIEW people (who, city) AS SELECT name, address.city FROM users")
    assert shop.run_sql("SELECT who, city FROM people WHERE who = 'ada'").rows == [
        {"who": "ada", "city": "London"}
    ]


def test_view_parameters_are_bound_into_the_definition(shop) -> None:
    shop.run_sql("CREATE VIEW older AS SELECT name FROM users WHERE age > ?", [40])
    assert shop.run_sql("SELECT name FROM older").rows == [{"name": "alan"}]


def test_create_or_replace_view_modifies_it_in_place(shop) -> None:
    shop.run_sql("CREATE VIEW v AS SELECT name FROM users WHERE _id = 1")
    assert error_of(shop, "CREATE VIEW v AS SELECT name FROM users").code == "QL342"
    result = shop.run_sql("CREATE VIEW IF NOT EXISTS v AS SELECT age FROM users")
    assert result.warnings == ["view v already exists: nothing done"]
    assert shop.run_sql("SELECT * FROM v").rows == [{"name": "ada"}]
    shop.run_sql("CREATE OR REPLACE VIEW v AS SELECT name AS n FROM users WHERE _id = 2")
    assert shop.run_sql("SELECT * FROM v").rows == [{"n": "alan"}]
    assert spec_of(shop, "v")["options"]["pipeline"] == [
        {"$match": {"_id": 2}},
        {"$project": {"_id": 0, "n": "$name"}},
    ]
    # OR REPLACE of a name that is free simply creates the view.
    shop.run_sql("CREATE OR REPLACE VIEW w AS SELECT name FROM users WHERE _id = 3")
    assert shop.run_sql("SELECT * FROM w").rows == [{"name": "bob"}]


def test_a_view_never_replaces_a_table(shop) -> None:
    error = error_of(shop, "CREATE OR REPLACE VIEW users AS SELECT 1 AS x")
    assert isinstance(error, SemanticError) and error.code == "QL343"
    assert error_of(shop, "CREATE VIEW users AS SELECT name FROM orders").code == "QL342"
    assert spec_of(shop, "users")["type"] == "collection"
    assert shop.db.users.count_documents({}) == len(USERS)


def test_writes_to_a_view_fail_with_mongodbs_message(shop) -> None:
    shop.run_sql("CREATE VIEW names AS SELECT name FROM users")
    for statement in [
        "INSERT INTO names (name) VALUES ('eve')",
        "UPDATE names SET name = 'x'",
        "DELETE FROM names WHERE name = 'ada'",
    ]:
        error = error_of(shop, statement)
        assert isinstance(error, ExecutionError)
        assert "is a view, not a collection" in error.message
    assert shop.db.users.count_documents({}) == len(USERS)
    assert sorted(d["name"] for d in shop.db.users.find()) == ["ada", "alan", "bob", "cy"]


def test_a_view_without_from_is_a_mongodb_view_on_no_documents(conn) -> None:
    result = conn.run_sql("CREATE VIEW constants AS SELECT 1 AS one, 'a' AS letter")
    assert result.plan.command == {
        "create": "constants",
        "viewOn": "queryleaf_no_documents",
        "pipeline": [
            {"$match": {"$expr": False}},
            {
                "$unionWith": {
                    "pipeline": [
                        {"$documents": [{}]},
                        {"$project": {"_id": 0, "one": {"$literal": 1}, "letter": "a"}},
                    ]
                }
            },
        ],
    }
    assert any("queryleaf_no_documents" in note for note in result.plan.notes)
    spec = spec_of(conn, "constants")
    assert spec["type"] == "view" and spec["options"]["viewOn"] == "queryleaf_no_documents"
    assert conn.run_sql("SELECT one, letter FROM constants").rows == [{"one": 1, "letter": "a"}]
    assert conn.run_sql("SELECT * FROM constants WHERE one = 2").rows == []
    assert tables(conn) == [{"name": "constants", "type": "view"}]
    assert conn.run_sql("DESCRIBE constants").rows == [
        {"field": "letter", "types": "string", "documents": 1, "sampled": 1},
        {"field": "one", "types": "int", "documents": 1, "sampled": 1},
    ]
    assert spec_of(conn, "queryleaf_no_documents") is None  # reading it created nothing
    assert error_of(conn, "CREATE VIEW constants AS SELECT 2 AS two").code == "QL342"
    assert error_of(conn, "CREATE TABLE constants").code == "QL342"
    assert error_of(conn, "DROP TABLE constants").code == "QL343"


def test_views_without_from_take_parameters_unions_and_relabelling(shop) -> None:
    # Parameters are bound into the definition, as in any view.
    shop.run_sql("CREATE VIEW p AS SELECT ? AS x, ? AS y", [7, "b"])
    assert shop.run_sql("SELECT x, y FROM p").rows == [{"x": 7, "y": "b"}]
    shop.run_sql("CREATE VIEW nums AS SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3")
    assert shop.run_sql("SELECT n FROM nums ORDER BY n DESC").rows == [
        {"n": 3},
        {"n": 2},
        {"n": 1},
    ]
    # A UNION whose first SELECT has no FROM reads collections inside the $unionWith.
    shop.run_sql("CREATE VIEW ids (id) AS SELECT 0 UNION SELECT _id FROM users WHERE _id < 3")
    assert shop.run_sql("SELECT id FROM ids ORDER BY id").rows == [
        {"id": 0},
        {"id": 1},
        {"id": 2},
    ]
    shop.run_sql("CREATE VIEW starred AS SELECT *, 2 AS b FROM (SELECT 1 AS a) t")
    assert shop.run_sql("SELECT a, b FROM starred").rows == [{"a": 1, "b": 2}]


def test_a_view_on_a_view_without_from(shop) -> None:
    shop.run_sql("CREATE VIEW constants AS SELECT 1 AS one, 'a' AS letter")
    shop.run_sql("CREATE VIEW twos AS SELECT one + 1 AS two, letter FROM constants")
    assert spec_of(shop, "twos")["options"]["viewOn"] == "constants"
    assert shop.run_sql("SELECT two, letter FROM twos").rows == [{"two": 2, "letter": "a"}]
    rows = shop.run_sql(
        "SELECT u.name, c.letter FROM users u JOIN constants c ON c.one = u._id"
    ).rows
    assert rows == [{"name": "ada", "letter": "a"}]


def test_documents_in_the_source_collection_stay_out(conn) -> None:
    conn.run_sql("CREATE VIEW constants AS SELECT 1 AS one")
    conn.db.queryleaf_no_documents.insert_one({"one": 99})
    assert conn.run_sql("SELECT one FROM constants").rows == [{"one": 1}]
    # SHOW TABLES leaves the source collection out, like system collections.
    assert tables(conn) == [{"name": "constants", "type": "view"}]
    assert conn.run_sql("SHOW TABLES LIKE 'queryleaf%'").rows == []


def test_or_replace_switches_between_views_with_and_without_from(shop) -> None:
    shop.run_sql("CREATE VIEW v AS SELECT 1 AS x")
    result = shop.run_sql("CREATE OR REPLACE VIEW v AS SELECT name FROM users WHERE _id = 4")
    assert spec_of(shop, "v")["options"]["viewOn"] == "users"
    assert shop.run_sql("SELECT name FROM v").rows == [{"name": "cy"}]
    assert any("collMod" in note for note in result.plan.notes)
    shop.run_sql("CREATE OR REPLACE VIEW v AS SELECT 2 AS y")
    spec = spec_of(shop, "v")
    assert spec["options"]["viewOn"] == "queryleaf_no_documents"
    assert spec["options"]["pipeline"][1]["$unionWith"]["pipeline"][0] == {"$documents": [{}]}
    assert shop.run_sql("SELECT * FROM v").rows == [{"y": 2}]
    shop.run_sql("CREATE OR REPLACE VIEW v AS SELECT 3 AS z")
    assert shop.run_sql("SELECT * FROM v").rows == [{"z": 3}]
    result = shop.run_sql("CREATE VIEW IF NOT EXISTS v AS SELECT 4 AS w")
    assert result.warnings == ["view v already exists: nothing done"]
    assert shop.run_sql("SELECT * FROM v").rows == [{"z": 3}]


def test_drop_view_without_from(conn) -> None:
    conn.run_sql("CREATE VIEW constants AS SELECT 1 AS one")
    assert conn.run_sql("DROP VIEW constants").plan.command == {"drop": "constants"}
    assert spec_of(conn, "constants") is None
    assert tables(conn) == []
    assert conn.run_sql("SELECT one FROM constants").rows == []  # as any missing collection
    assert error_of(conn, "DROP VIEW constants").code == "QL341"


def test_drop_view(shop) -> None:
    shop.run_sql("CREATE VIEW v AS SELECT name FROM users")
    result = shop.run_sql("DROP VIEW v")
    assert result.plan.command == {"drop": "v"}
    assert spec_of(shop, "v") is None
    assert shop.db.users.count_documents({}) == len(USERS)
    error = error_of(shop, "DROP VIEW v")
    assert error.code == "QL341" and "v does not exist" in error.message
    assert shop.run_sql("DROP VIEW IF EXISTS v").warnings == ["view v does not exist: nothing done"]
    error = error_of(shop, "DROP VIEW users")
    assert error.code == "QL343" and "DROP TABLE users" in (error.hint or "")


@pytest.mark.parametrize(
    ("statement", "code"),
    [
        ("CREATE VIEW v AS SELECT age * 1.5 FROM users", "QL344"),
        ("CREATE VIEW v AS SELECT name, name FROM users", "QL344"),
        ("CREATE VIEW v AS SELECT address, address.city FROM users", "QL344"),
        ("CREATE VIEW v AS SELECT items[0].sku FROM users", "QL344"),
        ("CREATE VIEW v AS SELECT * FROM users u JOIN orders o ON o.user_id = u._id", "QL344"),
        ("CREATE VIEW v (a) AS SELECT name, age FROM users", "QL344"),
        ("CREATE VIEW other.v AS SELECT name FROM users", "QL345"),
    ],
)
def test_view_definitions_refused_before_anything_runs(shop, statement: str, code: str) -> None:
    error = error_of(shop, statement)
    assert error.code == code
    assert error.line == 1 and error.column is not None
    assert spec_of(shop, "v") is None


# -- tables ---------------------------------------------------------------------------------


def test_create_table_creates_a_collection_and_warns_about_columns(conn) -> None:
    result = conn.run_sql("CREATE TABLE people (id INT PRIMARY KEY, email VARCHAR(99) UNIQUE)")
    assert result.plan.command == {"create": "people"}
    assert result.tag == "CREATE TABLE"
    assert spec_of(conn, "people")["type"] == "collection"
    assert any("schemaless" in w for w in result.warnings)
    assert any("email" in w and "CREATE [UNIQUE] INDEX" in w for w in result.warnings)
    assert error_of(conn, "CREATE TABLE people").code == "QL342"
    again = conn.run_sql("CREATE TABLE IF NOT EXISTS people")
    assert again.warnings == ["table people already exists: nothing done"]


def test_create_table_with_a_validator(conn) -> None:
    result = conn.run_sql(
        "CREATE TABLE scores (n INT) WITH (validator = JSON_OBJECT('n', JSON_OBJECT('$gte', 0)))"
    )
    assert result.plan.command == {"create": "scores", "validator": {"n": {"$gte": 0}}}
    assert spec_of(conn, "scores")["options"]["validator"] == {"n": {"$gte": 0}}
    assert conn.run_sql("INSERT INTO scores (n) VALUES (3)").rowcount == 1
    error = error_of(conn, "INSERT INTO scores (n) VALUES (-1)")
    assert isinstance(error, ExecutionError) and "Document failed validation" in error.message
    assert conn.db.scores.count_documents({}) == 1


def test_create_table_with_a_json_validator_and_options(conn) -> None:
    conn.run_sql(
        'CREATE TABLE people WITH (validator = \'{"$jsonSchema": {"required": ["name"]}}\', '
        "validation_level = 'moderate', validation_action = 'warn')"
    )
    options = spec_of(conn, "people")["options"]
    assert options["validator"] == {"$jsonSchema": {"required": ["name"]}}
    assert options["validationLevel"] == "moderate"
    assert options["validationAction"] == "warn"
    # warn: the document is stored anyway.
    assert conn.run_sql("INSERT INTO people (age) VALUES (3)").rowcount == 1


def test_create_table_validator_from_a_parameter(conn) -> None:
    result = conn.run_sql("CREATE TABLE t WITH (validator = ?)", [{"a": {"$type": "int"}}])
    assert result.plan.command == {"create": "t", "validator": {"a": {"$type": "int"}}}


def test_drop_table(shop) -> None:
    result = shop.run_sql("DROP TABLE orders")
    assert result.plan.command == {"drop": "orders"}
    assert spec_of(shop, "orders") is None
    assert error_of(shop, "DROP TABLE orders").code == "QL341"
    assert shop.run_sql("DROP TABLE IF EXISTS orders").warnings == [
        "table orders does not exist: nothing done"
    ]
    shop.run_sql("CREATE VIEW v AS SELECT name FROM users")
    error = error_of(shop, "DROP TABLE v")
    assert error.code == "QL343" and "DROP VIEW v" in (error.hint or "")
    assert spec_of(shop, "v")["type"] == "view"


@pytest.mark.parametrize(
    ("statement", "code"),
    [
        ("CREATE TABLE t WITH (validatr = 1)", "QL345"),
        ("CREATE TABLE t WITH (validator = 'not json')", "QL345"),
        ("CREATE TABLE t WITH (validator = 3)", "QL345"),
        ("CREATE TABLE t WITH (validation_level = 'moderate')", "QL345"),
        ("CREATE TABLE t WITH (validator = '{}', validation_action = 'shout')", "QL345"),
        ("CREATE TABLE t AS SELECT 1 AS x", "QL207"),
        ("CREATE TEMPORARY TABLE t (a INT)", "QL207"),
        ("DROP TABLE a, b", "QL345"),
        ("SHOW DATABASES", "QL207"),
        ("DESCRIBE SELECT 1", "QL207"),
    ],
)
def test_table_statements_refused_before_anything_runs(conn, statement: str, code: str) -> None:
    assert error_of(conn, statement).code == code
    assert conn.db.list_collection_names() == []


# -- indexes --------------------------------------------------------------------------------


def test_create_and_show_indexes(shop) -> None:
    result = shop.run_sql("CREATE UNIQUE INDEX by_name ON users (name, age DESC, address.city)")
    assert result.plan.command == {
        "createIndexes": "users",
        "indexes": [
            {"key": {"name": 1, "age": -1, "address.city": 1}, "name": "by_name", "unique": True}
        ],
    }
    ttl = shop.run_sql("CREATE INDEX expiry ON users (seen) WITH (expire_after_seconds = 3600)")
    assert ttl.plan.command["indexes"] == [
        {"key": {"seen": 1}, "name": "expiry", "expireAfterSeconds": 3600}
    ]
    shop.run_sql("CREATE INDEX ON orders (total DESC)")
    rows = shop.run_sql("SHOW INDEXES FROM users").rows
    assert rows == [
        {"name": "_id_", "columns": "_id", "unique": True, "options": None},
        {
            "name": "by_name",
            "columns": "name, age DESC, address.city",
            "unique": True,
            "options": None,
        },
        {
            "name": "expiry",
            "columns": "seen",
            "unique": False,
            "options": {"expireAfterSeconds": 3600},
        },
    ]
    assert shop.run_sql("SHOW INDEX FROM orders").rows[1]["name"] == "total_-1"
    assert [r["name"] for r in shop.run_sql("SHOW KEYS IN orders").rows] == ["_id_", "total_-1"]
    # The unique index is enforced.
    error = error_of(
        shop, "INSERT INTO users (name, age, `address.city`) VALUES ('ada', 36, 'London')"
    )
    assert isinstance(error, ExecutionError) and "duplicate key" in error.message.lower()


def test_partial_index_from_where(shop) -> None:
    result = shop.run_sql("CREATE INDEX paid ON orders (user_id) WHERE total > 5")
    assert result.plan.command["indexes"][0]["partialFilterExpression"] == {"total": {"$gt": 5}}
    (row,) = [r for r in shop.run_sql("SHOW INDEXES FROM orders").rows if r["name"] == "paid"]
    assert row["options"] == {"partialFilterExpression": {"total": {"$gt": 5}}}


def test_index_names_exist_once(shop) -> None:
    shop.run_sql("CREATE INDEX by_age ON users (age)")
    error = error_of(shop, "CREATE INDEX by_age ON users (name)")
    assert error.code == "QL342"
    result = shop.run_sql("CREATE INDEX IF NOT EXISTS by_age ON users (name)")
    assert result.warnings == ["index by_age already exists on users: nothing done"]
    assert [r["columns"] for r in shop.run_sql("SHOW INDEXES FROM users").rows] == ["_id", "age"]


def test_drop_index(shop) -> None:
    shop.run_sql("CREATE INDEX by_age ON users (age)")
    result = shop.run_sql("DROP INDEX by_age ON users")
    assert result.plan.command == {"dropIndexes": "users", "index": "by_age"}
    assert [r["name"] for r in shop.run_sql("SHOW INDEXES FROM users").rows] == ["_id_"]
    error = error_of(shop, "DROP INDEX by_age ON users")
    assert error.code == "QL341" and "_id_" in (error.hint or "")
    assert shop.run_sql("DROP INDEX IF EXISTS by_age ON users").warnings == [
        "index by_age does not exist on users: nothing done"
    ]
    assert error_of(shop, "DROP INDEX x ON nowhere").code == "QL341"
    error = error_of(shop, "DROP INDEX _id_ ON users")
    assert isinstance(error, ExecutionError) and "_id" in error.message


def test_views_have_no_indexes(shop) -> None:
    shop.run_sql("CREATE VIEW names AS SELECT name FROM users")
    error = error_of(shop, "CREATE INDEX n ON names (name)")
    assert error.code == "QL343" and "users" in (error.hint or "")
    assert shop.run_sql("SHOW INDEXES FROM names").rows == []
    assert error_of(shop, "SHOW INDEXES FROM nowhere").code == "QL341"


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE INDEX i ON users (age + 1)",
        "CREATE INDEX i ON users (items[0])",
        "CREATE INDEX i ON users (a, a)",
        "CREATE INDEX i ON users (a, b) WITH (expire_after_seconds = 5)",
        "CREATE INDEX i ON users (a) WITH (expire_after_seconds = -1)",
        "CREATE INDEX i ON users (a) WITH (expires = 5)",
        "DROP INDEX i",
    ],
)
def test_index_statements_refused_before_anything_runs(shop, statement: str) -> None:
    error = error_of(shop, statement)
    assert isinstance(error, SemanticError) and error.code == "QL345"
    assert [r["name"] for r in shop.run_sql("SHOW INDEXES FROM users").rows] == ["_id_"]


# -- catalog --------------------------------------------------------------------------------


def test_show_tables_lists_collections_and_views(shop) -> None:
    shop.run_sql("CREATE VIEW user_names AS SELECT name FROM users")
    shop.run_sql("CREATE VIEW consts AS SELECT 1 AS x")
    result = shop.run_sql("SHOW TABLES")
    assert result.columns == ["name", "type"]
    assert result.rows == [
        {"name": "consts", "type": "view"},
        {"name": "orders", "type": "collection"},
        {"name": "user_names", "type": "view"},
        {"name": "users", "type": "collection"},
    ]
    assert shop.run_sql("SHOW FULL TABLES LIKE 'user%'").rows == [
        {"name": "user_names", "type": "view"},
        {"name": "users", "type": "collection"},
    ]
    assert shop.run_sql("SHOW TABLES LIKE 'con_ts'").rows == [{"name": "consts", "type": "view"}]


def test_describe_samples_fields_and_types_in_one_pipeline(shop) -> None:
    result = shop.run_sql("DESCRIBE users")
    command = result.plan.command
    assert command["aggregate"] == "users"
    assert command["pipeline"][0] == {"$sample": {"size": 1000}}
    assert result.columns == ["field", "types", "documents", "sampled"]
    assert result.rows == [
        {"field": "_id", "types": "int", "documents": 4, "sampled": 4},
        {"field": "address", "types": "object", "documents": 2, "sampled": 4},
        {"field": "address.city", "types": "string", "documents": 2, "sampled": 4},
        {"field": "address.zip", "types": "string", "documents": 1, "sampled": 4},
        {"field": "age", "types": "int (2), null (1), string (1)", "documents": 4, "sampled": 4},
        {"field": "name", "types": "string", "documents": 4, "sampled": 4},
        {"field": "tags", "types": "array", "documents": 1, "sampled": 4},
    ]
    assert shop.run_sql("DESC orders").rows[-1] == {
        "field": "user_id",
        "types": "int",
        "documents": 3,
        "sampled": 3,
    }
    assert shop.run_sql("SHOW COLUMNS FROM orders").rows == shop.run_sql("DESCRIBE orders").rows


def test_describe_a_view_and_what_is_missing(shop) -> None:
    shop.run_sql("CREATE VIEW cities AS SELECT name, address.city FROM users WHERE age > 30")
    assert shop.run_sql("DESCRIBE cities").rows == [
        {"field": "address", "types": "object", "documents": 2, "sampled": 2},
        {"field": "address.city", "types": "string", "documents": 2, "sampled": 2},
        {"field": "name", "types": "string", "documents": 2, "sampled": 2},
    ]
    error = error_of(shop, "DESCRIBE nowhere")
    assert error.code == "QL341" and (error.line, error.column) == (1, 10)
    shop.run_sql("CREATE TABLE empty")
    assert shop.run_sql("DESCRIBE empty").rows == []


def test_explain_shows_the_command_and_runs_nothing(conn) -> None:
    result = conn.run_sql("EXPLAIN CREATE TABLE t WITH (validator = JSON_OBJECT('a', 1))")
    assert '"create": "t"' in result.rows[0]["command"]
    assert conn.db.list_collection_names() == []
    text = conn.explain("SHOW TABLES; SHOW INDEXES FROM t; DROP INDEX i ON t")
    assert '"listCollections": 1' in text and '"listIndexes": "t"' in text
    assert '"dropIndexes": "t"' in text
    replaced = conn.run_sql("EXPLAIN CREATE OR REPLACE VIEW v AS SELECT a FROM t")
    assert "collMod" in replaced.rows[0]["notes"]


def test_cached_plans_run_again(conn) -> None:
    for _ in range(2):
        conn.run_sql("CREATE VIEW v AS SELECT a FROM t")
        conn.run_sql("CREATE INDEX i ON t (a)")
        conn.run_sql("DROP INDEX i ON t")
        conn.run_sql("DROP VIEW v")
    assert tables(conn) == [{"name": "t", "type": "collection"}]


def test_errors_point_at_the_name(shop) -> None:
    error = error_of(shop, "SELECT 1;\nDROP TABLE  nowhere")
    assert error.code == "QL341" and (error.line, error.column) == (2, 13)
    assert isinstance(error_of(shop, "CREATE FUNCTION f() RETURNS INT RETURN 1"), UnsupportedError)
