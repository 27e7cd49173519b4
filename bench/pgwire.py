"""PostgreSQL protocol overhead: the same statements through psycopg 3 over `PgServer` and
through `conn.run_sql` in-process, on one embedded database.

    .venv/bin/python bench/pgwire.py [--quick]

1. A one-row SELECT: psycopg (extended protocol, server-side binding) vs run_sql; the ratio
   is the front end's cost per statement (socket, protocol, describe, encode).
2. A 10,000-row result: rows per second through psycopg (text and binary) vs run_sql.
3. One prepared statement executed N times (parse once, bind many) vs N distinct statement
   texts (parse, plan and describe each time).
One run each; ratios against the in-process baseline.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg

import queryleaf
from queryleaf.pgwire.server import PgServer


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    repeat = 200 if args.quick else 1000
    rows = 2000 if args.quick else 10_000

    base = queryleaf.connect(dialect="postgres")
    base.db.big.insert_many(
        [{"_id": i, "n": i, "name": f"row {i}", "score": i * 0.5} for i in range(rows)]
    )
    base.run_sql("INSERT INTO one (k, v) VALUES (1, 'x')")
    server = PgServer(connect=lambda: base, port=0).start()
    try:
        conn = psycopg.connect(
            host="127.0.0.1", port=server.port, user="bench", dbname="queryleaf", autocommit=True
        )
        one = "SELECT k, v FROM one WHERE k = %s"
        one_local = "SELECT k, v FROM one WHERE k = :k"
        conn.execute(one, [1]).fetchall()  # warm both paths
        base.run_sql(one_local, {"k": 1})

        wire = timed(lambda: [conn.execute(one, [1]).fetchall() for _ in range(repeat)])
        local = timed(lambda: [base.run_sql(one_local, {"k": 1}) for _ in range(repeat)])
        print(f"one-row SELECT x{repeat}: psycopg {wire / repeat * 1e6:.0f} us/statement, "
              f"run_sql {local / repeat * 1e6:.0f} us/statement, ratio {wire / local:.2f}x")  # fmt: skip

        big = "SELECT n, name, score FROM big"
        text = timed(lambda: conn.execute(big).fetchall())
        binary = timed(lambda: conn.cursor(binary=True).execute(big).fetchall())
        local_big = timed(lambda: base.run_sql(big))
        print(f"{rows}-row result: psycopg text {rows / text:,.0f} rows/s, binary "
              f"{rows / binary:,.0f} rows/s, run_sql {rows / local_big:,.0f} rows/s "
              f"(ratio {text / local_big:.2f}x text, {binary / local_big:.2f}x binary)")  # fmt: skip

        prepared = "SELECT k, v FROM one WHERE k = %s"
        conn.execute(prepared, [1], prepare=True)
        bound = timed(
            lambda: [conn.execute(prepared, [1], prepare=True).fetchall() for _ in range(repeat)]
        )
        distinct = timed(
            lambda: [
                conn.execute(
                    f"SELECT k, v FROM one WHERE k = 1 AND v <> 'q{i}'", prepare=False
                ).fetchall()
                for i in range(repeat)
            ]
        )
        print(f"prepared once, bound x{repeat}: {bound / repeat * 1e6:.0f} us/statement; "
              f"{repeat} distinct texts: {distinct / repeat * 1e6:.0f} us/statement; "
              f"ratio {distinct / bound:.2f}x")  # fmt: skip
        conn.close()
    finally:
        server.stop()
        base.close()


if __name__ == "__main__":
    main()
