"""Broadcast benchmark: the weekly 龙虎榜 job to N streamers on Telegram, through the fake Bot
API server (tests/fake_telegram.py) answering 5% of the calls with 502 before executing them,
delivered by the real outbox dispatcher and the Telegram channel's paced sender.

    .venv/bin/python benchmarks/broadcast.py [--recipients 10000] [--pg URL]

Prints the job's own time (rank, publish, draw, enqueue), then the delivery: messages
delivered, repeats (a chat that got the message twice), lost (rows not delivered), rows
attempted after they were confirmed, and the rate against Telegram's 30 messages/s.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# `import telegram` must find the library, not benchmarks/telegram.py beside this file.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402
from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.app import build  # noqa: E402
from bot.channels.telegram.channel import TelegramChannel  # noqa: E402
from bot.channels.telegram.run import make_bot  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.core.clock import Clock  # noqa: E402
from bot.core.delivery import OutboxDispatcher  # noqa: E402
from bot.settings import Settings  # noqa: E402
from models import DailyReport, Identity, LiveAccount, OutboxMessage, Person, Streamer, Unit  # noqa: E402
from models.totals import recompute_all  # noqa: E402
from scheduler import JobRunner  # noqa: E402
from tests.fake_telegram import TOKEN, FakeTelegram, Fault  # noqa: E402

MONDAY = dt.datetime(2020, 11, 2, 10, 0)
NOW = dt.datetime(2020, 11, 1, tzinfo=dt.UTC)


def seed(app, n: int) -> None:  # type: ignore[no-untyped-def]
    """n approved streamers on Telegram (chat ids 10_000_001...), each with one report."""
    with app.engine.begin() as conn:
        unit = conn.execute(select(Unit.id).where(Unit.code == "360302")).scalar_one()
        ids = range(1, n + 1)
        conn.execute(
            insert(Person),
            [
                {"id": i, "display_name": f"p{i}", "last_channel": "telegram", "created_at": NOW}
                for i in ids
            ],
        )
        conn.execute(
            insert(Identity),
            [
                {
                    "id": i,
                    "person_id": i,
                    "channel": "telegram",
                    "user_id": str(10_000_000 + i),
                    "chat_id": str(10_000_000 + i),
                    "created_at": NOW,
                }
                for i in ids
            ],
        )
        base = {
            "unit_id": unit,
            "recommendation": "self",
            "phone": "13800000000",
            "followers": 5000,
            "likes_received": 0,
            "tips_income": 0,
            "monthly_live_days": 20,
            "monthly_live_hours": 40,
            "cumulative_viewers": 0,
            "peak_concurrent": 0,
            "cumulative_orders": 0,
            "cumulative_sales_fen": 0,
            "categories": [],
            "declarations": [],
            "status": "approved",
            "submitted_at": NOW,
            "created_at": NOW,
            "updated_at": NOW,
        }
        conn.execute(insert(Streamer), [{**base, "id": i, "person_id": i} for i in ids])
        conn.execute(
            insert(LiveAccount),
            [
                {"id": i, "streamer_id": i, "platform": "douyin", "account_name": f"主播{i}"}
                for i in ids
            ],
        )
        conn.execute(
            insert(DailyReport),
            [
                {
                    "account_id": i,
                    "streamer_id": i,
                    "report_date": dt.date(2020, 10, 31),
                    "gmv_fen": i * 100,
                    "duration_minutes": 60 + i % 300,
                    "viewers": i % 977,
                    "likes": i % 1013,
                    "orders": 1,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in ids
            ],
        )
        if app.engine.dialect.name == "postgresql":
            for table in ("people", "identities", "streamers", "live_accounts"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )


async def deliver(app, settings: Settings, expected: int) -> float:  # type: ignore[no-untyped-def]
    bot = make_bot(settings, app.config.telegram)
    async with bot:
        channel = TelegramChannel(app.core, bot, app.config.telegram)
        dispatcher = OutboxDispatcher(app.core.sessions, app.clock, {"telegram": channel.sender})
        t0 = time.perf_counter()
        while True:
            if await dispatcher.run_once(limit=100) == 0:
                with app.core.sessions() as s:
                    left = s.scalar(
                        select(func.count())
                        .select_from(OutboxMessage)
                        .where(OutboxMessage.status == "pending")
                    )
                if not left:
                    break
                await asyncio.sleep(0.05)  # retries wait for their next attempt
        return time.perf_counter() - t0


def run(url: str, recipients: int, image_dir: Path, enqueue_only: bool = False) -> None:
    with FakeTelegram() as fake:
        fake.faults.append(Fault("502_before", rate=0.05))
        settings = Settings(
            database_url=url,
            telegram_bot_token=SecretStr(TOKEN),
            telegram_api_base_url=fake.base_url,
            bot_scheduler="off",
        )
        config_tz = load_config(settings.bot_config).calendar.tz
        clock = Clock(config_tz, MONDAY.replace(tzinfo=config_tz))  # real time, from Monday
        app = build(settings, clock)
        seed(app, recipients)
        with app.core.sessions() as s, s.begin():
            recompute_all(s, app.config)  # the reports were inserted directly
        runner = JobRunner(app.core.sessions, app.config, clock, image_dir)
        t0 = time.perf_counter()
        outcome = runner.run("weekly_board", clock.now())
        job_time = time.perf_counter() - t0
        print(f"  job: {outcome.enqueued:,} messages enqueued in {job_time:.2f} s", flush=True)
        if enqueue_only:
            app.engine.dispose()
            return
        elapsed = asyncio.run(deliver(app, settings, outcome.enqueued))
        per_chat = Counter(m.chat_id for m in fake.sent)
        with app.core.sessions() as s:
            grouped = s.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            )
            statuses = {status: n for status, n in grouped.tuples()}
            retried = s.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.attempts > 1)
            )
        delivered = len(per_chat)
        repeats = sum(n - 1 for n in per_chat.values() if n > 1)
        rate = delivered / elapsed
        print(f"  delivered: {delivered:,} of {outcome.enqueued:,} in {elapsed:.1f} s", flush=True)
        print(f"  502 answers injected: {fake.stats.faults.get('502_before', 0):,}")
        print(f"  repeats: {repeats}; lost: {outcome.enqueued - statuses.get('sent', 0)}")
        print(f"  outbox: {statuses}; rows needing more than one claim: {retried}")
        print(f"  rate: {rate:.1f} messages/s = {rate / 30 * 100:.0f}% of 30/s")
        app.engine.dispose()


def main() -> int:
    # PTB logs every 502 page it cannot parse as JSON with a traceback; the count is printed
    logging.getLogger("telegram").setLevel(logging.CRITICAL)
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--pg", help="PostgreSQL server URL (a scratch database is created)")
    parser.add_argument("--enqueue-only", action="store_true", help="time the job, not delivery")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.pg:
            name = f"festival_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                print(f"PostgreSQL ({name})")
                url = make_url(args.pg).set(database=name).render_as_string(hide_password=False)
                run(url, args.recipients, Path(tmp), args.enqueue_only)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
        else:
            print("SQLite (WAL)")
            run(f"sqlite:///{tmp}/bench.db", args.recipients, Path(tmp), args.enqueue_only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
