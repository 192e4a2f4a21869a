"""/review one item at a time, the scope of a city's contact, two reviewers deciding at
once, and report review with evidence pictures."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, delete, select

from bot.config import FestivalConfig
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from bot.core.messages import Incoming
from handlers.routes import ROUTES
from models import DailyReport, Role, Streamer
from tests.catalog import begins, buttons, label, line, notice, said
from tests.chat import Chat
from tests.committee_helpers import (
    ANYUAN,
    PINGXIANG,
    XIANGDONG,
    invite,
    make_contact,
    register,
    status,
)
from tests.flows import report_lines


def test_a_city_contact_sees_its_counties(chat: Chat, core: Core) -> None:
    make_contact(chat, "county", ANYUAN)
    make_contact(chat, "city", PINGXIANG)
    make_contact(chat, "other", XIANGDONG)
    sid = register(chat, "s", "小明的果园")
    assert status(core, sid) == "pending_unit"
    assert begins(chat.say("city", "/review"), "review.card_streamer", id=sid)
    assert chat.say("other", "/review") == line("review.queue_empty")
    unit = chat.say("city", "/unit")
    assert unit.startswith(line("unit.title", unit="萍乡市", kind="设区市团委"))
    county = label(
        "unit.line",
        unit="安源区",
        streamers=label("unit.streamers", done=0, min=10, note=label("unit.short", n=10)),
        products=label("unit.products", done=0, min=3, note=label("unit.short", n=3)),
    )
    assert line("unit.children_title") + county in unit
    assert said(unit, "unit.rec_link")


def test_skip_and_end_and_typed_numbers(chat: Chat, core: Core) -> None:
    first = register(chat, "s1", "甲")
    second = register(chat, "s2", "乙")
    assert begins(chat.say("admin", "/review"), "review.card_streamer", id=first)
    assert begins(chat.say("admin", "3"), "review.card_streamer", id=second)  # skip
    assert chat.say("admin", "跳过") == line("review.queue_skipped", n="2")
    assert begins(chat.say("admin", "/review"), "review.card_streamer", id=first)
    assert begins(chat.say("admin", "随便说点什么"), "review.use_buttons")
    assert chat.say("admin", "结束") == line("review.ended")
    assert (status(core, first), status(core, second)) == ("pending_review", "pending_review")


def test_reject_asks_a_reason_and_checks_it(chat: Chat, core: Core) -> None:
    sid = register(chat, "s", "小明的果园")
    chat.say("admin", "/review")
    ask = line("review.ask_reason", max=200) + buttons(label("btn.back"), numbered=False)
    assert chat.press("admin", label("btn.reject")) == ask
    assert chat.say("admin", "x" * 300) == line("err.too_long", max=200) + ask
    assert chat.say("admin", "/sticker") == line("err.need_text") + ask
    assert chat.say("admin", "   ") == line("err.empty") + ask
    assert status(core, sid) == "pending_review"
    assert begins(chat.press("admin", label("btn.back")), "review.card_streamer", id=sid)
    chat.press("admin", label("btn.reject"))
    assert chat.say("admin", "粉丝截图看不清") == (
        line("review.done_reject", title="小明的果园") + line("review.queue_finished", n=1)
    )
    assert status(core, sid) == "rejected"
    assert said(chat.deliver(), "notice.rejected", title="小明的果园", reason="粉丝截图看不清")


def test_two_reviewers_on_one_card_one_wins_the_other_is_told(chat: Chat, core: Core) -> None:
    make_contact(chat, "c1", ANYUAN)
    sid = register(chat, "s", "小明的果园")
    chat.deliver()
    card = line("review.card_streamer", id=sid, status=label("status.pending_unit"))
    assert chat.say("c1", "/review").startswith(card)
    contact_card = chat.last
    assert chat.say("admin", "/review").startswith(card)
    chat.press("admin", label("btn.approve"))
    assert status(core, sid) == "approved"
    chat.last = contact_card
    assert chat.press("c1", label("btn.recommend")) == (
        line(
            "review.changed",
            title="小明的果园",
            who="组委会管理员",  # the admin's display name
            status=label("status.approved"),
        )
        + line("review.queue_empty")
    )
    assert status(core, sid) == "approved"
    delivered = chat.deliver()
    assert delivered.count("📨 → s [s]") == 1  # told once, of the decision that stood


def test_approve_and_reject_at_the_same_moment(chat: Chat, core: Core) -> None:
    """Two admins decide the same item in two threads: exactly one decision is stored."""
    chat.say("a2", "/join " + invite(chat, "admin"))
    sid = register(chat, "s", "小明的果园")
    for _ in range(3):  # a few rounds: the interleaving differs from run to run
        with ThreadPoolExecutor(2) as pool:
            results = list(
                pool.map(
                    lambda args: core.process_sync(Incoming.from_text("console", *args)),
                    [("admin", f"/approve streamer {sid}"), ("a2", f"/reject streamer {sid} 不行")],
                )
            )
        texts = [r[0].text for r in results]
        approved = [t for t in texts if begins(t, "review.done_approve", title="小明的果园")]
        rejected = [t for t in texts if begins(t, "review.done_reject", title="小明的果园")]
        told = [t for t in texts if said(t, "review.changed") or said(t, "review.not_pending")]
        assert len(approved) + len(rejected) == 1 and len(told) == 1, texts
        assert status(core, sid) == ("approved" if approved else "rejected")
        # back to pending for the next round, as a resubmission would do
        with core.sessions() as s, s.begin():
            row = s.get(Streamer, sid)
            assert row is not None
            row.status = "pending_review"


def test_a_contact_whose_role_is_removed_is_stopped_mid_review(chat: Chat, core: Core) -> None:
    make_contact(chat, "c1", ANYUAN)
    sid = register(chat, "s", "小明的果园")
    chat.say("c1", "/review")
    with core.sessions() as s, s.begin():
        s.execute(delete(Role).where(Role.role == "unit_contact"))
    out = chat.press("c1", label("btn.recommend"))
    assert begins(out, "err.reviewers_only")
    assert status(core, sid) == "pending_unit"


# ----- report review ----------------------------------------------------------------------
DAY = "11-02 抖音"  # a report's day and account, as the reviewer's buttons name it


def approved_with_report(chat: Chat, core: Core) -> int:
    sid = register(chat, "s", "小明的果园")
    chat.say("admin", f"/approve streamer {sid}")
    out = chat.run("s", [*report_lines("今天", "6000", "3h", "1500", "4k", "50", "/photo shot")])
    out = chat.say("s", "确认提交")
    assert said(out, "report.saved"), out
    chat.deliver()
    return sid


def test_the_committee_rejects_a_report_and_the_streamer_corrects_it(
    chat: Chat, core: Core
) -> None:
    sid = approved_with_report(chat, core)
    card = chat.say("admin", f"/streamer {sid}")
    report = line(
        "streamers.report_line",
        day=DAY,
        gmv="6,000",
        duration=label("fmt.hours", h=3),
        viewers="1,500",
        likes="4,000",
        orders=50,
        evidence=label("streamers.has_evidence"),
        state="",
    )
    assert line("streamers.reports_title", n=1) + report in card
    evidence, reject = label("btn.evidence", day=DAY), label("btn.reject_report", day=DAY)
    assert card.endswith(buttons(evidence, reject, label("btn.end_review")))
    shot = "[图片: console:shot]\n"  # the console names the picture it cannot show
    assert chat.press("admin", evidence) == line("streamers.evidence_of", day="2020-11-02") + shot
    chat.say("admin", f"/streamer {sid}")
    chat.press("admin", reject)
    out = chat.say("admin", "成交额与截图不符")
    assert begins(out, "streamers.report_rejected", date="2020-11-02")
    assert said(out, "reports.rejected", reason="成交额与截图不符")
    assert chat.deliver() == notice(
        "s",
        line(
            "notice.report_rejected",
            date="2020-11-02",
            account="抖音 小明的果园",
            reason="成交额与截图不符",
        ),
    )
    with core.sessions() as s:
        report = s.scalars(select(DailyReport)).one()
        assert (report.rejected, report.reject_reason) == (True, "成交额与截图不符")
    out = chat.run(
        "s", [*report_lines("今天", "5000", "3h", "1500", "4k", "50", "跳过"), "确认提交"]
    )
    assert said(out, "report.corrected", date="2020-11-02")
    with core.sessions() as s:
        report = s.scalars(select(DailyReport)).one()
        assert (report.rejected, report.gmv_fen, report.revision) == (False, 500000, 2)


def test_a_report_corrected_meanwhile_is_not_rejected(chat: Chat, core: Core) -> None:
    sid = approved_with_report(chat, core)
    chat.say("admin", f"/streamer {sid}")
    chat.press("admin", label("btn.reject_report", day=DAY))
    chat.run("s", [*report_lines("今天", "5000", "3h", "1500", "4k", "50", "跳过"), "确认提交"])
    out = chat.say("admin", "成交额与截图不符")
    assert out.startswith(line("streamers.report_changed"))
    with core.sessions() as s:
        assert s.scalars(select(DailyReport.rejected)).one() is False


def test_another_units_contact_cannot_see_reports(chat: Chat, core: Core) -> None:
    sid = approved_with_report(chat, core)
    make_contact(chat, "other", XIANGDONG)
    make_contact(chat, "mine", ANYUAN)
    assert begins(chat.say("other", f"/streamer {sid}"), "streamers.not_found", id=sid)
    assert begins(chat.say("mine", f"/streamer {sid}"), "review.card_streamer", id=sid)
    assert chat.say("other", "/streamers") == line("streamers.none")
    assert said(
        chat.say("mine", "/streamers"),
        "streamers.line",
        id=sid,
        accounts="抖音 小明的果园",
        unit="萍乡市 安源区",
        status=label("status.approved"),
    )


@pytest.mark.parametrize("contacts_see_phones", [False, True])
def test_a_contacts_card_shows_the_phone_as_their_export_does(
    db: Engine,
    config: FestivalConfig,
    clock: FixedClock,
    tmp_path: Path,
    contacts_see_phones: bool,
) -> None:
    """excel.contacts_see_phones decides for the /review card as for the export (one rule:
    handlers/phones.py); the committee sees the whole number either way."""
    excel = config.excel.model_copy(update={"contacts_see_phones": contacts_see_phones})
    core = Core(config.model_copy(update={"excel": excel}), db, clock, ROUTES, tmp_path)
    try:
        chat = Chat(core)
        make_contact(chat, "c1", ANYUAN)
        register(chat, "s", "小明的果园")
        shown = "13800138000" if contacts_see_phones else "138****8000"
        assert said(chat.say("c1", "/review"), "review.card_phone", phone=shown)
        exported = chat.say("c1", "/export streamers")
        done = "export.done" if contacts_see_phones else "export.done_masked"
        assert said(exported, done, n=1)
        (reply,) = chat.last
        assert reply.document_path is not None
        cells = {
            str(c.value)
            for sheet in load_workbook(reply.document_path).worksheets
            for row in sheet.iter_rows()
            for c in row
            if c.value is not None
        }
        assert shown in cells and ("13800138000" in cells) == contacts_see_phones
        chat.say("c1", "/review")
        chat.press("c1", "推荐")
        assert said(chat.say("admin", "/review"), "review.card_phone", phone="13800138000")
    finally:
        core.executor.shutdown()
