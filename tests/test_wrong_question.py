"""Answers that landed on the wrong question, found by benchmarks/faults.py and its fault runs:
each one's regression test. A question asked again (after an invalid answer) has been seen
since it was first shown; what happens to the reply that asks it again (withheld while the step
runs, its answer lost, sent late and refused) does not make it unseen."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.core.answers import ShownQuestions
from bot.core.dispatcher import Core
from tests.catalog import said
from tests.chat import form_answers
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
