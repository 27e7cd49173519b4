"""Completion: `suggest()` is pure (text and cursor in, kinds and scope out), so it is tested
on strings; ShellCompleter is tested with fixed names standing in for the schema cache."""

from __future__ import annotations

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from queryleaf.shell.completion import FUNCTIONS, ShellCompleter, suggest, tables_in_scope
from queryleaf.shell.sqltext import (
    code_tokens,
    current_statement,
    first_keyword,
    statement_complete,
)

CURSOR = "|"  # marks the cursor in the cases below; without it the cursor is at the end


def at(text: str):
    cursor = text.find(CURSOR)
    if cursor < 0:
        return suggest(text)
    return suggest(text.replace(CURSOR, "", 1), cursor)


@pytest.mark.parametrize(
    ("text", "kinds", "word"),
    [
        ("", {"start_keyword"}, ""),
        ("SEL", {"start_keyword"}, "SEL"),
        ("sel", {"start_keyword"}, "sel"),
        ("SELECT 1; UPD", {"start_keyword"}, "UPD"),
        ("EXPLAIN DEL", {"start_keyword"}, "DEL"),
        ("SELECT * FROM ", {"collection"}, ""),
        ("SELECT * FROM us", {"collection"}, "us"),
        ("select * from us", {"collection"}, "us"),
        ("SELECT * FROM users u JOIN ", {"collection"}, ""),
        ("SELECT * FROM users u LEFT JOIN ord", {"collection"}, "ord"),
        ("SELECT * FROM a, ", {"collection"}, ""),
        ("INSERT INTO ", {"collection"}, ""),
        ("UPDATE ", {"collection"}, ""),
        ("DELETE FROM ", {"collection"}, ""),
        ("DELETE ", {"keyword"}, ""),
        ("SELECT * FROM users ", {"keyword"}, ""),
        ("SELECT * FROM users WH", {"keyword"}, "WH"),
        ("SELECT * FROM users WHERE age > 3 ", {"keyword"}, ""),
        ("SELECT name ", {"keyword"}, ""),
        ("SELECT * FROM users WHERE name = 'ab", set(), ""),
        ('SELECT * FROM users WHERE "na', set(), ""),
        ("SELECT * FROM users -- a comm", set(), ""),
        ("SELECT * FROM users /* note", set(), ""),
        ("\\", {"special"}, "\\"),
        ("\\d", {"special"}, "\\d"),
        ("  \\ti", {"special"}, "\\ti"),
        ("\\d us", {"argument"}, "us"),
        ("\\format ", {"argument"}, ""),
    ],
)
def test_kinds(text, kinds, word):
    hint = at(text)
    assert set(hint.kinds) == kinds
    assert hint.word == word


@pytest.mark.parametrize(
    ("text", "collections"),
    [
        ("SELECT | FROM users", ("users",)),
        ("SELECT na| FROM users", ("users",)),
        ("SELECT name, | FROM users", ("users",)),
        ("SELECT COUNT(| FROM users", ("users",)),
        ("SELECT * FROM users WHERE ", ("users",)),
        ("SELECT * FROM users WHERE age > 1 AND ", ("users",)),
        ("SELECT * FROM users WHERE NOT ", ("users",)),
        ("SELECT * FROM users WHERE age = ", ("users",)),
        ("SELECT * FROM users ORDER BY ", ("users",)),
        ("SELECT city, COUNT(*) FROM users GROUP BY ", ("users",)),
        ("SELECT city FROM users GROUP BY city HAVING ", ("users",)),
        ("SELECT * FROM `my users` WHERE ", ("my users",)),
        ("UPDATE users SET ", ("users",)),
        ("UPDATE users SET age = 1, ", ("users",)),
        ("UPDATE users SET age = ", ("users",)),
        ("DELETE FROM users WHERE ", ("users",)),
        ("SELECT * FROM t; SELECT * FROM users WHERE ", ("users",)),
        ("SELECT | FROM users; SELECT * FROM orders", ("users",)),
    ],
)
def test_fields_of_the_single_table_in_scope(text, collections):
    hint = at(text)
    assert "field" in hint.kinds
    assert hint.collections == collections
    assert not hint.any_collection


def test_expression_positions_offer_functions_and_keywords_too():
    hint = at("SELECT * FROM users WHERE ")
    assert {"field", "function", "keyword"} <= hint.kinds


def test_before_any_table_fields_of_every_collection_fit():
    hint = at("SELECT ")
    assert "field" in hint.kinds
    assert hint.any_collection


def test_update_set_left_side_is_fields_only():
    assert set(at("UPDATE users SET ").kinds) == {"field"}
    assert "function" in at("UPDATE users SET age = ").kinds


