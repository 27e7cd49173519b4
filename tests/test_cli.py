"""The `queryleaf` command, run in-process through main() on the embedded engine (each
main() call gets a fresh one), plus one run as a real process."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from bson import ObjectId, json_util

import queryleaf
from queryleaf.shell import render
from queryleaf.shell.cli import main

ROOT = Path(__file__).resolve().parent.parent
SEED = "INSERT INTO t (a, b) VALUES (1, 'x'), (2, NULL)"
QUERY = "SELECT a, b FROM t ORDER BY a"


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch):
    for name in ("COLUMNS", "NO_COLOR", "QUERYLEAF_DEBUG"):
        monkeypatch.delenv(name, raising=False)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def assert_caret_matches(err: str, line: int, column: int) -> None:
    """The excerpt shows `line` and its caret sits under `column`."""
    lines = err.splitlines()
    source = next(i for i, text in enumerate(lines) if text.startswith(f"  {line} | "))
    prefix = f"  {line} | "
    caret = lines[source + 1]
    assert caret.strip() == "^"
    assert caret.index("^") - len(prefix) + 1 == column


# --- formats ---------------------------------------------------------------------------------


def test_table_output_with_tags_and_row_counts(capsys):
    code, out, err = run(capsys, "-e", f"{SEED}; {QUERY}; DELETE FROM t WHERE a = 1")
    assert code == 0
    assert err == ""
    assert out == (
        "INSERT 2\n"
        "\n"
        "┌───┬──────┐\n"
        "│ a │ b    │\n"
        "├───┼──────┤\n"
        "│ 1 │ x    │\n"
        "│ 2 │ NULL │\n"
        "└───┴──────┘\n"
        "(2 rows)\n"
        "\n"
        "DELETE 1\n"
    )


def test_update_and_delete_tags(capsys):
    code, out, _ = run(
        capsys,
        "-e",
        f"{SEED}; UPDATE t SET b = 'y' WHERE a > 0; DELETE FROM t WHERE a = 5; "
        "SELECT b FROM t ORDER BY a",
    )
    assert code == 0
    assert out.splitlines()[:3] == ["INSERT 2", "UPDATE 2", "DELETE 0"]
    assert "(2 rows)" in out
    assert out.count("│ y │") == 2


def test_csv_output_has_rows_only(capsys):
    code, out, err = run(capsys, "--format", "csv", "-e", f"{SEED}; {QUERY}")
    assert code == 0
    assert err == ""
    assert out == "a,b\n1,x\n2,\n"


def test_csv_separates_results_with_a_blank_line(capsys):
    code, out, _ = run(
        capsys, "--format", "csv", "-e", f"{SEED}; {QUERY}; SELECT a FROM t WHERE a = 2"
    )
    assert code == 0
    assert out == "a,b\n1,x\n2,\n\na\n2\n"


def test_json_output_one_array_per_result(capsys):
    code, out, err = run(
        capsys, "--format", "json", "-e", f"{SEED}; {QUERY}; SELECT a FROM t WHERE a = 2"
    )
    assert code == 0
    assert err == ""
    lines = out.splitlines()
    assert [json.loads(line) for line in lines] == [
        [{"a": 1, "b": "x"}, {"a": 2, "b": None}],
        [{"a": 2}],
    ]


def test_json_round_trips_objectids_and_dates(capsys):
    when = '--param=seen={"$date": "2024-01-02T03:04:05.123Z"}'
    code, out, err = run(
        capsys,
        "--format",
        "json",
        when,
        "-e",
        "INSERT INTO t (a, w) VALUES (1, :seen); SELECT _id, a, w FROM t",
    )
    assert code == 0, err
    [row] = json_util.loads(out, json_options=render.EXTENDED_JSON)
    assert isinstance(row["_id"], ObjectId)
    assert row["w"] == dt.datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=dt.UTC)
    assert row["a"] == 1
    assert list(row) == ["_id", "a", "w"]


def test_ndjson_output_one_object_per_line(capsys):
    code, out, err = run(
        capsys, "--format", "ndjson", "-e", f"{SEED}; {QUERY}; SELECT a FROM t WHERE a = 2"
    )
    assert code == 0
    assert err == ""
    assert out == '{"a": 1, "b": "x"}\n{"a": 2, "b": null}\n{"a": 2}\n'


def test_table_shows_objectids_as_hex(capsys):
    code, out, err = run(capsys, "-e", "INSERT INTO t (a) VALUES (1); SELECT _id FROM t")
    assert code == 0, err
    assert re.search(r"│ [0-9a-f]{24} │", out)
    assert "$oid" not in out
    assert "(1 row)" in out


def test_explain_in_table_mode_prints_the_command(capsys):
    code, out, err = run(capsys, "-e", "EXPLAIN SELECT a FROM t WHERE a = 1")
    assert code == 0, err
    assert "│" not in out  # not squeezed into a table
    body = out.split("\nnote: ")[0]
    command = json.loads(body)
    assert next(iter(command)) in {"find", "aggregate"}
    assert "\n  " in body  # pretty-printed
    assert "(1 row)" not in out


def test_explain_in_json_mode_is_rows(capsys):
    code, out, err = run(capsys, "--format", "json", "-e", "EXPLAIN SELECT a FROM t")
    assert code == 0, err
    [row] = json.loads(out)
    assert set(row) == {"command", "notes"}
    assert next(iter(json.loads(row["command"]))) in {"find", "aggregate"}


# --- inputs ----------------------------------------------------------------------------------


def test_files_run_in_order_on_one_database(capsys, tmp_path):
    setup = tmp_path / "setup.sql"
    setup.write_text(f"{SEED};\n")
    report = tmp_path / "report.sql"
    report.write_text("SELECT a FROM t WHERE a = 2;\n")
    code, out, err = run(capsys, "--format", "csv", str(setup), str(report))
    assert code == 0, err
    assert out == "a\n2\n"


def test_stdin_when_piped(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{SEED};\n{QUERY};\n"))
    code, out, err = run(capsys, "--format", "ndjson")
    assert code == 0, err
    assert out == '{"a": 1, "b": "x"}\n{"a": 2, "b": null}\n'


def test_stdin_as_dash(capsys, monkeypatch, tmp_path):
    setup = tmp_path / "setup.sql"
    setup.write_text(SEED)
    monkeypatch.setattr(sys, "stdin", io.StringIO("SELECT a FROM t WHERE a = 1"))
    code, out, err = run(capsys, "--format", "csv", str(setup), "-")
    assert code == 0, err
    assert out == "a\n1\n"


def test_execute_value_may_start_with_a_comment(capsys):
    code, out, err = run(capsys, "-e", "-- seed the table\nINSERT INTO t (a) VALUES (1)")
    assert code == 0, err
    assert out == "INSERT 1\n"


def test_repeated_execute_runs_in_order(capsys):
    code, out, err = run(capsys, "--format", "csv", "-e", SEED, "-e", "SELECT a FROM t WHERE a = 1")
    assert code == 0, err
    assert out == "a\n1\n"


def test_params(capsys):
    code, out, err = run(
        capsys,
        "--format",
        "json",
        "--param",
        "n=3",
        "--param",
        "s=hello world",
        "--param",
        'q="42"',
        "--param",
        "flag=true",
        "-e",
        "INSERT INTO t (a, b, c, d) VALUES (:n, :s, :q, :flag); "
        "SELECT a, b, c, d FROM t WHERE a = :n",
    )
    assert code == 0, err
    assert json.loads(out) == [{"a": 3, "b": "hello world", "c": "42", "d": True}]


def test_param_without_equals_is_a_usage_error(capsys):
    code, out, err = run(capsys, "--param", "oops", "-e", SEED)
    assert code == 2
    assert out == ""
    assert "expected NAME=VALUE" in err


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out.strip() == f"queryleaf {queryleaf.__version__}"


# --- errors ----------------------------------------------------------------------------------


def test_error_in_file_stops_the_script(capsys, tmp_path):
    script = tmp_path / "bad.sql"
    script.write_text(
        "INSERT INTO t (a) VALUES (1);\n"
        "\n"
        "SELECT a\n"
        "  FROM t WHERE a = = 1;\n"
        "INSERT INTO t (a) VALUES (2);\n"
        "SELECT a FROM t;\n"
    )
    code, out, err = run(capsys, str(script))
    assert code == 1
    assert out == "INSERT 1\n"  # the statement before the error ran, none after it did
    first = err.splitlines()[0]
    match = re.match(rf"^{re.escape(str(script))}:4:(\d+): \[(QL\d+)\] (.+)$", first)
    assert match, first
    assert match.group(2).startswith("QL1")  # a parse error
    assert "  4 |   FROM t WHERE a = = 1;" in err
    assert_caret_matches(err, 4, int(match.group(1)))
    assert "hint: " in err
    assert "Traceback" not in err


def test_error_names_command_line(capsys):
    code, out, err = run(capsys, "-e", "INSERT INTO t (a) VALUES (1);\nSELECT a FROM WHERE")
    assert code == 1
    assert out == "INSERT 1\n"
    match = re.match(r"^<command-line>:2:(\d+): \[QL\d+\] ", err)
    assert match, err
    assert_caret_matches(err, 2, int(match.group(1)))


def test_error_names_stdin(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("SELECT 'unterminated"))
    code, out, err = run(capsys)
    assert code == 1
    assert out == ""
    assert err.startswith("<stdin>:1:8: [QL102] unterminated string")
    assert_caret_matches(err, 1, 8)
    assert "hint: close it with '" in err


def test_machine_formats_keep_errors_on_stderr(capsys):
    code, out, err = run(capsys, "--format", "json", "-e", f"{SEED}; SELECT FROM WHERE")
    assert code == 1
    assert out == ""  # the INSERT ran, but writes print nothing in json mode
    assert err.startswith("<command-line>:1:")


def test_missing_file_runs_nothing(capsys, tmp_path):
    missing = tmp_path / "missing.sql"
    code, out, err = run(capsys, "-e", SEED, str(missing))
    assert code == 2
    assert out == ""
    assert err == f"queryleaf: cannot read {missing}: No such file or directory\n"


def test_unsupported_uri_is_an_error_with_the_password_hidden(capsys):
    code, out, err = run(capsys, "--uri", "postgres://ada:s3cret@db/x", "-e", SEED)
    assert code == 1
    assert out == ""
    assert err.startswith("queryleaf: [QL601] ")
    assert "s3cret" not in err


def test_unexpected_exception_is_an_internal_error(capsys, monkeypatch):
    def explode(self, *args, **kwargs):
        raise RuntimeError("something broke\nmore detail")

    monkeypatch.setattr(queryleaf.Connection, "execute_script", explode)
    code, out, err = run(capsys, "-e", SEED)
    assert code == 70
    assert out == ""
    assert err.splitlines()[0] == "<command-line>: internal error: RuntimeError: something broke"
    assert "Traceback" not in err


def test_internal_error_traceback_on_request(capsys, monkeypatch):
    def explode(self, *args, **kwargs):
        raise RuntimeError("something broke")

    monkeypatch.setattr(queryleaf.Connection, "execute_script", explode)
    monkeypatch.setenv("QUERYLEAF_DEBUG", "1")
    code, _, err = run(capsys, "-e", SEED)
    assert code == 70
    assert "Traceback (most recent call last)" in err


# --- as a process ----------------------------------------------------------------------------


def test_runs_as_a_process():
    script = Path(sys.executable).parent / "queryleaf"
    # Without the console script installed, the module runs the same main().
    module = [sys.executable, "-m", "queryleaf.shell.cli"]
    command = [str(script)] if script.exists() else module
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    env.pop("COLUMNS", None)
    done = subprocess.run(
        [*command, "--format", "csv", "-e", f"{SEED}; {QUERY}"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "a,b\n1,x\n2,\n"
    failed = subprocess.run(
        [*command, "-e", f"{SEED};\nSELECT a FROM WHERE"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    assert failed.returncode == 1
    assert failed.stdout == "INSERT 2\n"
    assert failed.stderr.startswith("<command-line>:2:")
    assert "Traceback" not in failed.stderr
