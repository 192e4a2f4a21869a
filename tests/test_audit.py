"""/audit: the top-N audit before `/awards final`, on small festivals stored directly (the final
board published as the scheduler would): the scope is the top N of config, progress counts
streamers whose every counted report is audited, a rejection republishes the final board and
brings whoever enters the top N into the audit, and freezing is refused while it is open."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from handlers.routes import ROUTES
from models import AuditEntry, DailyReport, ReportAudit
from models import award_lists as lists
from models import board as boards
from models.awards import AwardList
from models.scoring import ScoringRules
from tests import festival_data as data
from tests.catalog import begins, label, said
from tests.chat import Chat

DAY = dt.date(2020, 11, 20)
FINAL_AT = dt.datetime(2020, 11, 29, 2, 0, tzinfo=dt.UTC)


def with_top_n(config: FestivalConfig, n: int | None) -> FestivalConfig:
    return config.model_copy(update={"audit": config.audit.model_copy(update={"top_n": n})})


def publish_final(db: Engine, config: FestivalConfig) -> None:
    with Session(db) as s, s.begin():
        boards.publish(s, "all", "final", ScoringRules.of(config), FINAL_AT)


def festival(
    db: Engine, config: FestivalConfig, n: int, days: int = 1, evidence: bool = True
) -> list[int]:
    """n approved streamers, 主播0 best ... each with `days` reports of 1000 × (n - i) 元."""
    ids = []
    with Session(db) as s, s.begin():
        for i in range(n):
            st = data.streamer(s, f"主播{i}")
            for d in range(days):
                r = data.report(s, config, st, DAY + dt.timedelta(d), gmv_yuan=1000 * (n - i))
                if evidence:
                    r.evidence_file_id = f"pic-{i}-{d}"
            ids.append(st.id)
    return ids


@pytest.fixture
def small(
    db: Engine, config: FestivalConfig, clock: FixedClock
) -> Iterator[tuple[Chat, list[int]]]:
    """Five streamers (主播0 has two reports, the others one), the audit covering the top 3."""
    cfg = with_top_n(config, 3)
    ids = festival(db, cfg, 5)
    with Session(db) as s, s.begin():
        st = s.get(data.Streamer, ids[0])
        assert st is not None
        data.report(s, cfg, st, DAY + dt.timedelta(1), gmv_yuan=100).evidence_file_id = "p"
    publish_final(db, cfg)
    core = Core(cfg, db, clock, ROUTES)
    yield Chat(core), ids
    core.executor.shutdown()


def audited(db: Engine) -> dict[int, tuple[str, int | None]]:
    with Session(db) as s:
        return {a.report_id: (a.outcome, a.backend_gmv_fen) for a in s.scalars(select(ReportAudit))}


def reports_of(db: Engine, streamer_id: int) -> list[DailyReport]:
    with Session(db) as s:
        return list(
            s.scalars(
                select(DailyReport)
                .where(DailyReport.streamer_id == streamer_id)
                .order_by(DailyReport.report_date)
            )
        )


# ----- the scope ---------------------------------------------------------------------------
def test_the_scope_is_the_top_n_of_config(db: Engine, config: FestivalConfig) -> None:
    ids = festival(db, config, 41)
    publish_final(db, config)
    places = sum(a.count for a in config.awards.streamer)
    assert places == 38 and config.audit.top_n is None  # the shipped default
    with Session(db) as s:
        assert lists.audit_scope(s, config) == ids[:38]
        assert lists.audit_scope(s, with_top_n(config, 5)) == ids[:5]
        assert lists.audit_scope(s, with_top_n(config, 100)) == ids  # fewer on the board
        assert lists.audit_scope(s, with_top_n(config, 0)) == []
        assert lists.open_items(s, with_top_n(config, 0)) == []
        (item,) = lists.open_items(s, config)
        assert item.key == "audit.open_item"
        assert (item.params["done"], item.params["total"], item.params["reports"]) == (0, 38, 38)


def test_no_audit_before_the_final_board(db: Engine, config: FestivalConfig, chat: Chat) -> None:
    festival(db, config, 3)
    assert begins(chat.say("admin", "/audit"), "audit.no_final_board", at="2020-11-29 10:00")
    with Session(db) as s:
        assert lists.audit_scope(s, config) is None and lists.open_items(s, config) == []


def test_committee_only(small: tuple[Chat, list[int]]) -> None:
    chat, _ids = small
    assert ROUTES.permissions["audit"] == "admin"
    assert said(chat.say("someone", "/audit"), "err.not_allowed")


# ----- one answer per report, progress, the freeze gate -----------------------------------
def test_progress_counts_streamers_and_awards_wait_for_the_audit(
    db: Engine, small: tuple[Chat, list[int]]
) -> None:
    chat, ids = small
    first, second = reports_of(db, ids[0])
    out = chat.say("admin", "/audit")
    assert said(out, "audit.progress", done=0, total=3, reports=4)
    assert said(out, "audit.evidence_of", day=first.report_date)
    assert said(out, "audit.checklist") and said(out, "audit.streamer_left", n=2)
    # the backend GMV typed (the report form's parser: 5千 is 5,000 元): equal, so passed
    out = chat.say("admin", "5千")
    assert said(out, "audit.passed", day=first.report_date, backend="5,000")
    assert said(out, "audit.progress", done=0, total=3, reports=3)  # 主播0 has one more
    refused = chat.say("admin", "/awards final")
    assert begins(refused, "awards.open_items")
    assert said(
        refused, "audit.open_item", done=0, total=3, reports=3, names="主播0 · 主播1 · 主播2"
    )
    out = chat.say("admin", "/audit")
    out = chat.press("admin", label("btn.audit_pass_no_backend"))
    assert said(out, "audit.passed_no_backend", day=second.report_date)
    assert said(out, "audit.progress", done=1, total=3, reports=2)
    out = chat.say("admin", "4000")
    assert said(out, "audit.progress", done=2, total=3, reports=1)
    assert said(chat.say("admin", "/awards final"), "audit.open_item", done=2, total=3, reports=1)
    chat.say("admin", "/audit")  # /awards final left the audit
    out = chat.say("admin", "3,000.00元")
    assert said(out, "audit.all_done", done=3, total=3)
    assert audited(db) == {
        first.id: ("passed", 500_000),
        second.id: ("passed", None),
        reports_of(db, ids[1])[0].id: ("passed", 400_000),
        reports_of(db, ids[2])[0].id: ("passed", 300_000),
    }
    with Session(db) as s:
        assert s.scalar(select(func.count()).select_from(AwardList)) == 0
        logged = s.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "audit_report")
        )
        assert logged == 4
    assert said(chat.say("admin", "/awards final"), "awards.frozen", version=1)


def test_a_difference_above_the_threshold_waits_for_the_reviewer(
    db: Engine, small: tuple[Chat, list[int]]
) -> None:
    chat, ids = small
    report = reports_of(db, ids[0])[0]  # 5,000 元; thresholds 5% and 1,000 元 (config.yaml)
    chat.say("admin", "/audit")
    out = chat.say("admin", "6001")  # 1,001 元 apart: above both
    assert said(out, "audit.backend_differs", backend="6,001", gmv="5,000", diff="1,001")
    assert audited(db) == {}
    out = chat.say("admin", label("btn.audit_pass_anyway"))  # typed, as on WeChat
    assert said(out, "audit.passed", day=report.report_date, backend="6,001")
    assert audited(db) == {report.id: ("passed", 600_100)}


def test_bad_input_is_asked_again_and_stores_nothing(
    db: Engine, small: tuple[Chat, list[int]]
) -> None:
    chat, _ids = small
    chat.say("admin", "/audit")
    stale = chat.last
    for typed in ("abc", "-5", "😀"):
        out = chat.say("admin", typed)
        assert said(out, "audit.checklist"), typed  # the card again, with the reason above
    assert audited(db) == {}
    # a button of an earlier card after another step: stale, nothing stored
    chat.say("admin", "abc")
    chat.last = stale
    assert said(chat.press("admin", label("btn.audit_pass_no_backend")), "err.stale_button")
    assert audited(db) == {}


def test_skip_and_end_keep_the_progress(db: Engine, small: tuple[Chat, list[int]]) -> None:
    chat, ids = small
    chat.say("admin", "/audit")
    out = chat.press("admin", label("btn.skip_item"))
    second = reports_of(db, ids[0])[1]
    assert said(out, "audit.evidence_of", day=second.report_date)
    assert said(chat.press("admin", label("btn.end_review")), "audit.ended")
    assert audited(db) == {}


# ----- a rejection moves ranks ---------------------------------------------------------------
def test_a_rejection_brings_the_next_streamer_into_the_audit(
    db: Engine, config: FestivalConfig, clock: FixedClock
) -> None:
    cfg = with_top_n(config, 3)
    ids = festival(db, cfg, 5)
    publish_final(db, cfg)
    core = Core(cfg, db, clock, ROUTES)
    chat = Chat(core)
    try:
        with Session(db) as s:
            assert lists.audit_scope(s, cfg) == ids[:3]
        rejected = reports_of(db, ids[0])[0]
        chat.say("admin", "/audit")
        assert said(chat.press("admin", label("btn.audit_reject")), "review.ask_reason", max=200)
        out = chat.say("admin", "后台截图与数字不符")
        assert said(out, "audit.rejected", day=rejected.report_date, period="final-2")
        assert said(out, "audit.entered", n=3, names="主播3")
        # 主播0 has no counted report left: off the ranking; 主播3 is now in scope
        assert said(out, "audit.progress", done=0, total=3, reports=3)
        with Session(db) as s:
            assert lists.audit_scope(s, cfg) == [ids[1], ids[2], ids[3]]
            report = s.get(DailyReport, rejected.id)
            assert report is not None and report.rejected
            assert report.reject_reason == "后台截图与数字不符"
            board = boards.final_board(s)
            assert board is not None and board.period == "final-2"
        assert audited(db) == {rejected.id: ("rejected", None)}
        assert "后台截图与数字不符" in chat.deliver()  # the streamer is told (console 主播0)
        for gmv in ("4000", "3000", "2000"):
            out = chat.say("admin", gmv)
        assert said(out, "audit.all_done", done=3, total=3)
        assert said(chat.say("admin", "/awards final"), "awards.frozen", version=1)
    finally:
        core.executor.shutdown()


def test_a_correction_after_the_audit_is_audited_again(
    db: Engine, small: tuple[Chat, list[int]], config: FestivalConfig
) -> None:
    chat, ids = small
    for gmv in ("5000",):
        chat.say("admin", "/audit")
        chat.say("admin", gmv)
    first = reports_of(db, ids[0])[0]
    with Session(db) as s:
        assert lists.open_items(s, with_top_n(config, 1))[0].params["reports"] == 1
        st = s.get(data.Streamer, ids[0])
        assert st is not None
        # the streamer's second report, then a correction of the first (revision 2)
        s.add(ReportAudit(
            report_id=reports_of(db, ids[0])[1].id, streamer_id=ids[0], report_revision=1,
            outcome="passed", evidence_matches=True, backend_present=False,
            reported_gmv_fen=10_000, audited_at=FINAL_AT,
        ))  # fmt: skip
        s.commit()
        assert lists.open_items(s, with_top_n(config, 1)) == []
    with Session(db) as s, s.begin():
        st = s.get(data.Streamer, ids[0])
        assert st is not None
        data.report(s, config, st, first.report_date, gmv_yuan=5000)
    with Session(db) as s:
        (item,) = lists.open_items(s, with_top_n(config, 1))
        assert item.params["reports"] == 1 and item.params["done"] == 0


def test_a_rejection_after_the_freeze_holds_the_new_version_until_audited(
    db: Engine, config: FestivalConfig, clock: FixedClock
) -> None:
    """A report corrected after the list was frozen is audited again; rejected, the final
    board is republished, the newcomer is not audited yet, so the list in force stays until
    the audit is done and /awards final is sent again."""
    cfg = with_top_n(config, 2)
    ids = festival(db, cfg, 3)
    publish_final(db, cfg)
    core = Core(cfg, db, clock, ROUTES)
    chat = Chat(core)
    try:
        chat.say("admin", "/audit")
        chat.say("admin", "3000")
        assert said(chat.say("admin", "2000"), "audit.all_done", done=2, total=2)
        assert said(chat.say("admin", "/awards final"), "awards.frozen", version=1)
        with Session(db) as s, s.begin():
            st = s.get(data.Streamer, ids[0])
            assert st is not None
            data.report(s, cfg, st, DAY, gmv_yuan=3000).evidence_file_id = "new"  # revision 2
        out = chat.say("admin", "/audit")
        assert said(out, "audit.progress", done=1, total=2, reports=1)
        chat.press("admin", label("btn.audit_reject"))
        out = chat.say("admin", "改过的数字没有依据")
        assert said(out, "audit.entered", n=2, names="主播2")
        assert said(out, "audit.list_held")
        with Session(db) as s:
            current = lists.current_list(s)
            assert current is not None and current.version == 1
        assert said(chat.say("admin", "1000"), "audit.all_done", done=2, total=2)
        assert said(chat.say("admin", "/awards final"), "awards.frozen", version=2)
    finally:
        core.executor.shutdown()


def test_two_reviewers_on_the_same_report(db: Engine, small: tuple[Chat, list[int]]) -> None:
    """The second answer to a report the other reviewer decided stores nothing more: it is
    said, and the next report is shown."""
    chat, ids = small
    with Session(db) as s, s.begin():
        data.admin(s, "admin2")
    first = reports_of(db, ids[0])[0]
    chat.say("admin", "/audit")
    chat.say("admin2", "/audit")
    assert said(chat.say("admin", "5000"), "audit.passed", day=first.report_date, backend="5,000")
    out = chat.say("admin2", "4800")
    assert said(out, "audit.changed") and not said(out, "audit.passed")
    assert said(out, "audit.progress", done=0, total=3, reports=3)
    assert audited(db) == {first.id: ("passed", 500_000)}
