"""What the committee's daily digest counts: registrations and reports since a time, and
what still waits for review."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from models.enterprises import Enterprise, Product
from models.review_rules import PENDING
from models.streamers import DailyReport, Streamer

_COUNTS = {
    "streamers": (
        select(func.count())
        .select_from(Streamer)
        .where(Streamer.submitted_at >= bindparam("since"))
    ),
    "enterprises": (
        select(func.count())
        .select_from(Enterprise)
        .where(Enterprise.submitted_at >= bindparam("since"))
    ),
    "pending_streamers": (
        select(func.count()).select_from(Streamer).where(Streamer.status.in_(PENDING))
    ),
    "pending_products": (
        select(func.count()).select_from(Product).where(Product.status.in_(PENDING))
    ),
    "held_reports": (  # waiting for the committee's check (models/anomaly_rules.py)
        select(func.count())
        .select_from(DailyReport)
        .where(DailyReport.held.is_(True), DailyReport.rejected.is_(False))
    ),
    "reports": (
        select(func.count())
        .select_from(DailyReport)
        .where(DailyReport.updated_at >= bindparam("since"), DailyReport.rejected.is_(False))
    ),
}


def digest_counts(session: Session, since: dt.datetime) -> dict[str, int | None]:
    """Each count by its name in the digest message (remind.digest)."""
    return {name: session.scalar(stmt, {"since": since}) for name, stmt in _COUNTS.items()}
