"""Transaction statements on a backend without transactions, answered honestly.

Every statement is applied when it runs. BEGIN is accepted with a warning (drivers open
transactions implicitly), COMMIT succeeds, savepoints mark the number of writes, and ROLLBACK
or ROLLBACK TO SAVEPOINT fail when a write happened since: nothing is ever pretended undone.
As in PostgreSQL, an error inside a transaction block leaves it failed (status `E`): further
statements are refused until ROLLBACK (or COMMIT, which then rolls back)."""

from __future__ import annotations

import re

from queryleaf.pgwire.outcome import Outcome, PgError

NO_TRANSACTIONS = (
    "queryleaf runs without transactions: each statement is applied when it runs; "
    "COMMIT succeeds and ROLLBACK fails if anything was written"
)


class TransactionState:
    def __init__(self) -> None:
        self.open = False
        self.failed = False
        self.writes = 0
        self.savepoints: dict[str, int] = {}

    @property
    def status(self) -> str:
        if not self.open:
            return "I"
        return "E" if self.failed else "T"

    def wrote(self) -> None:
        if self.open:
            self.writes += 1

    def error(self) -> None:
        if self.open:
            self.failed = True

    def handle(self, first: str, words: list[str], text: str) -> Outcome | None:
        """The outcome of a transaction statement, None for any other statement (which is
        refused while the block is failed)."""
        if first in ("BEGIN", "START") and (first == "BEGIN" or words[1:2] == ["TRANSACTION"]):
            if self.open:
                return Outcome(tag="BEGIN", notices=["there is already a transaction in progress"])
            self.open, self.failed, self.writes = True, False, 0
            self.savepoints.clear()
            return Outcome(tag="BEGIN", notices=[NO_TRANSACTIONS])
        if first in ("SAVEPOINT", "RELEASE") or (first == "ROLLBACK" and "TO" in words):
            return self._savepoint(first, text)
        if first in ("COMMIT", "END"):
            if self.failed:
                return self._rollback()
            self._close()
            return Outcome(tag="COMMIT")
        if first in ("ROLLBACK", "ABORT"):
            return self._rollback()
        if self.failed:
            raise PgError(
                "25P02",
                "current transaction is aborted, commands ignored until end of transaction block",
            )
        return None

    def _close(self) -> None:
        self.open, self.failed, self.writes = False, False, 0
        self.savepoints.clear()

    def _rollback(self) -> Outcome:
        writes = self.writes
        self._close()
        if writes:
            raise PgError(
                "0A000",
                f"ROLLBACK cannot undo the {writes} write statement(s) already applied: "
                "queryleaf has no transactions, each statement was applied when it ran",
            )
        return Outcome(tag="ROLLBACK")

    def _savepoint(self, first: str, text: str) -> Outcome:
        names = re.findall(r"[\w\"]+", text)
        name = names[-1].strip('"').lower() if names else ""
        if first == "SAVEPOINT":
            self.savepoints[name] = self.writes
            return Outcome(tag="SAVEPOINT")
        if first == "RELEASE":
            self.savepoints.pop(name, None)
            return Outcome(tag="RELEASE")
        if name not in self.savepoints:
            raise PgError("3B001", f'savepoint "{name}" does not exist')
        writes = self.writes - self.savepoints[name]
        if writes:
            raise PgError(
                "0A000",
                f"ROLLBACK TO SAVEPOINT cannot undo the {writes} write statement(s) already "
                "applied: queryleaf has no transactions",
            )
        self.failed = False
        return Outcome(tag="ROLLBACK")
