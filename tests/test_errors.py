"""Bad input: a stable code, a message naming the problem, a position with a caret, and no
partial effect."""

from __future__ import annotations

import pytest

import queryleaf
from queryleaf import ParseError, SemanticError, UnsupportedError


def error_of(conn, sql: str, params=None) -> queryleaf.QueryLeafError:
    with pytest.raises(queryleaf.QueryLeafError) as caught:
        conn.run_sql(sql, params)
    return caught.value


def test_syntax_error_points_at_the_token(conn) -> None:
    error = error_of(conn, "SELECT name\nFROM users\nWHERE age >")
    assert isinstance(error, ParseError)
    assert error.code == "QL101"
    assert (error.line, error.column) == (3, 11)
    assert error.excerpt is not None and error.excerpt.splitlines()[0].endswith("WHERE age >")


def test_unexpected_token_position(conn) -> None:
    error = error_of(conn, "SELECT a FROM t WHERE a = 1 1")
    assert error.code == "QL101"
    assert (error.line, error.column) == (1, 29)
    assert "^" in (error.excerpt or "")


def test_unterminated_string(conn) -> None:
    error = error_of(conn, "SELECT 'abc FROM t")
    assert error.code == "QL102"
    assert (error.line, error.column) == (1, 8)


def test_unknown_function_is_named_with_a_suggestion(conn) -> None:
    error = error_of(conn, "SELECT UPPPER(name) FROM users")
    assert isinstance(error, SemanticError)
    assert error.code == "QL302"
    assert "UPPPER" in error.message
    assert error.hint and "UPPER" in error.hint
    assert (error.line, error.column) == (1, 8)


def test_ambiguous_column_in_a_join(conn) -> None:
    error = error_of(conn, "SELECT name FROM users u JOIN orders o ON o.user_id = u._id")
    assert error.code == "QL301"
    assert "u.name" in (error.hint or "")


def test_ungrouped_column(conn) -> None:
    error = error_of(conn, "SELECT status, total FROM orders GROUP BY status")
    assert error.code == "QL303"
    assert "total" in error.message
    assert error.column == 16


def test_unsupported_construct_is_named(conn) -> None:
    error = error_of(conn, "SELECT a.x FROM t a RIGHT JOIN u b ON a.x = b.x")
    assert isinstance(error, UnsupportedError)
    assert error.code == "QL204"
    assert "RIGHT JOIN" in error.message and "LEFT JOIN" in (error.hint or "")


def test_errors_inside_explain_point_into_the_full_text(conn) -> None:
    error = error_of(conn, "EXPLAIN SELECT FOO(a) FROM t")
    assert error.code == "QL302"
    assert error.column == 16


def test_missing_parameter(conn) -> None:
    error = error_of(conn, "SELECT a FROM t WHERE a = :wanted", {"other": 1})
    assert error.code == "QL402"
    assert ":wanted" in error.message


def test_error_in_second_statement_reports_script_position(conn) -> None:
    error = error_of(conn, "INSERT INTO t (a) VALUES (1);\nSELECT NOPE(a) FROM t")
    assert (error.line, error.column) == (2, 8)
    # The first statement ran: a script stops at the first error, it is not a transaction.
    assert conn.db.t.count_documents({}) == 1


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM items WHERE qty IN (SELECT qty FROM other)",
        "UPDATE items SET qty = 0 WHERE NOSUCHFN(qty) = 1",
        "DELETE FROM items WHERE EXISTS (SELECT 1 FROM other)",
        "UPDATE items SET qty = qty + 1 WHERE qty > (SELECT MAX(qty) FROM other)",
    ],
)
def test_untranslatable_where_writes_nothing(conn, statement: str) -> None:
    conn.db.items.insert_many([{"_id": 1, "qty": 1}, {"_id": 2, "qty": 2}])
    before = list(conn.db.items.find({}, sort=[("_id", 1)]))
    with pytest.raises(queryleaf.QueryLeafError):
        conn.run_sql(statement)
    assert list(conn.db.items.find({}, sort=[("_id", 1)])) == before


def test_string_rendering_has_code_position_caret_and_hint(conn) -> None:
    error = error_of(conn, "SELECT LOWR(x) FROM t")
    text = str(error)
    assert text.startswith("[QL302] unknown function LOWR (line 1, column 8)")
    assert "\n  1 | SELECT LOWR(x) FROM t\n" in text
    assert "hint: did you mean" in text


def test_bad_uri_is_a_backend_error() -> None:
    with pytest.raises(queryleaf.BackendError) as caught:
        queryleaf.connect("postgres://user:secret@host/db")
    assert "secret" not in str(caught.value)
    assert caught.value.code == "QL601"


def test_long_lines_are_cut_around_the_caret(conn) -> None:
    columns = ", ".join(f"column_{i}" for i in range(40))
    error = error_of(conn, f"SELECT {columns} FROM t WHERE x = 1 1")
    shown, caret = error.excerpt.splitlines()
    assert shown.startswith("  1 | ...") and len(shown) < 120
    assert shown[caret.index("^")] == "1"


def test_a_cte_exposes_only_its_select_list(conn) -> None:
    error = error_of(
        conn,
        "WITH m AS (SELECT status, COUNT(*) AS n FROM orders GROUP BY status)\n"
        "SELECT status, total FROM m",
    )
    assert error.code == "QL315"
    assert error.message == "m has no column total"
    assert "status, n" in (error.hint or "")
    assert (error.line, error.column) == (2, 16)


def test_set_operation_sides_must_match(conn) -> None:
    error = error_of(conn, "SELECT a, b FROM t UNION SELECT c FROM u")
    assert error.code == "QL317"


def test_scalar_subquery_selects_one_column(conn) -> None:
    error = error_of(conn, "SELECT (SELECT a, b FROM u) AS x FROM t")
    assert error.code == "QL316"


def test_derived_table_needs_an_alias(conn) -> None:
    error = error_of(conn, "SELECT a FROM (SELECT 1 AS a)")
    assert error.code == "QL304"
