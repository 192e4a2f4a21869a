"""/reconcile: the threshold rule at its boundaries (worked by hand from config.yaml's 5% and
1,000 元), enterprises' reported sales against their turnover, streamers' reported GMV against
the backend figure typed in the audit, the workbook; and the one definition of counted sales."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.config import ConfigError, FestivalConfig, parse_config
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from handlers.routes import ROUTES
from models import ReportProductSale, ledger, reconciliation
from models.reconcile_rules import Threshold, percent_of
from tests import festival_data as data
from tests.catalog import label, said
from tests.chat import Chat
from tests.test_audit import publish_final, with_top_n

DAY = dt.date(2020, 11, 20)
SHIPPED = Threshold(Decimal(5), 100_000)  # config.yaml: 5% and 1,000 元


def test_the_shipped_thresholds(config: FestivalConfig) -> None:
    a = config.audit
    assert Threshold.of(a.reconcile_percent, a.reconcile_yuan) == SHIPPED


# (claimed fen, reference fen, listed): "above" both thresholds; exactly at one is not above
CASES = [
    (10_000_000, 10_000_000, False),  # equal
    (10_500_000, 10_000_000, False),  # 100,000 元 turnover: 5,000 元 is exactly 5%
    (10_500_001, 10_000_000, True),  # 5,000.01 元: above 5% and above 1,000 元
    (9_499_999, 10_000_000, True),  # the same below the reference
    (9_500_000, 10_000_000, False),
    (1_100_000, 1_000_000, False),  # 10,000 元: 1,000 元 (10%) is exactly the yuan threshold
    (1_100_001, 1_000_000, True),  # 1,000.01 元 and 10%
    (899_999, 1_000_000, True),
    (100_000, 0, False),  # nothing on the other side: 1,000 元 is still not above 1,000 元
    (100_001, 0, True),  # any percent of 0 is above
    (0, 100_001, True),  # a backend figure with nothing reported
    (40_100_000, 40_000_000, False),  # 1,000 元 of 400,000 元: 0.25%, under 5%
    (42_000_001, 40_000_000, True),  # 20,000.01 元: 5.0000025%
    (42_000_000, 40_000_000, False),  # exactly 5%
]


@pytest.mark.parametrize(("claimed", "reference", "listed"), CASES)
def test_the_threshold_at_its_boundaries(claimed: int, reference: int, listed: bool) -> None:
    assert SHIPPED.exceeded(claimed, reference) is listed


@pytest.mark.parametrize(
    ("threshold", "claimed", "reference", "listed"),
    [
        (Threshold(Decimal(5), None), 210, 200, False),  # percent only: 10 fen of 200 is 5%
        (Threshold(Decimal(5), None), 211, 200, True),
        (Threshold(Decimal("0.5"), None), 20_100, 20_000, False),  # 0.5% exactly
        (Threshold(Decimal("0.5"), None), 20_101, 20_000, True),
        (Threshold(None, 100_000), 100_000_000, 99_900_000, False),  # yuan only: 1,000 元
        (Threshold(None, 100_000), 100_000_000, 99_899_999, True),
        (Threshold(Decimal(0), 0), 1, 0, True),  # any difference
        (Threshold(Decimal(0), 0), 5, 5, False),
    ],
)
def test_either_threshold_alone(
    threshold: Threshold, claimed: int, reference: int, listed: bool
) -> None:
    assert threshold.exceeded(claimed, reference) is listed


def test_percent_shown() -> None:
    assert percent_of(500_001, 10_000_000) == Decimal("5.0")
    assert percent_of(-100_000, 1_000_000) == Decimal("-10.0")
    assert percent_of(1, 0) is None


@pytest.mark.parametrize(
    "audit",
    [
        {"reconcile_percent": None, "reconcile_yuan": None},
        {"reconcile_percent": -1},
        {"reconcile_yuan": -5},
        {"top_n": -1},
        {"top_n": "all"},
        {"threshold": 3},
    ],
)
def test_bad_audit_config_stops_the_start(config: FestivalConfig, audit: dict[str, object]) -> None:
    raw = config.model_dump(mode="json")
    raw["audit"] = audit
    with pytest.raises(ConfigError, match="audit"):
        parse_config(raw)


# ----- enterprises ----------------------------------------------------------------------------
def enterprise_with_sales(
    s: Session, config: FestivalConfig, name: str, sales_fen: int, turnover_fen: int | None
) -> int:
    e, (product,) = data.enterprise(s, name, user=f"ent-{name}")
    st = data.streamer(s, f"卖{name}")
    r = data.report(s, config, st, DAY, gmv_yuan=sales_fen // 100 + 1)
    s.add(ReportProductSale(report_id=r.id, product_id=product.id, gmv_fen=sales_fen))
    if turnover_fen is not None:
        ledger.submit_turnover(s, e.id, turnover_fen, None, data.NOW)
    s.flush()
    return e.id


@pytest.fixture
def enterprises(db: Engine, config: FestivalConfig) -> dict[str, int]:
    with Session(db) as s, s.begin():
        return {
            "at5": enterprise_with_sales(s, config, "刚好5%", 10_500_000, 10_000_000),
            "below": enterprise_with_sales(s, config, "少报", 9_499_999, 10_000_000),
            "at_yuan": enterprise_with_sales(s, config, "刚好千元", 1_100_000, 1_000_000),
            "over": enterprise_with_sales(s, config, "多报", 1_100_100, 1_000_000),
            "none": enterprise_with_sales(s, config, "未填报", 500_000, None),
        }


def test_enterprises_listed_biggest_first(
    db: Engine, config: FestivalConfig, chat: Chat, enterprises: dict[str, int]
) -> None:
    cal = config.calendar
    with Session(db) as s:
        found = reconciliation.enterprises(s, cal.live_start, cal.live_end, SHIPPED)
    assert found.without_turnover == 1
    assert [(r.subject_id, r.listed) for r in found.rows] == [
        (enterprises["below"], True),  # −5,000.01 元
        (enterprises["at5"], False),  # +5,000 元: exactly 5%
        (enterprises["over"], True),  # +1,001 元, 10.01%
        (enterprises["at_yuan"], False),  # +1,000 元: exactly the yuan threshold
    ]
    out = chat.say("admin", "/reconcile")
    assert said(out, "reconcile.threshold_both", percent=5, yuan="1,000")
    assert said(out, "reconcile.section_enterprises", n=2, checked=4)
    assert said(
        out,
        "reconcile.enterprise_line",
        place=1,
        name="少报",
        id=enterprises["below"],
        claimed="94,999.99",
        reference="100,000",
        diff="-5,000.01",
        percent="-5.0%",
    )
    assert said(
        out,
        "reconcile.enterprise_line",
        place=2,
        name="多报",
        claimed="11,001",
        reference="10,000",
        diff="+1,001",
        percent="+10.0%",
    )
    assert "刚好5%" not in out and "刚好千元" not in out
    assert said(out, "reconcile.without_turnover", n=1)
    assert said(out, "reconcile.section_streamers", n=0, checked=0)


def test_committee_only(chat: Chat) -> None:
    assert ROUTES.permissions["reconcile"] == "admin"
    assert said(chat.say("someone", "/reconcile"), "err.not_allowed")
    assert said(chat.say("admin", "/reconcile what"), "reconcile.usage")


# ----- streamers: the backend figure typed in the audit ---------------------------------------
def test_a_streamer_row_from_the_audit_backend_figure(
    db: Engine, config: FestivalConfig, clock: FixedClock, tmp_path: Path
) -> None:
    cfg = with_top_n(config, 2)
    with Session(db) as s, s.begin():
        top = data.streamer(s, "头部")
        data.report(s, cfg, top, DAY, gmv_yuan=50_000)
        second = data.streamer(s, "第二")
        data.report(s, cfg, second, DAY, gmv_yuan=20_000)
        ids = (top.id, second.id)
    publish_final(db, cfg)
    core = Core(cfg, db, clock, ROUTES, tmp_path)
    chat = Chat(core)
    try:
        chat.say("admin", "/audit")
        out = chat.say("admin", "3万")  # the backend shows 30,000 元 of the 50,000 reported
        assert said(out, "audit.backend_differs", backend="30,000", gmv="50,000", diff="20,000")
        chat.press("admin", label("btn.audit_pass_anyway"))
        out = chat.say("admin", "20,500")  # 500 元 apart: within the threshold, passed at once
        assert said(out, "audit.all_done", done=2, total=2)
        out = chat.say("admin", "/reconcile")
        assert said(out, "reconcile.section_streamers", n=1, checked=2)
        assert said(
            out,
            "reconcile.streamer_line",
            place=1,
            account="头部",
            id=ids[0],
            reports=1,
            claimed="50,000",
            reference="30,000",
            diff="+20,000",
            percent="+66.7%",
        )
        assert "第二" not in out
        # the workbook: every row, listed or not
        out = chat.say("admin", "/reconcile xlsx")
        assert said(out, "reconcile.xlsx_done", enterprises=0, streamers=2, listed=1)
        path = chat.last[0].document_path
        assert path is not None and Path(path).is_file()
        book = openpyxl.load_workbook(path, read_only=True)
        sheet = book[book.sheetnames[1]]
        rows = [r for r in sheet.iter_rows(values_only=True)][3:]  # title, threshold, header
        assert [(r[0], r[2], r[3], r[4], r[5], r[7]) for r in rows] == [
            (ids[0], 1, 50_000, 30_000, 20_000, "是"),
            (ids[1], 1, 20_000, 20_500, -500, "否"),
        ]
    finally:
        core.executor.shutdown()


# ----- one definition of counted sales ------------------------------------------------------
def test_counted_sales_are_one_definition(db: Engine, config: FestivalConfig) -> None:
    """Every product and enterprise at once (the index path) or a few (the joined path):
    the same sums, without rejected reports, days outside the live period, or streamers no
    longer approved."""
    cal = config.calendar
    with Session(db) as s, s.begin():
        e, (p1, p2) = data.enterprise(s, "一家", products=("甲", "乙"))
        good, gone = data.streamer(s, "好"), data.streamer(s, "退出")
        kept = data.report(s, config, good, DAY)
        rejected = data.report(s, config, good, DAY - dt.timedelta(days=1))
        rejected.rejected = True
        outside = data.report(s, config, good, cal.live_end + dt.timedelta(days=1))
        withdrawn = data.report(s, config, gone, DAY)
        gone.status = "withdrawn"
        for report, fen in ((kept, 1), (rejected, 20), (outside, 300), (withdrawn, 4000)):
            s.add(ReportProductSale(report_id=report.id, product_id=p1.id, gmv_fen=fen))
        s.add(ReportProductSale(report_id=rejected.id, product_id=p2.id, gmv_fen=7))
        s.flush()
        start, end = cal.live_start, cal.live_end
        assert ledger.reported_sales_by_product(s, start, end) == {p1.id: 1}
        assert ledger.reported_sales_by_product(s, start, end, [p1.id, p2.id]) == {p1.id: 1}
        assert ledger.reported_sales_by_enterprise(s, start, end) == {e.id: 1}
        assert ledger.reported_sales_by_enterprise(s, start, end, [e.id]) == {e.id: 1}


@pytest.mark.parametrize(
    ("percent", "yuan", "key", "listed"),
    [
        # 5% alone: 刚好千元 (10%) comes in; 刚好5% stays out (exactly 5%)
        (Decimal(5), None, "reconcile.threshold_percent", 3),
        # 1,000 元 alone: 刚好5% (5,000 元) comes in; 刚好千元 stays out (exactly 1,000 元)
        (None, 1000, "reconcile.threshold_yuan", 3),
    ],
)
def test_one_threshold_alone(
    db: Engine,
    config: FestivalConfig,
    clock: FixedClock,
    enterprises: dict[str, int],
    percent: Decimal | None,
    yuan: int | None,
    key: str,
    listed: int,
) -> None:
    audit = config.audit.model_copy(update={"reconcile_percent": percent, "reconcile_yuan": yuan})
    core = Core(config.model_copy(update={"audit": audit}), db, clock, ROUTES)
    try:
        out = Chat(core).say("admin", "/reconcile")
    finally:
        core.executor.shutdown()
    assert said(out, key)
    assert said(out, "reconcile.section_enterprises", n=listed, checked=4)
