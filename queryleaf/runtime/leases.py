"""Subscription leases: at most one owner runs a subscription at a time.

One document per subscription in `event_subscription_leases`:
`{_id: name, owner: "<host>:<pid>:<uuid>", expires_at, renewed_at}`. An owner takes a lease
with one atomic upsert that matches only when the lease is ours or expired; a lease that does
not exist is created by the upsert, and one held by someone else makes the upsert collide on
`_id` (DuplicateKeyError), so exactly one of two competing owners wins. The holder renews it
before it expires and deletes it on a clean stop.

Leases fence writes too: a new holder stamps `lease_owner` on the subscription document before
its runner reads the resume token, and a runner's commits (token, counters) match only while
the stamp is its own. A runner that lost its lease while delivering (a long pause, a network
partition) therefore cannot move the token or the counters; its window is delivered again by
the new holder (at least once, never lost)."""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from queryleaf.subscriptions.event_columns import LEASES, SUBSCRIPTIONS, utc_now

LEASE_SECONDS = 15.0  # how long a lease lasts without renewal
RENEW_SECONDS = 5.0  # how often a holder renews its leases (and looks for expired ones)


def new_owner() -> str:
    """A lease owner id unique to this process and runtime: `<host>:<pid>:<uuid>`."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"


class Leases:
    """The leases of one owner in one database."""

    def __init__(self, db: Any, owner: str | None = None, duration: float = LEASE_SECONDS):
        self.collection = db[LEASES]
        self.subscriptions = db[SUBSCRIPTIONS]
        self.owner = owner or new_owner()
        self.duration = duration

    def acquire(self, name: str) -> bool:
        """Take (or keep) the lease of `name`: True when it is free, expired or already ours."""
        now = utc_now()
        try:
            document = self.collection.find_one_and_update(
                {"_id": name, "$or": [{"owner": self.owner}, {"expires_at": {"$lte": now}}]},
                {"$set": self._fields(now)},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:  # held by another owner and not expired
            return False
        return document is not None and document.get("owner") == self.owner

    def stamp(self, name: str) -> None:
        """Mark the subscription document as ours (see the module's note on fencing)."""
        self.subscriptions.update_one({"_id": name}, {"$set": {"lease_owner": self.owner}})

    def fence(self, name: str) -> dict[str, Any]:
        """The filter a holder's writes to the subscription document use."""
        return {"_id": name, "lease_owner": self.owner}

    def renew(self, name: str) -> bool:
        """Extend our lease of `name`; False when another owner has taken it (or it is gone)."""
        now = utc_now()
        result = self.collection.update_one(
            {"_id": name, "owner": self.owner}, {"$set": self._fields(now)}
        )
        return result.matched_count == 1

    def release(self, name: str) -> None:
        """Give up the lease of `name` if it is still ours."""
        self.collection.delete_one({"_id": name, "owner": self.owner})

    def holder(self, name: str) -> str | None:
        """The current, unexpired owner of `name`'s lease, if any."""
        document = self.collection.find_one({"_id": name})
        if document is None or _aware(document["expires_at"]) <= utc_now():
            return None
        return document.get("owner")

    def _fields(self, now: dt.datetime) -> dict[str, Any]:
        return {
            "owner": self.owner,
            "expires_at": now + dt.timedelta(seconds=self.duration),
            "renewed_at": now,
        }


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
