"""Context-aware completion.

`suggest(text, cursor)` is a pure function from the input and the cursor position to the
kinds of names that fit there (keywords, functions, collections, field paths of the
collections in scope, aliases, special commands); it knows nothing about the database, so
it is unit-tested on strings. `ShellCompleter` turns a suggestion into prompt-toolkit
completions with names from the background SchemaCache, so completing never waits on the
database."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

from queryleaf.plan.functions import KNOWN_NAMES
from queryleaf.shell.sqltext import Token, code_tokens, current_statement, tokenize, unquote

STATEMENT_KEYWORDS = ("SELECT", "INSERT INTO", "UPDATE", "DELETE FROM", "EXPLAIN")
# Only what queryleaf runs today; the change-stream words join when their statements do
# (highlight.py already colours them).
KEYWORDS = (
    "SELECT", "DISTINCT", "FROM", "WHERE", "AND", "OR", "NOT", "AS", "JOIN", "INNER JOIN",
    "LEFT JOIN", "CROSS JOIN", "ON", "USING", "GROUP BY", "HAVING", "ORDER BY", "ASC", "DESC",
    "LIMIT", "OFFSET", "IN", "IS NULL", "IS NOT NULL", "LIKE", "ILIKE", "BETWEEN", "ESCAPE",
    "CASE", "WHEN", "THEN", "ELSE", "END", "NULL", "TRUE", "FALSE", "INSERT INTO", "VALUES",
    "UPDATE", "SET", "DELETE FROM", "EXPLAIN", "JSON_OBJECT", "JSON_ARRAY", "TIMESTAMP", "DATE",
)  # fmt: skip
FUNCTIONS = tuple(sorted(KNOWN_NAMES - {"CASE"}))

# Keywords after which a table name comes.
_TABLE_BEFORE = {"FROM", "JOIN", "INTO", "UPDATE", "TABLE"}
# Clause keywords: the last one before the cursor says what the current word is part of.
_CLAUSES = {
    "SELECT", "FROM", "JOIN", "WHERE", "ON", "BY", "HAVING", "SET", "INTO", "UPDATE",
    "VALUES", "LIMIT", "OFFSET", "USING", "DELETE", "INSERT",
}  # fmt: skip
_EXPRESSION_CLAUSES = {"SELECT", "WHERE", "ON", "BY", "HAVING", "SET", "USING"}
# After these an expression (so a field or a function) starts.
_EXPRESSION_START = {
    "SELECT", "WHERE", "ON", "BY", "HAVING", "SET", "AND", "OR", "NOT", "WHEN", "THEN",
    "ELSE", "CASE", "DISTINCT", "BETWEEN", "IN", "LIKE", "ILIKE", "USING",
}  # fmt: skip
_NOT_ALIAS = _CLAUSES | _EXPRESSION_START | {
    "AS", "INNER", "LEFT", "RIGHT", "CROSS", "FULL", "OUTER", "GROUP", "ORDER", "LIMIT",
    "WHERE", "JOIN", "ON", "NATURAL",
}  # fmt: skip
_WORD_BEFORE_CURSOR = re.compile(r"(?:[A-Za-z_$][\w$]*)?(?:\.[\w$]*)*\Z")


@dataclass(frozen=True)
class Suggestion:
    """What fits at the cursor.

    kinds: a subset of keyword, start_keyword, function, collection, field, alias, special,
    argument. `word` is the text before the cursor that a completion replaces. For fields,
    `collections` are those whose paths fit, `path` the part of the path already typed up
    to its last dot, and `qualifier` the alias prefix kept in front (`u.`); with
    `any_collection` (no table named yet) fields of every collection fit. For arguments
    of a backslash command, `command` is the command and `word` the argument typed so far.
    """

    kinds: frozenset[str]
    word: str = ""
    collections: tuple[str, ...] = ()
    path: str = ""
    qualifier: str = ""
    aliases: Mapping[str, str] = field(default_factory=dict)
    command: str = ""
    quote_dotted: bool = False
    any_collection: bool = False  # no table in scope yet: fields of every collection fit


NOTHING = Suggestion(frozenset())


def suggest(text: str, cursor: int | None = None) -> Suggestion:
    """The kinds of names that fit at `cursor` (default: the end) in `text`."""
    cursor = len(text) if cursor is None else cursor
    before = text[:cursor]
    if before.lstrip().startswith("\\"):
        return _suggest_special(before.lstrip())
    statement, start = current_statement(text, cursor)
    before_statement = before[start:]
    tail = tokenize(before_statement)
    if tail and (tail[-1].kind == "open" or _in_line_comment(tail[-1])):
        return NOTHING  # inside a string, quoted name or comment
    word = _WORD_BEFORE_CURSOR.search(before_statement)
    typed = word.group() if word else ""
    previous = code_tokens(before_statement[: len(before_statement) - len(typed)])
    tables = tables_in_scope(code_tokens(statement))
    aliases = {alias: name for name, alias in tables}
    aliases.update({name: name for name, _ in tables if name not in aliases})
    if not previous or (len(previous) == 1 and previous[0].is_word("EXPLAIN")):
        return Suggestion(frozenset({"start_keyword"}), typed)
    last = previous[-1]
    extension = _suggest_extension(previous, typed)
    if extension is not None:
        return extension
    clause = _clause(previous)
    if (last.kind == "word" and last.upper in _TABLE_BEFORE) or (
        clause == "FROM" and _is(last, ",")
    ):
        return Suggestion(frozenset({"collection"}), typed)
    if last.is_word("DELETE"):
        return Suggestion(frozenset({"keyword"}), typed)
    if "." in typed:
        return _dotted_field(typed, tables, aliases)
    if clause == "INTO" and _open_paren(previous):
        into = [name for name, _ in tables[:1]]
        return Suggestion(frozenset({"field"}), typed, tuple(into), quote_dotted=True)
    if clause in _EXPRESSION_CLAUSES and _starts_expression(last):
        kinds = {"function", "keyword"}
        names = tuple(dict.fromkeys(name for name, _ in tables))
        if len(names) > 1:
            kinds.add("alias")  # several tables: fields must be qualified (u.name)
        else:
            kinds.add("field")  # of the one table, or of every collection before FROM
        if clause == "SET" and last.text != "=":  # the left side of an assignment
            kinds = {"field"} if len(names) == 1 else set()
        one = names if len(names) == 1 else ()
        return Suggestion(frozenset(kinds), typed, one, aliases=aliases, any_collection=not names)
    return Suggestion(frozenset({"keyword"}), typed, aliases=aliases)


_NAMES_SUBSCRIPTION = {"ALTER", "DROP", "START", "STOP", "PAUSE", "RESUME", "EXPLAIN"}


def _suggest_extension(previous: list[Token], typed: str) -> Suggestion | None:
    """Subscription names after `... EVENT_SUBSCRIPTION` and `DEAD_LETTER_EVENTS FOR`;
    option names inside `CREATE EVENT_SUBSCRIPTION s AS (` and `ALTER ... SET (`."""
    words = [t.upper for t in previous if t.kind == "word"]
    if "EVENT_SUBSCRIPTION" not in words and "DEAD_LETTER_EVENTS" not in words:
        return None
    last = previous[-1]
    if last.is_word("FOR") and "DEAD_LETTER_EVENTS" in words:
        return Suggestion(frozenset({"subscription"}), typed)
    if last.is_word("EVENT_SUBSCRIPTION") and words[0] in _NAMES_SUBSCRIPTION:
        return Suggestion(frozenset({"subscription"}), typed)
    if last.is_word("EXISTS") and words[0] == "DROP":
        return Suggestion(frozenset({"subscription"}), typed)
    depth = 0
    for token in previous:
        if _is(token, "("):
            depth += 1
        elif _is(token, ")"):
            depth -= 1
    if depth == 1 and (_is(last, "(") or _is(last, ",")) and words[0] in {"CREATE", "ALTER"}:
        return Suggestion(frozenset({"option"}), typed)
    return None


def tables_in_scope(tokens: list[Token]) -> list[tuple[str, str]]:
    """(collection, alias) for each table the statement names after FROM, JOIN, INTO and
    UPDATE (including comma lists in FROM); the alias is the name itself when there is none."""
    tables: list[tuple[str, str]] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.kind == "word" and token.upper in _TABLE_BEFORE:
            index = _read_table_list(tokens, index + 1, tables, comma=token.upper == "FROM")
            continue
        index += 1
    return tables


def _read_table_list(
    tokens: list[Token], index: int, tables: list[tuple[str, str]], *, comma: bool
) -> int:
    while index < len(tokens) and tokens[index].kind in {"word", "qident"}:
        if tokens[index].kind == "word" and tokens[index].upper in _NOT_ALIAS:
            break
        name = unquote(tokens[index])
        index += 1
        alias = name
        if index < len(tokens) and tokens[index].is_word("AS"):
            index += 1
        if (
            index < len(tokens)
            and tokens[index].kind in {"word", "qident"}
            and tokens[index].upper not in _NOT_ALIAS
        ):
            alias = unquote(tokens[index])
            index += 1
        tables.append((name, alias))
        if not (comma and index < len(tokens) and _is(tokens[index], ",")):
            break
        index += 1
    return index


def _suggest_special(before: str) -> Suggestion:
    command, space, rest = before.partition(" ")
    if not space:
        return Suggestion(frozenset({"special"}), command)
    word = "" if rest.endswith(" ") else rest.split(" ")[-1]
    return Suggestion(frozenset({"argument"}), word, command=command)


def _dotted_field(
    typed: str, tables: list[tuple[str, str]], aliases: Mapping[str, str]
) -> Suggestion:
    head, _, rest = typed.partition(".")
    folded = {alias.lower(): alias for alias in aliases}
    alias = head if head in aliases else folded.get(head.lower())
    names = tuple(dict.fromkeys(name for name, _ in tables))
    if alias is not None:  # a leading table or alias name is a qualifier, as in the dialect
        path = rest.rpartition(".")[0]
        return Suggestion(
            frozenset({"field"}),
            typed,
            (aliases[alias],),
            path + "." if path else "",
            typed[: len(head) + 1],
            aliases,
        )
    path = typed.rpartition(".")[0]
    if len(names) > 1:
        return NOTHING  # `address.` in a join: only a qualifier may come first
    return Suggestion(frozenset({"field"}), typed, names, path + ".", any_collection=not names)


def _clause(tokens: list[Token]) -> str:
    for token in reversed(tokens):
        if token.kind == "word" and token.upper in _CLAUSES:
            return "FROM" if token.upper == "JOIN" else token.upper
    return ""


def _starts_expression(token: Token) -> bool:
    if token.kind == "word":
        return token.upper in _EXPRESSION_START
    return token.kind in {"op"} or token.text in {",", "("}


def _open_paren(tokens: list[Token]) -> bool:
    depth = 0
    for token in reversed(tokens):
        if token.kind == "word" and token.upper == "INTO":
            return depth > 0
        if _is(token, ")"):
            depth -= 1
        elif _is(token, "("):
            depth += 1
        if token.is_word("VALUES", "SELECT"):
            return False
    return False


def _is(token: Token, text: str) -> bool:
    return token.kind == "punct" and token.text == text


def _in_line_comment(token: Token) -> bool:
    return token.kind == "comment" and not token.text.startswith("/*")


# --- prompt-toolkit completer ----------------------------------------------------------------


def quiet_spot(before: str) -> bool:
    """True where the pop-up should not open by itself while typing: at the start of an
    empty line (a new continuation line) and right after a statement's `;`."""
    line = before.rsplit("\n", 1)[-1]
    return not line.strip() or before.rstrip().endswith(";")


