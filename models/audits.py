"""The top-N audit before the award list is frozen (issue 15 part 3): one row per daily report
audited by the committee, with its checklist (evidence matches the figures, the platform's
backend screenshot is there, the GMV that screenshot shows) and the outcome (passed, or
rejected through the ordinary report rejection).

A row holds for the revision it audited: a report corrected afterwards is a new revision and
is audited again (the row is then overwritten; the audit log keeps every decision). Which
streamers are in scope (the top N of the latest final board) is models/award_lists.py
`audit_scope`; this module answers, for given streamers, which counted reports still wait.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import BigInteger, ColumnElement, ForeignKey, String, Text, and_, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models import repo
from models.base import Base, BigId, IdMixin
from models.streamers import DailyReport

PASSED = "passed"
REJECTED = "rejected"


class ReportAudit(IdMixin, Base):
    """The committee's audit of one daily report (the revision it saw)."""

    __tablename__ = "report_audits"

    report_id: Mapped[int] = mapped_column(BigId, ForeignKey("daily_reports.id"), unique=True)
    streamer_id: Mapped[int] = mapped_column(BigId, ForeignKey("streamers.id"), index=True)
    report_revision: Mapped[int]
    outcome: Mapped[str] = mapped_column(String(20))  # passed | rejected
    evidence_matches: Mapped[bool]
    backend_present: Mapped[bool]
    backend_gmv_fen: Mapped[int | None] = mapped_column(BigInteger)  # typed from the screenshot
    reported_gmv_fen: Mapped[int] = mapped_column(BigInteger)  # the report's GMV when audited
    reason: Mapped[str | None] = mapped_column(Text)
    audited_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("people.id"))
    audited_at: Mapped[dt.datetime]


def _counted(
    streamer_ids: Collection[int], start: dt.date, end: dt.date
) -> list[ColumnElement[bool]]:
    """The streamers' reports that count (as on the board): not rejected nor held (a held one
    waits in /review; cleared, it counts and comes into the audit), in the period."""
    return [
        DailyReport.streamer_id.in_(list(streamer_ids)),
        DailyReport.rejected.is_(False),
        DailyReport.held.is_(False),
        DailyReport.report_date >= start,
        DailyReport.report_date <= end,
    ]


def waiting(
    session: Session, streamer_ids: Collection[int], start: dt.date, end: dt.date
) -> dict[int, list[int]]:
    """Streamer id → ids of its counted reports (not rejected, inside the live period) with
    no audit of their current revision, by day; streamers with none waiting are absent."""
    if not streamer_ids:
        return {}
    stmt = (
        select(DailyReport.streamer_id, DailyReport.id)
        .outerjoin(
            ReportAudit,
            and_(
                ReportAudit.report_id == DailyReport.id,
                ReportAudit.report_revision == DailyReport.revision,
            ),
        )
        .where(*_counted(streamer_ids, start, end), ReportAudit.id.is_(None))
        .order_by(DailyReport.streamer_id, DailyReport.report_date, DailyReport.id)
    )
    found: dict[int, list[int]] = {}
    for sid, rid in session.execute(stmt):
        found.setdefault(int(sid), []).append(int(rid))
    return found


@dataclass(frozen=True)
class Progress:
    """Where the audit stands over the streamers in scope, in their rank order."""

    scope: list[int]
    waiting: dict[int, list[int]]  # streamer → its reports still to audit

    @property
    def total(self) -> int:
        return len(self.scope)

    @property
    def done(self) -> int:
        return sum(1 for s in self.scope if s not in self.waiting)

    @property
    def reports_left(self) -> int:
        return sum(len(r) for r in self.waiting.values())

    @property
    def open_streamers(self) -> list[int]:
        return [s for s in self.scope if s in self.waiting]


def progress(session: Session, scope: list[int], start: dt.date, end: dt.date) -> Progress:
    return Progress(scope, waiting(session, scope, start, end))


def audit_of(session: Session, report_id: int) -> ReportAudit | None:
    return session.scalars(select(ReportAudit).where(ReportAudit.report_id == report_id)).first()


def record(
    session: Session,
    report: DailyReport,
    outcome: str,
    *,
    evidence_matches: bool,
    backend_present: bool,
    backend_gmv_fen: int | None,
    reason: str | None,
    actor: int | None,
    now: dt.datetime,
) -> ReportAudit:
    """Stores the audit of the report's current revision (over an older one's), audited."""
    row = audit_of(session, report.id)
    before = None
    if row is None:
        row = ReportAudit(report_id=report.id, streamer_id=report.streamer_id)
        session.add(row)
    else:
        before = {"outcome": row.outcome, "revision": row.report_revision}
    row.report_revision = report.revision
    row.outcome = outcome
    row.evidence_matches = evidence_matches
    row.backend_present = backend_present
    row.backend_gmv_fen = backend_gmv_fen
    row.reported_gmv_fen = report.gmv_fen
    row.reason = reason
    row.audited_by = actor
    row.audited_at = now
    session.flush()
    repo.audit(
        session,
        now,
        actor,
        "audit_report",
        "daily_report",
        report.id,
        before=before,
        after={
            "outcome": outcome,
            "revision": report.revision,
            "evidence_matches": evidence_matches,
            "backend_present": backend_present,
            "backend_gmv_fen": backend_gmv_fen,
            "reported_gmv_fen": report.gmv_fen,
        },
        note=reason,
    )
    return row


@dataclass(frozen=True)
class BackendFigures:
    """A streamer's GMV as reported and as the platform backend showed it, over the counted
    reports whose current revision was audited with a backend figure."""

    streamer_id: int
    reports: int
    reported_fen: int
    backend_fen: int


def backend_figures(session: Session, start: dt.date, end: dt.date) -> list[BackendFigures]:
    """Per streamer (id order), the reported and the backend GMV of its audited reports."""
    stmt = (
        select(
            DailyReport.streamer_id,
            func.count(),
            func.sum(DailyReport.gmv_fen),
            func.sum(ReportAudit.backend_gmv_fen),
        )
        .join(
            ReportAudit,
            and_(
                ReportAudit.report_id == DailyReport.id,
                ReportAudit.report_revision == DailyReport.revision,
            ),
        )
        .where(
            DailyReport.rejected.is_(False),
            DailyReport.held.is_(False),
            DailyReport.report_date >= start,
            DailyReport.report_date <= end,
            ReportAudit.backend_gmv_fen.is_not(None),
        )
        .group_by(DailyReport.streamer_id)
        .order_by(DailyReport.streamer_id)
    )
    return [
        BackendFigures(int(sid), int(n), int(reported or 0), int(backend or 0))
        for sid, n, reported, backend in session.execute(stmt)
    ]
