"""Held reports as queries: what the anomaly rules (models/anomaly_rules.py) judge a report
against, holding it, and the reviewers' clearing of it."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Protocol

from sqlalchemy import Index, bindparam, func, select, text, update
from sqlalchemy.orm import Session

from models.anomaly_rules import Figures
from models.enterprises import Product
from models.picks import ProductPick
from models.repo import changed_rows
from models.streamers import DailyReport

# the few held reports found without reading all reports (boards and award sums exclude them)
Index(
    "ix_daily_reports_held",
    DailyReport.id,
    sqlite_where=text("held"),
    postgresql_where=text("held"),
)


def evidence_digest(ref: str | None) -> str | None:
    """sha256 of the evidence picture's bytes when it is in our storage; a picture kept only
    as the platform's id (not copied) is known by that id."""
    if not ref:
        return None
    path = Path(ref)
    try:
        if path.is_file():
            return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:  # a name too long for a path, unreadable: known by its id
        pass
    return hashlib.sha256(ref.encode("utf-8")).hexdigest()


def figures(r: ReportFigures) -> Figures:
    return Figures(r.report_date, r.gmv_fen, r.duration_minutes, r.viewers, r.likes, r.orders)


# Built once, as columns on the table: every report's confirm step reads them, and rows cost
# a fraction of ORM objects (the rules only read their figures)
_R = DailyReport.__table__.c
_OTHERS = select(
    _R.id, _R.report_date, _R.gmv_fen, _R.duration_minutes, _R.viewers, _R.likes, _R.orders, _R.held
).where(_R.streamer_id == bindparam("streamer"), _R.rejected.is_(False))


class ReportFigures(Protocol):
    """What the rules read of a report: a DailyReport, or a row of `other_reports_of`."""

    id: int
    report_date: dt.date
    gmv_fen: int
    duration_minutes: int
    viewers: int
    likes: int
    orders: int
    held: bool


def other_reports_of(session: Session, streamer_id: int) -> list[ReportFigures]:
    """The streamer's reports that are not rejected (held ones included), their figures."""
    session.flush()  # as an ORM query would (autoflush): a change of this step counts
    rows = session.connection().execute(_OTHERS, {"streamer": streamer_id})
    return list(rows)


_PICKS_AOV = (
    select(func.sum(Product.monthly_turnover_fen), func.sum(Product.monthly_orders))
    .join(ProductPick, ProductPick.product_id == Product.id)
    .where(ProductPick.streamer_id == bindparam("streamer"), Product.monthly_orders > 0)
)


def picks_aov_fen(session: Session, streamer_id: int) -> float | None:
    """The average order value (fen) of the products the streamer picked, as their
    enterprises stated in 附件1: monthly turnover / monthly orders, over the picks; None
    without picks that state orders."""
    session.flush()  # run on the connection (no ORM layer: every report's confirm asks it)
    turnover, orders = session.connection().execute(_PICKS_AOV, {"streamer": streamer_id}).one()
    if not orders or not turnover:
        return None
    return int(turnover) / int(orders)


_SHARING = (
    select(DailyReport)
    .where(
        DailyReport.evidence_sha256 == bindparam("digest"),
        DailyReport.id != bindparam("report"),
        DailyReport.rejected.is_(False),
    )
    .order_by(DailyReport.id)
)


def sharing_evidence(session: Session, digest: str, report_id: int) -> list[DailyReport]:
    """Other reports (any streamer's, rejected ones left out) with the same evidence."""
    return list(session.scalars(_SHARING, {"digest": digest, "report": report_id}))


def clear_report(
    session: Session, report_id: int, revision: int, now: dt.datetime
) -> tuple[int, dt.date] | None:
    """A reviewer clears this revision of a held report (it counts from now): its (streamer,
    day), or None when it is no longer held or was corrected meanwhile."""
    row = session.execute(
        update(DailyReport)
        .where(
            DailyReport.id == report_id,
            DailyReport.revision == revision,
            DailyReport.held.is_(True),
            DailyReport.rejected.is_(False),
        )
        .values(held=False, updated_at=now)
        .returning(DailyReport.streamer_id, DailyReport.report_date)
    ).first()
    return None if row is None else (row[0], row[1])


def release_rejected(session: Session, report_id: int) -> None:
    """A rejected report is no longer waiting for a check (rejection is its own exclusion)."""
    changed_rows(
        session,
        update(DailyReport).where(DailyReport.id == report_id).values(held=False),
    )


def held_reports(session: Session) -> list[int]:
    """Ids of the held reports waiting for the committee, oldest first."""
    stmt = (
        select(DailyReport.id)
        .where(text("daily_reports.held"), DailyReport.rejected.is_(False))
        .order_by(DailyReport.id)
    )
    return list(session.scalars(stmt))


def open_checks(session: Session) -> list[tuple[str, dict[str, int]]]:
    """What the held reports leave open before awards are frozen, as (catalog key,
    parameters): for models/award_lists.py `open_items`."""
    n = len(held_reports(session))
    return [("trust.held_open", {"n": n})] if n else []
