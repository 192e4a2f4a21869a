"""The festival from the live period to the certificates, on the rehearsal clock: 40 streamers in
6 units, 8 enterprises with 15 products, picks (two through the chat), 29 days of reports with
per-product splits, the final board (the scheduler's job, after the backfill window), turnovers
confirmed, payments, the committee's top-N audit through the chat (every report of the top 38,
the backend GMV typed from each card), the awards frozen, the certificates written. Every number
in the award list, the ledger and the certificates is traced back to the reports and payments
made here.

The figures grow with the streamer's number (主播39 sells most, every day, on every metric), so
the award order is known by hand: 主播39 特等奖, 38-37 一等奖, 36-32 二等奖, 31-22 三等奖,
21-6, 4, 3, 2, 5 优秀奖; 主播01 and 主播00 none. 主播05 has one report rejected: one live day
fewer, while the 39 others tie on 29 days, costs 0.15 × 20/39 × 100 ≈ 7.7 points (live days'
percentile 0 instead of the tie's 20/39), about three and a half places (a place is about 2.2
points): below 主播02, above 主播01."""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from bot.core.outbox import Outbox
from handlers import awards as awarding
from handlers.calendar import final_board_at
from handlers.certificate_issue import write_all
from handlers.routes import ROUTES
from models import Board, Certificate, ProductPick, ReviewStatus, Unit, ledger
from models import award_lists as lists
from models.donation_rules import DonationRules
from scheduler import JobRunner
from tests import festival_data as data
from tests.catalog import label, said
from tests.chat import Chat
from tests.test_certificates import pdf_text

UNITS = ("360302", "360313", "360321", "360322", "360323", "360102")
PRODUCTS_PER_ENTERPRISE = (2, 2, 2, 2, 2, 2, 2, 1)  # 15
# confirmed festival turnover (元) and the part of the donation due that is paid
TURNOVERS = (12_000_000, 3_000_000, 2_000_000, 1_600_000, 500_000, 400_000, 300_000, 200_000)
PAID = (1, 1, 1, 1, 0.5, 0.5, 0.5, 0)


def _gmv_yuan(i: int, day: int) -> int:
    return 1_000 + 100 * i + day  # streamer i, day number `day` of the live period


