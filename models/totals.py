"""Maintained totals of the streamers' counted reports, so a board is computed from one row
per streamer instead of from every report.

`refresh_day` recomputes one streamer-day from its reports and moves the streamer's totals by
the difference; it is called wherever a report is stored, corrected, held, cleared or
rejected, inside that step's transaction. `recompute_all` rebuilds everything from the
reports and says what differed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Connection,
    Date,
    ForeignKey,
    Table,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.util import identity_key

from models.base import Base, BigId
from models.scoring import ScoringRules, day_contribution
from models.streamers import DailyReport


class StreamerDayTotal(Base):
    """One streamer's counted reports of one live-period day, summed over platforms."""

    __tablename__ = "streamer_day_totals"

    streamer_id: Mapped[int] = mapped_column(BigId, ForeignKey("streamers.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    reports: Mapped[int]
    gmv_fen: Mapped[int] = mapped_column(BigInteger)
    minutes: Mapped[int]  # uncapped sum; the cap is applied in the streamer's totals
    viewers: Mapped[int] = mapped_column(BigInteger)
    likes: Mapped[int] = mapped_column(BigInteger)


class StreamerTotal(Base):
    """A streamer's sums over the live period (what the score is computed from)."""

    __tablename__ = "streamer_totals"

    streamer_id: Mapped[int] = mapped_column(BigId, ForeignKey("streamers.id"), primary_key=True)
    reports: Mapped[int] = mapped_column(default=0)
    gmv_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    viewers: Mapped[int] = mapped_column(BigInteger, default=0)
    likes: Mapped[int] = mapped_column(BigInteger, default=0)
    live_days: Mapped[int] = mapped_column(default=0)
    live_minutes: Mapped[int] = mapped_column(default=0)  # capped minutes of the live days


FIELDS = ("reports", "gmv_fen", "viewers", "likes", "live_days", "live_minutes")


def _rules(config: Any) -> ScoringRules:
    return config if isinstance(config, ScoringRules) else ScoringRules.of(config)


# refresh_day runs in every step that stores a report: its statements are built once
# (building a statement costs more than running it) and run on the step's connection, as
# Core statements on the tables (the ORM's unit of work for two rows cost more than the rest
# of the refresh); rows of these tables the session holds are expired after it.
_TOTALS = cast(Table, StreamerTotal.__table__)
_DAYS = cast(Table, StreamerDayTotal.__table__)
_T, _D = _TOTALS.c, _DAYS.c
_DAY_SUMS = select(
    func.count(DailyReport.id),
    func.coalesce(func.sum(DailyReport.gmv_fen), 0),
    func.coalesce(func.sum(DailyReport.duration_minutes), 0),
    func.coalesce(func.sum(DailyReport.viewers), 0),
    func.coalesce(func.sum(DailyReport.likes), 0),
).where(
    DailyReport.streamer_id == bindparam("streamer"),
    DailyReport.report_date == bindparam("day"),
    DailyReport.rejected.is_(False),
    DailyReport.held.is_(False),  # waits for a reviewer (models/anomaly_rules.py)
)
_TOTALS_LOCKED = (
    select(*(_T[f] for f in FIELDS))
    .where(_T.streamer_id == bindparam("streamer"))
    .with_for_update()
)
# As SQL: SQLAlchemy 2.0 never caches a dialect's ON CONFLICT insert (it would be compiled at
# every report's refresh); this text is the same on SQLite and PostgreSQL and compiled once.
_NEW_TOTALS = text(
    f"INSERT INTO {_TOTALS.name} (streamer_id, {', '.join(FIELDS)}) "
    f"VALUES (:streamer, {', '.join('0' for _ in FIELDS)}) "
    "ON CONFLICT (streamer_id) DO NOTHING"
)
_SET_TOTALS = (
    update(_TOTALS)
    .where(_T.streamer_id == bindparam("streamer"))
    .values(**{f: bindparam(f"v_{f}") for f in FIELDS})
)
_DAY_ROW = select(_D.reports, _D.gmv_fen, _D.minutes, _D.viewers, _D.likes).where(
    _D.streamer_id == bindparam("streamer"), _D.day == bindparam("d_day")
)
_DAY_VALUES = ("reports", "gmv_fen", "minutes", "viewers", "likes")
_NEW_DAY = insert(_DAYS).values(
    streamer_id=bindparam("streamer"),
    day=bindparam("d_day"),
    **{f: bindparam(f"v_{f}") for f in _DAY_VALUES},
)
_SET_DAY = (
    update(_DAYS)
    .where(_D.streamer_id == bindparam("streamer"), _D.day == bindparam("d_day"))
    .values(**{f: bindparam(f"v_{f}") for f in _DAY_VALUES})
)
_DROP_DAY = delete(_DAYS).where(
    _D.streamer_id == bindparam("streamer"), _D.day == bindparam("d_day")
)


def _day_sums(
    conn: Connection, streamer_id: int, day: dt.date
) -> tuple[int, int, int, int, int] | None:
    row = conn.execute(_DAY_SUMS, {"streamer": streamer_id, "day": day}).one()
    n, gmv, minutes, viewers, likes = (int(v) for v in row)
    return (n, gmv, minutes, viewers, likes) if n else None


def _locked_totals(conn: Connection, streamer_id: int) -> dict[str, int]:
    """The streamer's totals, the row created if missing and locked (PostgreSQL) so two
    concurrent refreshes of one streamer (a correction and a rejection) apply in turn."""
    conn.execute(_NEW_TOTALS, {"streamer": streamer_id})
    row = conn.execute(_TOTALS_LOCKED, {"streamer": streamer_id}).one()
    return {f: int(v) for f, v in zip(FIELDS, row, strict=True)}


def refresh_day(session: Session, streamer_id: int, day: dt.date, config: Any) -> None:
    """Recompute one streamer-day from its counted reports and adjust the streamer's totals
    by the difference. `config` is the festival config (or ScoringRules)."""
    rules = _rules(config)
    session.flush()  # the step's report changes count in the sums
    conn = session.connection()
    totals = _locked_totals(conn, streamer_id)
    sums = _day_sums(conn, streamer_id, day) if rules.in_live_period(day) else None
    params: dict[str, Any] = {"streamer": streamer_id, "d_day": day}
    found = conn.execute(_DAY_ROW, params).first()
    before = (0, 0, 0, 0, 0) if found is None else tuple(int(v) for v in found)
    if sums is None:
        if found is not None:
            conn.execute(_DROP_DAY, params)
        after: tuple[int, ...] = (0, 0, 0, 0, 0)
    else:
        values = {f"v_{f}": v for f, v in zip(_DAY_VALUES, sums, strict=True)}
        conn.execute(_NEW_DAY if found is None else _SET_DAY, {**params, **values})
        after = sums
    b, a = day_contribution(before[2], rules), day_contribution(after[2], rules)
    totals["reports"] += after[0] - before[0]
    totals["gmv_fen"] += after[1] - before[1]
    totals["viewers"] += after[3] - before[3]
    totals["likes"] += after[4] - before[4]
    totals["live_days"] += a.live_day - b.live_day
    totals["live_minutes"] += a.live_minutes - b.live_minutes
    conn.execute(_SET_TOTALS, {"streamer": streamer_id, **{f"v_{f}": v for f, v in totals.items()}})
    # what the session may hold of these rows is read again when next used
    for cls, ident in ((StreamerTotal, (streamer_id,)), (StreamerDayTotal, (streamer_id, day))):
        held = session.identity_map.get(identity_key(cls, ident))
        if held is not None:
            session.expire(held)


@dataclass(frozen=True)
class Difference:
    streamer_id: int
    field: str
    stored: int
    computed: int


def recompute_all(session: Session, config: Any, fix: bool = True) -> list[Difference]:
    """Rebuild every total from the reports; returns what the maintained totals had wrong.
    The sums run in the database (3,000,000 reports never come into Python)."""
    rules = _rules(config)
    per_day = (
        select(
            DailyReport.streamer_id.label("streamer_id"),
            DailyReport.report_date.label("day"),
            func.count(DailyReport.id).label("reports"),
            func.sum(DailyReport.gmv_fen).label("gmv_fen"),
            func.sum(DailyReport.duration_minutes).label("minutes"),
            func.sum(DailyReport.viewers).label("viewers"),
            func.sum(DailyReport.likes).label("likes"),
        )
        .where(
            DailyReport.rejected.is_(False),
            DailyReport.held.is_(False),
            # scoring.in_live_period, in SQL
            DailyReport.report_date >= rules.live_start,
            DailyReport.report_date <= rules.live_end,
        )
        .group_by(DailyReport.streamer_id, DailyReport.report_date)
    )
    days = per_day.subquery()
    # day_contribution in SQL: a live day has at least min_minutes_per_day (and more than 0),
    # its minutes count up to max_hours_per_day
    floor = max(rules.min_minutes_per_day, 1)
    cap = rules.max_hours_per_day * 60
    live = days.c.minutes >= floor
    per_streamer = select(
        days.c.streamer_id,
        func.sum(days.c.reports),
        func.sum(days.c.gmv_fen),
        func.sum(days.c.viewers),
        func.sum(days.c.likes),
        func.sum(case((live, 1), else_=0)),
        func.sum(case((live & (days.c.minutes > cap), cap), (live, days.c.minutes), else_=0)),
    ).group_by(days.c.streamer_id)
    computed = {r[0]: [int(v) for v in r[1:]] for r in session.execute(per_streamer)}
    stored = {
        r[0]: list(r[1:])
        for r in session.execute(
            select(StreamerTotal.streamer_id, *(getattr(StreamerTotal, f) for f in FIELDS))
        )
    }
    differences = []
    zero = [0] * len(FIELDS)
    for sid in sorted(set(stored) | set(computed)):
        have, want = stored.get(sid, zero), computed.get(sid, zero)
        differences += [
            Difference(sid, f, h, w) for f, h, w in zip(FIELDS, have, want, strict=True) if h != w
        ]
    if fix:
        session.execute(delete(StreamerDayTotal))
        session.execute(
            insert(StreamerDayTotal).from_select(
                ["streamer_id", "day", "reports", "gmv_fen", "minutes", "viewers", "likes"],
                per_day,
            )
        )
        session.execute(delete(StreamerTotal))
        session.execute(insert(StreamerTotal).from_select(["streamer_id", *FIELDS], per_streamer))
    return differences