def test_insert_column_list_offers_fields_quoted_when_dotted():
    hint = at("INSERT INTO users (name, ")
    assert hint.kinds == {"field"}
    assert hint.collections == ("users",)
    assert hint.quote_dotted
    assert "field" not in at("INSERT INTO users (a) VALUES (").kinds


@pytest.mark.parametrize(
    ("text", "collection", "path", "qualifier", "word"),
    [
        ("SELECT address.c| FROM users", "users", "address.", "", "address.c"),
        ("SELECT address.| FROM users", "users", "address.", "", "address."),
        ("SELECT a.b.c| FROM users", "users", "a.b.", "", "a.b.c"),
        ("SELECT u.| FROM users u JOIN orders o ON o.uid = u._id", "users", "", "u.", "u."),
        ("SELECT o.to| FROM users u JOIN orders o ON o.uid = u._id", "orders", "", "o.", "o.to"),
        ("SELECT u.address.ci| FROM users AS u", "users", "address.", "u.", "u.address.ci"),
        ("SELECT * FROM users u JOIN orders o ON o.", "orders", "", "o.", "o."),
        ("SELECT * FROM users u JOIN orders o ON o.uid = u.", "users", "", "u.", "u."),
        ("SELECT * FROM users u WHERE U.", "users", "", "U.", "U."),
        ("SELECT users.| FROM users", "users", "", "users.", "users."),
        ("SELECT * FROM `my coll` x WHERE x.", "my coll", "", "x.", "x."),
        ("SELECT * FROM a x, b y WHERE y.", "b", "", "y.", "y."),
    ],
)
def test_dotted_words_complete_paths_and_aliases(text, collection, path, qualifier, word):
    hint = at(text)
    assert hint.kinds == {"field"}
    assert hint.collections == (collection,)
    assert hint.path == path
    assert hint.qualifier == qualifier
    assert hint.word == word


def test_several_tables_offer_qualifiers_not_bare_fields():
    # In a join unqualified columns are an error (QL301), so the aliases come first.
    hint = at("SELECT | FROM users u JOIN orders o ON o.uid = u._id")
    assert "alias" in hint.kinds
    assert "field" not in hint.kinds
    assert hint.aliases["u"] == "users"
    assert hint.aliases["o"] == "orders"
    assert at("SELECT address.| FROM users u JOIN orders o ON o.uid = u._id").kinds == set()


@pytest.mark.parametrize(
    ("text", "tables"),
    [
        ("SELECT * FROM users", [("users", "users")]),
        ("SELECT * FROM users u", [("users", "u")]),
        ("SELECT * FROM users AS u WHERE u.a = 1", [("users", "u")]),
        ("SELECT * FROM a x, b y, c", [("a", "x"), ("b", "y"), ("c", "c")]),
        ("SELECT * FROM a JOIN b ON a.x = b.y", [("a", "a"), ("b", "b")]),
        ("SELECT * FROM a INNER JOIN b bb USING (x)", [("a", "a"), ("b", "bb")]),
        ("SELECT * FROM a WHERE x = 1 ORDER BY x", [("a", "a")]),
        ("SELECT * FROM a LEFT JOIN b ON 1 = 1", [("a", "a"), ("b", "b")]),
        ("UPDATE t SET a = 1", [("t", "t")]),
        ("INSERT INTO t (a) VALUES (1)", [("t", "t")]),
        ("DELETE FROM t WHERE a = 1", [("t", "t")]),
        ("SELECT * FROM `odd name` o", [("odd name", "o")]),
    ],
)
def test_tables_in_scope(text, tables):
    assert tables_in_scope(code_tokens(text)) == tables


# --- sqltext helpers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "complete"),
    [
        ("", True),
        ("SELECT 1", False),
        ("SELECT 1;", True),
        ("SELECT 1;  ", True),
        ("SELECT 1\nFROM t\n;", True),
        ("SELECT ';'", False),
        ("SELECT 1 -- ;", False),
        ("SELECT 1; -- done", True),
        ("SELECT /* ; */ 1", False),
        ("SELECT `a;b` FROM t", False),
        ("\\dt", True),
        ("  \\d users", True),
        ("quit", False),  # the shell adds the registry's plain words (quit, exit, help)
        ("SELECT 1 \\e", True),
    ],
)
def test_statement_complete(text, complete):
    assert statement_complete(text) is complete