def test_the_whole_festival(
    db: Engine, config: FestivalConfig, clock: FixedClock, tmp_path: Path
) -> None:
    cal = config.calendar
    days = [
        cal.live_start + dt.timedelta(n) for n in range((cal.live_end - cal.live_start).days + 1)
    ]
    clock.set(dt.datetime.combine(cal.live_start, dt.time(20), cal.tz))
    core = Core(config, db, clock, ROUTES, tmp_path)
    chat = Chat(core)
    try:
        with Session(db, expire_on_commit=False) as s, s.begin():
            admin = data.admin(s, "boss")
            streamers = [data.streamer(s, f"主播{i:02d}", UNITS[i % 6]) for i in range(40)]
            products = []
            for j, n in enumerate(PRODUCTS_PER_ENTERPRISE):
                _, made = data.enterprise(
                    s,
                    f"企业{j}",
                    [f"企业{j}产品{k}" for k in range(n)],
                    unit_code=UNITS[j % 6],
                    user=f"企业{j}",
                )
                products += made
            assert len(products) == 15
        # picks: two streamers in the chat, the rest stored as the chat stores them
        picked = {i: (products[i % 15], products[(i + 7) % 15]) for i in range(40)}
        for i in (0, 1):
            chat.say(f"主播{i:02d}", "/products")
            chat.press(f"主播{i:02d}", label("btn.products_all"))
            for product in picked[i]:
                page = 0
                while f"➕ {product.name}" not in "".join(
                    b.label for r in chat.last for b in r.flat_buttons()
                ):
                    chat.press(f"主播{i:02d}", label("btn.next_page"))
                    page += 1
                    assert page < 3
                assert said(
                    chat.press(f"主播{i:02d}", f"➕ {product.name}"),
                    "products.picked",
                    name=product.name,
                    n=picked[i].index(product) + 1,
                    max=10,
                )
        with Session(db, expire_on_commit=False) as s, s.begin():
            for i in range(2, 40):
                for product in picked[i]:
                    s.add(
                        ProductPick(
                            streamer_id=streamers[i].id,
                            product_id=product.id,
                            picked_at=clock.now(),
                        )
                    )
        # 29 days of reports, 30% of each day's GMV to the first pick, 20% to the second
        sales = {p.id: 0 for p in products}
        gmv = {i: 0 for i in range(40)}
        with Session(db, expire_on_commit=False) as s, s.begin():
            for i, st in enumerate(streamers):
                for n, day in enumerate(days):
                    yuan = _gmv_yuan(i, n)
                    r = data.report(
                        s,
                        config,
                        st,
                        day,
                        gmv_yuan=yuan,
                        minutes=120 + i,
                        viewers=500 + 10 * i,
                        likes=50 + i,
                    )
                    first, second = picked[i]
                    data.product_sale(s, r, first, yuan * 3 // 10)
                    data.product_sale(s, r, second, yuan * 2 // 10)
                    sales[first.id] += yuan * 3 // 10 * 100
                    sales[second.id] += yuan * 2 // 10 * 100
                    gmv[i] += yuan * 100
            # one report rejected by a reviewer does not count anywhere
            rejected = data.report(s, config, streamers[5], days[0], gmv_yuan=_gmv_yuan(5, 0))
            rejected.rejected = True
            gmv[5] -= _gmv_yuan(5, 0) * 100
            for product in picked[5]:
                part = 3 if product is picked[5][0] else 2
                sales[product.id] -= _gmv_yuan(5, 0) * part // 10 * 100
            from models import totals

            totals.refresh_day(s, streamers[5].id, days[0], config)
        # the final board: the scheduler's job, after the last day's backfill window
        final_at = final_board_at(config)
        assert final_at.date() == cal.live_end + dt.timedelta(config.reports.backfill_days + 1)
        clock.set(final_at)
        runner = JobRunner(core.sessions, config, clock, tmp_path / "boards")
        assert [o.ran for o in runner.run_due() if o.job == "final_board"] == [True]
        # the committee's audit of the top 38 (the streamer award places): every counted
        # report of each, the GMV its backend screenshot shows typed from the card
        out = chat.say("boss", "/audit")
        assert said(out, "audit.progress", done=0, total=38, reports=38 * len(days) - 1)
        cards = 0
        while not said(out, "audit.all_done", done=38, total=38):
            shown = re.search(r"成交额 ([\d,]+) 元 · ", out)
            assert shown is not None, out
            out = chat.say("boss", shown[1])
            assert said(out, "audit.passed", backend=shown[1]), out
            cards += 1
        assert cards == 38 * len(days) - 1  # 主播05's rejected day is not audited
        # turnovers reported and confirmed; payments received
        rules = DonationRules.of(config)
        with Session(db, expire_on_commit=False) as s, s.begin():
            enterprise_ids = sorted({p.enterprise_id for p in products})
            due = {}
            for j, eid in enumerate(enterprise_ids):
                turnover = ledger.submit_turnover(s, eid, TURNOVERS[j] * 100, None, clock.now())
                assert ledger.decide_turnover(
                    s, turnover.id, turnover.revision, True, None, admin.id, clock.now()
                )
                due[eid] = int(
                    (Decimal(TURNOVERS[j] * 100) * Decimal("0.05")).quantize(
                        Decimal(1), rounding=ROUND_HALF_UP
                    )
                )
                if PAID[j]:
                    ledger.add_payment(
                        s, eid, int(due[eid] * PAID[j]), dt.date(2020, 12, 3), admin.id, clock.now()
                    )
            # the awards, frozen
            frozen = awarding.freeze(
                s, config, clock, Outbox(s, clock), tmp_path / "boards", admin.id
            )
            assert frozen.new is not None
        with Session(db) as s:
            board = s.scalars(
                select(Board).where(Board.scope == "all", Board.period == "final")
            ).one()
            assert board.published_at == final_at
            # ----- streamer awards: the order known by hand, each GMV the reports' sum
            winners = lists.winners(s, frozen.new.id, "streamer")
            by_place = [
                (w.tier, streamers.index(next(x for x in streamers if x.id == w.subject_id)))
                for w in winners
            ]
            expected = (
                [("grand", 39)]
                + [("first", i) for i in (38, 37)]
                + [("second", i) for i in range(36, 31, -1)]
                + [("third", i) for i in range(31, 21, -1)]
                + [("excellent", i) for i in (*range(21, 5, -1), 4, 3, 2, 5)]
            )
            assert by_place == expected
            for w in winners:
                i = next(n for n, x in enumerate(streamers) if x.id == w.subject_id)
                assert w.breakdown["metrics"]["gmv"]["value"] == gmv[i]
                live_days = len(days) - (1 if i == 5 else 0)  # 主播05's rejected day
                assert w.breakdown["metrics"]["live_days"]["value"] == live_days
            # ----- organisations: all six units take part; each one's sales are its products'
            units = lists.winners(s, frozen.new.id, "organisation")
            assert len(units) == min(config.awards.organisation_count, 6)
            unit_of = {p.id: p.enterprise_id for p in products}
            ent_unit = {}
            for j, eid in enumerate(enterprise_ids):
                code = UNITS[j % 6]
                ent_unit[eid] = s.scalars(select(Unit.id).where(Unit.code == code)).one()
            for w in units:
                own = sum(
                    fen for pid, fen in sales.items() if ent_unit[unit_of[pid]] == w.subject_id
                )
                assert w.breakdown["metrics"]["sales"]["value"] == own
                won = sum(1 for _tier, i in expected if streamers[i].unit_id == w.subject_id)
                assert w.breakdown["metrics"]["winners"]["value"] == won
            # ----- enterprises: the tiers follow the payments received
            tiers = {w.subject_id: w.tier for w in lists.winners(s, frozen.new.id, "enterprise")}
            assert tiers == {
                enterprise_ids[0]: "outstanding",  # 600,000 received
                enterprise_ids[1]: "contribution",  # 150,000
                enterprise_ids[2]: "contribution",  # exactly 100,000
            }
            # ----- the ledger: due = 5% of the confirmed turnover; sales = the splits' sums
            rows = {
                r.enterprise_id: r for r in ledger.ledger(s, rules, cal.live_start, cal.live_end)
            }
            for j, eid in enumerate(enterprise_ids):
                assert rows[eid].due_fen == due[eid]
                assert rows[eid].received_fen == int(due[eid] * PAID[j])
                assert rows[eid].reported_sales_fen == sum(
                    fen for pid, fen in sales.items() if unit_of[pid] == eid
                )
            assert rows[enterprise_ids[1]].directed_max_fen == 2_500_000  # 25,000 元 (SPEC)
        # ----- the certificates: one per approved streamer, per winner, per donor
        with Session(db, expire_on_commit=False) as s, s.begin():
            rendered, failed, archive = write_all(s, config, tmp_path / "certs", clock.now())
        assert failed == [] and archive is not None
        donors = sum(1 for p in PAID if p)
        assert len(rendered) == 40 + 38 + 6 + 3 + donors
        with Session(db) as s:
            rows_ = {
                (c.kind, c.subject_kind, c.subject_id): c for c in s.scalars(select(Certificate))
            }
            top = pdf_text(Path(str(rows_[("donation", "enterprise", enterprise_ids[0])].pdf_path)))
            assert "企业0" in top and "600,000.00" in top and "陆拾万元整" in top
            grand = pdf_text(Path(str(rows_[("award", "streamer", streamers[39].id)].pdf_path)))
            assert "主播39" in grand and "特等奖" in grand
            assert all(
                s.get(type(streamers[0]), sid).status == ReviewStatus.APPROVED  # type: ignore[union-attr]
                for kind, sk, sid in rows_
                if kind == "participation"
            )
    finally:
        core.executor.shutdown()
