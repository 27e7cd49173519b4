"""A writer process for the kill test: acknowledged inserts and $push updates, each printed
once acknowledged ("I n" / "U n"). After a lost reply it checks whether the write happened
before repeating it (an insert repeated hits its own _id; an update is looked up), so only
the server could duplicate anything.

    python -m tests.server_writer URI NAME STOP_FILE

It writes until STOP_FILE exists (at most MAX_SECONDS).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pymongo
from pymongo.errors import DuplicateKeyError, PyMongoError

MAX_SECONDS = 180.0
GRACE = 60.0  # how long a write may keep failing (the server restarting) before giving up


def was_pushed(counters: Any, name: str, n: int, give_up: float) -> bool | None:
    """Whether `n` is in the writer's list, asked until the server answers (None: it never
    did). An update is repeated only once it is known not to have happened."""
    while time.monotonic() < give_up:
        time.sleep(0.05)
        try:
            found = counters.find_one({"_id": name})
        except PyMongoError:
            continue
        return found is not None and n in found.get("seen", [])
    return None


def main(uri: str, name: str, stop: Path) -> int:
    client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=2000, retryWrites=True)
    docs, counters = client.kill.docs, client.kill.counters
    deadline = time.monotonic() + MAX_SECONDS
    n = 0
    while time.monotonic() < deadline and not stop.exists():
        n += 1
        give_up = time.monotonic() + GRACE
        while True:
            try:
                docs.insert_one({"_id": f"{name}-{n}", "w": name, "n": n})
                break
            except DuplicateKeyError:
                break  # an earlier attempt was applied, its reply lost
            except PyMongoError:
                if time.monotonic() > give_up:
                    return 1
                time.sleep(0.05)
        print(f"I {n}", flush=True)
        while True:
            try:
                counters.update_one({"_id": name}, {"$push": {"seen": n}}, upsert=True)
                break
            except PyMongoError:
                applied = was_pushed(counters, name, n, give_up)
                if applied is None:
                    return 1
                if applied:
                    break  # an earlier attempt was applied, its reply lost
        print(f"U {n}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], Path(sys.argv[3])))
