"""/awards, /ambassador, /publicity and republish_final on a small festival stored directly:
41 streamers (a tie exactly at the last place), three units, three enterprises with products,
report splits and payments; the final board published; every figure traced to what was stored."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from bot.core.outbox import Outbox
from handlers import awards as award_handlers
from handlers.board_jobs import final_board_at
from handlers.jobs import DryRun
from handlers.routes import ROUTES
from models import AuditEntry, DailyReport, OutboxMessage, Streamer, totals
from models import award_lists as lists
from models import board as boards
from models.awards import AmbassadorMark, AwardEntry, AwardList, UnitPublicity
from models.donations import DonationPayment
from models.enterprises import Enterprise, Product
from models.picks import ReportProductSale
from models.scoring import ScoringRules
from models.units import unit_by_code
from tests import festival_data as data
from tests.catalog import begins, said
from tests.chat import Chat

DAY = dt.date(2020, 11, 20)
FINAL_AT = dt.datetime(2020, 11, 29, 2, 0, tzinfo=dt.UTC)  # 10:00 Beijing time
UNITS = ("360302", "360702", "U001")  # 萍乡市 安源区, 赣州市 章贡区, 南昌大学团委


def enterprise(
    s: Session, name: str, unit_code: str, products: int = 1
) -> tuple[Enterprise, list[Product]]:
    person = data.person(s, f"ent-{name}")
    unit = unit_by_code(s, unit_code)
    assert unit is not None
    e = Enterprise(
        person_id=person.id,
        unit_id=unit.id,
        name=name,
        industry="农副产品",
        main_products="脐橙",
        contact_name="联系人",
        phone="13900000000",
        has_shop=False,
        status="approved",
        created_at=data.NOW,
        updated_at=data.NOW,
    )
    s.add(e)
    s.flush()
    made = [
        Product(
            enterprise_id=e.id,
            name=f"{name}产品{i}",
            monthly_orders=1,
            monthly_turnover_fen=100,
            stock=10,
            status="approved",
            created_at=data.NOW,
            updated_at=data.NOW,
        )
        for i in range(products)
    ]
    s.add_all(made)
    s.flush()
    return e, made


def pay(s: Session, e: Enterprise, fen: int, day: dt.date) -> None:
    s.add(
        DonationPayment(enterprise_id=e.id, amount_fen=fen, received_on=day, recorded_at=data.NOW)
    )
    s.flush()


@pytest.fixture
def festival(db: Engine, config: FestivalConfig) -> dict[str, int]:
    """41 approved streamers: 主播0 best by GMV ... 主播40 last; 主播37 and 主播38 tie exactly
    (same figures: 主播37 registered first), on the boundary of the 38 streamer awards."""
    ids: dict[str, int] = {}
    with Session(db, expire_on_commit=False) as s, s.begin():
        for i in range(41):
            st = data.streamer(s, f"主播{i}", UNITS[i % 3])
            gmv = 1000 * (41 - i) if i != 38 else 1000 * (41 - 37)
            r = data.report(s, config, st, DAY, gmv_yuan=gmv)
            ids[f"主播{i}"] = st.id
            ids[f"report{i}"] = r.id
        e1, (p1,) = enterprise(s, "赣南果业", "360302")
        e2, (p2,) = enterprise(s, "章贡茶厂", "360702")
        e3, _ = enterprise(s, "南昌米粉", "U001")
        # splits: 5,000 yuan of 主播0's report on e1's product, 2,000 of 主播1's on e2's
        s.add(ReportProductSale(report_id=ids["report0"], product_id=p1.id, gmv_fen=500_000))
        s.add(ReportProductSale(report_id=ids["report1"], product_id=p2.id, gmv_fen=200_000))
        pay(s, e1, 7_500_000, dt.date(2020, 12, 1))
        pay(s, e1, 2_500_000, dt.date(2020, 12, 2))  # the directed part: 100,000 in all
        pay(s, e2, 49_999_999, dt.date(2020, 12, 3))
        pay(s, e2, 1, dt.date(2021, 1, 1))  # after awards.enterprise_tiers_until
        pay(s, e3, 5_000_000, dt.date(2020, 12, 3))
        ids |= {"e1": e1.id, "e2": e2.id, "e3": e3.id}
        ids["contact"] = data.contact(s, "c1", "360302").id
        data.group(s, "g1")
    return ids


def publish_final(db: Engine, config: FestivalConfig, audited: bool = True) -> None:
    """The final board published and (`audited`) the committee's audit of it done: every
    report passed (tests/test_audit.py tests the audit; /awards final waits for it)."""
    with Session(db) as s, s.begin():
        boards.publish(s, "all", "final", ScoringRules.of(config), FINAL_AT)
        if audited:
            data.audit_passed(s)


def outbox_keys(db: Engine) -> list[str]:
    with Session(db) as s:
        return sorted(s.scalars(select(OutboxMessage.idempotency_key)))


@pytest.fixture
def files_chat(files_core: Core) -> Chat:
    return Chat(files_core)


def test_nothing_before_the_final_board(chat: Chat, festival: dict[str, int]) -> None:
    at = "2020-11-29 10:00"  # live_end 11-27 + backfill 1 day + 1 day, schedule.final_board
    assert begins(chat.say("admin", "/awards"), "awards.no_final_board", at=at)
    assert begins(chat.say("admin", "/awards final"), "awards.no_final_board", at=at)
    assert begins(chat.say("admin", "/ambassador 1"), "awards.no_final_board", at=at)
    assert begins(chat.say("admin", "/awards nonsense"), "awards.usage")


def test_the_provisional_list_explains_every_winner(
    db: Engine, config: FestivalConfig, chat: Chat, festival: dict[str, int]
) -> None:
    publish_final(db, config)
    out = chat.say("admin", "/awards")
    assert said(out, "awards.section_streamer", tier="特等奖")
    assert said(out, "awards.streamer_line", place=1, account="主播0", rank=1)
    # GMV 41,000 yuan: the best of 41, percentile 100 -> 40 points of the weight 40%
    assert said(out, "awards.metric_part", value="41,000 元", percentile="100", points="40.0")
    # the boundary of 优秀奖 (38 awards): 主播37 and 主播38 tie, 主播37 registered first
    assert said(out, "awards.streamer_line", place=38, account="主播37")
    assert said(out, "awards.cut_registration", tier="优秀奖", next="主播38")
    assert said(out, "awards.cut_score", tier="特等奖", next="主播1")
    assert "主播39" not in out and "1380000" not in out
    # units: all three take part; enterprises: exactly 100,000 is 贡献奖, 499,999.99 is too
    assert said(out, "awards.org_line", place=1)
    assert said(out, "awards.enterprise_line", name="赣南果业", tier="贡献奖", received="100,000")
    assert said(out, "awards.enterprise_line", name="章贡茶厂", received="499,999.99")
    assert said(out, "awards.enterprise_next", tier="突出贡献奖", lacks="0.01")
    assert said(out, "awards.enterprise_closest", name="南昌米粉", lacks="50,000")
    with Session(db) as s:  # nothing stored by looking
        assert s.scalar(select(func.count()).select_from(AwardList)) == 0


def test_units_figures_come_from_streamers_products_sales_winners_and_publicity(
    db: Engine, config: FestivalConfig, chat: Chat, festival: dict[str, int]
) -> None:
    publish_final(db, config)
    assert said(chat.say("admin", "/publicity 360302 85"), "awards.publicity_set", score=85)
    with Session(db) as s:
        computed = lists.compute(s, config)
        assert computed is not None
        figures = {
            w.subject_id: {m: v["value"] for m, v in w.breakdown["metrics"].items()}
            for w in computed.organisations
        }
        anyuan = unit_by_code(s, "360302")
        assert anyuan is not None
    # 萍乡市 安源区: 主播0, 3, 6 ... 39 (14 streamers), 13 of them among the 38 winners
    # (主播39 is not), e1's one product, 5,000 yuan of its sales, publicity 85
    assert figures[anyuan.id] == {
        "streamers": 14,
        "products": 1,
        "sales": 500_000,
        "winners": 13,
        "publicity": 85,
    }


def test_freezing_stores_tells_once_and_sends_the_groups(
    db: Engine, config: FestivalConfig, files_chat: Chat, festival: dict[str, int]
) -> None:
    chat = files_chat
    publish_final(db, config)
    out = chat.say("admin", "/awards final")
    assert said(out, "awards.frozen", version=1, streamers=38, units=3, enterprises=2)
    with Session(db) as s:
        (award_list,) = s.scalars(select(AwardList))
        entries = list(s.scalars(select(AwardEntry).order_by(AwardEntry.kind, AwardEntry.place)))
        first = next(e for e in entries if e.kind == "streamer" and e.place == 1)
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "freeze_awards")).one()
    assert award_list.version == 1 and award_list.board_id is not None
    assert [e.kind for e in entries].count("streamer") == 38
    assert first.subject_id == festival["主播0"] and first.tier == "grand"
    assert first.breakdown["metrics"]["gmv"]["value"] == 4_100_000  # fen, from the report
    assert audit.after is not None and audit.after["version"] == 1
    keys = outbox_keys(db)
    streamer_notices = [k for k in keys if k.startswith("award:streamer:")]
    assert len(streamer_notices) == 38
    assert [k for k in keys if k.startswith("award:organisation:")] == [
        f"award:organisation:{unit_by_code_id(db, '360302')}:organisation:p{festival['contact']}"
    ]
    assert len([k for k in keys if k.startswith("award:enterprise:")]) == 2
    assert "awards:v1:console:g1" in keys
    delivered = chat.deliver()
    assert said(delivered, "awards.notice_streamer", tier="特等奖", place=1)
    assert said(delivered, "awards.group_title", version=1)
    assert "13900000000" not in delivered and "1380000" not in delivered
    with Session(db) as s:
        group_row = s.scalars(
            select(OutboxMessage).where(OutboxMessage.idempotency_key == "awards:v1:console:g1")
        ).one()
    picture = group_row.payload["image_path"]
    assert picture and Path(picture).is_file()
    # pressed again: the same list, nothing new stored or sent
    assert said(chat.say("admin", "/awards final"), "awards.unchanged", version=1)
    assert outbox_keys(db) == keys
    with Session(db) as s:
        assert s.scalar(select(func.count()).select_from(AwardList)) == 1


def unit_by_code_id(db: Engine, code: str) -> int:
    with Session(db) as s:
        unit = unit_by_code(s, code)
        assert unit is not None
        return unit.id


def test_open_items_hold_the_freeze(
    db: Engine,
    config: FestivalConfig,
    chat: Chat,
    festival: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    publish_final(db, config)
    item = lists.OpenItem("awards.publicity_unknown_unit", {"code": "X"})
    monkeypatch.setattr(lists, "open_items", lambda session, config: [item])
    out = chat.say("admin", "/awards final")
    assert begins(out, "awards.open_items") and said(out, "awards.publicity_unknown_unit", code="X")
    with Session(db) as s:
        assert s.scalar(select(func.count()).select_from(AwardList)) == 0


@pytest.mark.parametrize(
    "args",
    ["", "abc", "😀", "-1", "1 2 3", "1 maybe", "99999999999999999999", "１２"],
)
def test_ambassador_refuses_bad_input(
    db: Engine, config: FestivalConfig, chat: Chat, festival: dict[str, int], args: str
) -> None:
    publish_final(db, config)
    assert begins(chat.say("admin", f"/ambassador {args}".strip()), "awards.ambassador_usage")
    with Session(db) as s:
        assert s.scalar(select(func.count()).select_from(AmbassadorMark)) == 0


def test_ambassador_among_the_winners_only(
    db: Engine, config: FestivalConfig, chat: Chat, festival: dict[str, int]
) -> None:
    publish_final(db, config)
    best, outside = festival["主播0"], festival["主播40"]
    assert said(
        chat.say("admin", f"/ambassador {outside}"), "awards.ambassador_not_winner", id=outside
    )
    assert said(chat.say("admin", "/ambassador 999999"), "awards.ambassador_not_winner", id=999999)
    assert said(
        chat.say("admin", f"/ambassador {best}"), "awards.ambassador_marked", account="主播0"
    )
    assert said(
        chat.say("admin", f"/ambassador {best}"), "awards.ambassador_already", account="主播0"
    )
    assert said(chat.say("admin", "/awards"), "awards.ambassador_tag")
    chat.say("admin", "/awards final")
    keys = outbox_keys(db)
    assert f"award:ambassador:{best}" in keys
    with Session(db) as s:
        entry = s.scalars(
            select(AwardEntry).where(AwardEntry.kind == "streamer", AwardEntry.subject_id == best)
        ).one()
        assert entry.ambassador
    assert said(
        chat.say("admin", f"/ambassador {best} 取消"), "awards.ambassador_unmarked", account="主播0"
    )
    assert said(
        chat.say("admin", f"/ambassador {best} off"),
        "awards.ambassador_not_marked",
        account="主播0",
    )
    with Session(db) as s:
        assert not s.scalars(
            select(AwardEntry.ambassador).where(
                AwardEntry.kind == "streamer", AwardEntry.subject_id == best
            )
        ).one()
        actions = list(s.scalars(select(AuditEntry.action).where(AuditEntry.entity == "streamer")))
    assert actions.count("mark_ambassador") == 1 and actions.count("unmark_ambassador") == 1
    assert begins(chat.say("someone", f"/ambassador {best}"), "err.not_allowed")


@pytest.mark.parametrize(
    ("args", "key"),
    [
        ("", "awards.publicity_usage"),
        ("360302", "awards.publicity_usage"),
        ("360302 85 1", "awards.publicity_usage"),
        ("999999 85", "awards.publicity_unknown_unit"),
        ("😀 85", "awards.publicity_unknown_unit"),
        ("360302 101", "awards.publicity_range"),
        ("360302 -5", "awards.publicity_range"),
        ("360302 8.5", "awards.publicity_range"),
        ("360302 ８５", "awards.publicity_range"),
        ("360302 99999999999999999999999", "awards.publicity_range"),
        ("360302 😀", "awards.publicity_range"),
    ],
)
def test_publicity_refuses_bad_input(chat: Chat, db: Engine, args: str, key: str) -> None:
    assert begins(chat.say("admin", f"/publicity {args}".strip()), key)
    with Session(db) as s:
        assert s.scalar(select(func.count()).select_from(UnitPublicity)) == 0


def test_publicity_is_set_audited_and_said_once(chat: Chat, db: Engine) -> None:
    assert said(chat.say("admin", "/publicity 360302 85"), "awards.publicity_set", score=85)
    assert said(chat.say("admin", "/publicity 360302 85"), "awards.publicity_same", score=85)
    assert said(
        chat.say("admin", "/publicity 360302 0"), "awards.publicity_set", score=0, before="85"
    )
    with Session(db) as s:
        assert s.scalars(select(UnitPublicity.score)).one() == 0
        audits = list(
            s.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "set_publicity")
                .order_by(AuditEntry.id)  # PostgreSQL returns rows in any order without one
            )
        )
    assert [a.after for a in audits] == [{"publicity": 85}, {"publicity": 0}]


def test_a_report_rejected_after_the_final_board_republishes_it_and_the_awards(
    db: Engine,
    config: FestivalConfig,
    clock: FixedClock,
    festival: dict[str, int],
    tmp_path: Path,
) -> None:
    publish_final(db, config)
    with Session(db) as s, s.begin():
        done = award_handlers.freeze(s, config, clock, Outbox(s, clock), None, None)
        assert done.new is not None and done.new.version == 1
    first_keys = outbox_keys(db)
    clock.set(FINAL_AT + dt.timedelta(days=3))
    # the trust issue's audit rejects 主播0's report (the best): totals move, the board
    # is published again and the awards recomputed in the same transaction
    with Session(db) as s, s.begin():
        report = s.get(DailyReport, festival["report0"])
        assert report is not None
        report.rejected = True
        s.flush()
        totals.refresh_day(s, festival["主播0"], DAY, config)
        board, again = award_handlers.republish_final(
            s, config, clock, Outbox(s, clock), tmp_path / "boards"
        )
        assert board.period == "final-2"
        assert again is not None and again.new is not None and again.new.version == 2
    with Session(db) as s:
        assert boards.final_board(s) is not None
        assert [b.period for b in boards.final_boards(s)] == ["final", "final-2"]
        v1, v2 = s.scalars(select(AwardList).order_by(AwardList.version))
        assert v1.superseded_at is not None and v2.superseded_at is None
        assert lists.current_list(s) == v2
        grand = s.scalars(
            select(AwardEntry).where(
                AwardEntry.list_id == v2.id, AwardEntry.kind == "streamer", AwardEntry.place == 1
            )
        ).one()
        assert grand.subject_id == festival["主播1"]  # moved up from 一等奖
        winners = {e.subject_id for e in lists.winners(s, v2.id, "streamer")}
        assert festival["主播0"] not in winners and festival["主播38"] in winners
    keys = set(outbox_keys(db)) - set(first_keys)
    best, second = festival["主播0"], festival["主播1"]
    assert any(k.startswith(f"award-withdrawn:streamer:{best}:v2:") for k in keys)
    assert any(k.startswith(f"award:streamer:{second}:grand:") for k in keys)
    assert any(k.startswith(f"award:streamer:{festival['主播38']}:excellent:") for k in keys)
    # whose award did not change is not told again (主播10 stays 三等奖)
    assert not any(k.startswith(f"award:streamer:{festival['主播20']}:") for k in keys)
    assert "final_board:final-2:console:g1" in keys and "awards:v2:console:g1" in keys


def test_republishing_without_a_frozen_list_only_publishes(
    db: Engine, config: FestivalConfig, clock: FixedClock, festival: dict[str, int], tmp_path: Path
) -> None:
    publish_final(db, config)
    sink = DryRun()
    with Session(db) as s, s.begin():
        report = s.get(DailyReport, festival["report0"])
        assert report is not None
        report.rejected = True
        s.flush()
        totals.refresh_day(s, festival["主播0"], DAY, config)
        board, again = award_handlers.republish_final(s, config, clock, sink, tmp_path / "b")
        assert board.period == "final-2" and again is None
    assert [key for _who, key, _r in sink.sent] == ["final_board:final-2:console:g1"]


def test_a_change_that_leaves_the_board_as_it_is_publishes_nothing(
    db: Engine, config: FestivalConfig, clock: FixedClock, festival: dict[str, int], tmp_path: Path
) -> None:
    """Republishing is for a change of the board: the same ranking and figures again store no
    new version and tell the groups nothing, however often it is asked; a frozen list stays
    (freezing the same list again stores and tells nothing)."""
    publish_final(db, config)
    with Session(db) as s, s.begin():
        done = award_handlers.freeze(s, config, clock, Outbox(s, clock), None, None)
        assert done.new is not None
        first = boards.final_board(s)
        assert first is not None
        first_id = first.id
    before = outbox_keys(db)
    for _ in range(2):
        sink = DryRun()
        with Session(db) as s, s.begin():
            board, again = award_handlers.republish_final(s, config, clock, sink, tmp_path / "b")
            assert board.id == first_id and board.period == "final"
            assert again is not None and again.new is None and again.unchanged is not None
        assert sink.sent == []
    assert outbox_keys(db) == before
    with Session(db) as s:
        assert [b.period for b in boards.final_boards(s)] == ["final"]
        assert [v.version for v in s.scalars(select(AwardList))] == [1]
    # a change of one streamer's figures, even one that moves no rank, is a new version, told
    # to the groups once; asked again without a further change: nothing more
    with Session(db) as s, s.begin():
        report = s.get(DailyReport, festival["report0"])
        assert report is not None
        report.likes += 1
        s.flush()
        totals.refresh_day(s, festival["主播0"], DAY, config)
    sent: list[str] = []
    for _ in range(2):
        sink = DryRun()
        with Session(db) as s, s.begin():
            award_handlers.republish_final(s, config, clock, sink, tmp_path / "b")
        sent += [key for _who, key, _r in sink.sent if key.startswith("final_board:")]
    assert sent == ["final_board:final-2:console:g1"]
    with Session(db) as s:
        assert [b.period for b in boards.final_boards(s)] == ["final", "final-2"]


def test_committee_only(core: Core) -> None:
    assert ROUTES.permissions["awards"] == "admin"
    assert ROUTES.permissions["ambassador"] == "admin"
    assert ROUTES.permissions["publicity"] == "admin"


def test_a_streamer_is_not_a_winner_twice(
    db: Engine, config: FestivalConfig, festival: dict[str, int]
) -> None:
    publish_final(db, config)
    with Session(db) as s:
        computed = lists.compute(s, config)
        assert computed is not None
        ids = [w.subject_id for w in computed.streamers]
        approved = s.scalar(select(func.count()).select_from(Streamer))
    assert len(ids) == len(set(ids)) == 38 and approved == 41


@pytest.mark.parametrize(
    ("backfill", "day"),
    [(0, dt.date(2020, 11, 28)), (1, dt.date(2020, 11, 29)), (3, dt.date(2020, 12, 1))],
)
def test_the_final_board_waits_for_the_backfill_window(
    config: FestivalConfig, backfill: int, day: dt.date
) -> None:
    """Reports of the last live day (11-27) are taken until `backfill` days later, all day."""
    reports = config.reports.model_copy(update={"backfill_days": backfill})
    at = final_board_at(config.model_copy(update={"reports": reports}))
    assert (at.date(), at.hour, at.minute) == (day, 10, 0)


def test_operators_print_dry_run_and_freeze(
    database_url: str,
    db: Engine,
    config: FestivalConfig,
    festival: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.awards_cli import main as awards_cli

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("BOT_CLOCK", "2020-11-30T09:00")
    assert awards_cli([]) == 1  # no final board yet
    assert begins(capsys.readouterr().out, "awards.no_final_board")
    publish_final(db, config)
    assert awards_cli([]) == 0
    out = capsys.readouterr().out
    assert begins(out, "awards.title_provisional") and said(out, "awards.cut_registration")
    assert awards_cli(["--final", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert said(out, "awards.frozen", version=1) and said(out, "awards.notice_streamer", place=1)
    assert "(awards:v1:console:g1)" in out
    assert out.rstrip().endswith("messages would be sent (dry run: nothing stored or sent)")
    with Session(db) as s:
        assert s.scalar(select(func.count()).select_from(AwardList)) == 0
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert awards_cli(["--final"]) == 0
    assert said(capsys.readouterr().out, "awards.frozen", version=1)
    assert f"award:streamer:{festival['主播0']}:grand:" in " ".join(outbox_keys(db))
    assert awards_cli(["--final"]) == 0
    assert begins(capsys.readouterr().out, "awards.unchanged", version=1)


def test_a_final_board_without_ranked_streamers(
    db: Engine, config: FestivalConfig, chat: Chat
) -> None:
    with Session(db) as s, s.begin():
        data.streamer(s, "没战报")  # approved, no counted report: on the board, not ranked
    publish_final(db, config)
    out = chat.say("admin", "/awards")
    assert said(out, "awards.no_streamers") and said(out, "awards.no_enterprises")
    assert not said(out, "awards.section_streamer")
    assert said(chat.say("admin", "/awards final"), "awards.frozen", streamers=0, enterprises=0)


def test_sales_count_only_counted_reports(db: Engine, config: FestivalConfig) -> None:
    """入选产品总体销量: splits of rejected reports, of days outside the live period and of
    streamers no longer approved do not count."""
    cal = config.calendar
    with Session(db) as s, s.begin():
        _e, (product,) = enterprise(s, "测试企业", "360302")
        good, gone = data.streamer(s, "好"), data.streamer(s, "撤回了")
        kept = data.report(s, config, good, DAY)
        rejected = data.report(s, config, good, DAY - dt.timedelta(days=1))
        rejected.rejected = True
        outside = data.report(s, config, good, cal.live_end + dt.timedelta(days=1))
        withdrawn = data.report(s, config, gone, DAY)
        gone.status = "withdrawn"
        for report, fen in ((kept, 1), (rejected, 20), (outside, 300), (withdrawn, 4000)):
            s.add(ReportProductSale(report_id=report.id, product_id=product.id, gmv_fen=fen))
        s.flush()
        assert lists.product_sales(s, cal.live_start, cal.live_end) == {product.id: 1}


def test_a_picture_the_disk_refuses_leaves_the_list_as_text(
    db: Engine, config: FestivalConfig, clock: FixedClock, festival: dict[str, int], tmp_path: Path
) -> None:
    publish_final(db, config)
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    sink = DryRun()
    with Session(db) as s, s.begin():
        boss = data.admin(s, "boss").id
        done = award_handlers.freeze(s, config, clock, sink, blocked / "awards", None)
        assert done.new is not None
    group = [r for who, key, r in sink.sent if key == "awards:v1:console:g1"]
    assert len(group) == 1 and group[0].image_path is None
    assert said(group[0], "awards.group_title", version=1)
    told = [(who, r) for who, key, r in sink.sent if key.startswith("awards-picture-failed:")]
    assert [who for who, _r in told] == [f"person {boss}"]
    assert said(told[0][1], "awards.picture_failed")
