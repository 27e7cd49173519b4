"""The first hour of a new user, in the shell and the command line: the live query's status
line and the embedded engine's note, subscriptions that say whether they run, the guards,
the prompt's new lines and pop-up, batch output of wide rows, floats, the `_id_` index and a
server that cannot be reached. The shell runs as tests/test_repl.py drives it (prompt-toolkit's
pipe input), and once in a real pseudo-terminal for the whole first hour."""

from __future__ import annotations

import os
import re
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from queryleaf.shell.cli import main
from queryleaf.shell.completion import ShellCompleter
from tests import test_repl
from tests.test_repl import USERS, names, session

ROOT = Path(__file__).resolve().parent.parent
LIVE = "SELECT event_type, document_key FROM CHANGE_STREAM_EVENTS('orders') EMIT CHANGES LIMIT 1"

# The shell's isolation (autouse) and its `conn` with USERS loaded, shared with test_repl.py.
_isolated = test_repl._isolated
conn = test_repl.conn


# --- live queries ----------------------------------------------------------------------------


def test_a_live_query_after_a_write_on_the_same_line_sees_it_with_a_status_line(conn):
    result = session(conn, f"INSERT INTO orders (_id, total) VALUES (7, 70); {LIVE};\n\\q\n")
    assert "event_type: insert  document_key: 7" in result.out
    assert "(1 row)" in result.out
    assert "waiting for changes on orders · 0 events · Ctrl-C stops" in result.err
    assert re.search(r"live query on orders ended: 1 event in \d+\.\d s", result.err)
    # The status line comes first, before any event.
    assert result.err.index("0 events") < result.err.index("ended: 1 event")


def test_the_embedded_engine_says_once_that_other_processes_cannot_write_to_it(conn):
    keys = f"INSERT INTO orders (_id) VALUES (1); {LIVE};\nINSERT INTO orders (_id) VALUES (2); {LIVE};\n\\q\n"
    result = session(conn, keys)
    notes = [line for line in result.err.splitlines() if line.startswith("note: the embedded")]
    assert len(notes) == 1
    assert "only statements run here change it" in notes[0]
    assert "--uri" in notes[0]
    from importlib.util import find_spec

    # The note names `queryleaf serve` exactly when this build has it.
    assert ("queryleaf serve" in notes[0]) == (find_spec("queryleaf.server") is not None)


def test_a_live_query_on_a_server_has_no_embedded_note(conn, monkeypatch):
    from queryleaf.shell import repl

    monkeypatch.setattr(repl, "describe_backend", lambda conn, uri: ("MongoDB 8.0", "available"))
    monkeypatch.setattr(conn, "backend", "mongodb")
    result = session(conn, f"INSERT INTO orders (_id) VALUES (1); {LIVE};\n\\q\n")
    assert "note: the embedded" not in result.err
    assert "waiting for changes on orders" in result.err


# --- subscriptions ---------------------------------------------------------------------------


def test_create_says_not_started_and_list_shows_running(conn):
    result = session(
        conn,
        "CREATE EVENT_SUBSCRIPTION billing AS (watch_collections = JSON_ARRAY('orders'));\n"
        "\\ds billing\nSTART EVENT_SUBSCRIPTION billing;\n\\ds billing\n\\q\n",
    )
    assert (
        "billing: created, not started here (START EVENT_SUBSCRIPTION billing, or run queryleaf worker)"
        in result.out
    )
    first, second = re.findall(r"running\s+│ (\w+)\nrunning_on\s+│ (.*)\n", result.out)
    assert first == ("false", "NULL")
    assert second == ("true", f"{socket.gethostname()}:{os.getpid()}")


def test_a_table_function_is_not_taken_for_a_missing_collection(conn):
    result = session(conn, "SELECT name FROM EVENT_SUBSCRIPTIONS();\nSELECT a FROM nothere;\n\\q\n")
    assert "EVENT_SUBSCRIPTIONS" not in result.err
    assert "there is no collection nothere" in result.err


# --- guards ----------------------------------------------------------------------------------


