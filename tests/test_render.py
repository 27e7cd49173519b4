"""The renderers of queryleaf.shell.render, on rows holding ObjectId, datetime, nested
documents and arrays, and None."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

from bson import Decimal128, ObjectId, json_util

from queryleaf.shell import render

OID_1 = ObjectId("65a1b2c3d4e5f60718293a4b")
OID_2 = ObjectId("65a1b2c3d4e5f60718293a4c")
WHEN = dt.datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=dt.UTC)
COLUMNS = ["_id", "name", "age", "seen", "address", "tags"]
ROWS = [
    {
        "_id": OID_1,
        "name": "ada",
        "age": 36,
        "seen": WHEN,
        "address": {"city": "London", "zip": None, "owner": OID_2},
        "tags": ["x", 1, {"k": True}],
    },
    {
        "_id": OID_2,
        "name": "alan",
        "age": None,
        "seen": None,
        "address": {},
        "tags": [],
    },
]


# --- single values ---------------------------------------------------------------------------


def test_format_value_scalars():
    assert render.format_value(OID_1) == "65a1b2c3d4e5f60718293a4b"
    assert render.format_value(None) == "NULL"
    assert render.format_value(None, null="") == ""
    assert render.format_value(True) == "true"
    assert render.format_value(False) == "false"
    assert render.format_value(42) == "42"
    assert render.format_value(1.5) == "1.5"
    assert render.format_value("text [bold]") == "text [bold]"
    assert render.format_value(Decimal128("1.10")) == "1.10"


def test_format_value_datetimes_are_iso_8601():
    assert render.format_value(WHEN) == "2024-01-02T03:04:05.123Z"
    # BSON dates are UTC: a naive one is taken as UTC, as Extended JSON takes it.
    assert render.format_value(dt.datetime(2024, 1, 2)) == "2024-01-02T00:00:00Z"
    assert render.format_value(dt.datetime(2024, 1, 2, 0, 0, 0, 5)) == (
        "2024-01-02T00:00:00.000005Z"
    )
    paris = dt.timezone(dt.timedelta(hours=1))
    assert render.format_value(dt.datetime(2024, 1, 2, 9, 30, tzinfo=paris)) == (
        "2024-01-02T09:30:00+01:00"
    )
    assert render.format_value(dt.date(2024, 1, 2)) == "2024-01-02"


def test_format_value_nested_is_compact_extended_json():
    text = render.format_value(ROWS[0]["address"])
    assert text == '{"city": "London", "zip": null, "owner": {"$oid": "65a1b2c3d4e5f60718293a4c"}}'
    assert "\n" not in text
    assert render.format_value(ROWS[0]["tags"]) == '["x", 1, {"k": true}]'
    assert render.format_value({"at": WHEN}) == '{"at": {"$date": "2024-01-02T03:04:05.123Z"}}'
    assert render.format_value({"city": "Zürich"}) == '{"city": "Zürich"}'


# --- table -----------------------------------------------------------------------------------


def test_table_exact_layout():
    text = render.render_table(["a", "b"], [{"a": 1, "b": "x"}, {"a": 22, "b": None}])
    assert text == (
        "┌────┬──────┐\n│  a │ b    │\n├────┼──────┤\n│  1 │ x    │\n│ 22 │ NULL │\n└────┴──────┘\n"
    )


def test_table_renders_special_values():
    text = render.render_table(COLUMNS, ROWS, width=300)
    assert "65a1b2c3d4e5f60718293a4b" in text
    assert "ObjectId" not in text
    assert "2024-01-02T03:04:05.123Z" in text
    assert '{"city": "London", "zip": null, "owner": {"$oid": "65a1b2c3d4e5f60718293a4c"}}' in text
    assert '["x", 1, {"k": true}]' in text
    lines = text.splitlines()
    alan = next(line for line in lines if "alan" in line)
    assert alan.count("NULL") == 2  # age and seen
    assert "\x1b[" not in text  # no colour unless asked


def test_table_nulls_are_dim_with_colour():
    text = render.render_table(["a"], [{"a": None}, {"a": "NULL"}], color=True)
    assert "\x1b[2mNULL\x1b[0m" in text  # the real NULL is dim...
    assert text.count("\x1b[2m") == 1  # ...the string 'NULL' is not


def test_table_does_not_interpret_markup_in_data_or_headers():
    text = render.render_table(["[red]h[/red]"], [{"[red]h[/red]": "[bold]x[/bold] :smile:"}])
    assert "[red]h[/red]" in text
    assert "[bold]x[/bold] :smile:" in text


def test_table_right_aligns_numeric_columns():
    text = render.render_table(["n", "s"], [{"n": 5, "s": "a"}, {"n": 12345, "s": "bbbbb"}])
    assert "│     5 │ a     │" in text
    assert "│ 12345 │ bbbbb │" in text


def test_table_respects_width_and_keeps_ids_and_dates_whole():
    long_text = "word " * 60
    rows = [{"_id": OID_1, "seen": WHEN, "note": long_text.strip()}]
    text = render.render_table(["_id", "seen", "note"], rows, width=90)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 90
    assert len(lines) > 5  # the note wrapped onto several lines...
    assert "65a1b2c3d4e5f60718293a4b" in text  # ...while the id and the date stayed whole
    assert "2024-01-02T03:04:05.123Z" in text
    assert text.count("word") == 60  # and nothing was cut off


def test_table_too_narrow_still_loses_nothing():
    rows = [{"a": "x" * 40, "b": "y" * 40}]
    text = render.render_table(["a", "b"], rows, width=30)
    assert max(len(line) for line in text.splitlines()) <= 30
    assert text.count("x") == 40
    assert text.count("y") == 40


def test_table_ascii_only():
    text = render.render_table(COLUMNS, ROWS, ascii_only=True)
    assert text.isascii()
    assert text.splitlines()[0].startswith("+")


def test_table_without_columns_is_empty():
    assert render.render_table([], []) == ""


def test_table_without_rows_shows_header():
    text = render.render_table(["a", "b"], [])
    assert "│ a │ b │" in text


def test_fit_widths():
    assert render.fit_widths([5, 5], [5, 5], 20) is None  # fits as it is
    # The widest column is narrowed; the others keep their natural width.
    assert render.fit_widths([24, 100], [24, 8], 60) == [24, 36]
    # No column goes below its longest word while the others can give way...
    assert render.fit_widths([24, 24, 100], [24, 24, 8], 60) == [24, 24, 12]
    # ...and when the words themselves do not fit, rich spreads the squeeze.
    assert render.fit_widths([24, 24, 24], [24, 24, 24], 60) is None


def test_row_count_and_command_tags():
    assert render.row_count(0) == "(0 rows)"
    assert render.row_count(1) == "(1 row)"
    assert render.row_count(3) == "(3 rows)"
    assert render.command_tag("insert", 2) == "INSERT 2"
    assert render.command_tag("update", 0) == "UPDATE 0"
    assert render.command_tag("delete", 1) == "DELETE 1"
    assert render.command_tag("update", -1) == "UPDATE"


# --- EXPLAIN ---------------------------------------------------------------------------------


def test_explain_prints_command_pretty_and_notes():
    command = json_util.dumps({"find": "users", "filter": {"_id": OID_1}})
    rows = [{"command": command, "notes": ["sorted client-side", "LIMIT applied in MongoDB"]}]
    text = render.render_explain(["command", "notes"], rows)
    body, _, notes = text.partition("\nnote: ")
    assert json.loads(body) == {"find": "users", "filter": {"_id": {"$oid": str(OID_1)}}}
    assert body.startswith('{\n  "find": "users"')  # indented, keys in order
    assert "note: LIMIT applied in MongoDB\n" in text
    assert notes.startswith("sorted client-side\n")
    assert "│" not in text


def test_explain_keeps_already_pretty_json_and_accepts_text_notes():
    command = '{\n    "aggregate": "t",\n    "pipeline": []\n}'
    text = render.render_explain(["command", "notes"], [{"command": command, "notes": "a\nb"}])
    assert text == command + "\nnote: a\nnote: b\n"
    no_notes = render.render_explain(["command", "notes"], [{"command": command, "notes": []}])
    assert no_notes == command + "\n"


# --- machine-readable formats ----------------------------------------------------------------


def test_csv():
    text = render.render_csv(COLUMNS, ROWS)
    assert text.splitlines()[0] == "_id,name,age,seen,address,tags"
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[1] == [
        "65a1b2c3d4e5f60718293a4b",
        "ada",
        "36",
        "2024-01-02T03:04:05.123Z",
        '{"city": "London", "zip": null, "owner": {"$oid": "65a1b2c3d4e5f60718293a4c"}}',
        '["x", 1, {"k": true}]',
    ]
    assert parsed[2] == ["65a1b2c3d4e5f60718293a4c", "alan", "", "", "{}", "[]"]
    assert "\r" not in text
    assert render.render_csv(["a"], []) == "a\n"


def test_json_round_trips_objectids_and_dates():
    text = render.render_json(COLUMNS, ROWS)
    assert text.endswith("\n")
    assert text.count("\n") == 1  # one line per result
    back = json_util.loads(text, json_options=render.EXTENDED_JSON)
    assert back == ROWS
    assert isinstance(back[0]["_id"], ObjectId)
    assert isinstance(back[0]["seen"], dt.datetime)
    assert back[0]["seen"] == WHEN
    # json_util's default options give the same instant as a naive UTC datetime.
    assert json_util.loads(text)[0]["seen"] == WHEN.replace(tzinfo=None)
    assert isinstance(back[0]["address"]["owner"], ObjectId)
    assert list(back[0]) == COLUMNS  # keys in column order
    # Relaxed mode: plain numbers stay plain JSON numbers.
    assert json.loads(text)[0]["age"] == 36
    assert json.loads(text)[0]["_id"] == {"$oid": "65a1b2c3d4e5f60718293a4b"}
    assert render.render_json(["a"], []) == "[]\n"


def test_json_orders_keys_by_column_and_keeps_extras():
    text = render.render_json(["b", "a"], [{"a": 1, "b": 2, "c": 3}, {"a": 4}])
    assert text == '[{"b": 2, "a": 1, "c": 3}, {"b": null, "a": 4}]\n'


def test_ndjson_one_object_per_line():
    text = render.render_ndjson(COLUMNS, ROWS)
    lines = text.splitlines()
    assert len(lines) == 2
    assert [json_util.loads(line, json_options=render.EXTENDED_JSON) for line in lines] == ROWS
    assert render.render_ndjson(["a"], []) == ""


def test_json_falls_back_for_python_decimals():
    import decimal

    text = render.render_json(["d"], [{"d": decimal.Decimal("1.25")}])
    assert json_util.loads(text) == [{"d": Decimal128("1.25")}]
