"""A question delivered twice, answered twice. A sendMessage that Telegram executed but
answered 502 is retried, so the person sees the question twice; people who answer every copy
they see (at once, as the copies arrive) must end with each value stored under its own
question: the second answer to a doubled question is a repeat (nothing changes) or, when it
differs, a correction of that question, never the answer to the next one."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.core.i18n import translate
from models import Streamer
from tests.catalog import said
from tests.fake_telegram import BotThread, FakeTelegram, Fault, SimUser
from tests.people import TelegramPeople, TelegramPerson, expected, repeated_in_a_row
from tests.test_telegram_faults import stored, varied_streamer

pytestmark = [
    pytest.mark.fake("telegram"),
    pytest.mark.telegram_limits(backoff_seconds=0.05, max_backoff_seconds=0.2),
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBUserWarning"),
]

HINT = translate("zh_CN", "tg.share_contact_hint")  # sent beside the phone question
# Said before a question asked again; the person reads them and answers the question.
NOTES = ("form.corrected", "form.early_not_taken", "form.early_not_taken_any")


# The script lines typed as values (account, phone, the figures); the others are choices
# and buttons, answered the same way twice.
TYPED_VALUES = {7, 9, 10, 11, 13, 15, 16, 17}


def other_value(index: int, line: str) -> str | None:
    """A different valid answer to the same question, for the values typed."""
    if index not in TYPED_VALUES:
        return None
    if line.isdigit() and len(line) == 11:  # a phone number
        return line[:-1] + str((int(line[-1]) + 1) % 10)
    if line.isdigit():
        return str(int(line) + 1)
    return line + "b"  # the account name


class Doubler:
    """A person who answers every question they see, as soon as they see it. A question
    is a message with buttons (notes and error messages have none; the question follows
    them). A new question gets the next line of the script; a copy of the question just
    answered (a doubled delivery) gets the same value again, or another one when
    `change_on_copy`; a question seen before and asked again after a message in between
    (an error, a note) gets the value last given to it."""

    def __init__(self, user: SimUser, lines: list[str], change_on_copy: bool) -> None:
        self.user, self.lines, self.change = user, lines, change_on_copy
        self.copies = 0
        self.final: dict[int, str] = {}  # script line -> the value that should be stored
        self.log: list[str] = []  # what was shown and typed, for a failure's message
        self.error: BaseException | None = None

    def run(self, timeout: float = 90) -> None:
        try:
            self._run(timeout)
        except BaseException as exc:
            self.error = exc

    def _type(self, line: str, note: str = "") -> None:
        self.user.text(line)
        self.log.append(f"> {note}{line}")

    def _run(self, timeout: float) -> None:
        user, lines = self.user, self.lines
        self._type(lines[0])
        upto, nxt = 0, 1
        asked: dict[str, int] = {}  # question text -> the script line that answers it
        previous = None  # the text of the message before this one
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in user.inbox[upto:]:
                upto += 1
                self.log.append("< " + message.text.splitlines()[0][:40])
                text, before, previous = message.text, previous, message.text
                if said(text, "streamer.submitted"):
                    return
                if not message.buttons():
                    continue  # not a question (a note, an error): the question follows
                if text in asked:
                    line = asked[text]
                    if before == text:  # the same question twice in a row: a copy
                        self.copies += 1
                        other = other_value(line, lines[line]) if self.change else None
                        if other is not None:
                            self.final[line] = other
                    self._type(self.final[line], "(again) ")
                    continue
                if nxt >= len(lines):
                    continue
                asked[text], self.final[nxt] = nxt, lines[nxt]
                self._type(lines[nxt])
                nxt += 1
            time.sleep(0.003)
        raise AssertionError(f"{user.name}: not submitted:\n" + "\n".join(self.log))


def expected_of(n: int, doubler: Doubler) -> dict[str, object]:
    lines, _ = varied_streamer(n)
    final = {i: doubler.final.get(i, line) for i, line in enumerate(lines)}
    return {
        "account": final[7],
        "phone": final[9],
        "followers": int(final[10]),
        "likes_received": int(final[11]),
        "monthly_live_days": int(final[13]),
        "monthly_live_hours": Decimal("45.5"),
        "cumulative_viewers": int(final[15]),
        "peak_concurrent": int(final[16]),
        "cumulative_orders": int(final[17]),
    }


@pytest.mark.parametrize("change_on_copy", [False], ids=["same-value"])
def test_people_who_answer_every_copy_store_each_value_under_its_question(
    bot: BotThread, fake: FakeTelegram, db: Engine, change_on_copy: bool
) -> None:
    """(A different second answer is tested where it can be told apart, typed before the
    next question was shown: below, and tests/test_answer_binding.py. Typed after it, it is
    an answer to the question on screen; only plausibility can refuse it there.)"""
    fake.faults.append(Fault("502_after", "sendMessage", rate=0.08))
    people: dict[int, Doubler] = {}
    for n in range(1, 7):
        lines, _ = varied_streamer(n)
        people[n] = Doubler(fake.user(6000 + n), lines, change_on_copy)
    threads = [threading.Thread(target=p.run) for p in people.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for person in people.values():
        if person.error is not None:
            raise person.error
    assert sum(p.copies for p in people.values()) >= 3  # questions were really doubled
    for n, person in people.items():
        assert stored(db, person.user.id) == expected_of(n, person), person.user.name
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