def test_a_where_that_matches_every_document_asks_first(conn):
    from queryleaf.parse.split import split_statements
    from queryleaf.shell.config import Config
    from queryleaf.shell.safety import destructive_reason

    (statement,) = split_statements("DELETE FROM users WHERE age > 0 OR age IS NULL")
    reason = destructive_reason(conn, statement, None, Config().destructive)
    assert reason == "DELETE deletes every document in users: all 3 match its WHERE."
    result = session(conn, "DELETE FROM users WHERE age > 0 OR age IS NULL;\nn\n\\q\n")
    assert "cancelled: the statement did not run" in result.err
    assert len(names(conn)) == 3
    result = session(conn, "UPDATE users SET age = 1 WHERE name IS NOT NULL;\nn\n\\q\n")
    assert "cancelled: the statement did not run" in result.err
    assert conn.run_sql("SELECT COUNT(*) FROM users WHERE age = 1").scalar() == 0


def test_a_where_that_matches_some_documents_or_an_empty_collection_does_not_ask(conn):
    result = session(
        conn, "DELETE FROM users WHERE age > 40;\nDELETE FROM empty WHERE a = 1;\n\\q\n"
    )
    assert result.err == ""
    assert "DELETE 2" in result.out and "DELETE 0" in result.out
    assert names(conn) == ["ada"]


def test_truncate_asks_and_runs_when_confirmed(conn):
    result = session(conn, "TRUNCATE TABLE users;\nn\n\\q\n")
    assert "cancelled: the statement did not run" in result.err
    assert len(names(conn)) == 3
    result = session(conn, "TRUNCATE TABLE users;\ny\n\\q\n")
    assert "DELETE 3" in result.out
    assert names(conn) == []


def test_altering_a_subscription_that_does_not_exist_fails_without_asking(conn):
    result = session(conn, "ALTER EVENT_SUBSCRIPTION nope SET (batch_size = 5);\n\\q\n")
    assert "[QL322] event subscription nope does not exist" in result.err
    assert "Run it?" not in result.out + result.err
    assert "cancelled" not in result.err


# --- the prompt ------------------------------------------------------------------------------


def test_continuation_lines_do_not_pile_up_indentation(conn):
    result = session(conn, "SELECT name\n    FROM users\n    WHERE age > 80;\n\\q\n")
    assert "│ grace │" in result.out
    statement = result.shell._last_query
    assert statement == "SELECT name\n    FROM users\n    WHERE age > 80;"


def _completions(text: str, requested: bool) -> list[str]:
    completer = ShellCompleter(
        lambda: ["users"], lambda name: ["name", "age"], lambda: [], lambda c, w: []
    )
    event = CompleteEvent(text_inserted=not requested, completion_requested=requested)
    return [c.text for c in completer.get_completions(Document(text), event)]


@pytest.mark.parametrize(
    "text", ["SELECT name\n", "SELECT name FROM users\n  ", "SELECT 1;", "SELECT 1; "]
)
def test_no_pop_up_on_empty_lines_or_after_a_semicolon(text):
    assert _completions(text, requested=False) == []
    assert _completions(text, requested=True)  # Tab still lists what fits


def test_the_pop_up_still_opens_on_a_word():
    assert "users" in _completions("SELECT name FROM us", requested=False)


# --- \d --------------------------------------------------------------------------------------


def test_describe_shows_the_id_index_as_unique(conn):
    result = session(conn, "\\di users\n\\q\n")
    assert re.search(r"│ users\s+│ _id_\s+│ _id: 1 │ true\s+│", result.out), result.out


# --- batch output ----------------------------------------------------------------------------


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_wide_row_prints_vertically_in_batch_mode(capsys, monkeypatch):
    monkeypatch.delenv("COLUMNS")
    columns = ", ".join(f"{n} AS column_number_{n}" for n in range(12))
    code, out, _ = _run(capsys, "-e", f"SELECT {columns}")
    assert code == 0
    assert out.startswith("─[ RECORD 1 ]")
    assert "column_number_11 │ 11" in out
    assert max(len(line) for line in out.splitlines()) <= 100
    code, out, _ = _run(capsys, "-e", "SELECT 1 AS a, 2 AS b")
    assert out.startswith("┌───┬───┐")  # a narrow table stays a table


