"""Held reports through the chat: a report an anomaly rule flags waits for a check (the
streamer is told, never accused), does not move the board until a reviewer clears it, moves it
once cleared; reused evidence holds both reports; /review shows held reports first; /history
report ID tells who reported, which rules held it and who cleared it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from models import DailyReport, Streamer, StreamerTotal, trust
from models import anomaly_rules as ar
from models.digest import digest_counts
from tests import festival_data as data
from tests.catalog import label, said
from tests.chat import Chat
from tests.committee_helpers import ANYUAN, make_contact
from tests.flows import report_lines, streamer_lines
from tests.test_export import book, values

FIRST_DAYS = (dt.date(2020, 10, 30), dt.date(2020, 10, 31), dt.date(2020, 11, 1))
TODAY = dt.date(2020, 11, 2)  # the clock fixture's day


def approved(chat: Chat, user: str, account: str) -> int:
    assert said(chat.run(user, [*streamer_lines(account), "确认提交"]), "streamer.submitted")
    with chat.core.sessions() as s:
        sid = s.scalars(select(Streamer.id).where(Streamer.status != "approved")).one()
    chat.say("admin", f"/approve streamer {sid}")
    chat.deliver()
    return sid


def file_on(chat: Chat, clock: FixedClock, user: str, day: dt.date, **figures: str) -> str:
    clock.set(dt.datetime.combine(day, dt.time(21, 0)))
    return chat.run(user, [*report_lines(**figures), "确认提交"])


def gmv_total(core: Core, sid: int) -> int:
    with core.sessions() as s:
        t = s.get(StreamerTotal, sid)
        return t.gmv_fen if t else 0


def report_of(core: Core, sid: int, day: dt.date) -> DailyReport:
    with core.sessions() as s:
        return s.scalars(
            select(DailyReport).where(
                DailyReport.streamer_id == sid, DailyReport.report_date == day
            )
        ).one()


def usual_days(chat: Chat, clock: FixedClock, user: str) -> None:
    for n, day in enumerate(FIRST_DAYS):
        out = file_on(chat, clock, user, day, gmv=f"{5000 + 500 * n}元", viewers=f"{1200 + n}")
        assert said(out, "report.saved") and not said(out, "report.held")


def test_a_held_report_counts_only_once_cleared(chat: Chat, core: Core, clock: FixedClock) -> None:
    sid = approved(chat, "s", "小明的果园")
    usual_days(chat, clock, "s")
    before = gmv_total(core, sid)
    assert before == (5000 + 5500 + 6000) * 100
    # 40 times the streamer's median: held, and (evidence mode "flagged") a screenshot asked for
    out = file_on(chat, clock, "s", TODAY, gmv="22万元", orders="60")
    assert said(out, "err.evidence_for_check")
    out = chat.run("s", ["/photo backend-1102", "确认提交"])
    assert said(out, "report.saved") and said(out, "report.held")
    assert not said(out, "notice.report_rejected")
    held = report_of(core, sid, TODAY)
    assert held.held and [f["rule"] for f in held.flags] == [ar.GMV_SPIKE]
    assert held.evidence_sha256 == trust.evidence_digest("console:backend-1102")
    with core.sessions() as s:  # what would hold the awards' freeze
        assert trust.open_checks(s) == [("trust.held_open", {"n": 1})]
        assert digest_counts(s, dt.datetime(2020, 11, 1, tzinfo=dt.UTC))["held_reports"] == 1
    # the board's own numbers do not move, and /recompute agrees with them
    assert gmv_total(core, sid) == before
    assert said(chat.say("s", "/rank"), "rank.value_gmv", gmv="16,500")
    assert said(chat.say("admin", "/recompute"), "recompute.same")
    assert said(chat.say("s", "/reports"), "trust.held_mark")

    # the reviewer sees it first, with the rule, the history and the picture
    card = chat.say("admin", "/review")
    assert said(card, "trust.card_title", id=held.id)
    assert said(card, "trust.rule.gmv_spike", median="5,500", factor="20")
    assert said(card, "trust.card_history", n="3")
    assert any(r.image_path == "console:backend-1102" for r in chat.last)
    out = chat.press("admin", "核对通过")
    assert said(out, "trust.done_clear")
    assert said(chat.deliver(), "notice.report_cleared")
    with core.sessions() as s:
        assert trust.open_checks(s) == []
    assert gmv_total(core, sid) == before + 22_000_000
    assert said(chat.say("s", "/rank"), "rank.value_gmv", gmv="236,500")
    assert not said(chat.say("s", "/reports"), "trust.held_mark")
    assert said(chat.say("admin", "/recompute"), "recompute.same")

    # /history report ID: reported, held by the rules, cleared, with readable labels
    history = chat.say("admin", f"/history report {held.id}")
    assert said(history, "history.action.report")
    assert said(history, "history.action.flag") and said(history, "trust.name.gmv_spike")
    assert said(history, "history.action.clear_report")
    assert "gmv_fen" not in history and "成交额（元）: 220,000" in history


def test_a_rejected_held_report_never_counts(chat: Chat, core: Core, clock: FixedClock) -> None:
    sid = approved(chat, "s", "小明的果园")
    usual_days(chat, clock, "s")
    before = gmv_total(core, sid)
    file_on(chat, clock, "s", TODAY, orders="2000", viewers="1500", evidence="/photo a")
    assert report_of(core, sid, TODAY).held  # more orders than viewers
    chat.say("admin", "/review")
    chat.press("admin", "驳回")
    out = chat.say("admin", "截图与数据对不上")
    assert said(out, "trust.done_reject")
    assert said(chat.deliver(), "notice.report_rejected", reason="截图与数据对不上")
    r = report_of(core, sid, TODAY)
    assert r.rejected and not r.held
    assert gmv_total(core, sid) == before
    assert said(chat.say("admin", "/recompute"), "recompute.same")
    assert said(chat.say("admin", f"/history report {r.id}"), "history.action.reject_report")


def test_the_same_picture_on_two_reports_holds_both(
    chat: Chat, core: Core, clock: FixedClock
) -> None:
    first = approved(chat, "s1", "甲的果园")
    second = approved(chat, "s2", "乙的果园")
    file_on(chat, clock, "s1", TODAY, evidence="/photo shared")
    assert not report_of(core, first, TODAY).held
    assert gmv_total(core, first) == 500_000
    out = file_on(chat, clock, "s2", TODAY, gmv="4800元", evidence="/photo shared")
    assert said(out, "report.held") and said(out, "trust.help.evidence_reused")
    for sid in (first, second):
        r = report_of(core, sid, TODAY)
        assert r.held and [f["rule"] for f in r.flags] == [ar.EVIDENCE_REUSED]
        assert gmv_total(core, sid) == 0
    # the first streamer is told too, plainly
    delivered = chat.deliver().splitlines()
    assert delivered[0] == "📨 → s1 [s1]:"
    assert said("\n".join(x.strip() for x in delivered[1:]), "notice.report_held")


def test_the_picture_hash_is_of_the_stored_bytes(tmp_path: Path) -> None:
    a, b = tmp_path / "telegram-a.jpg", tmp_path / "wechat-b.jpg"
    a.write_bytes(b"the same screenshot")
    b.write_bytes(b"the same screenshot")
    assert trust.evidence_digest(str(a)) == trust.evidence_digest(str(b))
    assert trust.evidence_digest(str(a)) != trust.evidence_digest("console:a")
    assert trust.evidence_digest(None) is None


def test_held_reports_come_first_in_review(chat: Chat, core: Core, clock: FixedClock) -> None:
    sid = approved(chat, "s", "小明的果园")
    file_on(chat, clock, "s", TODAY, orders="2000", viewers="1500", evidence="/photo a")
    # a registration waiting for review, filed after the report
    assert said(chat.run("t", [*streamer_lines("另一个账号"), "确认提交"]), "streamer.submitted")
    card = chat.say("admin", "/review")
    assert said(card, "trust.card_title", id=report_of(core, sid, TODAY).id)
    assert said(card, "trust.rule.orders_above_viewers", orders="2000", viewers="1500")
    assert not said(card, "review.card_streamer")
    out = chat.press("admin", "跳过")
    assert said(out, "review.card_streamer")
    # the reports' spreadsheet says which wait and why
    data = values(book(chat, "admin", "/export reports").active)
    assert data[2][-2:] == (label("export.yes"), label("trust.name.orders_above_viewers"))


def test_a_correction_raising_gmv_is_held(chat: Chat, core: Core, clock: FixedClock) -> None:
    sid = approved(chat, "s", "小明的果园")
    file_on(chat, clock, "s", TODAY, gmv="1000元")
    assert gmv_total(core, sid) == 100_000
    out = file_on(chat, clock, "s", TODAY, gmv="3000元", evidence="/photo c")
    assert said(out, "report.corrected") and said(out, "report.held")
    r = report_of(core, sid, TODAY)
    assert [f["rule"] for f in r.flags] == [ar.CORRECTION_RAISE]
    assert gmv_total(core, sid) == 0  # the corrected day waits; the old figures are gone


def test_only_the_committee_clears_held_reports(chat: Chat, core: Core, clock: FixedClock) -> None:
    """A unit's contact would vouch for figures that win their own unit its award."""
    make_contact(chat, "c1", ANYUAN)
    sid = approved(chat, "s", "小明的果园")
    file_on(chat, clock, "s", TODAY, orders="2000", viewers="1500", evidence="/photo a")
    rid = report_of(core, sid, TODAY).id
    assert said(chat.say("c1", "/review"), "review.queue_empty")
    assert said(chat.say("c1", f"/approve report {rid}"), "review.not_found")
    assert report_of(core, sid, TODAY).held
    assert said(chat.say("admin", f"/approve report {rid}"), "trust.done_clear")
    assert not report_of(core, sid, TODAY).held
    assert gmv_total(core, sid) == 500_000


