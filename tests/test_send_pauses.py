"""The shared 429 waits (models/send_pauses.py, bot/channels/telegram/pauses.py) on the test
database, SQLite or PostgreSQL: a wait is never shortened, only the chats still held are read,
and a worker's sender holds them after one read."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from bot.channels.telegram.pauses import SharedPauses, wall_now
from bot.channels.telegram.sender import Sender
from bot.config import FestivalConfig
from models.send_pauses import PauseStore


def test_waits_are_kept_longest_and_read_while_they_hold(db: Engine) -> None:
    store, sessions = PauseStore(db), sessionmaker(db)
    now = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
    with sessions() as session, session.begin():
        store.hold(session, "telegram", "-100", now + dt.timedelta(seconds=30))
        store.hold(session, "telegram", "-100", now + dt.timedelta(seconds=5))  # shorter
        store.hold(session, "telegram", "7", now - dt.timedelta(minutes=5))  # over
        store.hold(session, "wechat", "-100", now + dt.timedelta(seconds=90))  # not ours
    with sessions() as session, session.begin():
        assert store.held(session, "telegram", now) == {"-100": now + dt.timedelta(seconds=30)}
        store.hold(session, "telegram", "-100", now + dt.timedelta(seconds=60))  # longer
    with sessions() as session, session.begin():
        assert store.held(session, "telegram", now) == {"-100": now + dt.timedelta(seconds=60)}
        assert store.prune(session, now - dt.timedelta(minutes=1)) == 1  # the one over
        assert store.held(session, "telegram", now - dt.timedelta(hours=1)) == {
            "-100": now + dt.timedelta(seconds=60)
        }


def test_one_workers_429_holds_another_workers_sender(db: Engine, config: FestivalConfig) -> None:
    """Two workers' senders on one database: what one is told, the other holds after a read."""
    sessions = sessionmaker(db)
    told, other = Sender(config.telegram), Sender(config.telegram)
    mine = SharedPauses(sessions, PauseStore(db), told, every=1.0)
    theirs = SharedPauses(sessions, PauseStore(db), other, every=1.0)
    wait = config.telegram.max_retry_after_seconds + 20

    async def scenario() -> int:
        await mine.note("-100", wait)
        return await theirs.follow()

    assert "-100" not in other._paused_until
    assert asyncio.run(scenario()) == 1
    left = other._paused_until["-100"] - time.monotonic()
    assert wait - 5 < left <= wait
    assert "-100" not in told._paused_until  # note() only shares; the sender holds its own
    assert wall_now().tzinfo is dt.UTC
