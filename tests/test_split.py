"""Splitting scripts into statements."""

from __future__ import annotations

import pytest

from queryleaf import ParseError
from queryleaf.parse import split_statements


def test_semicolons_inside_strings_comments_and_identifiers_do_not_split() -> None:
    script = "SELECT ';' AS a; -- x; y\nSELECT `b;c` FROM t /* ; */; SELECT \"d;\" # ;\n"
    texts = [s.text for s in split_statements(script)]
    assert texts == [
        "SELECT ';' AS a",
        "SELECT `b;c` FROM t /* ; */",
        'SELECT "d;" # ;',
    ]


def test_statements_start_after_leading_comments_and_keep_their_offset() -> None:
    script = "-- intro\n/* block */\n  EXPLAIN SELECT 1;\n\n-- only a comment;\n"
    (statement,) = split_statements(script)
    assert statement.text == "EXPLAIN SELECT 1"
    assert script[statement.offset :].startswith("EXPLAIN")


def test_escaped_quotes() -> None:
    texts = [s.text for s in split_statements("SELECT 'it''s; fine'; SELECT 'a\\'; b'")]
    assert texts == ["SELECT 'it''s; fine'", "SELECT 'a\\'; b'"]


def test_unterminated_string_is_located() -> None:
    with pytest.raises(ParseError) as caught:
        split_statements("SELECT 1;\nSELECT 'oops", source_name="f.sql")
    assert (caught.value.line, caught.value.column) == (2, 8)
    assert caught.value.position() == "f.sql:2:8"
