"""A question delivered twice, answered twice. A sendMessage that Telegram executed but
answered 502 is retried, so the person sees the question twice; people who answer every copy
they see (at once, as the copies arrive) must end with each value stored under its own
question: the second answer to a doubled question is a repeat (nothing changes) or, when it
differs, a correction of that question, never the answer to the next one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from models import Streamer
from tests.catalog import said
from tests.fake_telegram import BotThread, FakeTelegram, Fault
from tests.people import TelegramPeople, TelegramPerson, expected, repeated_in_a_row
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