class ShellCompleter(Completer):
    """Completions from `suggest()` and the names the schema cache has sampled.

    `fields(collection)` gives a collection's field paths; `collections()` the collection
    names; `specials()` (name, help) of backslash commands; `arguments(command, word)` the
    (text, meta) candidates for a command's argument."""

    def __init__(
        self,
        collections: Callable[[], Iterable[str]],
        fields: Callable[[str], Iterable[str]],
        specials: Callable[[], Iterable[tuple[str, str]]],
        arguments: Callable[[str, str], Iterable[tuple[str, str]]],
        subscriptions: Callable[[], Iterable[str]] = tuple,
    ) -> None:
        self._collections = collections
        self._fields = fields
        self._specials = specials
        self._arguments = arguments
        self._subscriptions = subscriptions

    def get_completions(self, document: Document, event: CompleteEvent) -> Iterator[Completion]:
        if not event.completion_requested and quiet_spot(document.text_before_cursor):
            return  # Tab still lists what fits there
        hint = suggest(document.text, document.cursor_position)
        yield from self.completions(hint)

    def completions(self, hint: Suggestion) -> Iterator[Completion]:
        word = hint.word
        start = -len(word)
        seen: set[str] = set()

        def emit(text: str, meta: str, display: str | None = None) -> Iterator[Completion]:
            if text not in seen:
                seen.add(text)
                yield Completion(text, start, display=display, display_meta=meta)

        if "special" in hint.kinds:
            for name, help_text in self._specials():
                if name.startswith(word):
                    yield from emit(name, help_text)
        if "argument" in hint.kinds:
            for text, meta in self._arguments(hint.command, word):
                yield from emit(text, meta)
        if "field" in hint.kinds:
            for path, collection in self._field_matches(hint):
                shown = f"`{path}`" if hint.quote_dotted and "." in path else path
                yield from emit(hint.qualifier + shown, f"field of {collection}", path)
        if "alias" in hint.kinds:
            aliased = {name for alias, name in hint.aliases.items() if alias != name}
            for alias, collection in hint.aliases.items():
                if alias == collection and collection in aliased:
                    continue  # `users u`: offer u., not users.
                if _matches(alias, word):
                    meta = "table" if alias == collection else f"alias of {collection}"
                    yield from emit(alias + ".", meta)
        if "subscription" in hint.kinds:
            for name in sorted(self._subscriptions()):
                if name.lower().startswith(word.lower()):
                    yield from emit(name, "subscription")
        if "option" in hint.kinds:
            from queryleaf.subscriptions.options import OPTIONS

            for name, spec in OPTIONS.items():
                if name.startswith(word.lower()):
                    yield from emit(name, spec.kind)
        if "collection" in hint.kinds:
            for name in sorted(self._collections()):
                if _matches(name, word):
                    yield from emit(name, "collection")
        if "function" in hint.kinds:
            for name in FUNCTIONS:
                if _matches(name, word):
                    yield from emit(_cased(name, word), "function", name + "()")
        keywords = ()
        if "start_keyword" in hint.kinds:
            keywords = STATEMENT_KEYWORDS
        elif "keyword" in hint.kinds:
            keywords = KEYWORDS
        for keyword in keywords:
            if _matches(keyword, word):
                yield from emit(_cased(keyword, word), "keyword")

    def _field_matches(self, hint: Suggestion) -> Iterator[tuple[str, str]]:
        partial = hint.word[len(hint.qualifier) :]
        later: list[tuple[str, str]] = []
        collections = sorted(self._collections()) if hint.any_collection else hint.collections
        for collection in collections:
            for path in self._fields(collection):
                if not path.startswith(hint.path):
                    continue
                if _matches(path, partial):
                    yield path, collection
                elif "." not in partial and any(
                    _matches(part, partial) for part in path[len(hint.path) :].split(".")[1:]
                ):
                    later.append((path, collection))  # `city` finds address.city
        yield from later


def _matches(candidate: str, word: str) -> bool:
    return candidate.lower().startswith(word.lower())


def _cased(keyword: str, word: str) -> str:
    """Keywords follow the case the user types in: `sel` gives `select`."""
    return keyword.lower() if word and word.islower() else keyword


def file_arguments(word: str) -> Iterator[tuple[str, str]]:
    """File names for `\\i` and `\\o`, from prompt-toolkit's path completer."""
    completer = PathCompleter(expanduser=True)
    document = Document(word, len(word))
    for completion in completer.get_completions(document, CompleteEvent()):
        text = word + completion.text
        meta = "directory" if os.path.isdir(os.path.expanduser(text)) else "file"
        yield text, meta