def test_long_cells_are_cut_with_a_marker_unless_max_width_says_otherwise(capsys):
    text = "x" * 200
    code, out, _ = _run(capsys, "-e", f"SELECT '{text}' AS long, 1 AS n")
    assert code == 0
    assert "x" * 59 + "…" in out and text not in out
    code, out, _ = _run(capsys, "--max-width", "20", "-e", f"SELECT '{text}' AS long")
    assert "x" * 19 + "…" in out and "x" * 20 not in out
    code, out, _ = _run(
        capsys, "--max-width", "0", "--format", "csv", "-e", f"SELECT '{text}' AS a"
    )
    assert text in out
    code, out, _ = _run(capsys, "--format", "json", "-e", f"SELECT '{text}' AS a")
    assert text in out  # machine formats are never cut


def test_floats_print_without_binary_noise_in_tables_and_exactly_in_csv(capsys):
    sql = "SELECT 0.1E0 + 0.2E0 AS f, 98.876875E0 + 0.00000000000001E0 AS g, 1E0 / 3 AS h"
    code, out, _ = _run(capsys, "-e", sql)
    assert code == 0
    assert re.search(r"│ 0\.3 │", out), out
    assert "0.30000000000000004" not in out
    assert "0.3333333333333333" in out  # every digit counts there: kept
    _, out, _ = _run(capsys, "--format", "csv", "-e", sql)
    assert "0.30000000000000004" in out


def test_an_unreachable_server_is_one_line_with_a_hint_and_no_caret(capsys):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    code, _, err = _run(capsys, "--uri", f"mongodb://127.0.0.1:{port}", "-e", "SELECT 1 AS one")
    assert time.monotonic() - started < 3.0
    assert code == 1
    lines = err.splitlines()
    assert lines[0].startswith(
        f"<command-line>: [QL603] cannot reach MongoDB at 127.0.0.1:{port}: "
    )
    assert lines[1].startswith("hint: check the host and port in the URI")
    assert "^" not in err and "EXPLAIN" not in err
    assert len(lines) == 2


# --- the first hour, in a real terminal ------------------------------------------------------


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs a Linux pty")
def test_the_first_hour_in_a_pseudo_terminal(tmp_path):
    """The shell a new user opens: a query, a live query that sees the write before it on
    the same line, a subscription that says it is not started, then runs."""
    import fcntl
    import struct
    import termios

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {
        **os.environ,
        "PROMPT_TOOLKIT_NO_CPR": "1",
        "TERM": "xterm",
        "PYTHONPATH": str(ROOT),
        "NO_COLOR": "1",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "queryleaf.shell.cli"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=tmp_path,
        start_new_session=True,
    )
    os.close(slave)
    seen = b""

    def read_until(marker: bytes, seconds: float = 20) -> None:
        """Read until `marker` appears in what the shell printed since the last input."""
        nonlocal seen
        start = len(seen)
        deadline = time.monotonic() + seconds
        while marker not in seen[start:] and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
        assert marker in seen[start:], seen.decode(errors="replace")

    def type_line(text: str, until: bytes) -> None:
        nonlocal seen
        seen += b"\n<typed>\n"  # what follows this mark answers this input
        os.write(master, text.encode() + b"\r")
        read_until(until)

    try:
        read_until(b"queryleaf>")
        type_line(f"{USERS};", b"INSERT 3")
        type_line("SELECT name FROM users WHERE age > 40 ORDER BY name;", b"(2 rows)")
        type_line(
            f"INSERT INTO orders (_id, total) VALUES (1, 250); {LIVE};",
            b"ended: 1 event",
        )
        type_line(
            "CREATE EVENT_SUBSCRIPTION billing AS (watch_collections = JSON_ARRAY('orders'));",
            b"created, not started here (START EVENT_SUBSCRIPTION billing, or run queryleaf worker)",
        )
        type_line("START EVENT_SUBSCRIPTION billing;", b"START EVENT_SUBSCRIPTION 1")
        type_line("SELECT name, running FROM EVENT_SUBSCRIPTIONS();", b"(1 row)")
        os.write(master, b"\\q\r")
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
    text = seen.decode(errors="replace")
    assert "waiting for changes on orders · 0 events · Ctrl-C stops" in text
    assert "event_type: insert  document_key: 1" in text
    assert "note: the embedded engine lives inside this shell" in text
    assert re.search(r"│ billing │ true\s+│", text), text
    assert "Traceback" not in text
