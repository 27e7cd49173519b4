"""Execution overhead: SQL through queryleaf against the equivalent hand-written pymongo call.

    .venv/bin/python bench/execute.py [--quick]

10,000 orders and 1,000 users (deterministic random data) in the embedded engine. Each query
runs through `conn.run_sql` and as the hand-written `find`/`aggregate` a MongoDB user would
write on the same database (materialised with list()), alternately, and the medians are
compared. The overhead is queryleaf's whole cost on top of the query itself: the (cached)
translation, any extra stages its SQL semantics need, and turning documents into rows.

Goal: at most 10% overhead.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import queryleaf
from queryleaf.compile import compile_statement

ORDERS = 10_000
USERS = 1_000
GOAL = 0.10
MOST = 31
STATUSES = ["new", "paid", "shipped", "delivered", "cancelled"]
CITIES = ["Paris", "Lyon", "Nice", "Lille", "Nantes", "Brest", "Dijon", "Metz"]


def make_data(seed: int = 42) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rng = random.Random(seed)
    users = [
        {
            "user_id": i,
            "name": f"user{i:04d}",
            "city": rng.choice(CITIES),
            "age": rng.randint(18, 90),
        }
        for i in range(USERS)
    ]
    orders = []
    for i in range(ORDERS):
        order: dict[str, Any] = {
            "order_id": i,
            "user_id": rng.randrange(USERS),
            "status": rng.choice(STATUSES),
            "total": round(rng.uniform(1, 1000), 2),
            "qty": rng.randint(1, 10),
        }
        if rng.random() < 0.8:
            order["coupon"] = rng.choice(["A", "B", "C"])
        orders.append(order)
    return users, orders


@dataclass
class Case:
    name: str
    sql: str
    by_hand: Callable[[Any], list[dict[str, Any]]]


CASES = [
    Case(
        "find: filter + projection",
        "SELECT order_id, total FROM orders WHERE status = 'shipped' AND total > 500",
        lambda db: list(
            db.orders.find(
                {"status": "shipped", "total": {"$gt": 500}},
                {"order_id": 1, "total": 1, "_id": 0},
            )
        ),
    ),
    Case(
        "find: sort + limit",
        "SELECT order_id, total FROM orders ORDER BY total DESC LIMIT 20",
        lambda db: list(
            db.orders.find({}, {"order_id": 1, "total": 1, "_id": 0}).sort("total", -1).limit(20)
        ),
    ),
    Case(
        "aggregate: GROUP BY",
        "SELECT status, COUNT(*) AS n, SUM(total) AS revenue, AVG(qty) AS avg_qty "
        "FROM orders GROUP BY status",
        lambda db: list(
            db.orders.aggregate(
                [
                    {
                        "$group": {
                            "_id": "$status",
                            "n": {"$sum": 1},
                            "revenue": {"$sum": "$total"},
                            "avg_qty": {"$avg": "$qty"},
                        }
                    }
                ]
            )
        ),
    ),
    Case(
        "aggregate: JOIN",
        "SELECT o.order_id, u.name FROM orders o JOIN users u ON u.user_id = o.user_id "
        "WHERE o.total > 998",
        lambda db: list(
            db.orders.aggregate(
                [
                    {"$match": {"total": {"$gt": 998}}},
                    {
                        "$lookup": {
                            "from": "users",
                            "localField": "user_id",
                            "foreignField": "user_id",
                            "as": "u",
                        }
                    },
                    {"$unwind": "$u"},
                    {"$project": {"_id": 0, "order_id": 1, "name": "$u.name"}},
                ]
            )
        ),
    ),
    Case(
        "aggregate: expression filter",
        "SELECT order_id, total * qty AS amount FROM orders WHERE total * qty > 5000",
        lambda db: list(
            db.orders.aggregate(
                [
                    {"$match": {"$expr": {"$gt": [{"$multiply": ["$total", "$qty"]}, 5000]}}},
                    {
                        "$project": {
                            "_id": 0,
                            "order_id": 1,
                            "amount": {"$multiply": ["$total", "$qty"]},
                        }
                    },
                ]
            )
        ),
    ),
    Case(
        "CTE + JOIN",
        "WITH big AS (SELECT user_id, SUM(total) AS spent FROM orders WHERE total > 990 "
        "GROUP BY user_id) SELECT u.name, b.spent FROM big b JOIN users u ON u.user_id = b.user_id",
        lambda db: list(
            db.orders.aggregate(
                [
                    {"$match": {"total": {"$gt": 990}}},
                    {"$group": {"_id": "$user_id", "spent": {"$sum": "$total"}}},
                    {
                        "$lookup": {
                            "from": "users",
                            "localField": "_id",
                            "foreignField": "user_id",
                            "as": "u",
                        }
                    },
                    {"$unwind": "$u"},
                    {"$project": {"_id": 0, "name": "$u.name", "spent": 1}},
                ]
            )
        ),
    ),
    Case(
        "window: rank per status",
        "SELECT order_id, RANK() OVER (PARTITION BY status ORDER BY total DESC) AS r "
        "FROM orders WHERE qty = 10",
        lambda db: list(
            db.orders.aggregate(
                [
                    {"$match": {"qty": 10}},
                    {
                        "$setWindowFields": {
                            "partitionBy": "$status",
                            "sortBy": {"total": -1},
                            "output": {"r": {"$rank": {}}},
                        }
                    },
                    {"$project": {"_id": 0, "order_id": 1, "r": 1}},
                ]
            )
        ),
    ),
]


def timed(fn: Callable[[], Any]) -> float:
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start
    finally:
        gc.enable()


def paired(a: list[float], b: list[float]) -> float:
    """The median of the per-round ratios a/b."""
    return statistics.median(x / y for x, y in zip(a, b, strict=True))


def run_plan_directly(db: Any, sql: str) -> list[dict[str, Any]]:
    """queryleaf's own command, run through pymongo without queryleaf (no row building)."""
    command = compile_statement(sql).command
    if "find" in command:
        cursor = db[command["find"]].find(
            command.get("filter") or {},
            command.get("projection"),
            sort=list(command["sort"].items()) if command.get("sort") else None,
            skip=command.get("skip", 0),
            limit=command.get("limit", 0),
        )
        return list(cursor)
    return list(db[command["aggregate"]].aggregate(command["pipeline"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    budget = 1.5 if args.quick else 5.0  # seconds of measurement per query
    least = 2 if args.quick else 4

    conn = queryleaf.connect()
    db = conn.db
    users, orders = make_data()
    db.users.insert_many(users)
    db.orders.insert_many(orders)

    print(
        f"execute benchmark: {ORDERS:,} orders, {USERS:,} users, backend {conn.backend}, "
        f"medians of {least}-{MOST} interleaved runs (more for faster queries)"
    )
    print("  queryleaf = conn.run_sql(sql).rows; by hand = the pymongo call a user would write;")
    print("  plan = queryleaf's command run through pymongo directly (no translation, no rows)")
    print()
    header = (
        f"{'query':<28} {'runs':>4} {'rows':>5} {'queryleaf ms':>12} {'plan ms':>9} {'by hand ms':>10} "
        f"{'ratio':>6} {'overhead':>8} {'client':>7} {'plan':>7}"
    )
    print(header)
    print("-" * len(header))
    ratios = []
    totals = [0.0, 0.0, 0.0]
    for case in CASES:
        # Warm up (translate once, fill caches) and time one round to size the rest.
        start = time.perf_counter()
        ours_rows = conn.run_sql(case.sql).rows
        hand_rows = case.by_hand(db)
        run_plan_directly(db, case.sql)
        once = time.perf_counter() - start
        if len(ours_rows) != len(hand_rows):
            raise SystemExit(
                f"{case.name}: queryleaf returned {len(ours_rows)} rows, by hand {len(hand_rows)}"
            )
        variants: list[Callable[[], Any]] = [
            lambda c=case: conn.run_sql(c.sql).rows,
            lambda c=case: run_plan_directly(db, c.sql),
            lambda c=case: c.by_hand(db),
        ]
        repetitions = max(least, min(MOST, int(budget / once)))
        samples: list[list[float]] = [[], [], []]
        for repetition in range(repetitions):
            for offset in range(3):  # rotate the order so that no variant always goes first
                index = (repetition + offset) % 3
                samples[index].append(timed(variants[index]))
        ours_s, plan_s, hand_s = (statistics.median(x) for x in samples)
        for i, value in enumerate((ours_s, plan_s, hand_s)):
            totals[i] += value
        # Ratios within each round, then their median: robust to load that drifts between
        # rounds on a shared machine.
        ours, plan, hand = samples
        ratio = paired(ours, hand)
        ratios.append(ratio)
        print(
            f"{case.name:<28} {repetitions:>4} {len(ours_rows):>5} {ours_s * 1e3:>12.2f} "
            f"{plan_s * 1e3:>9.2f} {hand_s * 1e3:>10.2f} {ratio:>6.3f} {(ratio - 1) * 100:>+7.1f}% "
            f"{(paired(ours, plan) - 1) * 100:>+6.1f}% {(paired(plan, hand) - 1) * 100:>+6.1f}%"
        )
    print("-" * len(header))
    ours_t, plan_t, hand_t = totals
    overall = ours_t / hand_t
    print(
        f"{'all (sum of medians)':<28} {'':>4} {'':>5} {ours_t * 1e3:>12.2f} {plan_t * 1e3:>9.2f} "
        f"{hand_t * 1e3:>10.2f} {overall:>6.3f} {(overall - 1) * 100:>+7.1f}% "
        f"{(ours_t / plan_t - 1) * 100:>+6.1f}% {(plan_t / hand_t - 1) * 100:>+6.1f}%"
    )
    print()
    print("times are medians; ratio = median over rounds of queryleaf / by hand, overhead =")
    print("ratio - 1; client = queryleaf / plan - 1 (translation, row building); plan = plan /")
    print("by hand - 1 (the stages and NULL guards SQL semantics add); the last line compares")
    print("sums of medians")
    worst = max(ratios)
    status = "ok" if worst <= 1 + GOAL else "MISSED"
    print(f"goal overhead <= {GOAL:.0%} per query: worst {(worst - 1) * 100:+.1f}%  [{status}]")
    conn.close()


if __name__ == "__main__":
    main()
