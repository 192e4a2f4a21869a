"""Answers that landed on the wrong question, found by benchmarks/faults.py and its fault runs:
each one's regression test. A question asked again (after an invalid answer) has been seen
since it was first shown; what happens to the reply that asks it again (withheld while the step
runs, its answer lost, sent late and refused) does not make it unseen."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from bot.config import FestivalConfig
from bot.core.answers import ShownQuestions
from bot.core.clock import Clock
from bot.core.dispatcher import Core
from handlers.routes import ROUTES
from tests.catalog import said
from tests.chat import form_answers
from tests.conftest import LIVE_NOW, until
from tests.fake_wechat import FakeWeChat, message_xml, wechat_bot
from tests.test_telegram_faults import varied_streamer

pytestmark = pytest.mark.fake("wechat")


def test_a_question_asked_again_keeps_its_first_showing_when_its_reply_is_withheld() -> None:
    """(b) The reply to an invalid answer asks the same question again; while it is being
    handled (withheld), and after its answer was lost (unseen), the question stays shown from
    when it was first shown: an answer typed meanwhile answers it, not the one before."""
    shown = ShownQuestions()
    shown.handed_over("c", "q1", at=1.0)
    shown.handed_over("c", "q2", at=10.0)
    shown.withheld("c", "q2")  # the step that re-asks it is running
    assert not shown.early("c", 12.0)
    shown.handed_over("c", "q2", at=20.0)  # its passive answer returned
    assert not shown.early("c", 15.0)
    shown.withheld("c", unseen=True)  # WeChat resent it: that answer was lost
    assert not shown.early("c", 25.0)
    # a new question withheld is still unseen, as before
    shown.withheld("c", "q3")
    assert shown.early("c", 30.0)
    shown.handed_over("c", "q3", at=40.0)
    shown.withheld("c", unseen=True)  # the answer that carried q3 was lost
    assert shown.early("c", 45.0)


def test_a_refused_send_does_not_erase_an_earlier_showing_of_the_same_question() -> None:
    """(c) A question shown, then asked again by a late reply whose send was refused (WeChat's
    error code, "system busy"): the refusal means this copy was not shown, not that the
    question never was."""
    shown = ShownQuestions()
    shown.handed_over("c", "q1", at=1.0)
    shown.handed_over("c", "q2", at=10.0)
    shown.withheld("c", "q2")  # asked again, its reply late
    shown.sending("c", 20.0)
    shown.sending_ended("c", 20.0, "refused")
    assert not shown.early("c", 15.0) and not shown.early("c", 25.0)
    # a new question whose only send was refused stays unseen, as before
    shown.withheld("c", "q3")
    shown.sending("c", 30.0)
    shown.sending_ended("c", 30.0, "refused")
    assert shown.early("c", 35.0)


def test_a_valid_answer_retyped_after_an_invalid_one_went_unanswered_answers_its_question(
    running_core: Core, fake: FakeWeChat
) -> None:
    """(b) and (c) end to end on WeChat. At the likes question the follower types something
    that is no number; all three answers to it are lost and WeChat's API refuses the late
    reply ("system busy"), so nothing comes. They then type a valid likes count. It answers
    the likes question they have been looking at all along: before, it was taken as a
    correction of the follower count (two counts: both plausible)."""
    lines, _ = varied_streamer(1)
    at_likes = lines.index("30001")

    async def scenario() -> str:
        async with wechat_bot(running_core, fake, safe=False) as bot:
            follower = bot.follower("o_reask")
            seen = await follower.run(lines[:at_likes])  # the likes question is open
            assert said(seen[-1], "ask.likes_received")
            fake.interact("o_reask")
            fake.busy.add("o_reask")
            body = message_xml("o_reask", "text", int(time.time()), MsgId="78001", Content="很多")
            for _ in range(running_core.config.wechat.callback_tries):  # every answer lost
                await bot.server.post(body)
            await bot.deliver()  # the late reply, refused
            fake.busy.discard("o_reask")
            retyped = message_xml(
                "o_reask", "text", int(time.time()), MsgId="78002", Content="30001"
            )
            answer = bot.server.reply_text(await bot.server.post(retyped))
            await bot.runtime.channel.idle()
            return answer or ""

    answer = asyncio.run(scenario())
    answers = form_answers(running_core, "o_reask")
    assert answers["followers"] == 2001, answer
    assert answers["likes_received"] == 30001, answer
    assert not said(answer, "form.corrected")


def test_an_earlier_question_sent_again_does_not_show_the_withheld_one() -> None:
    """A late reply asking q1 failed uncertainly and waits for its retry; the answer to it
    came, and the reply asking q2 waits behind it (withheld). The retry of q1's message
    begins: that is not q2 being shown; q2's own message is."""
    shown = ShownQuestions()
    shown.handed_over("c", "q1", at=1.0)
    shown.withheld("c", "q2")
    shown.sending("c", 10.0, "q1")  # q1's late reply, tried again
    shown.sending_ended("c", 10.0, "shown")
    assert shown.early("c", 12.0)  # typed on q1's second copy: answers q1
    shown.sending("c", 20.0, "q2")
    shown.sending_ended("c", 20.0, "shown")
    assert shown.early("c", 15.0) and not shown.early("c", 21.0)
    shown.withheld("c", "q3")
    shown.sending("c", 30.0)  # a message whose question is not known: counts, as before
    assert not shown.early("c", 31.0)


