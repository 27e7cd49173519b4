"""REPLAY DEAD_LETTER_EVENTS FOR name [WHERE ...]: deliver dead letters again, in the order
they were written, through the subscription's target with its retry policy. A delivered
letter leaves the dead-letter collection and its event-log row becomes `completed`; one that
fails again stays, with its attempts and error updated."""

from __future__ import annotations

from typing import Any

from queryleaf.errors import SemanticError
from queryleaf.parse.extensions import DeadLetterCommand
from queryleaf.result import Result
from queryleaf.runtime.delivery import deliver
from queryleaf.runtime.event_log import log_replayed
from queryleaf.runtime.targets import make_target
from queryleaf.subscriptions.dead_letters import dead_letter_filter
from queryleaf.subscriptions.event_columns import DEAD_LETTERS, SUBSCRIPTIONS
from queryleaf.subscriptions.statements import stored_options


def replay(conn: Any, command: DeadLetterCommand, plan: Any) -> Result:
    db = conn.db
    query = dead_letter_filter(command, db)
    subscription = db[SUBSCRIPTIONS].find_one({"_id": command.name})
    if subscription is None:  # dead_letter_filter already refuses this; keep mypy honest
        raise SemanticError(f"event subscription {command.name} does not exist", code="QL322")
    options = stored_options(subscription)
    target = make_target(options["deliver_to"], conn, options["processing_timeout_ms"])
    replayed = failed = 0
    try:
        for letter in db[DEAD_LETTERS].find(query, sort=[("created_at", 1), ("_id", 1)]):
            event = dict(letter["event"])
            event["_id"] = event.pop("resume_token", None)
            outcome = deliver(target, [event], options)
            if outcome.delivered:
                db[DEAD_LETTERS].delete_one({"_id": letter["_id"]})
                if event["_id"] is not None:
                    log_replayed(db, subscription, event, outcome.attempts)
                replayed += 1
                continue
            failed += 1
            db[DEAD_LETTERS].update_one(
                {"_id": letter["_id"]},
                {
                    "$inc": {"attempts": outcome.attempts},
                    "$set": {"error": outcome.error, "last_failed_at": outcome.last_failed_at},
                },
            )
    finally:
        target.close()
    db[SUBSCRIPTIONS].update_one(
        {"_id": command.name},
        # Counters only grow (they are exported as Prometheus counters): a replayed dead
        # letter counts as delivered and as replayed, and stays counted as dead-lettered.
        {"$inc": {"events_delivered": replayed, "events_replayed": replayed}},
    )
    warnings = [f"{failed} dead letter(s) failed again and stay"] if failed else []
    return Result(rowcount=replayed, plan=plan, warnings=warnings)
