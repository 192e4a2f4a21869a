"""Our own record of scheduled job runs: APScheduler 3 rebuilds its jobs from the config at
start and computes their next run from now, silently dropping runs missed while the process
was down. One row per (job, scheduled time) makes a run happen at most once, across restarts
and across processes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text, UniqueConstraint, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, IdMixin


class JobRun(IdMixin, Base):
    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "scheduled_for"),)

    job: Mapped[str] = mapped_column(String(60))
    scheduled_for: Mapped[dt.datetime]
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    enqueued: Mapped[int] = mapped_column(default=0)  # outbox rows this run added
    note: Mapped[str | None] = mapped_column(Text)  # e.g. "skipped: beyond grace"


_ALL = select(JobRun)
_ONE = select(JobRun).where(
    JobRun.job == bindparam("job"), JobRun.scheduled_for == bindparam("scheduled_for")
)


def recorded(session: Session) -> list[JobRun]:
    return list(session.scalars(_ALL))


def claim(session: Session, job: str, scheduled_for: dt.datetime, now: dt.datetime) -> bool:
    """Record that (job, fire time) starts now; False if it is recorded already (by this
    process earlier, or by another one): the unique constraint decides, not a read first."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    claimed = session.execute(
        insert(JobRun)
        .values(job=job, scheduled_for=scheduled_for, started_at=now, enqueued=0)
        .on_conflict_do_nothing(index_elements=["job", "scheduled_for"])
        .returning(JobRun.id)
    ).first()
    return claimed is not None


def run_of(session: Session, job: str, scheduled_for: dt.datetime) -> JobRun:
    return session.scalars(_ONE, {"job": job, "scheduled_for": scheduled_for}).one()
