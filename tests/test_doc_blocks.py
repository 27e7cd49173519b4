"""Every command block of README.md and docs/ runs as written (see tests/doc_blocks.py for
what a block is and how each kind runs), so the documentation stays true."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from prompt_toolkit.input import create_pipe_input

import queryleaf
from tests.doc_blocks import (
    ROOT,
    Block,
    all_blocks,
    console_script,
    missing_lines,
    normalise,
    shell_inputs,
)
from tests.shell_env import isolate
from tests.test_repl import start

BIN = Path(sys.executable).parent  # .venv/bin under `make test`: where `queryleaf` is
BLOCKS = all_blocks()
MOST_SKIPPED = 4  # blocks that cannot run unattended: keep the list short


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    environment = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "NO_COLOR": "1",
    }
    for name in ("COLUMNS", "QUERYLEAF_DEBUG", "MAKEFLAGS", "MAKELEVEL"):
        environment.pop(name, None)
    return environment


def _runnable(block: Block) -> None:
    if block.marker == "skip":
        pytest.skip(f"marked: {block.argument}")
    if block.marker == "needs" and importlib.util.find_spec(block.argument) is None:
        pytest.skip(f"needs {block.argument}, not built yet")


def _run(args: list[str], cwd: Path, env: dict[str, str], stdin: str | None = None):
    """The command's result, stderr merged into stdout in the order they were written."""
    return subprocess.run(
        args,
        cwd=cwd,
        env=env,
        input=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
    )


def test_the_blocks_are_found_and_the_skipped_ones_say_why():
    files = {block.path for block in BLOCKS}
    assert {"README.md", "docs/cli.md", "docs/shell.md"} <= files
    assert {block.language for block in BLOCKS} == {"sh", "console", "python", "sql"}
    skipped = [block for block in BLOCKS if block.marker == "skip"]
    assert all(len(block.argument) > 10 for block in skipped), skipped
    assert len(skipped) <= MOST_SKIPPED, [block.id for block in skipped]


@pytest.mark.parametrize(
    "block", [b for b in BLOCKS if b.language == "sh"], ids=lambda block: block.id
)
def test_sh_block(block, env):
    _runnable(block)
    for line in block.text.splitlines():
        command = line.split(" #", 1)[0].strip()
        if not command or command.startswith("#"):
            continue
        if command.startswith("make "):
            args = ["make", "-n", *command.split()[1:]]
            done = _run(args, ROOT, env)
        else:
            done = _run(["bash", "-c", command], ROOT, env, stdin="")
        assert done.returncode == 0, f"{block.id}: {command}\n{done.stdout}"


@pytest.mark.parametrize(
    "block", [b for b in BLOCKS if b.language == "python"], ids=lambda block: block.id
)
def test_python_block(block, env, tmp_path):
    _runnable(block)
    script = tmp_path / "block.py"
    script.write_text(block.text, encoding="utf-8")
    done = _run([sys.executable, str(script)], tmp_path, env)
    assert done.returncode == 0, f"{block.id}\n{done.stdout}"


@pytest.mark.parametrize(
    "block", [b for b in BLOCKS if b.language == "sql"], ids=lambda block: block.id
)
def test_sql_block(block, env, tmp_path):
    _runnable(block)
    done = _run(["queryleaf", "--timeout", "2", "-"], tmp_path, env, stdin=block.text)
    assert done.returncode == 0, f"{block.id}\n{done.stdout}"
    assert "error" not in done.stdout.lower(), f"{block.id}\n{done.stdout}"


@pytest.mark.parametrize(
    "block",
    [b for b in BLOCKS if b.language == "console" and not b.is_shell_transcript],
    ids=lambda block: block.id,
)
def test_console_block(block, env, tmp_path):
    _runnable(block)
    script, expected = console_script(block)
    done = _run(["bash", "-c", script], tmp_path, {**env, "COLUMNS": "100"}, stdin="")
    actual = normalise(done.stdout.splitlines())
    missing = missing_lines(expected, actual)
    assert not missing, (
        f"{block.id}: not printed:\n" + "\n".join(missing) + "\n--- got:\n" + ("\n".join(actual))
    )
    if not any("[QL" in line for line in expected):  # a transcript that shows no error
        assert done.returncode == 0, f"{block.id}\n{done.stdout}"


@pytest.mark.parametrize(
    "block",
    [b for b in BLOCKS if b.is_shell_transcript],
    ids=lambda block: block.id,
)
def test_shell_transcript(block, monkeypatch, tmp_path):
    """The statements of a shell session in the docs, typed into a real shell (the
    prompt-toolkit application, through its pipe input) on a fresh embedded engine, print
    what the transcript shows."""
    _runnable(block)
    isolate(tmp_path, monkeypatch)
    keys, expected = shell_inputs(block)
    with queryleaf.connect() as conn, create_pipe_input() as pipe:
        running = start(conn, pipe)
        out, err, thread = running.out, running.err, running.thread
        pipe.send_text(keys + "\\q\n")
        thread.start()
        thread.join(30)
        assert not thread.is_alive(), out.getvalue() + err.getvalue()
    actual = normalise((out.getvalue() + err.getvalue()).splitlines())
    missing = missing_lines(expected, actual)
    assert not missing, (
        f"{block.id}: not printed:\n" + "\n".join(missing) + "\n--- got:\n" + ("\n".join(actual))
    )
