"""The interactive shell end to end: the real Repl (prompt-toolkit application, registry,
safety guards, schema cache, renderers) driven through prompt-toolkit's pipe input, plus
one session in a real pseudo-terminal. Every shell runs in a thread joined with a timeout,
so a shell that waits for input it will never get fails the test instead of hanging it."""

from __future__ import annotations

import io
import json
import os
import re
import select
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

import queryleaf
from queryleaf.shell import cli, repl
from queryleaf.shell.config import TEMPLATE, BoundedFileHistory, Config, load_config
from queryleaf.shell.repl import Repl
from queryleaf.shell.spinner import Spinner
from tests.shell_env import isolate

ROOT = Path(__file__).resolve().parent.parent

TIMEOUT = 10
USERS = (
    "INSERT INTO users (name, age, `address.city`) VALUES "
    "('ada', 36, 'London'), ('alan', 41, 'Wilmslow'), ('grace', 85, 'Arlington')"
)


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """No test reads or writes the real ~/.config or ~/.local/share, pages or colours."""
    isolate(tmp_path, monkeypatch)


@pytest.fixture
def conn():
    with queryleaf.connect() as connection:
        connection.run_sql(USERS)
        yield connection


@dataclass
class Transcript:
    out: str
    err: str
    code: int | None
    shell: Repl


def start(conn, pipe, config: Config | None = None, **options):
    out, err = options.pop("out", None) or io.StringIO(), options.pop("err", None) or io.StringIO()
    shell = Repl(
        conn,
        config or Config(),
        input=pipe,
        output=DummyOutput(),
        out=out,
        err=err,
        history=options.pop("history", InMemoryHistory()),
        **options,
    )
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(shell.run()), daemon=True)
    return Running(shell, thread, codes, out, err)


@dataclass
class Running:
    shell: Repl
    thread: threading.Thread
    codes: list[int]
    out: io.StringIO
    err: io.StringIO


def session(conn, keys: str, config: Config | None = None, **options) -> Transcript:
    """Type `keys` into a shell and collect what it printed; the keys must end the session
    (\\q or Ctrl-D)."""
    with create_pipe_input() as pipe:
        running = start(conn, pipe, config, **options)
        pipe.send_text(keys)
        running.thread.start()
        running.thread.join(TIMEOUT)
        finished = not running.thread.is_alive()
    out, err = running.out.getvalue(), running.err.getvalue()
    assert finished, f"the shell did not finish; it printed:\n{out}{err}"
    code = running.codes[0] if running.codes else None
    return Transcript(out, err, code, running.shell)


def names(conn) -> list[str]:
    return [row["name"] for row in conn.run_sql("SELECT name FROM users ORDER BY name").rows]


# --- entering and running statements ---------------------------------------------------------


def test_banner_names_the_embedded_engine_and_change_streams(conn):
    from importlib.metadata import version

    result = session(conn, "\\q\n")
    assert result.code == 0
    first, second = result.out.splitlines()[:2]
    assert f"embedded engine (mongomock-ng {version('mongomock-ng')})" in first
    assert "database queryleaf" in first
    assert second.startswith("Change streams:")
    assert second == "Change streams: available (emulated by the embedded engine)"


def test_multi_line_statement_runs_when_it_ends_with_a_semicolon(conn):
    result = session(conn, "SELECT name, age\nFROM users\nWHERE age > 40\nORDER BY age\n;\n\\q\n")
    assert result.err == ""
    assert result.out.count("(2 rows)") == 1
    table = result.out[result.out.index("┌") : result.out.index("(2 rows)")]
    assert re.search(r"│ alan  │\s+41 │", table)
    assert re.search(r"│ grace │\s+85 │", table)
    assert "ada" not in table


def test_escape_enter_runs_an_unfinished_statement(conn):
    result = session(conn, "SELECT 'as is' AS x\x1b\r\\q\n")
    assert "│ as is │" in result.out


def test_query_prints_rows_count_and_time(conn):
    result = session(conn, "SELECT name FROM users WHERE age < 40;\n\\q\n")
    assert "│ ada  │" in result.out
    assert re.search(r"\(1 row\)\nTime: \d+\.\d ms\n\n", result.out)


