"""Erasure benchmark: N streamers with D days of reports each, an audit entry quoting each
phone number and a sent message to each, in a fresh SQLite database; then one `/forget` step
(its VACUUM included) and the retention job over everyone (its VACUUM included).

    .venv/bin/python benchmarks/erasure.py [--people 2000] [--days 30]

The data is written through the tests' helpers (tests/festival_data.py); loading is reported
but is not what is measured.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.orm import sessionmaker

from bot.app import prepare_database
from bot.config import load_config
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from handlers.routes import ROUTES
from models import AuditEntry, OutboxMessage
from models.db import make_engine
from scheduler import JobRunner
from tests import festival_data as data
from tests.catalog import label
from tests.chat import Chat

ROOT = Path(__file__).resolve().parent.parent


def cpu() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_utime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    config = load_config(ROOT / "config.yaml")
    assert config.privacy is not None
    folder = Path(tempfile.mkdtemp(prefix="erasure-bench-"))
    engine = make_engine(f"sqlite:///{folder / 'bench.db'}")
    clock = FixedClock(config.calendar.tz, dt.datetime(2020, 11, 2, 20, 0))
    prepare_database(engine, config, clock)
    sessions = sessionmaker(engine, expire_on_commit=False)
    started = time.perf_counter()
    with sessions() as s, s.begin():
        data.admin(s, "boss")
        for i in range(args.people):
            st = data.streamer(s, f"账号{i:05d}", user=f"u{i}")
            for d in range(args.days):
                day = config.calendar.live_start + dt.timedelta(days=d)
                data.report(s, config, st, day, gmv_yuan=100 + i)
            s.add(
                AuditEntry(
                    at=data.NOW,
                    actor_person_id=st.person_id,
                    action="register",
                    entity="streamer",
                    entity_id=st.id,
                    before=None,
                    after={"phone": st.phone, "account_name": f"账号{i:05d}"},
                    note=None,
                )
            )
            s.add(
                OutboxMessage(
                    idempotency_key=f"n:{i}",
                    person_id=st.person_id,
                    channel="console",
                    chat_id=f"u{i}",
                    payload={"text": f"你好 {st.phone}"},
                    status="sent",
                    next_attempt_at=data.NOW,
                    created_at=data.NOW,
                )
            )
    size = (folder / "bench.db").stat().st_size / 1e6
    print(
        f"loaded {args.people} streamers x {args.days} days ({size:.1f} MB) "
        f"in {time.perf_counter() - started:.1f} s"
    )
    core = Core(config, engine, clock, ROUTES, folder)
    chat = Chat(core)
    chat.say("u0", "/forget")
    wall, used = time.perf_counter(), cpu()
    chat.press("u0", label("btn.forget_yes"))
    print(
        f"/forget step, VACUUM included: {time.perf_counter() - wall:.2f} s wall, "
        f"{cpu() - used:.2f} s CPU"
    )
    core.executor.shutdown()
    first = dt.datetime.combine(config.privacy.erase_after, dt.time(3), config.calendar.tz)
    runner = JobRunner(
        sessions, config, FixedClock(config.calendar.tz, first.replace(tzinfo=None)), folder
    )
    wall, used = time.perf_counter(), cpu()
    outcome = runner.run("erasure", first)
    print(
        f"retention job for {args.people - 1} people, VACUUM included: "
        f"{time.perf_counter() - wall:.2f} s wall, {cpu() - used:.2f} s CPU (ran: {outcome.ran})"
    )


if __name__ == "__main__":
    main()
