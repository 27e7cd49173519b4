"""`\\i FILE` and `\\ir FILE` in scripts run by the CLI: the included script runs in place,
`\\ir` relative to the including script, `\\i` to the working directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from queryleaf.shell import cli
from queryleaf.shell.script_includes import IncludeError, expand


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_included_scripts_run_in_place(tmp_path, monkeypatch, capsys) -> None:
    write(tmp_path / "lib" / "seed.sql", "INSERT INTO t (a) VALUES (2);\n\\ir more.sql\n")
    write(tmp_path / "lib" / "more.sql", "INSERT INTO t (a) VALUES (3);\n")
    write(tmp_path / "top.sql", "SELECT 1 AS one;\n")
    main = write(
        tmp_path / "scripts" / "main.sql",
        "INSERT INTO t (a) VALUES (1);\n\\ir ../lib/seed.sql\n\\i top.sql;\n"
        "SELECT GROUP_CONCAT(a ORDER BY a) AS a FROM t;\n",
    )
    monkeypatch.chdir(tmp_path)  # \i top.sql: from the working directory
    assert cli.main([str(main), "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert "one\n1\n" in out
    assert 'a\n"1,2,3"\n' in out or "a\n1,2,3\n" in out


def test_an_error_in_an_included_script_names_its_file_and_line(tmp_path, capsys) -> None:
    write(tmp_path / "bad.sql", "SELECT 1;\nSELECT nope(1);\n")
    main = write(tmp_path / "main.sql", "SELECT 0;\n\\ir bad.sql\nSELECT 2;\n")
    assert cli.main([str(main)]) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert "bad.sql:2:8" in err
    # Lines after an include keep their numbers in the including script.
    parts = expand(str(main), main.read_text())
    assert [name.endswith("bad.sql") for name, _ in parts] == [False, True, False]
    assert parts[2][1].count("\n") == 3 and parts[2][1].strip() == "SELECT 2;"


def test_a_missing_or_looping_include_runs_nothing(tmp_path, capsys) -> None:
    main = write(tmp_path / "main.sql", "INSERT INTO t (a) VALUES (1);\n\\ir nowhere.sql\n")
    assert cli.main([str(main)]) == cli.EXIT_USAGE
    assert "main.sql:2: cannot read nowhere.sql" in capsys.readouterr().err
    write(tmp_path / "a.sql", "\\ir b.sql\n")
    write(tmp_path / "b.sql", "\\ir a.sql\n")
    with pytest.raises(IncludeError, match="includes a script that includes it"):
        expand(str(tmp_path / "a.sql"), "\\ir b.sql\n")


def test_an_include_line_inside_a_string_or_comment_is_text(tmp_path) -> None:
    text = "SELECT 'a\n\\i x.sql\n' AS s;\n/*\n\\i y.sql\n*/ SELECT 1;\n"
    assert expand(str(tmp_path / "m.sql"), text) == [(str(tmp_path / "m.sql"), text)]


def test_the_showcase_includes_the_seed_instead_of_repeating_it() -> None:
    folder = Path(__file__).parents[1] / "examples" / "microservices"
    showcase = (folder / "showcase.sql").read_text(encoding="utf-8")
    for name in ["seed/user_service_events.sql", "seed/correlation_query.sql",
                 "seed/dashboard_view.sql", "monitoring_query_corrected.sql"]:  # fmt: skip
        assert f"\\ir {name}" in showcase
        assert (folder / name).read_text(encoding="utf-8").strip() not in showcase


def test_the_shell_follows_includes_of_a_script(tmp_path) -> None:
    import queryleaf
    from tests.test_repl import session

    write(tmp_path / "seed" / "rows.sql", "INSERT INTO t (a) VALUES (41);\n")
    main = write(tmp_path / "main.sql", "\\ir seed/rows.sql\nSELECT a + 1 AS b FROM t;\n")
    with queryleaf.connect() as conn:
        result = session(conn, f"\\i {main}\n\\q\n")
        assert "│ 42 │" in result.out