def test_writes_print_tags_and_several_statements_run_in_order(conn):
    keys = "INSERT INTO t (a) VALUES (1), (2); UPDATE t SET a = 3 WHERE a = 1; SELECT a FROM t ORDER BY a;\n\\q\n"
    result = session(conn, keys)
    assert result.out.index("INSERT 2") < result.out.index("UPDATE 1") < result.out.index("│ 3 │")


def test_errors_show_the_caret_and_no_traceback(conn):
    result = session(conn, "SELECT name\nFROM users WHERE age = = 1;\nSELECT 1 AS ok;\n\\q\n")
    assert "error: [QL101]" in result.err
    assert "(line 2, column" in result.err
    lines = result.err.splitlines()
    excerpt = next(i for i, line in enumerate(lines) if line.startswith("  2 | "))
    assert lines[excerpt + 1].strip() == "^"
    assert "Traceback" not in result.err
    assert "│ ok │" in result.out  # the shell carries on


def test_a_bug_is_one_line_without_traceback(conn, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("queryleaf.connection.run_plan", broken)
    result = session(conn, "SELECT 1;\n\\q\n")
    assert "internal error: RuntimeError: boom" in result.err
    assert "Traceback" not in result.err


def test_ctrl_c_clears_the_input_and_ctrl_d_exits(conn):
    result = session(conn, "SELECT 'lost' AS x\x03SELECT 'kept' AS y;\n\x04")
    assert result.code == 0
    assert "kept" in result.out
    assert "lost" not in result.out


def test_ctrl_c_cancels_a_running_statement_and_the_shell_goes_on(conn, monkeypatch):
    from queryleaf import connection

    real = connection.run_plan
    calls = []

    def interrupted(plan, db):
        calls.append(plan)
        if len(calls) == 1:
            raise KeyboardInterrupt
        return real(plan, db)

    monkeypatch.setattr(connection, "run_plan", interrupted)
    result = session(conn, "SELECT 1 AS slow;\nSELECT 2 AS next;\n\\q\n")
    assert "cancelled" in result.err
    assert "slow" not in result.out
    assert "│ next │" in result.out


def test_command_line_params_bind_typed_statements(conn):
    result = session(conn, "SELECT name FROM users WHERE age > :min;\n\\q\n", params={"min": 80})
    assert "│ grace │" in result.out
    assert "alan" not in result.out


def test_missing_collection_is_noted(conn):
    result = session(conn, "SELECT * FROM userz;\nSELECT COUNT(*) FROM users;\n\\q\n")
    assert "(0 rows)" in result.out
    assert result.err.count("note:") == 1
    counted = session(conn, "SELECT COUNT(*) FROM userz u JOIN users v ON u.a = v.a;\n\\q\n")
    assert counted.err.count("note:") == 1
    note = "note: there is no collection userz in database queryleaf; did you mean users?"
    assert note in result.err
    assert note in counted.err


# --- completion ------------------------------------------------------------------------------


def test_completion_in_the_running_shell(conn):
    with create_pipe_input() as pipe:
        running = start(conn, pipe)
        running.shell.cache.refresh_now()
        _complete_in(running.shell, pipe, running.thread)
    assert "address.city" in running.out.getvalue()
    assert "│ London       │" in running.out.getvalue()


def _complete_in(shell, pipe, thread) -> None:
    buffer = shell.session.default_buffer

    def offered(text: str) -> list[str]:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            state = buffer.complete_state
            found = [c.text for c in state.completions] if state else []
            if text in found:
                return found
            time.sleep(0.01)
        return found

    thread.start()
    pipe.send_text("SELECT address.ci")
    assert offered("address.city") == ["address.city"]  # a nested field
    pipe.send_text("\t")
    pipe.send_text(" FROM us")
    assert offered("users") == ["users"]  # a collection
    pipe.send_text("\t ORDER BY name;\n\\q\n")
    thread.join(TIMEOUT)
    assert not thread.is_alive()


def test_the_cache_learns_new_collections_after_a_write(conn):
    with create_pipe_input() as pipe:
        running = start(conn, pipe)
        pipe.send_text("INSERT INTO orders (total, `item.sku`) VALUES (5, 'x');\n")
        running.thread.start()
        shell = running.shell
        # \q closes the cache, which may cut a refresh short: quit once this one is done.
        deadline = time.monotonic() + TIMEOUT
        while "orders" not in shell.cache.collections() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert shell.cache.wait(TIMEOUT)
        pipe.send_text("\\q\n")
        running.thread.join(TIMEOUT)
    assert "orders" in shell.cache.collections()
    assert "item.sku" in shell.cache.fields("orders")


# --- special commands ------------------------------------------------------------------------


def test_describe_collection_shows_fields_types_and_indexes(conn):
    conn.run_sql("INSERT INTO users (name, age) VALUES ('nobody', 'unknown')")
    conn.db.users.create_index("name", unique=True)
    result = session(conn, "\\d users\n\\q\n")
    assert 'Collection "users": 4 document(s), 4 sampled' in result.out
    assert re.search(r"│ address\.city │ string\s+│ 75%\s+│", result.out)
    assert re.search(r"│ age\s+│ int 75%, string 25%\s+│ 100%\s+│", result.out)
    assert re.search(r"│ name_1 │ name: 1 │ true\s+│", result.out)


def test_list_collections_indexes_and_views(conn):
    conn.run_sql("INSERT INTO orders (total) VALUES (1), (2)")
    result = session(conn, "\\dt\n\\di orders\n\\dv\n\\d nope\n\\q\n")
    assert re.search(r"│ orders\s+│\s+2 │", result.out)
    assert re.search(r"│ users\s+│\s+3 │", result.out)
    assert re.search(r"│ orders\s+│ _id_\s+│ _id: 1 │", result.out)
    assert "(0 rows)" in result.out  # no views on the embedded engine
    assert "no collection named 'nope'" in result.err


def test_help_and_unknown_command(conn):
    result = session(conn, "\\?\n\\dtt\n\\q\n")
    assert "\\fs NAME QUERY" in result.out
    assert "unknown command \\dtt; did you mean \\dt?" in result.err


def test_expanded_display_on_and_automatic(conn, monkeypatch):
    result = session(conn, "\\x on\nSELECT name, age FROM users WHERE age = 36;\n\\q\n")
    assert "[ RECORD 1 ]" in result.out
    assert re.search(r"name │ ada\nage  │ 36\n", result.out)
    monkeypatch.setenv("COLUMNS", "30")
    wide = "SELECT name, 'a rather long text that cannot fit' AS note FROM users WHERE age = 36;\n"
    assert "[ RECORD 1 ]" in session(conn, wide + "\\q\n").out
    assert "[ RECORD 1 ]" not in session(conn, "\\x off\n" + wide + "\\q\n").out


def test_timing_format_and_row_limit(conn):
    result = session(
        conn, "\\timing off\n\\format csv\nSELECT name FROM users ORDER BY name;\n\\q\n"
    )
    assert "name\nada\nalan\ngrace\n(3 rows)\n" in result.out
    assert "Time:" not in result.out
    limited = session(conn, "SELECT name FROM users ORDER BY name;\n\\q\n", Config(row_limit=2))
    assert "alan" in limited.out
    assert "grace" not in limited.out
    assert "(3 rows) - showing the first 2" in limited.out


def test_explain_toggle(conn):
    result = session(conn, "\\explain on\nDELETE FROM users;\n\\explain off\n\\q\n")
    assert '"delete": "users"' in result.out
    assert len(names(conn)) == 3  # explained, not run, and not asked about


def test_output_file_holds_exactly_what_batch_mode_prints(conn, tmp_path, capsys):
    target = tmp_path / "out.json"
    sql = "SELECT name, age FROM users ORDER BY age; SELECT COUNT(*) AS n FROM users;"
    result = session(conn, f"\\format json\n\\o {target}\n{sql}\n\\o\n\\q\n")
    assert "written to" in result.out
    code = cli.main(["--format", "json", "-e", USERS, "-e", sql])
    assert code == 0
    assert target.read_text() == capsys.readouterr().out


def test_include_runs_a_script_and_errors_name_the_file(conn, tmp_path):
    script = tmp_path / "setup.sql"
    script.write_text("INSERT INTO t (a) VALUES (1);\n\nSELECT a FROM t WHERE a = = 1;\n")
    result = session(conn, f"\\i {script}\n\\i {tmp_path / 'missing.sql'}\n\\q\n")
    assert "INSERT 1" in result.out
    assert f"{script}:3:" in result.err
    assert "cannot read" in result.err


def test_switch_database(conn):
    result = session(conn, "\\c other\nSELECT COUNT(*) AS n FROM users;\n\\c queryleaf\n\\q\n")
    assert "Database other." in result.out
    assert re.search(r"│ n │\n├───┤\n│ 0 │", result.out)


# --- safety ----------------------------------------------------------------------------------


def test_delete_without_where_asks_and_no_keeps_the_data(conn):
    result = session(conn, "DELETE FROM users;\nn\n\\q\n")
    assert "cancelled: the statement did not run" in result.err
    assert len(names(conn)) == 3
    assert "DELETE" not in result.out


def test_confirmed_delete_runs_and_filtered_writes_do_not_ask(conn):
    result = session(conn, "DELETE FROM users WHERE age > 80;\nUPDATE users SET age = 1;\ny\n\\q\n")
    assert "DELETE 1" in result.out
    assert "UPDATE 2" in result.out
    assert result.err == ""
    ages = conn.run_sql("SELECT DISTINCT age FROM users").rows
    assert ages == [{"age": 1}]


def test_declining_stops_the_rest_of_the_input(conn):
    session(
        conn,
        "INSERT INTO t (a) VALUES (1); DELETE FROM users; INSERT INTO t (a) VALUES (2);\nno\n\\q\n",
    )
    assert conn.run_sql("SELECT COUNT(*) FROM t").scalar() == 1
    assert len(names(conn)) == 3


def test_drop_asks_too(conn):
    result = session(conn, "DROP TABLE users;\nn\n\\q\n")
    assert "cancelled: the statement did not run" in result.err
    assert len(names(conn)) == 3


def test_destructive_list_comes_from_the_config(conn):
    session(conn, "DELETE FROM users;\n\\q\n", Config(destructive=("drop",)))
    assert names(conn) == []


def test_read_only_shell_refuses_writes(conn):
    keys = "INSERT INTO users (name) VALUES ('eve');\nSELECT COUNT(*) AS n FROM users;\nEXPLAIN DELETE FROM users;\n\\q\n"
    result = session(conn, keys, read_only=True)
    assert "[QL701] read-only mode: INSERT statements are refused" in result.err
    assert "│ 3 │" in result.out
    assert '"delete": "users"' in result.out
    assert len(names(conn)) == 3


def test_read_only_in_batch_mode_exits_1(capsys):
    code = cli.main(["--read-only", "-e", "SELECT 1 AS one; INSERT INTO t (a) VALUES (1)"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "│ one │" in out
    assert err.startswith(
        "<command-line>:1:18: [QL701] read-only mode: INSERT statements are refused"
    )
    code = cli.main(["--read-only", "-e", "INSERT INTO t (a) SELECT a FROM u"])
    assert code == 1
    assert "[QL701]" in capsys.readouterr().err
    assert cli.main(["--read-only", "-e", "EXPLAIN INSERT INTO t (a) VALUES (1)"]) == 0


# --- saved queries ---------------------------------------------------------------------------


def test_saved_query_with_parameters(conn, tmp_path):
    keys = (
        "\\fs older SELECT name FROM users WHERE age > :min ORDER BY name\n"
        "\\fs city SELECT name FROM users WHERE address.city = ? AND age > ?\n"
        "\\f older 40\n"
        "\\f city London 30\n"
        "\\f city London\n"
        "\\f\n"
        "\\q\n"
    )
    result = session(conn, keys)
    assert "Saved older with parameters min." in result.out
    older = result.out[result.out.index("> SELECT name FROM users WHERE age > :min") :]
    assert re.search(r"│ alan  │\n│ grace │\n└", older)
    assert "│ ada  │" in result.out[result.out.index("> SELECT name FROM users WHERE address") :]
    assert "needs 2 argument(s), got 1" in result.err
    stored = json.loads((tmp_path / "config" / "queryleaf" / "saved_queries.json").read_text())
    assert stored["older"] == "SELECT name FROM users WHERE age > :min ORDER BY name"
    again = session(conn, "\\f older min=80\n\\fd older\n\\f older\n\\q\n")
    assert "│ grace │" in again.out
    assert "no saved query named 'older'" in again.err


# --- config, history, command line -----------------------------------------------------------


def test_config_file_is_created_from_the_template_under_xdg_config_home(tmp_path):
    config = load_config()
    path = tmp_path / "config" / "queryleaf" / "config"
    assert config.path == path
    assert path.read_text() == TEMPLATE
    assert config == Config()
    assert config.history_path() == tmp_path / "data" / "queryleaf" / "history"


def test_every_config_key_is_in_the_template_and_documented(tmp_path):
    docs = (ROOT / "docs" / "shell.md").read_text()
    keys = [name for name in Config.__dataclass_fields__ if name not in {"path", "warnings"}]
    for key in keys:
        assert f"# {key} =" in TEMPLATE
        assert f"`{key}`" in docs


def test_the_template_with_every_key_uncommented_is_the_defaults(tmp_path):
    path = tmp_path / "all.ini"
    path.write_text(re.sub(r"^# (\w+ =.*)$", r"\1", TEMPLATE, flags=re.M))
    assert "\nformat = table\n" in path.read_text()
    config = load_config(path)
    assert config.warnings == []
    assert config == Config()


def test_config_values_and_warnings(tmp_path):
    path = tmp_path / "my.ini"
    path.write_text(
        "[main]\nformat = CSV\nrow_limit = 5\ntiming = off\ndestructive = drop, delete\n"
        "color_scheme = none\nexpanded = sideways\nbogus = 1\nhistory_file = ~/h\n"
    )
    config = load_config(path)
    assert config.format == "csv"
    assert config.row_limit == 5
    assert config.timing is False
    assert config.destructive == ("drop", "delete")
    assert config.expanded == "auto"
    assert config.history_path() == Path("~/h").expanduser()
    assert any("expanded" in warning for warning in config.warnings)
    assert any("bogus" in warning for warning in config.warnings)


def test_history_is_saved_and_bounded(conn, tmp_path):
    result = session(conn, "SELECT 1;\n\\q\n", history=None)
    history = tmp_path / "data" / "queryleaf" / "history"
    assert "+SELECT 1;" in history.read_text()
    assert result.err == ""
    bounded = BoundedFileHistory(tmp_path / "h", size=2)
    for text in ("one", "two", "three"):
        bounded.store_string(text)
    assert list(bounded.load_history_strings()) == ["three", "two"]
    assert "one" not in (tmp_path / "h").read_text()


def test_command_line_opens_the_shell_on_a_terminal(monkeypatch):
    seen = []
    monkeypatch.setattr(repl, "main", lambda args: seen.append(args) or 0)
    monkeypatch.setattr(sys, "stdin", _Terminal())
    assert cli.main(["--read-only", "--config", "x.ini", "--db", "shop"]) == 0
    assert seen[0].read_only and seen[0].config == "x.ini" and seen[0].db == "shop"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_spinner_appears_after_its_delay_on_a_terminal():
    stream = _Terminal()
    with Spinner(stream, delay=0.05):
        time.sleep(0.4)
    assert "running..." in stream.getvalue()
    quiet = _Terminal()
    with Spinner(quiet, delay=5):
        pass
    assert quiet.getvalue() == ""


# --- batch parity ----------------------------------------------------------------------------

PARITY_SQL = (
    "INSERT INTO t (a, b, `c.d`) VALUES (1, 'x', TRUE), (2, NULL, FALSE);\n"
    "SELECT a, b, c FROM t ORDER BY a;\n"
    "UPDATE t SET b = 'y' WHERE a = 2;\n"
    "SELECT COUNT(*) AS n, MAX(b) AS top FROM t;\n"
    "EXPLAIN SELECT a FROM t WHERE a > 1;\n"
)


@pytest.mark.parametrize("fmt", ["table", "csv", "json", "ndjson"])
def test_execute_file_and_stdin_print_the_same(fmt, tmp_path, capsys, monkeypatch):
    script = tmp_path / "script.sql"
    script.write_text(PARITY_SQL)
    outputs = []
    assert cli.main(["--format", fmt, "-e", PARITY_SQL]) == 0
    outputs.append(capsys.readouterr())
    assert cli.main(["--format", fmt, str(script)]) == 0
    outputs.append(capsys.readouterr())
    monkeypatch.setattr(sys, "stdin", io.StringIO(PARITY_SQL))
    assert cli.main(["--format", fmt]) == 0
    outputs.append(capsys.readouterr())
    assert outputs[0].out == outputs[1].out == outputs[2].out
    assert outputs[0].out.strip()
    assert [o.err for o in outputs] == ["", "", ""]


# --- a real terminal -------------------------------------------------------------------------


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs a Linux pty")
def test_shell_in_a_pseudo_terminal(tmp_path):
    import fcntl
    import struct
    import termios

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    env = {
        **os.environ,
        "PROMPT_TOOLKIT_NO_CPR": "1",
        "TERM": "xterm",
        "PYTHONPATH": str(ROOT),
        "NO_COLOR": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "queryleaf.shell.cli", "--config", str(tmp_path / "c.ini")],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    os.close(slave)
    seen = b""

    def read_until(marker: bytes) -> None:
        nonlocal seen
        deadline = time.monotonic() + 15
        while marker not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
        assert marker in seen, seen.decode(errors="replace")

    try:
        read_until(b"queryleaf>")
        os.write(master, b"SELECT 6 * 7\r")
        time.sleep(0.2)
        os.write(master, b"  AS answer;\r")
        read_until(b"(1 row)")
        os.write(master, b"\\q\r")
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
    text = seen.decode(errors="replace")
    assert "embedded engine" in text
    assert "answer" in text
    assert "42" in text
    assert "Traceback" not in text


# --- smaller pieces ----------------------------------------------------------------------------


def test_plain_words_quit_and_help_run_on_enter(conn):
    result = session(conn, "help\nquit\n")
    assert result.code == 0
    assert "Special commands:" in result.out


def test_config_warnings_are_shown_at_start(conn):
    result = session(conn, "\\q\n", Config(warnings=["my.ini: unknown key 'bogus' ignored"]))
    assert "my.ini: unknown key 'bogus' ignored" in result.err


def test_edit_puts_the_edited_query_back_at_the_prompt(conn, monkeypatch):
    monkeypatch.setenv("EDITOR", "sed -i s/41/42/")
    result = session(conn, "SELECT 41 AS x;\n\\e\n\nSELECT 41 AS y \\e\n;\n\\q\n")
    assert re.search(r"│\s+x │\n├────┤\n│ 41 │", result.out)
    assert re.search(r"│\s+x │\n├────┤\n│ 42 │", result.out)
    assert re.search(r"│\s+y │\n├────┤\n│ 42 │", result.out)
    assert result.err == ""


def test_pager_receives_the_text(tmp_path):
    from queryleaf.shell.output import page

    target = tmp_path / "paged.txt"
    assert page("a long table\n", f"cat > {target}")
    assert target.read_text() == "a long table\n"
    assert not page("text", "no-such-pager-command-anywhere")


def test_banner_for_a_server_hides_the_password_and_reads_hello():
    from queryleaf.shell.describe import describe_backend

    class FakeDb:
        def __init__(self, hello):
            self.hello = hello

        def command(self, name):
            return self.hello if name == "hello" else {"version": "7.0.4"}

    class FakeConn:
        backend = "mongodb"

        def __init__(self, hello):
            self.db = FakeDb(hello)

    uri = "mongodb://ada:s3cret@db.example:27017/"
    backend, streams = describe_backend(FakeConn({"setName": "rs0"}), uri)
    assert backend == "MongoDB 7.0.4 at mongodb://ada:***@db.example:27017/"
    assert "s3cret" not in backend
    assert streams == "available (replica set rs0)"
    assert "standalone" in describe_backend(FakeConn({}), uri)[1]
    assert "sharded" in describe_backend(FakeConn({"msg": "isdbgrid"}), uri)[1]


def test_highlighting_knows_the_dialect_words():
    from pygments.token import Keyword, Name

    from queryleaf.shell.highlight import QueryLeafLexer

    sql = "select * from CHANGE_STREAM_EVENTS() where x = :since EMIT CHANGES\n\\dt users"
    tokens = [(kind, text) for kind, text in QueryLeafLexer().get_tokens(sql) if text.strip()]
    assert (Keyword, "select") in tokens
    assert (Keyword, "CHANGE_STREAM_EVENTS") in tokens
    assert (Keyword, "EMIT CHANGES") in tokens
    assert (Name.Variable, ":since") in tokens
    assert (Keyword.Pseudo, "\\dt") in tokens
    fields = list(QueryLeafLexer().get_tokens("SELECT name, status, COUNT(*) FROM t"))
    assert (Name, "name") in fields  # MySQL's non-reserved words are field names here
    assert (Name, "status") in fields
    assert (Name.Function, "COUNT") in fields
    for word in (
        "EVENT_SUBSCRIPTION",
        "EVENT_SUBSCRIPTIONS",
        "ACTIVE_CHANGE_STREAMS",
        "DEAD_LETTER_EVENTS",
    ):
        assert (Keyword, word) in [(k, t) for k, t in QueryLeafLexer().get_tokens(f"x {word} y")]


def test_shell_takes_uri_and_database_from_the_config(tmp_path, monkeypatch, capsys):
    path = tmp_path / "c.ini"
    path.write_text("[main]\ndatabase = shop\n")
    seen = []
    monkeypatch.setattr(Repl, "run", lambda self, banner=None: seen.append((self, banner)) or 0)
    parser = cli.build_parser()
    assert repl.main(parser.parse_args(["--config", str(path)])) == 0
    assert seen[-1][0].conn.db.name == "shop"
    assert "database shop" in seen[-1][1]
    options = ["--db", "other", "--read-only", "--format", "csv", "--param", "n=5"]
    assert repl.main(parser.parse_args(["--config", str(path), *options])) == 0
    shell = seen[-1][0]
    assert shell.conn.db.name == "other"
    assert shell.settings.read_only
    assert shell.settings.format == "csv"
    assert shell.params == {"n": 5}
    path.write_text("[main]\nuri = http://ada:s3cret@host/\n")
    assert repl.main(parser.parse_args(["--config", str(path)])) == 1
    err = capsys.readouterr().err
    assert "ada:***@host" in err
    assert "s3cret" not in err


def test_a_refresh_after_a_write_samples_only_the_collections_written(conn):
    from queryleaf.shell.schema_cache import SchemaCache

    conn.run_sql("INSERT INTO orders (total) VALUES (1)")
    cache = SchemaCache(lambda: conn.db, sample_size=10)
    cache.refresh_now()
    conn.db.users.insert_one({"name": "eve", "nickname": "e"})
    conn.db.orders.insert_one({"total": 2, "coupon": "X"})
    conn.db.logs.insert_one({"level": "info"})
    cache.refresh(["orders"])
    assert cache.wait(TIMEOUT)
    assert "coupon" in cache.fields("orders")
    assert "nickname" not in cache.fields("users")  # not written: kept from the last sample
    assert set(cache.fields("logs")) == {"level", "_id"}  # a new collection is always sampled
    cache.refresh()
    assert cache.wait(TIMEOUT)
    assert "nickname" in cache.fields("users")
    cache.close()


def test_list_subscriptions_with_status(conn):
    conn.run_sql("CREATE EVENT_SUBSCRIPTION order_events AS (service_name = 'billing')")
    conn.run_sql("CREATE EVENT_SUBSCRIPTION audit AS (service_name = 'audit')")
    conn.run_sql("PAUSE EVENT_SUBSCRIPTION audit")
    result = session(conn, "\\ds\n\\ds audit\n\\q\n")
    # Wide rows show expanded: one field per line.
    assert re.search(r"name\s+│ audit\nservice_name\s+│ audit\nstatus\s+│ paused", result.out)
    assert re.search(
        r"name\s+│ order_events\nservice_name\s+│ billing\nstatus\s+│ active", result.out
    )
    assert "(2 rows)" in result.out and "(1 row)" in result.out


def test_a_live_query_streams_rows_written_by_another_thread(conn):
    def writes() -> None:
        # Write once the live query's stream is open (it registers itself), not after a guess.
        deadline = time.monotonic() + 10
        while conn.db.active_change_streams.count_documents({}) == 0:
            if time.monotonic() > deadline:
                return
            time.sleep(0.02)
        conn.db.orders.insert_one({"_id": 7, "total": 70})

    thread = threading.Thread(target=writes, daemon=True)
    thread.start()
    result = session(
        conn,
        "SELECT event_type, document_key FROM CHANGE_STREAM_EVENTS('orders') EMIT CHANGES LIMIT 1;\n"
        "\\q\n",
    )
    thread.join()
    assert "event_type: insert  document_key: 7" in result.out
    assert "(1 row)" in result.out


def test_discarding_dead_letters_asks_first(conn):
    conn.run_sql("CREATE EVENT_SUBSCRIPTION s AS (subscription_id = 'sid')")
    conn.db.dead_letter_events.insert_one({"subscription_id": "sid"})
    result = session(conn, "DISCARD DEAD_LETTER_EVENTS FOR s;\nn\n\\q\n")
    assert "cancelled: the statement did not run" in result.err
    assert conn.db.dead_letter_events.count_documents({}) == 1
