#!/usr/bin/python3
"""SELECT 1 through SQLAlchemy's QueuePool with pool_pre_ping=True (the engine of
the original Python appinfra module), for scripts/bench.sh.

    /usr/bin/python3 sqlalchemy_select1.py THREADS SECONDS [URL]

Run it with Debian's /usr/bin/python3 (python3-sqlalchemy, python3-psycopg2). URL
defaults to $DATABASE_URL (postgresql://...; the psycopg2 driver is selected here).
Each query is a full checkout (with its pre-ping) + execute + return, as in a
service. Prints one JSON line like benchmarks/suite/pg_select1.
"""
import json
import os
import sys
import threading
import time

import sqlalchemy
from sqlalchemy import create_engine, text


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    threads = int(sys.argv[1])
    seconds = float(sys.argv[2])
    url = sys.argv[3] if len(sys.argv) > 3 else os.environ["DATABASE_URL"]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url[len("postgresql://"):]
    engine = create_engine(url, pool_size=max(5, threads), max_overflow=10, pool_pre_ping=True)

    def op():
        with engine.connect() as conn:
            if conn.execute(text("SELECT 1")).scalar() != 1:
                raise RuntimeError("SELECT 1 gave no row")

    counts = [0] * threads
    errors = []
    ready = threading.Barrier(threads + 1)
    stop = threading.Event()

    def worker(i):
        try:
            op()  # warm: the connection is open
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))
        ready.wait()
        n = 0
        try:
            while not stop.is_set():
                op()
                n += 1
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
        counts[i] = n

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    ready.wait()
    t0 = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - t0
    engine.dispose()
    if errors:
        print("sqlalchemy_select1: " + errors[0], file=sys.stderr)
        return 1
    ops = sum(counts)
    print(json.dumps({"mode": "sqlalchemy", "threads": threads, "seconds": round(elapsed, 3), "ops": ops,
                      "per_second": round(ops / elapsed, 1), "sqlalchemy": sqlalchemy.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
