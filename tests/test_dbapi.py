"""queryleaf.dbapi: the PEP 249 contract, and pandas.read_sql over it."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

import queryleaf
from queryleaf import dbapi
from tests.pgwire_support import client


@pytest.fixture
def db(conn: queryleaf.Connection) -> Iterator[dbapi.Connection]:
    connection = dbapi.connect(connection=conn)
    yield connection
    connection.close()


def test_module_globals() -> None:
    assert (dbapi.apilevel, dbapi.threadsafety, dbapi.paramstyle) == ("2.0", 1, "qmark")
    for name in ("Warning", "Error", "InterfaceError", "DatabaseError", "DataError",
                 "OperationalError", "IntegrityError", "InternalError", "ProgrammingError",
                 "NotSupportedError"):  # fmt: skip
        assert issubclass(getattr(dbapi, name), Exception)
    assert issubclass(dbapi.ProgrammingError, dbapi.DatabaseError)
    assert issubclass(dbapi.DatabaseError, dbapi.Error)


def test_execute_fetch_and_description(db: dbapi.Connection) -> None:
    cur = db.cursor()
    cur.executemany(
        "INSERT INTO people (name, age) VALUES (?, ?)", [("ada", 36), ("alan", 41), ("grace", 85)]
    )
    assert cur.rowcount == 3
    cur.execute("SELECT name, age FROM people WHERE age > :min ORDER BY age", {"min": 40})
    assert [d[0] for d in cur.description] == ["name", "age"]
    assert cur.description[0][1] == dbapi.STRING and cur.description[1][1] == dbapi.NUMBER
    assert cur.rowcount == 2
    assert cur.fetchone() == ("alan", 41)
    assert cur.fetchmany(5) == [("grace", 85)]
    assert cur.fetchone() is None
    cur.execute("SELECT name FROM people ORDER BY age")
    cur.arraysize = 2
    assert cur.fetchmany() == [("ada",), ("alan",)]
    assert list(cur) == [("grace",)]


def test_writes_have_row_counts_and_no_description(db: dbapi.Connection) -> None:
    cur = db.cursor()
    cur.execute("INSERT INTO t (a) VALUES (1), (2)")
    assert (cur.rowcount, cur.description) == (2, None)
    cur.execute("UPDATE t SET a = 5 WHERE a = ?", [2])
    assert cur.rowcount == 1
    with pytest.raises(dbapi.ProgrammingError):
        cur.fetchall()


def test_errors_map_to_the_pep_249_hierarchy(db: dbapi.Connection) -> None:
    cur = db.cursor()
    with pytest.raises(dbapi.ProgrammingError) as caught:
        cur.execute("SELECT nosuch(a) FROM t")
    assert caught.value.code == "QL302"
    with pytest.raises(dbapi.NotSupportedError):
        cur.execute("SELECT a FROM t RIGHT JOIN u ON t.a = u.a")
    with pytest.raises(dbapi.ProgrammingError):
        cur.execute("SELECT a FROM t WHERE a = ?")
    cur.close()
    with pytest.raises(dbapi.InterfaceError):
        cur.execute("SELECT 1")


def test_duplicate_key_is_an_integrity_error(db: dbapi.Connection) -> None:
    cur = db.cursor()
    cur.execute("INSERT INTO k (_id) VALUES (1)")
    with pytest.raises(dbapi.IntegrityError):
        cur.execute("INSERT INTO k (_id) VALUES (1)")


def test_rollback_refuses_to_pretend(db: dbapi.Connection) -> None:
    cur = db.cursor()
    cur.execute("SELECT 1")
    db.rollback()  # nothing written: nothing to undo
    cur.execute("INSERT INTO t (a) VALUES (1)")
    with pytest.raises(dbapi.NotSupportedError, match="cannot undo 1 write"):
        db.rollback()
    cur.execute("INSERT INTO t (a) VALUES (2)")
    db.commit()
    db.rollback()


def test_pandas_read_sql(db: dbapi.Connection) -> None:
    pandas = client("pandas")
    db.cursor().executemany("INSERT INTO m (name, v) VALUES (?, ?)", [("a", 1.5), ("b", 2.5)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pandas names SQLAlchemy as its preference
        frame = pandas.read_sql("SELECT name, v FROM m WHERE v > ? ORDER BY v", db, params=[1])
    assert list(frame.columns) == ["name", "v"]
    assert frame.values.tolist() == [["a", 1.5], ["b", 2.5]]


def test_rollback_refuses_to_pretend_after_ddl_and_insert_select(db: dbapi.Connection) -> None:
    cur = db.cursor()
    cur.execute("INSERT INTO t (a) VALUES (1)")
    db.commit()
    for statement in (
        "DROP TABLE t",
        "CREATE TABLE made (a INT)",
        "INSERT INTO u SELECT a FROM made",
    ):
        cur.execute(statement)
        with pytest.raises(dbapi.NotSupportedError, match="cannot undo 1 write"):
            db.rollback()
    cur.execute("SHOW TABLES")
    cur.execute("SHOW EVENT_SUBSCRIPTIONS")
    cur.execute("DESCRIBE made")
    db.rollback()  # reads only: nothing to undo
