"""The current ranking of all approved streamers, from the maintained totals (one row per
streamer, no report is read), by the rule of models/scoring.py."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.base import ReviewStatus
from models.scoring import Columns, Ranking, ScoringRules, rank_columns
from models.streamers import Streamer
from models.totals import StreamerTotal


def current(session: Session, rules: ScoringRules) -> Ranking:
    t = StreamerTotal
    # a streamer without a totals row (no report yet) has NULLs there: 0
    zero = [func.coalesce(c, 0) for c in (t.reports, t.gmv_fen, t.viewers, t.likes)]
    days, minutes = func.coalesce(t.live_days, 0), func.coalesce(t.live_minutes, 0)
    # Core on the session's connection: the ORM's result machinery cost more than the query
    rows = (
        session.connection()
        .execute(
            select(Streamer.id, *zero, days, minutes)
            .outerjoin(t, t.streamer_id == Streamer.id)
            .where(Streamer.status == ReviewStatus.APPROVED.value)
            # registration order: the last tie-break (NULLs last on both engines)
            .order_by(Streamer.submitted_at.is_(None), Streamer.submitted_at, Streamer.id)
        )
        .all()
    )
    if not rows:
        return rank_columns(Columns([], [], [], [], [], [], []), rules)
    return rank_columns(Columns(*map(list, zip(*rows, strict=True))), rules)
