"""A committee member's /certificates run in the background: more certificates than a chat
step may draw (certificates.chat_limit) are planned in the step (numbered, one row per
certificate here) and drawn in batches by the scheduler's look for background work
(handlers/certificate_batches.py). A batch's certificates are marked drawn in the same
transaction that stores their files' paths and the progress: after a kill -9 the next look
draws only what no committed batch drew, and the end is told once (its outbox key).

No name is kept here (the certificates' holders are read from their records when the ZIP is
made): an erasure has nothing to find in these tables.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text, func, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, BigId, IdMixin

WAITING = "waiting"  # planned, drawn batch by batch
DONE = "done"  # drawn (some may have failed) and zipped; the requester told
FAILED = "failed"  # the disk refused the files: given up, the requester told

# an item's outcome
DRAWN = "drawn"
NOT_DRAWN = "not_drawn"  # the font lacks a character of the name (told in the end)
GONE = "gone"  # no longer issued when its batch came (e.g. the streamer was withdrawn)


class CertificateRun(IdMixin, Base):
    __tablename__ = "certificate_runs"

    requested_by: Mapped[int] = mapped_column(BigId)  # the committee member's person id
    requested_at: Mapped[dt.datetime]  # also the certificates' date (when config has none)
    outdir: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(12), default=WAITING, index=True)
    total: Mapped[int] = mapped_column(default=0)
    drawn: Mapped[int] = mapped_column(default=0)
    not_drawn: Mapped[int] = mapped_column(default=0)  # the font, or gone meanwhile
    told_percent: Mapped[int] = mapped_column(default=0)  # the last progress step told
    archive_path: Mapped[str | None] = mapped_column(String(300))
    finished_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class CertificateRunItem(Base):
    __tablename__ = "certificate_run_items"
    __table_args__ = (Index("ix_certificate_run_items_open", "run_id", "outcome", "position"),)

    run_id: Mapped[int] = mapped_column(BigId, ForeignKey("certificate_runs.id"), primary_key=True)
    certificate_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    position: Mapped[int]
    outcome: Mapped[str | None] = mapped_column(String(12))  # None: not drawn yet
    done_at: Mapped[dt.datetime | None]


def open_run(session: Session) -> CertificateRun | None:
    """The run being drawn (at most one at a time: /certificates tells its progress)."""
    return session.scalars(
        select(CertificateRun)
        .where(CertificateRun.status == WAITING)
        .order_by(CertificateRun.id)
        .limit(1)
    ).first()


def start(
    session: Session,
    requested_by: int,
    now: dt.datetime,
    outdir: str,
    certificate_ids: list[int],
) -> CertificateRun:
    run = CertificateRun(
        requested_by=requested_by,
        requested_at=now,
        outdir=outdir,
        status=WAITING,
        total=len(certificate_ids),
        drawn=0,
        not_drawn=0,
        told_percent=0,
    )
    session.add(run)
    session.flush()
    rows = [
        {"run_id": run.id, "certificate_id": cid, "position": n}
        for n, cid in enumerate(certificate_ids)
    ]
    for first in range(0, len(rows), 5_000):
        session.execute(insert(CertificateRunItem), rows[first : first + 5_000])
    return run


def next_batch(session: Session, run_id: int, size: int) -> list[int]:
    """The certificate ids of the next batch not drawn yet, in the planned order."""
    return list(
        session.scalars(
            select(CertificateRunItem.certificate_id)
            .where(CertificateRunItem.run_id == run_id, CertificateRunItem.outcome.is_(None))
            .order_by(CertificateRunItem.position)
            .limit(size)
        )
    )


def mark(
    session: Session, run_id: int, certificate_ids: list[int], outcome: str, now: dt.datetime
) -> int:
    """Mark these items done with their outcome, only those not done yet (a batch drawn
    twice, by a second look that raced the first, counts once); how many were marked."""
    if not certificate_ids:
        return 0
    result = session.execute(
        update(CertificateRunItem)
        .where(
            CertificateRunItem.run_id == run_id,
            CertificateRunItem.certificate_id.in_(certificate_ids),
            CertificateRunItem.outcome.is_(None),
        )
        .values(outcome=outcome, done_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def items_with(session: Session, run_id: int, outcome: str) -> list[int]:
    """The certificate ids of the run's items with this outcome, in the planned order."""
    return list(
        session.scalars(
            select(CertificateRunItem.certificate_id)
            .where(CertificateRunItem.run_id == run_id, CertificateRunItem.outcome == outcome)
            .order_by(CertificateRunItem.position)
        )
    )


def left(session: Session, run_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(CertificateRunItem)
            .where(CertificateRunItem.run_id == run_id, CertificateRunItem.outcome.is_(None))
        )
        or 0
    )


def close(session: Session, run_id: int, now: dt.datetime, archive_path: str | None) -> bool:
    """The waiting run is done (its archive written); False when another look closed it."""
    closed = session.execute(
        update(CertificateRun)
        .where(CertificateRun.id == run_id, CertificateRun.status == WAITING)
        .values(status=DONE, finished_at=now, archive_path=archive_path)
    )
    return bool(closed.rowcount)  # type: ignore[attr-defined]