def test_a_clear_applies_to_the_revision_seen(chat: Chat, core: Core, clock: FixedClock) -> None:
    sid = approved(chat, "s", "小明的果园")
    file_on(chat, clock, "s", TODAY, orders="2000", viewers="1500", evidence="/photo a")
    assert said(chat.say("admin", "/review"), "trust.card_title", revision="1")
    on_screen = chat.last  # the reviewer's card
    # the streamer corrects the day meanwhile (still more orders than viewers)
    file_on(chat, clock, "s", TODAY, orders="2100", viewers="1500", evidence="/photo a")
    chat.last = on_screen
    out = chat.press("admin", "核对通过")
    assert said(out, "trust.changed")
    assert said(out, "trust.card_title", revision="2")  # shown again, as it is now
    r = report_of(core, sid, TODAY)
    assert r.held and r.revision == 2
    assert gmv_total(core, sid) == 0


def test_a_held_report_keeps_the_award_list_from_being_frozen(core: Core) -> None:
    """/awards final lists it among what is still open (award_lists.open_items)."""
    from models import award_lists

    with core.sessions() as s, s.begin():
        st = data.streamer(s, "待核对的号")
        r = data.report(s, core.config, st, dt.date(2020, 11, 2), gmv_yuan=500)
        r.held = True
    with core.sessions() as s:
        keys = [i.key for i in award_lists.open_items(s, core.config)]
    assert "trust.held_open" in keys
    with core.sessions() as s, s.begin():
        s.get_one(DailyReport, r.id).held = False
    with core.sessions() as s:
        assert "trust.held_open" not in [i.key for i in award_lists.open_items(s, core.config)]
