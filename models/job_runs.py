"""Our own record of scheduled job runs: APScheduler 3 rebuilds its jobs from the config at
start and computes their next run from now, silently dropping runs missed while the process
was down. One row per (job, scheduled time) makes a run happen at most once, across restarts
and across processes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

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
