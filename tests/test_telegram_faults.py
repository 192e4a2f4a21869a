"""Faults end to end: 429 with retry_after, 502 before and after a call was executed, dropped
connections, a user who blocked the bot. After each run, what the simulated users answered is
compared with what the database holds: nothing lost, duplicated or in the wrong field."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.core.dispatcher import Core
from models import (
    Identity,
    LiveAccount,
    OutboxMessage,
    Person,
    Streamer,
    TelegramUpdate,
)
from tests import flows
from tests.catalog import said
from tests.chat import Chat
from tests.fake_telegram import BotThread, FakeTelegram, Fault, SimUser

# PTB 22 itself warns, on building a RetryAfter, that its type changes in the next major.
# And PTB suggests Bot.get_updates over do_api_request("get_updates"), used on purpose.
pytestmark = [
    pytest.mark.fake("telegram"),
    pytest.mark.telegram_limits(backoff_seconds=0.02, max_backoff_seconds=0.1),
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBUserWarning"),
]


def varied_streamer(n: int) -> tuple[list[str], dict[str, object]]:
    """A registration whose every figure is different from its neighbours' (a value stored
    one field off would show) and what the database must hold afterwards."""
    lines = flows.streamer_lines(f"acct_{n}", followers=str(2000 + n))
    lines[9] = f"1380000{n:04d}"  # phone
    lines[11] = str(30_000 + n)  # likes
    lines[13] = str(10 + n % 20)  # live days per month (at most 31)
    lines[15] = str(100_000 + n)  # cumulative viewers
    lines[16] = str(5000 + n)  # peak concurrent
    lines[17] = str(800 + n)  # orders
    expected = {
        "account": f"acct_{n}",
        "phone": f"1380000{n:04d}",
        "followers": 2000 + n,
        "likes_received": 30_000 + n,
        "monthly_live_days": 10 + n % 20,
        "monthly_live_hours": Decimal("45.5"),
        "cumulative_viewers": 100_000 + n,
        "peak_concurrent": 5000 + n,
        "cumulative_orders": 800 + n,
    }
    return [*lines, "确认提交"], expected


def stored(db: Engine, user_id: int | str, channel: str = "telegram") -> dict[str, object]:
    with Session(db) as session:
        streamers = session.scalars(
            select(Streamer)
            .join(Identity, Identity.person_id == Streamer.person_id)
            .where(Identity.channel == channel, Identity.user_id == str(user_id))
        ).all()
        assert len(streamers) == 1, f"user {user_id}: {len(streamers)} registrations"
        s = streamers[0]
        accounts = session.scalars(
            select(LiveAccount.account_name).where(LiveAccount.streamer_id == s.id)
        ).all()
        assert len(accounts) == 1
        return {
            "account": accounts[0],
            "phone": s.phone,
            "followers": s.followers,
            "likes_received": s.likes_received,
            "monthly_live_days": s.monthly_live_days,
            "monthly_live_hours": s.monthly_live_hours,
            "cumulative_viewers": s.cumulative_viewers,
            "peak_concurrent": s.peak_concurrent,
            "cumulative_orders": s.cumulative_orders,
        }


def register_all(users: list[SimUser], quiet: float) -> dict[int, dict[str, object]]:
    """Each user registers in a thread of their own, all at the same time."""
    expected: dict[int, dict[str, object]] = {}
    errors: list[BaseException] = []

    def one(n: int, user: SimUser) -> None:
        lines, expected[user.id] = varied_streamer(n)
        try:
            user.run(lines, quiet=quiet)
            assert said([m.text for m in user.inbox[-2:]], "streamer.submitted")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(n, u)) for n, u in enumerate(users, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    if errors:
        raise errors[0]
    return expected


def test_429_retry_after_is_honoured(bot: BotThread, fake: FakeTelegram, db: Engine) -> None:
    fake.faults.append(Fault("429", "sendMessage", times=2, retry_after=1))
    user = fake.user(2001)
    expected = register_all([user], quiet=0.08)
    assert fake.stats.faults == {"429": 2}
    assert stored(db, user.id) == expected[user.id]


def test_502_and_dropped_connections_lose_and_duplicate_nothing(
    bot: BotThread, fake: FakeTelegram, db: Engine
) -> None:
    """~12% of Bot API calls fail: half of them after Telegram executed them (a retried
    sendMessage may then show a message twice; that is not a data duplicate)."""
    for kind in ("502_before", "502_after", "drop_before", "drop_after"):
        fake.faults.append(Fault(kind, rate=0.03))
    fake.faults.append(Fault("drop_after", "getUpdates", rate=0.1))  # updates redelivered
    users = [fake.user(3000 + n) for n in range(4)]
    expected = register_all(users, quiet=0.3)
    assert sum(fake.stats.faults.values()) >= 10
    for user in users:
        assert stored(db, user.id) == expected[user.id]
    with Session(db) as session:
        assert session.scalar(select(func.count()).select_from(Streamer)) == len(users)
        unprocessed = select(func.count()).where(TelegramUpdate.processed_at.is_(None))
        assert session.scalar(unprocessed) == 0


def test_a_reply_telegram_never_takes_is_left_to_the_outbox(
    bot: BotThread, fake: FakeTelegram, db: Engine
) -> None:
    """Telegram answers 502 to every try of one reply (the sender's whole retry bound): the
    step is stored, and the person still gets their question, later, from the outbox."""
    tries = bot.core.config.telegram.max_attempts
    fake.faults.append(Fault("502_before", "sendMessage", times=tries))
    user = fake.user(2101, "wen")
    user.text("/start")
    fake.wait(lambda: fake.stats.faults.get("502_before", 0) == tries)
    fake.wait(lambda: any("主播报名" in str(m.buttons()) for m in user.inbox))
    fake.wait(lambda: _outbox_status(db) == ["sent"])  # recorded right after the send
    with Session(db) as session:
        rows = session.execute(select(OutboxMessage.idempotency_key, OutboxMessage.status)).all()
    assert [(key.split(":")[0], status) for key, status in rows] == [("tg-reply", "sent")]
    assert len(user.inbox) == 1  # shown once: no attempt reached Telegram before


def test_a_user_who_blocked_the_bot(
    bot: BotThread, fake: FakeTelegram, db: Engine, core: Core
) -> None:
    alice, bob = fake.user(4001, "alice"), fake.user(4002, "bob")
    alice.run(varied_streamer(1)[0])
    with Session(db) as session:
        streamer_id = session.scalars(select(Streamer.id)).one()
    fake.blocked.add(alice.id)
    Chat(core).say("admin", f"/approve streamer {streamer_id}")  # a notice to alice: outbox
    fake.wait(lambda: _outbox_status(db) == ["failed"])
    assert _unreachable(db, alice.id)
    # the bot carries on with everybody else, and a direct reply to alice fails quietly
    assert bob.say("/start")
    refused = fake.stats.faults["403"]
    alice.text("/help")
    fake.wait(lambda: fake.stats.faults["403"] > refused)
    fake.wait(lambda: _unreachable(db, alice.id))  # recorded again right after the 403
    fake.blocked.discard(alice.id)  # alice unblocks the bot and writes again
    assert alice.say("/help")
    assert not _unreachable(db, alice.id)
    with Session(db) as session:  # the bot stored nothing twice, and nothing got lost
        assert session.scalar(select(func.count()).select_from(Streamer)) == 1
        unprocessed = select(func.count()).where(TelegramUpdate.processed_at.is_(None))
        assert session.scalar(unprocessed) == 0


def _outbox_status(db: Engine) -> list[str]:
    with Session(db) as session:
        return list(session.scalars(select(OutboxMessage.status)))


def _unreachable(db: Engine, user_id: int) -> bool:
    with Session(db) as session:
        person = session.scalars(
            select(Person).join(Identity).where(Identity.user_id == str(user_id))
        ).one()
        return person.unreachable_at is not None
