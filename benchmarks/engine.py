"""Engine benchmark: N simulated users at once, answering instantly, through streamer
registration and a daily report, with the real database.

    .venv/bin/python benchmarks/engine.py [--users 200] [--pg URL]

Prints steps/s and, per step, the service time (the step's own work in the worker thread:
load state, handle, store, commit) and the end-to-end latency (including the wait behind other
users' steps in the queue) as p50/p99. Every step is committed before its reply is returned
(SQLite WAL, synchronous=NORMAL), so the state survives kill -9 after every step.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text, update

from benchmarks.common import pct, scratch_database
from bot.app import prepare_database
from bot.channels.console import parse_line
from bot.config import load_config
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from handlers.routes import ROUTES
from models import Streamer
from models.db import make_engine
from tests.flows import REPORT_LINES, streamer_lines

ROOT = Path(__file__).resolve().parent.parent


async def run(url: str, users: int) -> dict[str, float]:
    config = load_config(ROOT / "config.yaml")
    # sign-up before the registration deadline, the reports in the live month
    clock = FixedClock(config.calendar.tz, dt.datetime(2020, 10, 15, 20, 0))
    engine = make_engine(url)
    prepare_database(engine, config, clock)
    core = Core(config, engine, clock, ROUTES)
    service: list[float] = []
    latency: list[float] = []
    original = core.process_sync

    def timed(inc, record=None):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        try:
            return original(inc, record)
        finally:
            service.append(time.perf_counter() - t0)

    core.process_sync = timed  # type: ignore[method-assign]

    async def user(n: int, lines: list[str]) -> None:
        for line in lines:
            inc = parse_line(line, f"bench{n}")
            assert inc is not None
            t0 = time.perf_counter()
            replies = await core.process(inc)
            latency.append(time.perf_counter() - t0)
            assert replies, line

    started = time.perf_counter()
    await asyncio.gather(
        *(
            user(n, [*streamer_lines(f"账号{n}-{uuid.uuid4().hex[:6]}"), "确认提交"])
            for n in range(users)
        )
    )
    with engine.begin() as conn:  # the committee approves everyone (not part of the timing)
        conn.execute(update(Streamer).values(status="approved"))
    clock.set(dt.datetime(2020, 11, 2, 20, 0))
    paused = time.perf_counter()
    await asyncio.gather(*(user(n, [*REPORT_LINES, "确认提交"]) for n in range(users)))
    elapsed = (paused - started) + (time.perf_counter() - paused)
    with engine.connect() as conn:
        reports = conn.execute(text("select count(*) from daily_reports")).scalar_one()
        streamers = conn.execute(text("select count(*) from streamers")).scalar_one()
    assert reports == users and streamers == users, (reports, streamers)
    core.executor.shutdown()
    engine.dispose()
    return {
        "steps": len(service),
        "steps_per_s": len(service) / elapsed,
        "service_p50": pct(service, 0.50),
        "service_p99": pct(service, 0.99),
        "latency_p50": pct(latency, 0.50),
        "latency_p99": pct(latency, 0.99),
        "mean_ms": statistics.fmean(service) * 1000,
    }


def show(name: str, r: dict[str, float]) -> None:
    print(
        f"{name}: {r['steps']:.0f} steps, {r['steps_per_s']:.0f} steps/s; "
        f"service p50 {r['service_p50']:.2f} ms, p99 {r['service_p99']:.2f} ms; "
        f"end-to-end p50 {r['latency_p50']:.1f} ms, p99 {r['latency_p99']:.1f} ms"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument(
        "--pg",
        default=os.environ.get("TEST_DATABASE_URL"),
        help="PostgreSQL server URL (a scratch database is created and dropped)",
    )
    args = ap.parse_args()
    print(f"{args.users} users, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        show("SQLite", asyncio.run(run(f"sqlite:///{tmp}/bench.db", args.users)))
    if args.pg:
        with scratch_database(args.pg, "festival_bench") as url:
            show("PostgreSQL", asyncio.run(run(url, args.users)))
    else:
        print("PostgreSQL: skipped (pass --pg URL or set TEST_DATABASE_URL)")


if __name__ == "__main__":
    main()
