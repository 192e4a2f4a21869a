"""WeChat answers lost on the way. WeChat resends a callback (same MsgId) when our answer did
not reach it, at most `callback_tries` times in all; a follower who sees nothing retypes. Each
resend must get the answer its first delivery got (an empty one left followers retyping, and
every answer then landed one question late), the last try's answer goes by the outbox, and in
the end the database holds exactly what each follower typed for each question."""

from __future__ import annotations

import asyncio
import datetime as dt
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
from tests.people import WeChatPerson, expected, other_value, service_router
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


# Lines answered into silence (see below): the phone, the monthly live days, the peak audience.
RETYPED = {9: "联系电话", 13: "月均直播有效天", 16: "最高同时在线人数"}


def test_a_different_value_retyped_after_a_lost_answer_corrects_that_question(
    core: Core, clock: FixedClock, fake: FakeWeChat, db: Engine
) -> None:
    """Nothing comes back for an answer: WeChat's three deliveries' answers are all lost and
    its API refuses the customer-service message meanwhile ("system busy"). The follower types
    the answer again, a different valid value this time (they meant another figure). It
    answers the question they answered before, whose answer they never saw: a correction,
    said and naming the field, with the next question. When the API takes messages again,
    the reply WeChat gave up on is not sent: the correction's answer asked that question
    already. (It used to be sent, a copy of the question on screen; refused while the
    correction's answer was being handed over, it made that question count as unseen again,
    and the next answer was taken as a second correction: a peak audience stored as the
    orders, now and then under load.) Driven step by step: the clock is fixed, so a refused
    send is tried again only when the test moves it. The database holds what was last meant."""
    lines, _ = varied_streamer(1)
    openid = "o_retype"
    tries = core.config.wechat.callback_tries
    final: dict[int, str] = {}

    def refused() -> int:
        calls = fake.recorded("message/custom/send", ok=False)
        return sum(c.body.get("touser") == openid and c.result.get("errcode") == -1 for c in calls)

    async def scenario() -> None:
        async with wechat_bot(core, fake, safe=True) as bot:

            def typed(value: str) -> str:
                msg_id = str(next(bot.server.msg_ids))
                return message_xml(openid, "text", int(time.time()), MsgId=msg_id, Content=value)

            follower = bot.follower(openid)
            done = 0
            for line, field in RETYPED.items():
                await follower.run(lines[done:line])
                fake.interact(openid)
                fake.busy.add(openid)
                before = refused()
                body = typed(lines[line])
                for _ in range(tries):  # every answer lost: WeChat gives up, the reply goes late
                    assert (await bot.server.post(body)).status_code == 200
                await until(lambda before=before: refused() > before)  # tried, and refused
                final[line] = other_value(line, lines[line]) or ""
                answer = bot.server.reply_text(await bot.server.post(typed(final[line])))
                assert answer and said(answer, "form.corrected", field=field), answer
                fake.busy.discard(openid)  # the API takes messages again
                clock.set(clock.now() + dt.timedelta(seconds=30))  # the retry comes due
                await bot.deliver()
                done = line + 1
            await follower.run(lines[done:])
            assert said(follower.seen[-1], "streamer.submitted")

    asyncio.run(scenario())
    assert stored(db, openid, "wechat") == expected(lines, final)
    assert fake.service_texts(openid) == []  # no question shown again by the outbox
    with Session(db) as session:
        statuses = session.scalars(select(OutboxMessage.status)).all()
    assert statuses == ["superseded"] * len(RETYPED)


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


def test_of_two_late_replies_queued_the_follower_gets_the_open_question_only(
    core: Core, clock: FixedClock, fake: FakeWeChat, db: Engine
) -> None:
    """WeChat gives up on the phone number's answers (all three lost) while its API refuses
    customer-service messages ("system busy"): the reply asking for the follower count waits
    in the outbox. The follower, seeing nothing, types the phone number again (another one:
    a correction), and WeChat gives up on that message too: a second late reply (the
    correction and the follower question again) waits behind the first. Then the API takes
    one message and refuses the next; the follower answers the question they got, and the
    bot answers passively with the likes question. When the API takes messages again, the
    other late reply must not put the follower count question back on their screen: answered
    there (as a person answers what they see), the follower count was stored as the likes.
    Driven step by step: the clock is fixed, so a refused send is tried again only when the
    test moves it."""
    lines, _ = varied_streamer(1)
    at_phone = lines.index("13800000001")
    tries = core.config.wechat.callback_tries
    openid = "o_two_late"
    shown: asyncio.Queue[str] = asyncio.Queue()

    async def scenario() -> list[str]:
        loop = asyncio.get_running_loop()

        def on_service(to: str, text: str, answer_lost: bool) -> None:
            if to == openid:
                fake.busy.add(openid)  # the next message is refused for a while
                loop.call_soon_threadsafe(shown.put_nowait, text)

        async def lost(msg_id: str, value: str) -> None:
            body = message_xml(openid, "text", int(time.time()), MsgId=msg_id, Content=value)
            for _ in range(tries):  # every answer lost: the last try's reply goes late
                assert (await bot.server.post(body)).status_code == 200

        async def answer(msg_id: str, value: str) -> str:
            body = message_xml(openid, "text", int(time.time()), MsgId=msg_id, Content=value)
            return bot.server.reply_text(await bot.server.post(body)) or ""

        async def api_back(seconds: int) -> None:
            fake.busy.discard(openid)
            clock.set(clock.now() + dt.timedelta(seconds=seconds))  # the retries come due
            await bot.deliver()

        async with wechat_bot(core, fake, safe=False) as bot:
            follower = bot.follower(openid)
            await follower.run(lines[:at_phone])  # the phone question is open
            fake.interact(openid)
            fake.busy.add(openid)
            fake.on_service = on_service
            await lost("77301", "13800000001")
            await lost("77302", "13800000002")  # the retype: a different phone number
            await bot.deliver()
            screen: list[str] = []
            await api_back(10)  # one late reply gets through, the next is refused
            screen.append(await asyncio.wait_for(shown.get(), 5))
            assert said(screen[-1], "ask.followers")
            screen.append(await answer("77303", "2001"))  # the follower count, answered
            assert said(screen[-1], "ask.likes_received")
            await api_back(60)  # the API takes messages again
            while not shown.empty():
                screen.append(shown.get_nowait())
                if said(screen[-1], "ask.followers"):  # back on screen: answered again
                    screen.append(await answer(f"7731{len(screen)}", "2001"))
            return screen

    screen = asyncio.run(scenario())
    answers = form_answers(core, openid)
    assert answers["phone"] == "13800000002" and answers["followers"] == 2001
    assert "likes_received" not in answers, screen
    assert said(screen[-1], "ask.likes_received")  # the question open is the one on screen
    with Session(db) as session:
        statuses = session.scalars(select(OutboxMessage.status)).all()
    assert sorted(statuses) == ["sent", "superseded"], screen
