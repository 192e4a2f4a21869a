"""The /report date question when days may be backfilled: a button for each day that can
still be reported (reports.backfill_days, inside the live period), each named."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from handlers.routes import ROUTES
from tests import festival_data as data
from tests.catalog import buttons, label, line
from tests.chat import Chat, form_answers


@pytest.fixture
def three_days(db: Engine, config: FestivalConfig, clock: FixedClock) -> Iterator[Chat]:
    """A core whose reports may be backfilled three days; an approved streamer "s"."""
    reports = config.reports.model_copy(update={"backfill_days": 3})
    core = Core(config.model_copy(update={"reports": reports}), db, clock, ROUTES)
    with Session(db) as s, s.begin():
        data.streamer(s, "小明的果园", user="s")
    yield Chat(core)


def date_question(days: list[tuple[str, str]], locale: str = "zh_CN", **named: int) -> str:
    """The date question with one button per (catalog key, MM-DD), then 取消."""
    shown = [
        f"{label(key, locale, **({'n': named[key]} if key in named else {}))} {day}"
        for key, day in days
    ]
    return line("ask.report_date", locale) + buttons(*shown, label("btn.cancel", locale))


def test_a_button_for_each_day_of_the_backfill_window(three_days: Chat) -> None:
    assert three_days.say("s", "/report") == date_question(
        [
            ("opt.today", "11-02"),
            ("opt.yesterday", "11-01"),
            ("opt.day_before", "10-31"),
            ("opt.days_ago", "10-30"),
        ],
        **{"opt.days_ago": 3},
    )
    # the fourth button is the earliest day; a day before it is refused with the window
    assert three_days.say("s", "10-29") == (
        line("err.date_too_old", days=3)
        + date_question(
            [
                ("opt.today", "11-02"),
                ("opt.yesterday", "11-01"),
                ("opt.day_before", "10-31"),
                ("opt.days_ago", "10-30"),
            ],
            **{"opt.days_ago": 3},
        )
    )
    assert three_days.say("s", "4").startswith(line("ask.gmv", existing=""))
    assert form_answers(three_days.core, "s")["report_date"] == "2020-10-30"


def test_no_button_for_a_day_before_the_live_period(three_days: Chat, clock: FixedClock) -> None:
    clock.set(dt.datetime(2020, 10, 31, 20, 0))  # the live period began yesterday
    assert three_days.say("s", "/report") == date_question(
        [("opt.today", "10-31"), ("opt.yesterday", "10-30")]
    )


def test_the_buttons_in_english(three_days: Chat) -> None:
    three_days.say("s", "/lang en")
    assert three_days.say("s", "/report") == date_question(
        [
            ("opt.today", "11-02"),
            ("opt.yesterday", "11-01"),
            ("opt.day_before", "10-31"),
            ("opt.days_ago", "10-30"),
        ],
        "en",
        **{"opt.days_ago": 3},
    )