@pytest.fixture
def late_core(db: Engine, config: FestivalConfig) -> Iterator[Core]:
    """Every step's reply goes late (a passive budget of 0), on a running clock: the
    outbox's retries come due."""
    wechat = config.wechat.model_copy(update={"reply_budget_seconds": 0.0})
    clock = Clock(config.calendar.tz, LIVE_NOW.replace(tzinfo=config.calendar.tz))
    core = Core(config.model_copy(update={"wechat": wechat}), db, clock, ROUTES)
    yield core
    core.executor.shutdown()


def test_a_changed_answer_to_a_late_questions_second_copy_corrects_it(
    late_core: Core, fake: FakeWeChat
) -> None:
    """Every reply goes late. The likes question's customer-service message is executed and
    answered 502: the follower sees it and answers 30001; the outbox sends it again, the
    follower sees it a second time and answers 30002 (they meant that). The reply to 30001
    (the next question) waited behind the retried message, so 30002 was typed before it was
    shown: it corrects the likes. (The retry's send was taken as the next question being
    shown, and 30002 became the 音浪 income.)"""
    lines, _ = varied_streamer(1)
    at_likes = lines.index("30001")
    typed: list[str] = []

    async def scenario() -> None:
        async with wechat_bot(late_core, fake, safe=False) as bot:
            follower = bot.follower("o_copy2")
            await follower.run(lines[: at_likes - 1])  # up to the phone
            loop = asyncio.get_running_loop()

            def shown(openid: str, text: str, answer_lost: bool) -> None:
                if not said(text, "ask.likes_received") or len(typed) >= 2:
                    return
                value = "30001" if not typed else "30002"
                typed.append(value)
                fake.error_rate = 1.0 if len(typed) == 1 else 0.0  # the first: 502 after
                loop.call_soon_threadsafe(asyncio.ensure_future, follower.say(value))

            fake.on_service = shown
            fake.error_rate = 1.0  # the likes question's first send: executed, then 502
            await follower.say(lines[at_likes - 1])  # the follower count: likes asked next
            await until(lambda: len(typed) == 2, timeout=30)
            for _ in range(3):  # the two answers' steps and their late replies
                await asyncio.sleep(0.3)
                await bot.runtime.channel.idle()
                await bot.deliver()

    asyncio.run(scenario())
    answers = form_answers(late_core, "o_copy2")
    assert answers["likes_received"] == 30002, answers
    assert "tips_income" not in answers, answers
