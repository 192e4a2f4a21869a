"""/review's last word: when the queue is done it says nothing waits, in words true of what
was reviewed (the committee's queue holds held daily reports and products too, not only
registrations)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.i18n import translate
from tests import festival_data as data
from tests.catalog import label, said
from tests.chat import Chat


def test_the_end_of_a_queue_of_held_reports(chat: Chat, db: Engine, config: FestivalConfig) -> None:
    with Session(db) as s, s.begin():
        streamer = data.streamer(s, "小明的果园", user="s")
        report = data.report(s, config, streamer, dt.date(2020, 11, 1), gmv_yuan=220_000)
        report.held, report.flags = True, [{"rule": "gmv_spike"}]
    chat.say("admin", "/start")
    assert said(chat.say("admin", "/review"), "trust.card_title")
    out = chat.press("admin", label("btn.clear_report"))
    assert said(out, "trust.done_clear") and said(out, "review.queue_empty")
    # a held report is no registration: the end says nothing waits, whatever it was
    for locale, registration in (("zh_CN", "报名"), ("en", "registration")):
        assert registration not in translate(locale, "review.queue_empty").lower()
