"""A question delivered twice, answered twice. A sendMessage that Telegram executed but
answered 502 is retried, so the person sees the question twice; people who answer every copy
they see (at once, as the copies arrive) must end with each value stored under its own
question: the second answer to a doubled question is a repeat (nothing changes) or, when it
differs, a correction of that question, never the answer to the next one."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from models import Streamer
from tests.catalog import said
from tests.fake_telegram import BotThread, FakeTelegram, Fault
from tests.people import (
    TelegramPeople,
    TelegramPerson,
    expected,
    other_value,
    repeated_in_a_row,
)
from tests.test_telegram_faults import stored, varied_streamer

pytestmark = [
    pytest.mark.fake("telegram"),
    pytest.mark.telegram_limits(backoff_seconds=0.05, max_backoff_seconds=0.2),
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBUserWarning"),
]


def test_people_who_answer_every_copy_store_each_value_under_its_question(
    bot: BotThread, fake: FakeTelegram, db: Engine
) -> None:
    """Every copy answered with the same value. (A different second answer is tested where
    it can be told apart, typed before the next question was shown: below, and
    tests/test_answer_binding.py. Typed after it, it is an answer to the question on screen;
    only plausibility can refuse it there.)"""
    fake.faults.append(Fault("502_after", "sendMessage", rate=0.08))
    people = [TelegramPerson(fake, 6000 + n, varied_streamer(n)[0]) for n in range(1, 7)]
    crowd = TelegramPeople(fake, people)
    crowd.start()
    stuck = crowd.wait(90)
    assert not stuck, stuck[0].script.transcript()
    assert sum(p.copies for p in people) >= 3  # questions were really doubled
    for person in people:
        script = person.script
        got = stored(db, person.user.id)
        assert got == expected(script.lines, script.final), script.transcript()
        assert repeated_in_a_row(person.user.inbox)[1] == 0, script.transcript()
    with Session(db) as session:
        assert session.scalar(select(func.count()).select_from(Streamer)) == len(people)


# Questions shown twice for each person, script line and field: two questions apart (see
# the test's docstring).
DOUBLED = {
    "ask.phone": (9, "联系电话"),
    "ask.monthly_live_days": (13, "月均直播有效天"),
    "ask.peak_concurrent": (16, "最高同时在线人数"),
}


def test_a_different_value_on_the_copy_corrects_the_question_it_answers(
    bot: BotThread, fake: FakeTelegram, db: Engine
) -> None:
    """People answer both copies of a doubled question, the second with a different value
    (they meant another figure), typed before the next question was shown (the API takes
    0.1-0.2 s a call, so the next question is always later than the copy's answer). That
    answer corrects the doubled question, says so naming the field, and the next question
    is asked again; the database holds the value each person last meant, and nothing lands
    on the next question. (Doubled questions are two apart: when the next question's send
    is retried too, an answer typed before its first attempt was shown, but not yet received
    by the bot when that attempt began, cannot be told from an answer to it; the question
    after a doubled one is asked again with the correction, and answered again.)"""
    fake.delay = (0.1, 0.2)
    people = [
        TelegramPerson(
            fake,
            6100 + n,
            varied_streamer(n)[0],
            change_on_copy=[line for line, _ in DOUBLED.values()],
        )
        for n in range(1, 5)
    ]
    for person in people:
        for key in DOUBLED:
            fake.faults.append(Fault("502_after", "sendMessage", only=_asking(person, key)))
    crowd = TelegramPeople(fake, people)
    crowd.start()
    stuck = crowd.wait(90)
    assert not stuck, stuck[0].script.transcript()
    for person in people:
        script = person.script
        got = stored(db, person.user.id)
        assert got == expected(script.lines, script.final), script.transcript()
        texts = [m.text for m in person.user.inbox]
        for line, field in DOUBLED.values():
            assert script.final[line] != script.lines[line]  # they did mean another value
            assert sum(said(t, "form.corrected", field=field) for t in texts) == 1, (
                script.transcript()
            )
        doubled, other = repeated_in_a_row(person.user.inbox)
        assert (doubled, other) == (3, 0), script.transcript()
    with Session(db) as session:
        assert session.scalar(select(func.count()).select_from(Streamer)) == len(people)


def _asking(person: TelegramPerson, key: str) -> Callable[[dict[str, Any]], bool]:
    """The first sendMessage to this person that asks this question."""
    done: list[bool] = []

    def only(params: dict[str, Any]) -> bool:
        hit = (
            not done
            and str(params.get("chat_id")) == str(person.user.id)
            and said(str(params.get("text", "")), key)
        )
        if hit:
            done.append(True)
        return hit

    return only


def test_people_who_slip_and_answer_every_copy_store_each_value_under_its_question(
    bot: BotThread, fake: FakeTelegram, db: Engine
) -> None:
    """Doubled questions, and people who slip now and then: a figure first typed as no
    number, then the value meant when the question is asked again with the error (its send
    doubled too, at times). Each value ends under its own question."""
    fake.faults.append(Fault("502_after", "sendMessage", rate=0.08))
    people = [TelegramPerson(fake, 6200 + n, varied_streamer(n)[0], typos=0.2) for n in range(1, 7)]
    crowd = TelegramPeople(fake, people)
    crowd.start()
    stuck = crowd.wait(90)
    assert not stuck, stuck[0].script.transcript()
    assert sum(p.script.mistyped for p in people) >= 3  # the slips really happened
    for person in people:
        script = person.script
        got = stored(db, person.user.id)
        assert got == expected(script.lines, script.final), script.transcript()
        assert repeated_in_a_row(person.user.inbox)[1] == 0, script.transcript()
    with Session(db) as session:
        assert session.scalar(select(func.count()).select_from(Streamer)) == len(people)


def test_a_changed_copy_answer_fetched_after_the_next_question_began_still_corrects_its_own(
    bot: BotThread, fake: FakeTelegram, db: Engine
) -> None:
    """The live-days question is shown twice (executed, answered 502, sent again); the person
    answers the first copy 11 and the second 12 (they meant 12). The bot fetches that 12 only
    after it began sending the live-hours question, whose first attempt Telegram executed and
    answered 502 too: the hours question then counts as possibly seen from the first id after
    everything the bot knew when it began, and the 12 has an id after that. Telegram numbers a
    private chat's messages in one sequence, so every id between that point and the 12 being
    known (the person's own messages, the bot's returned sends), the hours question cannot
    have been shown before the 12 was typed: the 12 corrects the live days. (It was taken as
    the live hours, and the hours answer typed next corrected that: 11 days stored.)"""
    lines = varied_streamer(1)[0]
    days, other = lines[13], other_value(13, lines[13])
    assert other is not None
    person = TelegramPerson(fake, 6300, lines, change_on_copy=[13])
    for key in ("ask.monthly_live_days", "ask.monthly_live_hours"):
        fake.faults.append(Fault("502_after", "sendMessage", only=_asking(person, key)))
    original = fake._m_getUpdates

    async def late_copy_answer(params: dict[str, Any]) -> tuple[int, str, bytes]:
        answer = await original(params)
        updates = json.loads(answer[2])["result"]
        if any((u.get("message") or {}).get("text") == other for u in updates):
            await asyncio.sleep(0.5)  # the hours question's first attempt begins meanwhile
        return answer

    fake._m_getUpdates = late_copy_answer  # type: ignore[method-assign]
    crowd = TelegramPeople(fake, [person])
    crowd.start()
    stuck = crowd.wait(60)
    assert not stuck, stuck[0].script.transcript()
    script = person.script
    assert script.final[13] == other != days
    assert stored(db, person.user.id) == expected(script.lines, script.final), script.transcript()
    texts = [m.text for m in person.user.inbox]
    assert sum(said(t, "form.corrected", field="月均直播有效天") for t in texts) == 1, (
        script.transcript()
    )
