"""/review's last word: when the queue is done it says nothing waits, in words true of what
was reviewed (the committee's queue holds held daily reports and products too, not only
registrations); a queue that was empty and a round that went through it are told apart, the
latter with how many decisions were made."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.i18n import translate
from tests import festival_data as data
from tests.catalog import label, said
from tests.chat import Chat
from tests.committee_helpers import invite


def test_the_end_of_a_queue_of_held_reports(chat: Chat, db: Engine, config: FestivalConfig) -> None:
    with Session(db) as s, s.begin():
        streamer = data.streamer(s, "小明的果园", user="s")
        report = data.report(s, config, streamer, dt.date(2020, 11, 1), gmv_yuan=220_000)
        report.held, report.flags = True, [{"rule": "gmv_spike"}]
    chat.say("admin", "/start")
    assert said(chat.say("admin", "/review"), "trust.card_title")
    out = chat.press("admin", label("btn.clear_report"))
    assert said(out, "trust.done_clear") and said(out, "review.queue_finished", n=1)
    # a held report is no registration: the end says nothing waits, whatever it was
    for locale, registration in (("zh_CN", "报名"), ("en", "registration")):
        for key in ("review.queue_empty", "review.queue_finished", "review.queue_finished_skipped"):
            assert registration not in translate(locale, key, n=2, skipped=1).lower()


def pending(db: Engine, *accounts: str) -> list[int]:
    with Session(db, expire_on_commit=False) as s, s.begin():
        rows = [data.streamer(s, a, status="pending_review") for a in accounts]
    with Session(db) as s:
        return [s.merge(r).id for r in rows]


def test_an_empty_queue_is_not_a_finished_one(chat: Chat) -> None:
    chat.say("admin", "/start")
    out = chat.say("admin", "/review")
    assert said(out, "review.queue_empty") and not said(out, "review.queue_finished")


def test_a_finished_round_says_how_many_were_reviewed(chat: Chat, db: Engine) -> None:
    pending(db, "甲", "乙", "丙")
    chat.say("admin", "/start")
    assert said(chat.say("admin", "/review"), "review.card_streamer")
    chat.press("admin", label("btn.approve"))
    chat.press("admin", label("btn.reject"))
    chat.say("admin", "粉丝截图看不清")
    out = chat.press("admin", label("btn.approve"))
    assert said(out, "review.queue_finished", n=3)
    assert not said(out, "review.queue_empty")
    # the next /review finds nothing, and says so, not "finished"
    assert said(chat.say("admin", "/review"), "review.queue_empty")


def test_a_round_in_english_counts_in_english(chat: Chat, db: Engine) -> None:
    pending(db, "甲")
    chat.say("admin", "/lang en")
    chat.say("admin", "/review")
    out = chat.press("admin", label("btn.approve", "en"))
    assert said(out, "review.queue_finished", "en", n=1)
    assert "1 item " in out and "items" not in out  # the plural as English writes it


def test_skipped_and_decided_say_both(chat: Chat, db: Engine) -> None:
    pending(db, "甲", "乙")
    chat.say("admin", "/start")
    chat.say("admin", "/review")
    chat.press("admin", label("btn.skip_item"))
    out = chat.press("admin", label("btn.approve"))
    assert said(out, "review.queue_finished_skipped", n=1, skipped=1)
    # only skipped: the old words, nothing reviewed to count
    chat.say("admin", "/review")
    assert said(chat.press("admin", label("btn.skip_item")), "review.queue_skipped", n=1)


def test_a_decision_someone_else_made_first_is_not_counted(chat: Chat, db: Engine) -> None:
    """Two reviewers on one card: the one whose decision did not stand reviewed nothing."""
    pending(db, "甲")
    chat.say("a2", "/join " + invite(chat, "admin"))
    chat.say("admin", "/review")
    first = chat.last
    chat.say("a2", "/review")
    assert said(chat.press("a2", label("btn.approve")), "review.queue_finished", n=1)
    chat.last = first
    out = chat.press("admin", label("btn.reject"))
    out = chat.say("admin", "粉丝截图看不清")
    assert said(out, "review.changed") and said(out, "review.queue_empty")


def test_the_two_endings_read_differently_in_every_language() -> None:
    for locale in ("zh_CN", "en"):
        empty = translate(locale, "review.queue_empty")
        assert empty != translate(locale, "review.queue_finished", n=1)
        assert "{" not in translate(locale, "review.queue_finished", n=2)
