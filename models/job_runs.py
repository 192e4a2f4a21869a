"""Our own record of scheduled job runs: APScheduler 3 rebuilds its jobs from the config at
start and computes their next run from now, silently dropping runs missed while the process
was down. One row per (job, scheduled time) makes a run happen at most once, across restarts
and across processes. A run that failed leaves its row unfinished (finished_at empty) with the
failure counted and its error: it may be claimed again (retried within its grace), and the
operator sees what went wrong."""

from __future__ import annotations

import datetime as dt
from typing import Any

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
    failures: Mapped[int] = mapped_column(default=0)  # failed tries of this run
    last_error: Mapped[str | None] = mapped_column(Text)


_ALL = select(JobRun)
_ONE = select(JobRun).where(
    JobRun.job == bindparam("job"), JobRun.scheduled_for == bindparam("scheduled_for")
)


def recorded(session: Session) -> list[JobRun]:
    return list(session.scalars(_ALL))


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def claim(session: Session, job: str, scheduled_for: dt.datetime, now: dt.datetime) -> bool:
    """Record that (job, fire time) starts now; False if it finished already (in this process
    earlier, or in another one): the unique constraint decides, not a read first. A row left
    by a failed try is taken over (its started_at renewed); a concurrent claimer waits on the
    row lock and then sees it finished."""
    stmt = _insert(session)(JobRun).values(
        job=job, scheduled_for=scheduled_for, started_at=now, enqueued=0, failures=0
    )
    claimed = session.execute(
        stmt.on_conflict_do_update(
            index_elements=["job", "scheduled_for"],
            set_={"started_at": now},
            where=JobRun.finished_at.is_(None),
        ).returning(JobRun.id)
    ).first()
    return claimed is not None


def record_failure(
    session: Session, job: str, scheduled_for: dt.datetime, now: dt.datetime, error: str
) -> None:
    """Count a failed try of (job, fire time) and keep its error, leaving the run unfinished
    (in its own transaction: the failed one was rolled back with everything it enqueued)."""
    error = error[:2000]
    stmt = _insert(session)(JobRun).values(
        job=job,
        scheduled_for=scheduled_for,
        started_at=now,
        enqueued=0,
        failures=1,
        last_error=error,
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["job", "scheduled_for"],
            set_={"failures": JobRun.failures + 1, "last_error": error},
            where=JobRun.finished_at.is_(None),
        )
    )


def run_of(session: Session, job: str, scheduled_for: dt.datetime) -> JobRun:
    return session.scalars(_ONE, {"job": job, "scheduled_for": scheduled_for}).one()
