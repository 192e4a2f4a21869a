"""A slow API, end to end, per channel: every call takes 0.2-0.5 s (seeded) and 10% of them fail
with a 502, half of those after the platform executed the call (a message then shows twice).
A handful of people register as streamers through the real channel; at the end the database
holds, for every finished registration, exactly what each person typed, once, and nobody was
asked a question twice in a row except by such a doubled delivery."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.clock import Clock
from bot.core.dispatcher import Core
from handlers.routes import ROUTES
from models import OutboxMessage, Streamer, TelegramUpdate
from tests.conftest import LIVE_NOW
from tests.fake_telegram import BotThread, FakeTelegram, Fault
from tests.fake_wechat import FakeWeChat, wechat_bot
from tests.people import (
    TelegramPeople,
    TelegramPerson,
    WeChatPerson,
    expected,
    repeated_in_a_row,
    service_router,
)
from tests.test_telegram_faults import stored, varied_streamer

SLOW = (0.2, 0.5)
PEOPLE = 4

pytestmark = [
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBUserWarning"),
]


@pytest.mark.fake("telegram")
def test_telegram_polling_through_a_slow_failing_api(
    bot: BotThread, fake: FakeTelegram, db: Engine
) -> None:
    """Long polling; getUpdates is slow and fails too (the updates are fetched again). The
    people answer every question the moment it arrives, every copy of a doubled one too,
    with the same value; the config's own retry back-off."""
    fake.delay = SLOW
    fake.faults += [
        Fault("502_before", rate=0.05),
        Fault("502_after", rate=0.05),
        Fault("502_before", "getUpdates", rate=0.05),
        Fault("drop_after", "getUpdates", rate=0.05),  # answered, then the answer is lost
    ]
    people = [TelegramPerson(fake, 7000 + n, varied_streamer(n)[0]) for n in range(PEOPLE)]
    crowd = TelegramPeople(fake, people)
    crowd.start()
    stuck = crowd.wait(110)
    assert not stuck, stuck[0].script.transcript()
    assert fake.stats.faults.get("502_after", 0) >= 3  # the faults really happened
    for person in people:
        script = person.script
        assert stored(db, person.user.id) == expected(script.lines, script.final), (
            script.transcript()
        )
        _doubled, other = repeated_in_a_row(person.user.inbox)
        assert other == 0, script.transcript()  # only the copies of a send answered 502
    with Session(db) as session:
        assert session.scalar(select(func.count()).select_from(Streamer)) == PEOPLE
    unprocessed = select(func.count()).where(TelegramUpdate.processed_at.is_(None))

    def left() -> int:
        with Session(db) as session:
            return int(session.scalar(unprocessed) or 0)

    # the answer to a doubled copy typed as the last person submitted may still be in hand
    fake.wait(lambda: left() == 0, timeout=20)


@pytest.fixture
def late_core(db: Engine, config: FestivalConfig) -> Iterator[Core]:
    """Every step's reply goes late (a passive budget of 0): each is a customer-service
    message through the slow API, retried by the outbox on its real clock."""
    wechat = config.wechat.model_copy(update={"reply_budget_seconds": 0.0})
    clock = Clock(config.calendar.tz, LIVE_NOW.replace(tzinfo=config.calendar.tz))
    core = Core(config.model_copy(update={"wechat": wechat}), db, clock, ROUTES)
    yield core
    core.executor.shutdown()


@pytest.mark.fake("wechat")
def test_wechat_late_replies_through_a_slow_failing_api(
    late_core: Core, fake: FakeWeChat, db: Engine
) -> None:
    """Callbacks through the fake WeChat server (safe mode); every reply goes as a
    customer-service message, slow, 10% answered 502 (half after WeChat executed them: the
    follower sees that question twice and answers it once). A follower who answers a
    question the moment it shows has the answer taken for that question."""
    fake.delay_range, fake.error_rate = SLOW, 0.1
    people: list[WeChatPerson] = []

    async def scenario() -> None:
        async with wechat_bot(late_core, fake, safe=True) as bot:
            for n in range(PEOPLE):
                lines, _ = varied_streamer(n)
                people.append(
                    WeChatPerson(
                        bot.server, fake, f"o_slow{n}", lines, random.Random(n), retype_after=15
                    )
                )
            undo = service_router(fake, people)
            try:
                done = await asyncio.gather(*(p.run() for p in people))
            finally:
                undo()
            for person, ok in zip(people, done, strict=True):
                assert ok, person.script.transcript()

    asyncio.run(scenario())
    assert fake.errors >= 4  # the faults really happened
    # a question doubled (its message executed, answered 502 and sent again), or its copy not
    # sent since the follower had answered it meanwhile (superseded: bot/core/answers.py)
    assert sum(p.doubled_copies for p in people) + _superseded(db) >= 1
    for person in people:
        script = person.script
        got = stored(db, person.openid, "wechat")
        assert got == expected(script.lines, script.final), script.transcript()
        assert person.other_copies == 0 and person.retyped == 0, script.transcript()
    with Session(db) as session:
        assert session.scalar(select(func.count()).select_from(Streamer)) == PEOPLE


@pytest.mark.fake("wechat")
def test_wechat_doubled_late_questions_answered_twice_some_with_another_value(
    late_core: Core, fake: FakeWeChat, db: Engine
) -> None:
    """As above, and the followers answer the second copy of a doubled question too (a late
    reply WeChat executed and answered 502, sent again): every other follower with a different
    value (they meant another figure). That answer came before the next question was sent
    (the chat's later messages wait behind the retried one): it is a repeat, or corrects the
    doubled question, never the answer to the next one. A copy whose question the follower
    has answered meanwhile is not sent at all (superseded: bot/core/answers.py)."""
    fake.delay_range, fake.error_rate = SLOW, 0.1
    people: list[WeChatPerson] = []

    async def scenario() -> None:
        async with wechat_bot(late_core, fake, safe=True) as bot:
            for n in range(PEOPLE):
                lines, _ = varied_streamer(n + 10)
                people.append(
                    WeChatPerson(
                        bot.server,
                        fake,
                        f"o_copy{n}",
                        lines,
                        random.Random(n),
                        retype_after=15,
                        answer_copies=True,
                        change_on_copy=bool(n % 2),
                    )
                )
            undo = service_router(fake, people)
            try:
                done = await asyncio.gather(*(p.run() for p in people))
            finally:
                undo()
            for person, ok in zip(people, done, strict=True):
                assert ok, person.script.transcript()

    asyncio.run(scenario())
    # the doubled questions were answered, or their copies not sent since they were
    assert sum(p.copies_answered for p in people) + _superseded(db) >= 1
    for person in people:
        script = person.script
        got = stored(db, person.openid, "wechat")
        assert got == expected(script.lines, script.final), script.transcript()
        assert person.other_copies == 0 and person.retyped == 0, script.transcript()
    with Session(db) as session:
        assert session.scalar(select(func.count()).select_from(Streamer)) == PEOPLE


def _superseded(db: Engine) -> int:
    """Late replies not sent because the follower had answered their question meanwhile."""
    with Session(db) as session:
        found = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status == "superseded")
        )
    return int(found or 0)
