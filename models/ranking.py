"""The current ranking of all approved streamers, from the maintained totals (one row per
streamer, no report is read), by the rule of models/scoring.py."""

from __future__ import annotations

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.base import ReviewStatus
from models.scoring import Columns, Ranking, ScoringRules, rank_columns
from models.streamers import Streamer
from models.totals import StreamerTotal

# a streamer without a totals row (no report yet) has NULLs there: 0
_TOTALS = (
    StreamerTotal.reports,
    StreamerTotal.gmv_fen,
    StreamerTotal.viewers,
    StreamerTotal.likes,
    StreamerTotal.live_days,
    StreamerTotal.live_minutes,
)
_QUERY = (
    select(Streamer.id, *(func.coalesce(c, 0) for c in _TOTALS))  # the fields of Columns
    .outerjoin(StreamerTotal, StreamerTotal.streamer_id == Streamer.id)
    .where(Streamer.status == ReviewStatus.APPROVED.value)
    # registration order: the last tie-break (NULLs last on both engines)
    .order_by(Streamer.submitted_at.is_(None), Streamer.submitted_at, Streamer.id)
)
_PAGE = 10_000  # rows fetched at a time


def current(session: Session, rules: ScoringRules) -> Ranking:
    conn = session.connection()
    # A DBAPI cursor on the session's connection (same transaction): its plain tuples go
    # straight into one int64 array, 0.15 s for 100,000 streamers; through Core's Row objects
    # and a transpose it took 0.3 s (and numpy reads a list of Rows ~50 times slower than
    # tuples). The only value bound is our own constant 'approved', rendered inline, so the
    # statement needs no driver-specific parameter style.
    sql = str(_QUERY.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql)
        # a page of tuples at a time into arrays: 100,000 rows of tuples at once are ~35 MB
        pages = []
        while rows := cursor.fetchmany(_PAGE):
            pages.append(np.array(rows, dtype=np.int64))
        width = len(Columns._fields)
        table = np.concatenate(pages) if pages else np.empty((0, width), dtype=np.int64)
    finally:
        cursor.close()
    return rank_columns(Columns(*table.T), rules)
