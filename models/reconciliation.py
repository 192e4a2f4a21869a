"""/reconcile's figures (issue 15 part 4): two figures that should agree, side by side.

- Per enterprise: the sales streamers reported for its products (models/sales.py, the one
  definition of counted sales) against the festival turnover it reported (the latest
  revision, whatever its review status: waiting, confirmed or asked again).
- Per streamer: the GMV of its counted reports against the GMV the platform backend
  screenshot showed, as the reviewer typed it in the top-N audit (models/audits.py), over the
  reports audited with a backend figure.

The difference is claimed − reference (streamers' side − the independent side); whether it is
listed is models/reconcile_rules.py. Rows come biggest difference first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import audits
from models.donations import Turnover
from models.enterprises import Enterprise
from models.reconcile_rules import Threshold, percent_of
from models.sales import reported_sales_by_enterprise
from models.streamer_names import account_names


@dataclass(frozen=True)
class Row:
    kind: str  # enterprise | streamer
    subject_id: int
    name: str
    claimed_fen: int  # streamers' reported sales / the streamer's reported GMV
    reference_fen: int  # the enterprise's turnover / the backend GMV
    listed: bool  # above the threshold
    status: str | None = None  # the turnover's review status (enterprises)
    reports: int = 0  # reports with a backend figure (streamers)

    @property
    def diff_fen(self) -> int:
        return self.claimed_fen - self.reference_fen

    @property
    def percent(self) -> Decimal | None:
        return percent_of(self.diff_fen, self.reference_fen)


def _biggest_first(rows: list[Row]) -> list[Row]:
    return sorted(rows, key=lambda r: (-abs(r.diff_fen), r.subject_id))


@dataclass(frozen=True)
class Enterprises:
    rows: list[Row]  # every enterprise that reported a turnover
    without_turnover: int  # enterprises with reported sales and no turnover yet


def enterprises(
    session: Session, start: dt.date, end: dt.date, threshold: Threshold
) -> Enterprises:
    sales = reported_sales_by_enterprise(session, start, end)
    turnovers = {
        int(eid): (int(fen), status)
        for eid, fen, status in session.execute(
            select(Turnover.enterprise_id, Turnover.amount_fen, Turnover.status)
        )
    }
    names = dict(
        session.execute(
            select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(list(turnovers)))
        )
        .tuples()
        .all()
    )
    rows = [
        Row(
            "enterprise",
            eid,
            names.get(eid, ""),
            sales.get(eid, 0),
            fen,
            threshold.exceeded(sales.get(eid, 0), fen),
            status=status,
        )
        for eid, (fen, status) in turnovers.items()
    ]
    without = sum(1 for eid in sales if eid not in turnovers)
    return Enterprises(_biggest_first(rows), without)


def streamers(session: Session, start: dt.date, end: dt.date, threshold: Threshold) -> list[Row]:
    figures = audits.backend_figures(session, start, end)
    names = account_names(session, [f.streamer_id for f in figures])
    rows = [
        Row(
            "streamer",
            f.streamer_id,
            names.get(f.streamer_id, ""),
            f.reported_fen,
            f.backend_fen,
            threshold.exceeded(f.reported_fen, f.backend_fen),
            reports=f.reports,
        )
        for f in figures
    ]
    return _biggest_first(rows)
