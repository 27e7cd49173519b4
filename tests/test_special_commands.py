"""The backslash-command registry: one declaration per command feeds help, completion,
alias lookup and "did you mean"."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from queryleaf.shell.special_commands import REGISTRY, CommandError, Quit, Registry

EXPECTED = {
    "\\?", "\\dt", "\\d", "\\di", "\\dv", "\\x", "\\timing", "\\format", "\\o", "\\i", "\\e",
    "\\f", "\\fs", "\\fd", "\\explain", "\\q", "\\refresh", "\\c", "\\ds",
}  # fmt: skip
ARG_KINDS = {"none", "text", "collection", "file", "format", "saved", "database", "subscription"}


def test_the_commands_the_shell_promises_are_registered():
    assert {command.name for command in REGISTRY} >= EXPECTED


def test_help_lists_every_command_with_its_help():
    text = REGISTRY.help_text()
    for command in REGISTRY:
        starts = re.compile(rf"\s*{re.escape(command.usage)}(\s|$)")
        line = next(line for line in text.splitlines() if starts.match(line))
        assert command.help in line
        for alias in command.aliases:
            if alias.startswith("\\"):
                assert alias in line


def test_every_command_declares_help_and_a_known_argument_style():
    for command in REGISTRY:
        assert command.help
        assert command.arg_kind in ARG_KINDS or re.fullmatch(r"choice:\w+(,\w+)+", command.arg_kind)


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("\\h", "\\?"),
        ("help", "\\?"),
        ("\\quit", "\\q"),
        ("quit", "\\q"),
        ("exit", "\\q"),
        ("EXIT", "\\q"),
        ("\\connect", "\\c"),
        ("\\#", "\\refresh"),
    ],
)
def test_aliases_resolve(alias, name):
    assert REGISTRY.resolve(alias) is REGISTRY.resolve(name)


def test_unknown_command_gets_a_suggestion():
    with pytest.raises(CommandError, match=r"unknown command \\frmat; did you mean \\format\?"):
        REGISTRY.execute(SimpleNamespace(), "\\frmat json")
    with pytest.raises(CommandError, match=r"\\\? lists the commands"):
        REGISTRY.execute(SimpleNamespace(), "\\zzzzzz")


def test_is_command():
    assert REGISTRY.is_command("\\dt")
    assert REGISTRY.is_command("  quit")
    assert REGISTRY.is_command("exit;")
    assert REGISTRY.is_command("\\nonsense")  # a command, if an unknown one
    assert not REGISTRY.is_command("SELECT 1;")
    assert not REGISTRY.is_command("quitting;")


def test_completion_names_include_backslash_aliases_only():
    names = dict(REGISTRY.completion_names())
    assert names["\\dt"] == REGISTRY.resolve("\\dt").help
    assert "\\quit" in names
    assert "quit" not in names


def test_execute_passes_the_argument_and_drops_a_trailing_semicolon():
    registry = Registry()
    seen = []

    @registry.command("\\echo", "\\say", args="TEXT", help="say it")
    def _echo(shell, argument):
        seen.append(argument)

    @registry.command("\\keep", args="SQL", arg_kind="text", help="keep text as it is")
    def _keep(shell, argument):
        seen.append(argument)

    registry.execute(None, "\\echo  hello world ;")
    registry.execute(None, "\\say;")
    registry.execute(None, "\\keep SELECT 1;")
    assert seen == ["hello world", "", "SELECT 1;"]


def test_a_name_cannot_be_declared_twice():
    registry = Registry()
    registry.command("\\a", help="first")(lambda shell, argument: None)
    with pytest.raises(ValueError, match="declared twice"):
        registry.command("\\b", "\\a", help="second")(lambda shell, argument: None)


def test_toggles_and_settings_through_the_registry():
    messages = []
    settings = SimpleNamespace(expanded="auto", timing=True, format="table", explain=False)
    shell = SimpleNamespace(settings=settings, message=messages.append)
    REGISTRY.execute(shell, "\\x")
    assert settings.expanded == "on"
    REGISTRY.execute(shell, "\\x")
    assert settings.expanded == "off"
    REGISTRY.execute(shell, "\\x auto")
    assert settings.expanded == "auto"
    REGISTRY.execute(shell, "\\timing")
    assert settings.timing is False
    REGISTRY.execute(shell, "\\timing on")
    assert settings.timing is True
    REGISTRY.execute(shell, "\\format CSV")
    assert settings.format == "csv"
    REGISTRY.execute(shell, "\\explain")
    assert settings.explain is True
    with pytest.raises(CommandError, match="unknown format"):
        REGISTRY.execute(shell, "\\format xml")
    with pytest.raises(CommandError, match="on, off or auto"):
        REGISTRY.execute(shell, "\\x sideways")
    assert messages[0] == "Expanded display is on."


def test_quit_raises_quit():
    with pytest.raises(Quit):
        REGISTRY.execute(SimpleNamespace(), "\\q")


def test_every_command_is_documented():
    from pathlib import Path

    docs = (Path(__file__).resolve().parent.parent / "docs" / "shell.md").read_text()
    for command in REGISTRY:
        assert f"`{command.name}" in docs, command.name
