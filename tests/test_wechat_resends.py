"""WeChat answers lost on the way. WeChat resends a callback (same MsgId) when our answer did
not reach it, at most `callback_tries` times in all; a follower who sees nothing retypes. Each
resend must get the answer its first delivery got (an empty one left followers retyping, and
every answer then landed one question late), the last try's answer goes by the outbox, and in
the end the database holds exactly what each follower typed for each question."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from handlers.routes import ROUTES
from models import OutboxMessage, Streamer, WeChatInbound
from tests import flows
from tests.catalog import said
from tests.chat import form_answers
from tests.conftest import until
from tests.fake_wechat import FakeWeChat, message_xml, wechat_bot
from tests.people import WeChatPerson, expected, service_router
from tests.test_telegram_faults import stored, varied_streamer

pytestmark = pytest.mark.fake("wechat")


def test_a_resend_gets_the_answer_its_first_delivery_got(core: Core, fake: FakeWeChat) -> None:
    async def scenario() -> None:
        async with wechat_bot(core, fake, safe=True) as bot:
            body = message_xml("o_re", "text", int(time.time()), MsgId="77001", Content="/start")
            first = bot.server.reply_text(await bot.server.post(body))
            again = bot.server.reply_text(await bot.server.post(body))  # the first was lost
            assert first and said(first, "menu.title")
            assert again == first  # the same answer, not an empty one
            assert bot.runtime.channel.stats["resent"] == 1

    asyncio.run(scenario())
    with Session(core.db) as session:
        assert session.scalar(select(WeChatInbound.resends)) == 1


def test_the_last_try_goes_by_the_outbox(core: Core, fake: FakeWeChat, db: Engine) -> None:
    """All `callback_tries` answers lost: the last try is answered empty and its reply sent
    as a customer-service message, once; no step ran twice."""
    tries = core.config.wechat.callback_tries

    async def scenario() -> None:
        async with wechat_bot(core, fake, safe=False) as bot:
            body = message_xml("o_lost", "text", int(time.time()), MsgId="77002", Content="/start")
            fake.interact("o_lost")  # WeChat opens the customer-service window
            answers = [bot.server.reply_text(await bot.server.post(body)) for _ in range(tries)]
            assert all(answers[:-1]) and answers[-1] is None
            await bot.deliver()
            (service,) = fake.service_texts("o_lost")
            assert service == answers[0]  # the same menu, by the outbox

    asyncio.run(scenario())
    with Session(db) as session:
        keys = session.scalars(select(OutboxMessage.idempotency_key)).all()
        assert [k.split(":")[1] for k in keys] == ["lost"]
        assert session.scalar(select(WeChatInbound.late)) is True


@pytest.fixture
def slow_core(
    db: Engine, config: FestivalConfig, clock: FixedClock, tmp_path: Path
) -> Iterator[Core]:
    """Pictures are copied (a slow download makes a slow step), the passive budget is short."""
    wechat = config.wechat.model_copy(update={"reply_budget_seconds": 0.3})
    core = Core(config.model_copy(update={"wechat": wechat}), db, clock, ROUTES, tmp_path)
    yield core
    core.executor.shutdown()


def test_a_resend_during_a_slow_step_waits_for_it_and_nothing_is_sent_twice(
    slow_core: Core, fake: FakeWeChat, db: Engine
) -> None:
    """The step outlasts the passive budget (a slow picture download); WeChat resends while
    it runs. The resend waits and is answered empty like the first, the reply goes once by
    the outbox, and the step ran once."""
    fake.media_delay = 0.8

    async def scenario() -> None:
        async with wechat_bot(slow_core, fake, safe=False) as bot:
            ent = bot.follower("o_slow")
            await ent.run([*flows.enterprise_lines(), *flows.product_lines("莲花血鸭")[:-1]])
            created = int(time.time())
            picture = {"PicUrl": "http://p", "MediaId": "media-p1"}
            body = message_xml("o_slow", "image", created, MsgId="77003", **picture)
            before = len(fake.service_texts("o_slow"))
            fake.interact("o_slow")
            first = asyncio.ensure_future(bot.server.post(body))
            await asyncio.sleep(0.4)  # past the first's budget: WeChat resends
            resend = await bot.server.post(body)
            assert bot.server.reply_text(await first) is None
            assert bot.server.reply_text(resend) is None
            await bot.runtime.channel.idle()
            await bot.deliver()
            late = fake.service_texts("o_slow")[before:]
            assert len(late) == 1  # the next question, once
            assert bot.runtime.channel.stats["resent"] == 1

    asyncio.run(scenario())
    with Session(db) as session:
        assert session.scalar(select(func.count()).select_from(WeChatInbound)) >= 1


def test_lost_answers_store_exactly_what_each_follower_typed(
    core: Core, fake: FakeWeChat, db: Engine
) -> None:
    """30% of answers lost on the way, five followers registering at once, resends and
    retypes: every registration finishes and holds each value under its own question."""
    followers: list[WeChatPerson] = []

    async def scenario() -> None:
        async with wechat_bot(core, fake, safe=True) as bot:
            for n in range(1, 6):
                lines, _ = varied_streamer(n)
                followers.append(
                    WeChatPerson(bot.server, fake, f"o_lossy{n}", lines, random.Random(n), 0.3)
                )
            undo = service_router(fake, followers)
            try:
                done = await asyncio.gather(*(f.run() for f in followers))
            finally:
                undo()
            for follower, ok in zip(followers, done, strict=True):
                assert ok, follower.script.transcript()
            await bot.runtime.channel.idle()

    asyncio.run(scenario())
    assert sum(f.lost for f in followers) >= 10  # the faults really happened
    assert sum(f.resends for f in followers) >= 10
    for follower in followers:
        script = follower.script
        got = stored(db, follower.openid, "wechat")
        assert got == expected(script.lines, script.final), script.transcript()
    with Session(db) as session:
        assert session.scalar(select(func.count()).select_from(Streamer)) == 5


# Lines answered into silence (see below), spaced so one's late copy is not still on its way
# when the next is typed: the phone, the monthly live days, the peak audience.
RETYPED = {9: "联系电话", 13: "月均直播有效天", 16: "最高同时在线人数"}


def test_a_different_value_retyped_after_a_lost_answer_corrects_that_question(
    running_core: Core, fake: FakeWeChat, db: Engine
) -> None:
    """Nothing comes back for an answer: WeChat's three deliveries' answers are all lost and
    its API refuses the customer-service message meanwhile ("system busy"). After a while the
    follower types the answer again, a different valid value this time (they meant another
    figure). It answers the question they answered before, whose answer they never saw: a
    correction, said and naming the field, then the next question. Nothing is shifted onto
    the next question, and the database holds the value each follower last meant. Answers
    are lost at random besides (20%)."""
    people: list[WeChatPerson] = []

    async def scenario() -> None:
        async with wechat_bot(running_core, fake, safe=True) as bot:
            for n in range(1, 5):
                lines, _ = varied_streamer(n)
                people.append(
                    WeChatPerson(
                        bot.server,
                        fake,
                        f"o_retype{n}",
                        lines,
                        random.Random(n),
                        loss=0.2,
                        retype_after=1.0,
                        blackout=RETYPED,
                        change_on_retype=True,
                    )
                )
            undo = service_router(fake, people)
            try:
                done = await asyncio.gather(*(p.run() for p in people))
            finally:
                undo()
            for person, ok in zip(people, done, strict=True):
                assert ok, person.script.transcript()
            await bot.runtime.channel.idle()

    asyncio.run(scenario())
    for person in people:
        script = person.script
        got = stored(db, person.openid, "wechat")
        assert got == expected(script.lines, script.final), script.transcript()
        for line, field in RETYPED.items():
            assert script.final[line] != script.lines[line]  # they did mean another value
            corrected = [t for t, _ in person.shown if said(t, "form.corrected", field=field)]
            assert len(corrected) == 1, (field, script.transcript())
        # the reply that WeChat gave up on, sent once the API took it again: it shows the
        # question that the correction's answer had already shown
        assert person.other_copies <= len(RETYPED), script.transcript()
    assert sum(p.retyped for p in people) >= len(people) * len(RETYPED)
    with Session(db) as session:
        assert session.scalar(select(func.count()).select_from(Streamer)) == len(people)


def test_an_answer_to_a_late_question_counts_for_it_from_the_moment_it_was_sent(
    running_core: Core, fake: FakeWeChat
) -> None:
    """A late reply (here: WeChat gave up on a message's answers, so its reply goes as a
    customer-service message) may be on the follower's screen before its send returns: WeChat
    executed it and answered 502, and the outbox tries it again later. A follower who answers
    it at once answers that question, never the question before it (a likes count read as a
    corrected follower count)."""
    lines, _ = varied_streamer(1)
    at_followers = lines.index("2001")
    answered: list[str] = []

    async def scenario() -> None:
        async with wechat_bot(running_core, fake, safe=False) as bot:
            follower = bot.follower("o_quick")
            await follower.run(lines[:at_followers])  # the followers question is open
            loop = asyncio.get_running_loop()

            def shown(openid: str, text: str, answer_lost: bool) -> None:
                if said(text, "ask.likes_received") and not answered:
                    answered.append(text)
                    fake.error_rate = 0.0  # the send is tried again and gets through
                    loop.call_soon_threadsafe(asyncio.ensure_future, follower.say("30001"))

            fake.on_service = shown
            fake.interact("o_quick")
            body = message_xml("o_quick", "text", int(time.time()), MsgId="77101", Content="2001")
            tries = running_core.config.wechat.callback_tries
            for n in range(tries):  # every answer lost: the last try's reply goes late
                if n == tries - 1:
                    fake.error_rate = 1.0  # executed, then answered 502
                await bot.server.post(body)
            await until(lambda: len(follower.seen) > at_followers)
            await bot.runtime.channel.idle()

    asyncio.run(scenario())
    assert answered and fake.errors >= 1
    answers = form_answers(running_core, "o_quick")
    assert answers["followers"] == 2001 and answers["likes_received"] == 30001


def test_a_retype_crossing_the_late_reply_is_a_repeat_not_the_next_answer(
    running_core: Core, fake: FakeWeChat
) -> None:
    """Nothing came back for the follower count (WeChat gave up on its answers), and the
    reply that asks for the likes is on its way as a customer-service message, slowly, when
    the follower types the follower count again. It reached WeChat's API before the retype
    arrived, so the likes question may have been on screen; the follower count again is
    still no likes count: it is noted as a repeat (form.repeat_noted) and the likes question
    asked once more."""
    lines, _ = varied_streamer(1)
    at_followers = lines.index("2001")
    fake.delay_range = (0.4, 0.4)  # the token and the send: each 0.2 s before it is executed

    async def scenario() -> list[str]:
        async with wechat_bot(running_core, fake, safe=False) as bot:
            follower = bot.follower("o_cross")
            await follower.run(lines[:at_followers])  # the followers question is open
            fake.interact("o_cross")
            body = message_xml("o_cross", "text", int(time.time()), MsgId="77201", Content="2001")
            for _ in range(running_core.config.wechat.callback_tries):  # every answer lost
                await bot.server.post(body)
            await asyncio.sleep(0.15)  # the late reply is being sent
            retyped = message_xml(
                "o_cross", "text", int(time.time()), MsgId="77202", Content="2001"
            )
            answer = bot.server.reply_text(await bot.server.post(retyped))
            await bot.runtime.channel.idle()
            return [answer or "", *fake.service_texts("o_cross")]

    shown = asyncio.run(scenario())
    assert said(shown[0], "form.repeat_noted", field="粉丝量")
    assert said(shown[0], "ask.likes_received")
    assert len(shown) == 2 and said(shown[1], "ask.likes_received")  # the late reply, once
    answers = form_answers(running_core, "o_cross")
    assert answers["followers"] == 2001 and "likes_received" not in answers


def test_messages_whose_three_answers_are_all_lost_store_exactly_what_was_typed(
    running_core: Core, fake: FakeWeChat, db: Engine
) -> None:
    """A quarter of the messages lose all three answers (WeChat gives up; the bot sends the
    reply by the outbox), 10% of single answers are lost besides, and followers slip now and
    then (a figure first typed as no number, typed right when asked again). Every registration
    finishes and the database holds exactly the value each follower meant for each question."""
    followers: list[WeChatPerson] = []

    async def scenario() -> None:
        async with wechat_bot(running_core, fake, safe=True) as bot:
            for n in range(1, 6):
                lines, _ = varied_streamer(n)
                followers.append(
                    WeChatPerson(
                        bot.server,
                        fake,
                        f"o_lost3_{n}",
                        lines,
                        random.Random(n),
                        loss=0.1,
                        lose_all=0.25,
                        retype_after=1.0,
                        typos=0.15,
                    )
                )
            undo = service_router(fake, followers)
            try:
                done = await asyncio.gather(*(f.run() for f in followers))
            finally:
                undo()
            for follower, ok in zip(followers, done, strict=True):
                assert ok, follower.script.transcript()
            await bot.runtime.channel.idle()

    asyncio.run(scenario())
    assert sum(f.gave_up_tries for f in followers) >= 10  # the faults really happened
    assert sum(f.script.mistyped for f in followers) >= 2
    for follower in followers:
        script = follower.script
        got = stored(db, follower.openid, "wechat")
        assert got == expected(script.lines, script.final), script.transcript()
    with Session(db) as session:
        assert session.scalar(select(func.count()).select_from(Streamer)) == 5
