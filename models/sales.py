"""The sales that count: what streamers reported selling per product and per enterprise, the
product splits of counted daily reports (not rejected nor held (issue 15), dated inside the
live period, of an approved streamer, as on the board). The one definition, for the donation
ledger (models/ledger.py), /turnovers, /products, the awards (入选产品总体销量) and /reconcile.
Money in fen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import Select, func, select, text, union
from sqlalchemy.orm import InstrumentedAttribute, Session

from models.base import ReviewStatus
from models.enterprises import Product
from models.picks import ReportProductSale
from models.streamers import DailyReport, Streamer

APPROVED = ReviewStatus.APPROVED.value


def _counted_sales(
    group: InstrumentedAttribute[int], live_start: dt.date, live_end: dt.date
) -> Select[tuple[int, int]]:
    """(group, sum of the assigned GMV) over counted reports' product splits, joined: for a
    few products or enterprises."""
    return (
        select(group, func.sum(ReportProductSale.gmv_fen))
        .select_from(ReportProductSale)
        .join(DailyReport, DailyReport.id == ReportProductSale.report_id)
        .join(Streamer, Streamer.id == DailyReport.streamer_id)
        .where(
            DailyReport.rejected.is_(False),
            DailyReport.held.is_(False),
            DailyReport.report_date >= live_start,
            DailyReport.report_date <= live_end,
            Streamer.status == APPROVED,
        )
    )


def _all_product_sales(session: Session, start: dt.date, end: dt.date) -> dict[int, int]:
    """Fen sold per product, every product at once: all splits summed from one index, minus
    the splits of the few reports that do not count (each found through an index): joining
    1,500,000 splits to their reports one by one took seconds."""
    rps = ReportProductSale
    total = session.execute(select(rps.product_id, func.sum(rps.gmv_fen)).group_by(rps.product_id))
    sums = {int(pid): int(fen) for pid, fen in total.tuples()}
    not_approved = select(Streamer.id).where(Streamer.status != APPROVED)
    excluded = union(
        # written as the partial index's own predicate (SQLAlchemy renders "rejected = 1" on
        # SQLite, which SQLite does not match with the index's "WHERE rejected")
        select(DailyReport.id).where(text("daily_reports.rejected")),
        select(DailyReport.id).where(text("daily_reports.held")),  # models/trust.py's index
        select(DailyReport.id).where(DailyReport.report_date < start),
        select(DailyReport.id).where(DailyReport.report_date > end),
        select(DailyReport.id).where(DailyReport.streamer_id.in_(not_approved)),
    )
    minus = session.execute(
        select(rps.product_id, func.sum(rps.gmv_fen))
        .where(rps.report_id.in_(select(excluded.subquery().c.id)))
        .group_by(rps.product_id)
    )
    for pid, fen in minus.tuples():
        sums[int(pid)] -= int(fen)
    return {pid: fen for pid, fen in sums.items() if fen}


def reported_sales_by_product(
    session: Session,
    live_start: dt.date,
    live_end: dt.date,
    product_ids: Collection[int] | None = None,
) -> dict[int, int]:
    """Product id → GMV (fen) streamers assigned to it in counted reports. Products without
    sales are absent."""
    if product_ids is None:
        return _all_product_sales(session, live_start, live_end)
    stmt = _counted_sales(ReportProductSale.product_id, live_start, live_end)
    stmt = stmt.where(ReportProductSale.product_id.in_(list(product_ids)))
    stmt = stmt.group_by(ReportProductSale.product_id)
    return {int(pid): int(total) for pid, total in session.execute(stmt) if total}


def reported_sales_by_enterprise(
    session: Session,
    live_start: dt.date,
    live_end: dt.date,
    enterprise_ids: Collection[int] | None = None,
) -> dict[int, int]:
    """Enterprise id → GMV (fen) streamers assigned to its products in counted reports.
    Enterprises without sales are absent."""
    if enterprise_ids is None:
        owner = dict(session.execute(select(Product.id, Product.enterprise_id)).tuples().all())
        found: dict[int, int] = {}
        for pid, fen in _all_product_sales(session, live_start, live_end).items():
            eid = int(owner[pid])
            found[eid] = found.get(eid, 0) + fen
        return {eid: fen for eid, fen in found.items() if fen}
    stmt = _counted_sales(Product.enterprise_id, live_start, live_end).join(
        Product, Product.id == ReportProductSale.product_id
    )
    stmt = stmt.where(Product.enterprise_id.in_(list(enterprise_ids)))
    stmt = stmt.group_by(Product.enterprise_id)
    return {int(eid): int(total) for eid, total in session.execute(stmt) if total}
