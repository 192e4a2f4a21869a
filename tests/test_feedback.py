"""/feedback (反馈期): a streamer's three questions, a unit contact's 活动总结 with pictures
and files, editable until calendar.feedback_deadline; the committee's list and export."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from models import AuditEntry, Feedback
from tests import festival_data as data
from tests.catalog import label, said
from tests.chat import Chat

OPENS = dt.date(2020, 12, 7)  # the feedback reminder's day (12-10 minus 3 days)


@pytest.fixture
def feedback_time(clock: FixedClock) -> FixedClock:
    clock.set(dt.datetime(2020, 12, 8, 10, 0))
    return clock


@pytest.fixture
def people(core: Core) -> None:
    with core.sessions() as s, s.begin():
        data.streamer(s, "小明的果园", user="ming")
        data.contact(s, "contact", "360302")
        data.admin(s, "admin")


def stored(core: Core, kind: str) -> Feedback:
    with core.sessions() as s:
        return s.scalars(select(Feedback).where(Feedback.kind == kind)).one()


def test_not_before_the_reminder_nor_after_the_deadline(
    chat: Chat, people: None, clock: FixedClock
) -> None:
    assert said(chat.say("ming", "/feedback"), "feedback.not_yet", opens=OPENS)
    clock.set(dt.datetime(2020, 12, 11, 9, 0))
    assert said(chat.say("ming", "/feedback"), "feedback.closed", deadline=dt.date(2020, 12, 10))
    assert said(chat.say("nobody", "/feedback"), "feedback.closed", deadline=dt.date(2020, 12, 10))


def test_a_streamer_answers_and_changes_it_until_the_deadline(
    chat: Chat, core: Core, people: None, feedback_time: FixedClock
) -> None:
    chat.say("ming", "/feedback")
    chat.say("ming", "选品目录很清楚")
    chat.say("ming", "希望早点公布榜单")
    out = chat.say("ming", label("opt.join_again.5"))
    assert said(out, "feedback.streamer_title")
    assert said(chat.say("ming", label("btn.confirm")), "feedback.thanks")
    fb = stored(core, "streamer")
    assert (fb.went_well, fb.improve, fb.join_again) == ("选品目录很清楚", "希望早点公布榜单", 5)
    # again: the summary of what was sent, any answer can change
    out = chat.say("ming", "/feedback")
    assert "选品目录很清楚" in out
    chat.press("ming", label("btn.edit_field", label=label("label.fb_join_again")))
    chat.say("ming", "4")
    chat.say("ming", label("btn.confirm"))
    assert stored(core, "streamer").join_again == 4
    with core.sessions() as s:
        actions = list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["feedback", "feedback_edit"]


def test_a_unit_contact_sends_the_summary_with_files(
    chat: Chat, core: Core, people: None, feedback_time: FixedClock, tmp_path: Path
) -> None:
    doc = tmp_path / "活动总结.docx"
    doc.write_bytes(b"PK fake docx")
    chat.say("contact", "/feedback")
    out = chat.say("contact", "安源区团委组织 12 名主播参加，累计直播 300 小时。")
    assert said(out, "ask.fb_file", how=label("fb.files_any"))
    assert said(chat.say("contact", "/sticker"), "err.need_file")
    chat.say("contact", "/photo team")
    chat.say("contact", label("btn.add_item", item=label("label.fb_file")))
    chat.say("contact", f"/file {doc}")
    chat.say("contact", label("btn.done"))
    assert said(chat.say("contact", label("btn.confirm")), "feedback.thanks")
    fb = stored(core, "unit")
    assert fb.summary.startswith("安源区团委") and fb.files == ["console:team", str(doc)]
    assert fb.unit_id is not None


def test_the_committee_lists_and_exports(
    chat: Chat, core: Core, people: None, feedback_time: FixedClock
) -> None:
    chat.run("ming", ["/feedback", "好", "改进", "3", label("btn.confirm")])
    out = chat.say("admin", "/feedback")
    assert said(out, "feedback.list_head", streamers=1, units=0, average="3.0")
    assert said(out, "feedback.list_export")
    chat.say("admin", "/feedback export")
    path = chat.last[0].document_path
    assert path and said(chat.last, "feedback.exported", n=1)
    book = openpyxl.load_workbook(path)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[1][1] == "ming" and rows[1][4:] == ("好", "改进", 3)
