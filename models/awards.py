"""Award lists (优秀主播奖, 优秀组织奖, 爱心企业奖) as computed and, once frozen, as final;
the committee's inputs to them (a unit's publicity score, the 江西青年电商扶贫大使 mark); and
the certificates issued. The rules that compute the lists live in pure modules beside the
streamer score; this module only keeps what they produced and what the committee decided."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String, UniqueConstraint, func, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, BigId, IdMixin
from models.picks import ReportProductSale
from models.streamers import DailyReport


class UnitPublicity(Base):
    """宣传工作: the publicity score 0-100 the committee enters per unit."""

    __tablename__ = "unit_publicity"

    unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("units.id"), primary_key=True)
    score: Mapped[int]
    set_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("people.id"))
    set_at: Mapped[dt.datetime]


class AmbassadorMark(Base):
    """江西青年电商扶贫大使: the committee's mark on an award-winning streamer."""

    __tablename__ = "ambassador_marks"

    streamer_id: Mapped[int] = mapped_column(BigId, ForeignKey("streamers.id"), primary_key=True)
    marked_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("people.id"))
    marked_at: Mapped[dt.datetime]


class AwardList(IdMixin, Base):
    """One frozen award list (`/awards final`): version 1, then a new version whenever an
    audit republishes the final board. Provisional lists are computed, never stored."""

    __tablename__ = "award_lists"

    version: Mapped[int] = mapped_column(unique=True)
    board_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("boards.id"))  # final board
    frozen_at: Mapped[dt.datetime]
    frozen_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("people.id"))
    superseded_at: Mapped[dt.datetime | None]


class AwardEntry(IdMixin, Base):
    """A winner on a frozen list: kind streamer | organisation | enterprise, the tier key
    from config (grand, first, ... / organisation / contribution, outstanding), the subject
    (a streamer, unit or enterprise id), its place and the breakdown that explains it."""

    __tablename__ = "award_entries"
    __table_args__ = (UniqueConstraint("list_id", "kind", "subject_id"),)

    list_id: Mapped[int] = mapped_column(BigId, ForeignKey("award_lists.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    tier: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[int] = mapped_column(BigId)
    place: Mapped[int]
    score: Mapped[Decimal | None] = mapped_column(Numeric(7, 3))
    ambassador: Mapped[bool] = mapped_column(default=False)
    breakdown: Mapped[dict[str, Any]]


class Certificate(IdMixin, Base):
    """A certificate issued: award (per winner of a frozen list), participation (per approved
    streamer) or donation acknowledgement (per enterprise with received payments). The number
    is unique and stays with its subject when certificates are issued again."""

    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("kind", "subject_kind", "subject_id", "list_version"),)

    number: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # award | participation | donation
    subject_kind: Mapped[str] = mapped_column(String(20))  # streamer | unit | enterprise
    subject_id: Mapped[int] = mapped_column(BigId)
    list_version: Mapped[int] = mapped_column(default=0)  # award list version; 0 otherwise
    issued_at: Mapped[dt.datetime]
    pdf_path: Mapped[str | None] = mapped_column(String(300))
    png_path: Mapped[str | None] = mapped_column(String(300))


# ----- the numbers of issued certificates ----------------------------------------------
def issued(
    session: Session,
    kind: str,
    subject_kind: str,
    subject_id: int,
    list_version: int,
    number_of: Callable[[int], str],
    now: dt.datetime,
) -> Certificate:
    """The certificate of this subject (issued again: the same number), or a new one whose
    number is made from the next serial of its kind (unique: the constraint decides)."""
    found = session.scalars(
        select(Certificate).where(
            Certificate.kind == kind,
            Certificate.subject_kind == subject_kind,
            Certificate.subject_id == subject_id,
            Certificate.list_version == list_version,
        )
    ).first()
    if found is not None:
        return found
    serial = 1 + int(
        session.scalar(
            select(func.count()).select_from(Certificate).where(Certificate.kind == kind)
        )
        or 0
    )
    cert = Certificate(
        number=number_of(serial),
        kind=kind,
        subject_kind=subject_kind,
        subject_id=subject_id,
        list_version=list_version,
        issued_at=now,
    )
    session.add(cert)
    session.flush()
    return cert


# ----- indexes the award queries need on other tables (models/award_figures.py
# `product_sales`): the sales per product read from an index alone (1,500,000 splits in a
# few tenths of a second), and the few rejected reports found without reading all reports.
Index(
    "ix_report_product_sales_product_id_gmv_fen",
    ReportProductSale.product_id,
    ReportProductSale.gmv_fen,
)
Index(
    "ix_daily_reports_rejected",
    DailyReport.id,
    sqlite_where=text("rejected"),
    postgresql_where=text("rejected"),
)


def certificate_subjects(session: Session, ids: list[int]) -> list[tuple[str, int]]:
    """(subject kind, subject id) of the certificates `ids`."""
    stmt = select(Certificate.subject_kind, Certificate.subject_id).where(Certificate.id.in_(ids))
    return [(kind, int(subject)) for kind, subject in session.execute(stmt).tuples()]


def certificates_by_id(session: Session, ids: list[int]) -> list[Certificate]:
    return list(session.scalars(select(Certificate).where(Certificate.id.in_(ids))))
