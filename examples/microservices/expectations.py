"""What each subscription should receive from a workload, by its watch list, event types
and filter, and which deliveries the notification service's fault refuses. The showcase
waits on these counts; the tests compare the event log with them."""

from __future__ import annotations

from collections.abc import Callable

from examples.microservices.dataset import Change, Workload
from examples.microservices.services import fails

USER_COLLECTIONS = {"users", "user_profiles", "user_preferences"}
SEED_WATCHED_FIELDS = {"email", "status", "subscription_tier"}


def _user_lifecycle(c: Change) -> bool:
    # The seed's filter: inserts, and updates of email/status/subscription_tier (its
    # operationType $in drops the deletes it subscribes to).
    if c.collection not in USER_COLLECTIONS:
        return False
    return c.kind == "insert" or (
        c.kind == "update" and bool(c.updated_fields & SEED_WATCHED_FIELDS)
    )


def _auth(c: Change) -> bool:
    return c.collection == "users" and (
        c.kind == "insert" or (c.kind == "update" and "lastLogin" in c.updated_fields)
    )


def _orders(c: Change) -> bool:
    return c.collection == "orders" and c.kind in ("insert", "update")


def _analytics(c: Change) -> bool:
    return c.collection in ("orders", "products", "users")


RULES: dict[str, Callable[[Change], bool]] = {
    "user_lifecycle_events": _user_lifecycle,
    "user_auth_events": _auth,
    "inventory_management": _orders,
    "realtime_analytics": _analytics,
    "notification_service": _orders,
    "audit_logging": lambda c: True,
}


def received(workload: Workload) -> dict[str, list[Change]]:
    """subscription_id -> the changes it receives, in commit order."""
    return {sid: [c for c in workload.changes if rule(c)] for sid, rule in RULES.items()}


def dead_lettered(workload: Workload) -> list[Change]:
    """The notification service's refused changes: every event of a faulty order."""
    return [
        c for c in received(workload)["notification_service"] if fails(workload.order_seqs[c.key])
    ]
