#!/usr/bin/env python3
"""A peer queue for the drain: how fast PgQueuer empties a queue of no-op jobs on the same PostgreSQL.

  pgqueuer_drain.py DATABASE_URL [--jobs 50000] [--batch 10 --batch 100] [--consumers 5]

Runs in bench/run's venv (pip install pgqueuer[asyncpg]). Prints one JSON line: per batch size, jobs/s
from starting the consumers to the last one leaving drain mode (start-up included, as otp's drain
counts its worker's start-up). PgQueuer gets its own database on the cluster (its own tables, NOTIFY
channel and autovacuum), dropped at the end, so otp's tables are not touched.
"""
import argparse, asyncio, json, time

import asyncpg
from pgqueuer import __version__
from pgqueuer.db import AsyncpgDriver
from pgqueuer.qm import QueueManager
from pgqueuer.queries import Queries
from pgqueuer.types import QueueExecutionMode

DB = "bench_pgqueuer"


async def connect(url):
    return await asyncpg.connect(url, database=DB)   # an explicit database wins over the URL's


async def drain(url, jobs, batch, consumers):
    setup = await connect(url)
    q = Queries(AsyncpgDriver(setup))
    await q.clear_queue()
    await q.clear_queue_log()
    await q.clear_statistics_log()
    # One multi-row enqueue per 10,000 (PgQueuer's batch enqueue), not timed.
    for start in range(0, jobs, 10_000):
        n = min(10_000, jobs - start)
        await q.enqueue(["noop"] * n, [None] * n, [0] * n)
    await setup.execute("VACUUM ANALYZE pgqueuer")   # as bench/run does for otp's queue before its drain
    done = 0
    first = last = None

    # Its fastest honest setup, as its own tools/benchmark.py drains: several QueueManagers in one
    # process (one connection each: one asyncpg connection serialises its queries), an async
    # entrypoint without concurrency_limit, no max_concurrent_tasks, durable (logged) tables.
    managers, connections = [], []
    for _ in range(consumers):
        connections.append(await connect(url))
        qm = QueueManager(Queries(AsyncpgDriver(connections[-1])))

        @qm.entrypoint("noop")
        async def noop(job):
            nonlocal done, first, last
            last = time.monotonic()
            first = first or last
            done += 1

        managers.append(qm)
    t0 = time.monotonic()
    await asyncio.gather(*(qm.run(batch_size=batch, mode=QueueExecutionMode.drain) for qm in managers))
    seconds = time.monotonic() - t0
    # Done means logged and deleted from the queue: the buffered status writes are flushed on exit.
    left = await setup.fetchval("SELECT count(*) FROM pgqueuer")
    logged = await setup.fetchval("SELECT count(*) FROM pgqueuer_log WHERE status = 'successful'")
    for conn in connections:
        await conn.close()
    await setup.close()
    return {"jobs": jobs, "batch_size": batch, "consumers": consumers, "seconds": round(seconds, 3),
            "per_second": round((jobs - left) / seconds), "ran": done, "left": left, "logged_successful": logged,
            # First to last job run: without start-up and the final flush, like otp's per_second_in_db.
            "per_second_running": round(done / (last - first)) if done > 1 and last > first else None}


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("--jobs", type=int, default=50_000)
    p.add_argument("--batch", type=int, action="append")
    p.add_argument("--consumers", type=int, default=5)
    a = p.parse_args()
    admin = await asyncpg.connect(a.url)
    await admin.execute(f"DROP DATABASE IF EXISTS {DB}")
    await admin.execute(f"CREATE DATABASE {DB}")
    try:
        conn = await connect(a.url)
        await Queries(AsyncpgDriver(conn)).install()
        await conn.close()
        result = {"version": __version__}
        for batch in a.batch or [10, 100]:
            result[f"batch_{batch}"] = await drain(a.url, a.jobs, batch, a.consumers)
        print(json.dumps(result))
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        await admin.close()


if __name__ == "__main__":
    try:
        import uvloop   # PgQueuer's own CLI (pgq run) runs on uvloop when it is installed
    except ImportError:
        uvloop = None
    (uvloop.run if uvloop else asyncio.run)(main())
