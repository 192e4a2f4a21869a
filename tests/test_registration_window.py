"""Self-registration closes after `calendar.registration_deadline` (the shipped setting
`registration_closes: true`; the suite's other tests keep it open, see conftest): the menu
counts the days left before it; after it 主播报名, 企业报名 and a unit's link are refused with
the reason, /me still edits; late entries added by a unit's import are marked in review."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine

from bot.config import FestivalConfig
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from handlers.registration_window import days_left
from handlers.routes import ROUTES
from models import Unit
from tests import festival_data as data
from tests.catalog import label, said
from tests.chat import Chat
from tests.conftest import LIVE_NOW
from tests.flows import streamer_lines

DEADLINE = dt.date(2020, 10, 19)


@pytest.fixture
def closing(config: FestivalConfig) -> FestivalConfig:
    calendar = config.calendar.model_copy(update={"registration_closes": True})
    shipped = config.model_copy(update={"calendar": calendar})
    assert shipped.calendar.registration_deadline == DEADLINE
    return shipped


def chat_at(db: Engine, config: FestivalConfig, when: dt.datetime) -> Iterator[Chat]:
    core = Core(config, db, FixedClock(config.calendar.tz, when), ROUTES)
    try:
        yield Chat(core)
    finally:
        core.executor.shutdown()


@pytest.fixture
def before(db: Engine, closing: FestivalConfig) -> Iterator[Chat]:
    yield from chat_at(db, closing, dt.datetime(2020, 10, 15, 9, 0))


@pytest.fixture
def after(db: Engine, closing: FestivalConfig) -> Iterator[Chat]:
    yield from chat_at(db, closing, LIVE_NOW)


@pytest.mark.parametrize(
    ("today", "left"),
    [
        (dt.date(2020, 10, 1), 18),
        (dt.date(2020, 10, 18), 1),
        (dt.date(2020, 10, 19), 0),  # the deadline's day is still open
        (dt.date(2020, 10, 20), None),
    ],
)
def test_days_left(today: dt.date, left: int | None) -> None:
    assert days_left(today, DEADLINE) == left


def test_before_the_deadline_the_menu_counts_the_days(before: Chat) -> None:
    out = before.say("s", "/start")
    assert said(out, "registration.days_left", days=4, deadline=DEADLINE)
    out = before.run("s", [*streamer_lines("赶在截止前")[1:], "确认提交"])
    assert said(out, "streamer.submitted", account="赶在截止前")


def test_on_the_last_day_the_menu_says_so(db: Engine, closing: FestivalConfig) -> None:
    for chat in chat_at(db, closing, dt.datetime(2020, 10, 19, 23, 30)):
        assert said(chat.say("s", "/start"), "registration.last_day", deadline=DEADLINE)


def test_after_the_deadline_self_registration_is_refused(after: Chat) -> None:
    out = after.say("s", "/start")
    assert not said(out, "registration.last_day", deadline=DEADLINE)
    assert said(after.say("s", label("menu.streamer")), "registration.closed", deadline=DEADLINE)
    assert said(after.say("e", "/start"), "menu.title", festival=after.core.config.festival.name)
    assert said(after.say("e", label("menu.enterprise")), "registration.closed", deadline=DEADLINE)
    with after.core.sessions() as s, s.begin():
        s.execute(update(Unit).where(Unit.code == "360302").values(rec_token="tok123"))
    assert said(after.say("r", "/start rec_tok123"), "registration.closed", deadline=DEADLINE)


def test_a_registration_made_before_can_still_be_edited(before: Chat, after: Chat) -> None:
    before.run("s", [*streamer_lines("早报名"), "确认提交"])
    after.say("s", "/me")
    out = after.press("s", label("btn.edit_streamer"))
    assert said(out, "streamer.summary_title")


def test_a_late_entry_is_marked_in_review(after: Chat) -> None:
    with after.core.sessions() as s, s.begin():
        data.admin(s, "admin")
        early = data.streamer(s, "早到的", status="pending_review")
        early.created_at = dt.datetime(2020, 10, 18, 12, 0, tzinfo=dt.UTC)
        late = data.streamer(s, "补报的", status="pending_review")
        late.created_at = dt.datetime(2020, 11, 1, 12, 0, tzinfo=dt.UTC)  # a unit's import
    first = after.say("admin", "/review")  # one card at a time, oldest first
    assert "早到的" in first and not said(first, "review.card_late", deadline=DEADLINE)
    second = after.press("admin", label("btn.skip"))
    assert "补报的" in second and said(second, "review.card_late", deadline=DEADLINE)
