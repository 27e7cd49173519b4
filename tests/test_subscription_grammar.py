"""The EVENT_SUBSCRIPTION grammar: the seed's statement verbatim, every statement form, and
malformed statements with the position and suggestion of their error."""

from __future__ import annotations

import pytest

from queryleaf import ParseError, QueryLeafError
from queryleaf.parse import split_statements
from queryleaf.parse.extensions import (
    AlterSubscription,
    ControlSubscription,
    CreateSubscription,
    DeadLetterCommand,
    DropSubscription,
    ExplainCreate,
    ExplainSubscription,
    ShowSubscriptions,
    is_extension,
    parse_extension,
)
from tests.case_files import SEED_DIR

SEED = SEED_DIR / "user_service_events.sql"


def seed_statement() -> str:
    (statement,) = split_statements(SEED.read_text())
    return statement.text


def test_the_seed_statement_parses_verbatim() -> None:
    statement = parse_extension(seed_statement())
    assert isinstance(statement, CreateSubscription)
    assert statement.name == "user_service_events"
    options = {name: option.value for name, option in statement.options.items()}
    assert options["subscription_id"] == "user_lifecycle_events"
    assert options["watch_collections"] == ["users", "user_profiles", "user_preferences"]
    assert options["event_types"] == ["insert", "update", "delete"]
    assert options["event_filter"]["operationType"] == {"$in": ["insert", "update"]}
    nested = options["event_filter"]["$or"][1]["updateDescription.updatedFields"]["$or"]
    assert nested[2] == {"subscription_tier": {"$exists": True}}
    assert options["batch_processing"] is False and options["exponential_backoff"] is True
    assert options["batch_size"] == 100 and options["processing_timeout_ms"] == 30000
    assert options["description"].startswith("User lifecycle events")
    assert len(options) == 17


@pytest.mark.parametrize(
    ("text", "kind", "fields"),
    [
        ("CREATE OR REPLACE EVENT_SUBSCRIPTION s AS (batch_size = 5,)", CreateSubscription,
         {"name": "s", "or_replace": True}),
        ("create event_subscription if not exists `my sub` as (a = -1.5, b = null)",
         CreateSubscription, {"name": "my sub", "if_not_exists": True}),
        ("ALTER EVENT_SUBSCRIPTION s SET (retry_delay_ms = 10)", AlterSubscription, {"name": "s"}),
        ("DROP EVENT_SUBSCRIPTION IF EXISTS s", DropSubscription, {"name": "s", "if_exists": True}),
        ("drop event_subscription s", DropSubscription, {"name": "s", "if_exists": False}),
        ("START EVENT_SUBSCRIPTION s", ControlSubscription, {"action": "START", "name": "s"}),
        ("stop EVENT_SUBSCRIPTION s", ControlSubscription, {"action": "STOP"}),
        ("PAUSE EVENT_SUBSCRIPTION s", ControlSubscription, {"action": "PAUSE"}),
        ("RESUME EVENT_SUBSCRIPTION s", ControlSubscription, {"action": "RESUME"}),
        ("SHOW EVENT_SUBSCRIPTIONS", ShowSubscriptions, {}),
        ("EXPLAIN EVENT_SUBSCRIPTION s", ExplainSubscription, {"name": "s"}),
        ("DISCARD DEAD_LETTER_EVENTS FOR s WHERE retry_count > 2", DeadLetterCommand,
         {"action": "DISCARD", "name": "s", "condition": "retry_count > 2"}),
        ("REPLAY DEAD_LETTER_EVENTS FOR s", DeadLetterCommand, {"action": "REPLAY", "condition": None}),
    ],
)  # fmt: skip
def test_statement_forms(text: str, kind: type, fields: dict) -> None:
    assert is_extension(text)
    statement = parse_extension(text)
    assert isinstance(statement, kind)
    for name, value in fields.items():
        assert getattr(statement, name) == value


def test_explain_create_wraps_the_statement() -> None:
    statement = parse_extension("EXPLAIN " + seed_statement())
    assert isinstance(statement, ExplainCreate)
    assert statement.create.name == "user_service_events"


def test_comments_and_nesting_inside_options() -> None:
    statement = parse_extension(
        "CREATE EVENT_SUBSCRIPTION s AS (\n"
        "  /* block */ event_filter = JSON_OBJECT('a', JSON_ARRAY(JSON_OBJECT('b', "
        "JSON_ARRAY(1, 2, JSON_OBJECT())))), -- trailing\n"
        "  # hash comment\n"
        "  description = 'it''s \\'quoted\\''\n)"
    )
    options = {name: option.value for name, option in statement.options.items()}
    assert options["event_filter"] == {"a": [{"b": [1, 2, {}]}]}
    assert options["description"] == "it's 'quoted'"


def test_plain_sql_is_not_an_extension() -> None:
    assert not is_extension("SELECT * FROM event_subscriptions")
    assert not is_extension("CREATE TABLE event_subscription (a INT)")


@pytest.mark.parametrize(
    ("text", "line", "column", "in_hint"),
    [
        ("START EVENT_SUBSCRIPTION", 1, 25, "a name"),
        ("CREATE EVENT_SUBSCRIPTION s AS (a = 1 b = 2)", 1, 39, "','"),
        ("CREATE EVENT_SUBSCRIPTION s AS (\n  a = 1,\n  b = ,\n)", 3, 7, "a string"),
        ("CREATE EVENT_SUBSCRIPTION s AS (a = 1) EXTRA", 1, 40, "end of statement"),
        ("CREATE EVENT_SUBSCRIPTION s AS (a = JSON_OBJEKT('k', 1))", 1, 37, "JSON OBJECT"),
        ("CREATE EVENT_SUBSCRIPTION s (a = 1)", 1, 29, "AS"),
    ],
)
def test_malformed_statements_point_at_the_problem(
    text: str, line: int, column: int, in_hint: str
) -> None:
    with pytest.raises(ParseError) as caught:
        parse_extension(text)
    error = caught.value
    error.locate(text)
    assert (error.line, error.column) == (line, column), str(error)
    assert in_hint in (error.hint or ""), error.hint


def test_duplicate_option_and_odd_json_object() -> None:
    with pytest.raises(QueryLeafError) as caught:
        parse_extension("CREATE EVENT_SUBSCRIPTION s AS (a = 1, a = 2)")
    assert caught.value.code == "QL103" and caught.value.offset == 39
    with pytest.raises(QueryLeafError) as caught:
        parse_extension("CREATE EVENT_SUBSCRIPTION s AS (a = JSON_OBJECT('k'))")
    assert "pairs" in caught.value.message
