"""An answer is bound to the question it answers. A typed answer that arrived before the open
question was handed to the platform (the channel marks it `early`) answers the question before:
the same value again changes nothing and says nothing, a different valid value corrects it and
says so, anything else is not taken (and the person is told). Never an answer to a question
the person had not seen."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select

from bot.channels.console import parse_line
from bot.core.answers import ShownQuestions, question_of, typed_action
from bot.core.dispatcher import Core
from bot.core.messages import Incoming, Reply
from models import DialogState, Identity, Streamer
from tests import flows
from tests.catalog import said
from tests.chat import Chat, form_answers

PHONE_AT = flows.streamer_lines("acct").index("138 0013 8000")


def _say(core: Core, user: str, line: str, early: bool = False) -> list[Reply]:
    inc = parse_line(line, user)
    assert inc is not None
    return core.process_sync(dataclasses.replace(inc, early=early))


def _version(core: Core, user: str) -> int:
    with core.sessions() as s:
        return s.scalars(
            select(DialogState.version)
            .join(Identity, Identity.id == DialogState.identity_id)
            .where(Identity.user_id == user)
        ).one()


def _up_to_followers(chat: Chat, user: str) -> None:
    """The streamer form answered up to the phone; the followers question is open."""
    chat.run(user, flows.streamer_lines("acct")[: PHONE_AT + 1])
    assert said(chat.last, "ask.followers")


def test_a_repeated_answer_changes_nothing_and_says_nothing(core: Core, chat: Chat) -> None:
    _up_to_followers(chat, "ann")
    version = _version(core, "ann")
    # the phone typed again before the followers question was shown (a doubled question)
    assert _say(core, "ann", "138 0013 8000", early=True) == []
    assert form_answers(core, "ann")["phone"] == "13800138000"
    assert "followers" not in form_answers(core, "ann")
    assert _version(core, "ann") == version  # the open question's buttons stay valid
    # and the followers question still takes its answer
    chat.say("ann", "1800")
    assert form_answers(core, "ann")["followers"] == 1800


def test_a_different_value_corrects_the_previous_answer_and_says_so(core: Core, chat: Chat) -> None:
    _up_to_followers(chat, "bo")
    replies = _say(core, "bo", "139 0013 9000", early=True)
    assert said(replies, "form.corrected", field="联系电话")
    assert said(replies[-1:], "ask.followers")  # the open question again, with the reason
    answers = form_answers(core, "bo")
    assert answers["phone"] == "13900139000" and "followers" not in answers


def test_a_value_that_fits_only_the_open_question_is_not_taken(core: Core, chat: Chat) -> None:
    """A follower count typed before the followers question was shown is no phone number:
    it is not stored anywhere, and the person is told why and asked again."""
    _up_to_followers(chat, "cy")
    replies = _say(core, "cy", "1800", early=True)
    assert said(replies, "form.early_not_taken", field="联系电话")
    assert said(replies[-1:], "ask.followers")
    answers = form_answers(core, "cy")
    assert answers["phone"] == "13800138000" and "followers" not in answers


def test_a_typed_choice_number_is_read_against_the_question_itform_answers(
    core: Core, chat: Chat
) -> None:
    """'1' typed again at the declarations question arrives after the summary was stored but
    before it was shown: it answers the declarations (numbered choices), never the summary's
    first button 确认提交, so nothing is submitted unseen."""
    chat.run("di", flows.streamer_lines("acct_d"))
    assert said(chat.last, "streamer.summary_title")
    assert form_answers(core, "di")["declarations"] == "yes"
    assert _say(core, "di", "1", early=True) == []  # option 1 is 以上全部属实: a repeat
    with core.sessions() as s:
        assert s.scalar(select(Streamer.id)) is None  # nothing submitted
    assert form_answers(core, "di")["declarations"] == "yes"
    chat.say("di", "确认提交")  # the person confirms once they have seen the summary
    with core.sessions() as s:
        assert s.scalar(select(Streamer.id)) is not None


def test_early_text_outside_a_form_and_late_text_are_handled_as_always(
    core: Core, chat: Chat
) -> None:
    assert said(_say(core, "ed", "/start", early=True), "menu.title")
    _up_to_followers(chat, "fa")
    chat.say("fa", "1800")  # not early: the answer to the open question
    assert form_answers(core, "fa")["followers"] == 1800


def test_shown_questions_keep_the_first_time_a_question_was_shown() -> None:
    shown = ShownQuestions()
    shown.handed_over("c", "q1", at=10.0)
    assert shown.early("c", 9.0) and not shown.early("c", 10.5)
    shown.handed_over("c", "q1", at=20.0)  # asked again (after an error, /help)
    assert not shown.early("c", 15.0)
    shown.handed_over("c", "q2", at=30.0)
    assert shown.early("c", 25.0)
    shown.withheld("c")  # its reply is known not to have arrived
    assert shown.early("c", 1e9)
    shown.handed_over("c", "q2", at=40.0)  # a withheld question shown now: from now
    assert shown.early("c", 35.0) and not shown.early("c", 41.0)
    assert not shown.early("other", 1.0) and not shown.early("c", None)


def test_question_of_and_typed_action() -> None:
    replies = [Reply("note"), Reply("ask", question="f/1/ask/['x']"), Reply("after")]
    assert question_of(replies) == "f/1/ask/['x']" and question_of([Reply("x")]) is None
    shown = [["抖音", "7:o:0"], ["京东", "7:o:1"]]
    assert typed_action("京东", shown, numbered=True) == "o:1"
    assert typed_action("2", shown, numbered=True) == "o:1"
    assert typed_action("2", shown, numbered=False) is None
    assert typed_action("微信", shown, numbered=True) is None


def test_the_prompt_of_a_field_names_its_question(core: Core) -> None:
    inc = Incoming.from_text("console", "gu", "/register")
    replies = core.process_sync(inc)
    core.process_sync(Incoming.from_text("console", "gu", "同意并继续"))
    first = core.process_sync(Incoming.from_text("console", "gu", "xyz"))  # not a choice
    again = core.process_sync(Incoming.from_text("console", "gu", "xyz"))
    assert replies and question_of(first) is not None
    assert question_of(first) == question_of(again)  # the same question asked again


def test_a_send_under_way_counts_from_its_start_and_its_outcome_settles_it() -> None:
    """A late reply from the outbox: the withheld question may be seen from the moment its
    send began; refused for certain, it is withheld again; failed uncertainly, it stays
    shown. The person waited for it: the answer before, typed again as it arrived, counts
    as a repeat (after_doubled)."""
    shown = ShownQuestions()
    shown.handed_over("c", "q1", at=10.0)
    shown.withheld("c", "q2")  # q2's reply waits in the outbox
    shown.sending("c", 20.0)
    assert shown.early("c", 19.0) and not shown.early("c", 21.0)
    shown.sending_ended("c", 20.0, "refused")  # WeChat answered with an error code
    assert shown.early("c", 21.0)
    shown.sending("c", 30.0)
    shown.sending_ended("c", 30.0, "unknown")  # a 502: it may have been shown
    assert not shown.early("c", 31.0)
    assert shown.after_doubled("c") and not shown.after_doubled("c")  # asked once
    shown.sending("c", 40.0)  # a notice while the question is on screen: changes nothing
    shown.sending_ended("c", 40.0, "refused")
    assert not shown.early("c", 35.0)
    shown.withheld("c", "q2")  # q2 asked again (the answer before was noted), late
    shown.sending("c", 50.0)
    assert not shown.after_doubled("c")  # its answer is taken, whatever it is


def test_a_late_reply_is_superseded_once_a_later_step_asked_a_question() -> None:
    """A late reply (a step's reply, sent later by the outbox) is not sent once a later step
    of the chat asked a question: that step's reply carries the open one. A step's question
    is kept, for a reply the channel sends again later; a step not known (another process, a
    restart) is judged by the chat's latest question."""
    shown = ShownQuestions()
    assert not shown.superseded("c", "q2", "m1")  # nothing known: sent
    shown.handed_over("c", "q1", at=1.0)
    shown.withheld("c", "q2", step="m1")  # m1's step asks q2; its reply goes late
    assert shown.asked_by("c", "m1") == "q2" and shown.asked_by("c", "m0") is None
    assert not shown.superseded("c", "q2", "m1")  # what shows the open question: sent
    assert not shown.superseded("c", None, "m1")  # no question: sent
    shown.withheld("c", None, step="m2")  # a later step that asks nothing (a note)
    assert not shown.superseded("c", "q2", "m1")
    shown.withheld("c", "q2", step="m3")  # a retype's step asks q2 again
    assert shown.superseded("c", "q2", "m1")  # m3's reply carries it
    assert not shown.superseded("c", "q2", "m3")
    assert not shown.superseded("c", "q2", "m9") and shown.superseded("c", "q1", "m9")


def test_a_question_shown_again_by_a_late_copy_reads_the_next_answer_against_it() -> None:
    """A late reply shows the open question a second time (a retype's correction and the
    question again, after the reply WeChat gave up on): the first answer to the question
    after it may be a second answer to the copy."""
    shown = ShownQuestions()
    shown.withheld("c", "q2")
    shown.sending("c", 10.0, "q2")  # the first late reply: q2 shown
    shown.sending_ended("c", 10.0, "shown")
    shown.sending("c", 11.0, "q2")  # the second: q2 again
    shown.sending_ended("c", 11.0, "shown")
    shown.withheld("c", "q3")  # q2 answered (from the first copy)
    shown.handed_over("c", "q3", at=12.0)
    assert shown.after_doubled("c") and not shown.after_doubled("c")


def test_settled_waits_while_a_send_is_under_way() -> None:
    import asyncio

    async def scenario() -> None:
        shown = ShownQuestions()
        shown.sending("c", 1.0)
        waiting = asyncio.ensure_future(shown.settled("c", limit=5))
        await asyncio.sleep(0.02)
        assert not waiting.done()
        shown.sending_ended("c", 1.0, "shown")
        await asyncio.wait_for(waiting, 1)
        await asyncio.wait_for(shown.settled("other", limit=5), 1)  # nothing under way

    asyncio.run(scenario())


def test_a_menu_choice_typed_again_before_the_privacy_notice_showed(core: Core, chat: Chat) -> None:
    """The menu shown twice and its choice typed on both copies: the second arrives before
    the privacy notice it led to was shown. It is the same choice again (nothing said, the
    notice not shown twice); a "1" meant for the menu is no 同意. Other early text is not
    taken, and said; the notice is answered as usual afterwards."""
    chat.say("gi", "/start")
    assert said(chat.say("gi", "主播报名"), "privacy.notice")
    version = _version(core, "gi")
    assert _say(core, "gi", "主播报名", early=True) == []
    assert _say(core, "gi", "1", early=True) == []  # [1] 主播报名, not [1] 同意并继续
    assert _version(core, "gi") == version  # the notice's buttons stay valid
    replies = _say(core, "gi", "好的", early=True)
    assert said(replies, "form.early_not_taken_any") and said(replies, "privacy.notice")
    assert said(chat.say("gi", "同意并继续"), "ask.unit_group")


def test_what_one_worker_knew_of_a_question_another_takes_over() -> None:
    """snapshot/restore (several workers, through JSON): the other worker binds answers as
    the one that sent the question would, a withheld question included."""
    import json

    sent = ShownQuestions()
    sent.handed_over("c", "q2", at=20, doubled=True, until=22)
    other = ShownQuestions()
    other.handed_over("c", "q1", at=5)  # what it knew from long before: stale
    other.restore("c", json.loads(json.dumps(sent.snapshot("c"))))
    assert other.early("c", 19) and not other.early("c", 23)
    assert other.uncertain("c") == sent.uncertain("c")
    sent.withheld("c", "q3")
    snap = sent.snapshot("c")
    assert snap is not None and snap["mark"] is None  # JSON has no infinity
    other.restore("c", json.loads(json.dumps(snap)))
    assert other.early("c", 10**9)  # not shown yet: anything typed is early
    assert ShownQuestions().snapshot("c") is None


def test_a_forgotten_chat_binds_nothing_early() -> None:
    shown = ShownQuestions()
    shown.withheld("c", "q1")
    assert shown.early("c", 10)
    shown.forget("c")
    assert not shown.early("c", 10) and shown.snapshot("c") is None