def test_current_statement_and_first_keyword():
    text = "SELECT 1; DELETE FROM t; SELECT 2"
    statement, start = current_statement(text, text.index("FROM"))
    assert statement.strip() == "DELETE FROM t"
    assert text[start:].startswith(" DELETE")
    assert first_keyword("  -- note\n  /* x */ insert INTO t VALUES (1)") == "INSERT"
    assert first_keyword("(SELECT 1)") == "SELECT"
    assert first_keyword("-- only a comment") == ""


# --- the prompt-toolkit completer ------------------------------------------------------------

FIELDS = {
    "users": ["_id", "name", "age", "address", "address.city", "address.geo.lat"],
    "orders": ["_id", "user_id", "total", "status"],
}


def completer() -> ShellCompleter:
    return ShellCompleter(
        collections=lambda: list(FIELDS),
        fields=lambda name: FIELDS.get(name, []),
        specials=lambda: [("\\dt", "list collections"), ("\\d", "describe"), ("\\x", "expand")],
        arguments=lambda command, word: [(n, "collection") for n in FIELDS if n.startswith(word)],
        subscriptions=lambda: ["order_events", "user_events"],
    )


def complete(text: str) -> list[str]:
    cursor = text.find(CURSOR)
    if cursor >= 0:
        text = text.replace(CURSOR, "", 1)
    else:
        cursor = len(text)
    document = Document(text, cursor)
    return [c.text for c in completer().get_completions(document, CompleteEvent())]


def test_collections_after_from():
    assert complete("SELECT * FROM us") == ["users"]
    assert complete("SELECT * FROM ") == ["orders", "users"]


def test_nested_field_paths():
    assert complete("SELECT address.c| FROM users") == ["address.city"]
    assert complete("SELECT address.| FROM users") == ["address.city", "address.geo.lat"]
    assert complete("SELECT * FROM users WHERE address.geo.") == ["address.geo.lat"]


def test_a_segment_finds_the_full_path():
    assert "address.city" in complete("SELECT ci| FROM users")


def test_alias_prefix_completes_that_tables_fields():
    assert complete("SELECT o.to| FROM users u JOIN orders o ON o.user_id = u._id") == ["o.total"]
    assert complete("SELECT u.address.c| FROM users u JOIN orders o ON 1 = 1") == ["u.address.city"]
    join = complete("SELECT | FROM users u JOIN orders o ON o.user_id = u._id")
    assert "u." in join
    assert "o." in join
    assert "users." not in join  # the aliases stand for their tables
    assert "name" not in join


def test_fields_before_functions_before_keywords():
    names = complete("SELECT * FROM users WHERE a")
    assert names[:3] == ["age", "address", "address.city"]
    assert names.index("abs") < names.index("and")  # typed in lower case


def test_functions_are_the_known_ones():
    assert "COUNT" in FUNCTIONS
    assert "CASE" not in FUNCTIONS
    assert complete("SELECT COALE| FROM users") == ["COALESCE"]


def test_keywords_follow_the_typed_case():
    assert complete("sel") == ["select"]
    assert complete("SEL") == ["SELECT"]
    assert "order by" in complete("select * from users ord")


def test_insert_column_list_quotes_dotted_paths():
    names = complete("INSERT INTO users (name, addr")
    assert names == ["address", "`address.city`", "`address.geo.lat`"]


def test_special_commands_and_their_arguments():
    assert complete("\\d") == ["\\dt", "\\d"]
    assert complete("\\d us") == ["users"]


def test_nothing_inside_strings():
    assert complete("SELECT * FROM users WHERE name = 'us") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DROP EVENT_SUBSCRIPTION ", ["order_events", "user_events"]),
        ("DROP EVENT_SUBSCRIPTION IF EXISTS us", ["user_events"]),
        ("PAUSE EVENT_SUBSCRIPTION ord", ["order_events"]),
        ("EXPLAIN EVENT_SUBSCRIPTION ", ["order_events", "user_events"]),
        ("DISCARD DEAD_LETTER_EVENTS FOR u", ["user_events"]),
    ],
)
def test_subscription_names_complete_after_event_subscription(text: str, expected: list[str]):
    assert complete(text) == expected


def test_option_names_complete_inside_create_event_subscription():
    assert complete("CREATE EVENT_SUBSCRIPTION s AS (watch_") == ["watch_collections"]
    assert "max_retry_attempts" in complete("CREATE EVENT_SUBSCRIPTION s AS (batch_size = 5, ")
    assert complete("ALTER EVENT_SUBSCRIPTION s SET (retry_d") == ["retry_delay_ms"]
    # Inside a value (JSON_ARRAY(...)) no option names are offered.
    assert "batch_size" not in complete("CREATE EVENT_SUBSCRIPTION s AS (event_types = JSON_ARRAY(")
