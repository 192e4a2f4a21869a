"""Maintained totals: moved as reports arrive, are corrected and rejected; recomputed from the
reports on demand, with the differences reported."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.dispatcher import Core
from models import Streamer, StreamerDayTotal, StreamerTotal, totals
from tests import festival_data as data
from tests.catalog import said
from tests.chat import Chat
from tests.flows import report_lines, streamer_lines

DAY = dt.date(2020, 11, 2)


def sums(session: Session, sid: int) -> tuple[int, ...]:
    t = session.get(StreamerTotal, sid, populate_existing=True)
    assert t is not None
    return (t.reports, t.gmv_fen, t.viewers, t.likes, t.live_days, t.live_minutes)


def test_reports_corrections_and_rejections_move_the_totals(
    db: Engine, config: FestivalConfig
) -> None:
    with Session(db) as s, s.begin():
        st = data.streamer(s, "甲")
        data.report(s, config, st, DAY, gmv_yuan=100, minutes=120, viewers=50, likes=5)
        data.report(s, config, st, DAY + dt.timedelta(days=1), gmv_yuan=7, minutes=20)
        assert sums(s, st.id) == (2, 10700, 150, 15, 1, 120)  # 20 minutes: not a live day
        # a correction replaces the day's figures
        r = data.report(s, config, st, DAY, gmv_yuan=300, minutes=60, viewers=10, likes=1)
        assert sums(s, st.id) == (2, 30700, 110, 11, 1, 60)
        # a second platform the same day: summed, then capped at 12 hours
        jd = data.second_account(s, st, "甲京东")
        data.report(s, config, st, DAY, gmv_yuan=1, minutes=18 * 60, account=jd)
        assert sums(s, st.id) == (3, 30800, 210, 21, 1, 720)
        # a rejected report stops counting
        r.rejected = True
        totals.refresh_day(s, st.id, DAY, config)
        assert sums(s, st.id) == (2, 800, 200, 20, 1, 720)
        assert totals.recompute_all(s, config, fix=False) == []


def test_reports_outside_the_live_period_do_not_count(db: Engine, config: FestivalConfig) -> None:
    with Session(db) as s, s.begin():
        st = data.streamer(s, "乙")
        data.report(s, config, st, config.calendar.live_start - dt.timedelta(days=1))
        data.report(s, config, st, config.calendar.live_end + dt.timedelta(days=1))
        assert sums(s, st.id) == (0, 0, 0, 0, 0, 0)
        assert s.scalars(select(StreamerDayTotal)).all() == []


def test_recompute_reports_and_fixes_differences(db: Engine, config: FestivalConfig) -> None:
    with Session(db) as s, s.begin():
        a, b = data.streamer(s, "丙"), data.streamer(s, "丁")
        data.report(s, config, a, DAY, gmv_yuan=10)
        data.report(s, config, b, DAY, gmv_yuan=20, minutes=45)
        s.get(StreamerTotal, a.id).gmv_fen += 1  # type: ignore[union-attr]
        s.delete(s.get(StreamerTotal, b.id))
        s.flush()
        found = totals.recompute_all(s, config, fix=True)
        assert totals.Difference(a.id, "gmv_fen", 1001, 1000) in found
        assert totals.Difference(b.id, "live_minutes", 0, 45) in found
        assert totals.recompute_all(s, config, fix=False) == []
        assert sums(s, b.id) == (1, 2000, 100, 10, 1, 45)


def test_the_report_form_moves_the_totals_and_recompute_command(chat: Chat, core: Core) -> None:
    assert said(chat.run("s", [*streamer_lines("小明的果园"), "确认提交"]), "streamer.submitted")
    with core.sessions() as s:
        sid = s.scalars(select(Streamer.id)).one()
    assert said(
        chat.say("admin", f"/approve streamer {sid}"), "review.done_approve", title="小明的果园"
    )
    chat.run("s", report_lines())
    assert said(chat.say("s", "确认提交"), "report.saved")
    with core.sessions() as s:
        assert sums(s, sid) == (1, 500000, 1200, 3000, 1, 150)
    chat.run("s", report_lines(gmv="6000元"))
    assert said(chat.say("s", "确认提交"), "report.corrected", date="2020-11-02")
    with core.sessions() as s:
        assert sums(s, sid) == (1, 600000, 1200, 3000, 1, 150)
    assert not said(chat.say("s", "/recompute"), "recompute.same")  # admins only
    assert said(chat.say("admin", "/recompute"), "recompute.same")
