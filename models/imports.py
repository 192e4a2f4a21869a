"""Filled-in notice sheets (附件1 / 附件2) imported by the committee or a unit contact: one
record per import that changed something, with the file and the unit's stamped scan (盖章扫描件)
kept beside it; and the queries on them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, BigId, IdMixin


class SheetImport(IdMixin, Base):
    """One import of a workbook: what it held, who sent it, what it changed."""

    __tablename__ = "sheet_imports"

    kind: Mapped[str] = mapped_column(String(20))  # streamers | enterprises
    unit_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("units.id"), index=True)
    actor_person_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("people.id"))
    channel: Mapped[str] = mapped_column(String(20))  # telegram | console | cli
    file_name: Mapped[str] = mapped_column(String(200))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    file_path: Mapped[str | None] = mapped_column(String(300))  # the workbook as received
    scan_path: Mapped[str | None] = mapped_column(String(300))  # the stamped scan, if sent
    rows: Mapped[int]
    created: Mapped[int]
    updated: Mapped[int]
    unchanged: Mapped[int]
    created_at: Mapped[dt.datetime]


def last_import_of(session: Session, sha256: str) -> SheetImport | None:
    """The latest import of a workbook with these bytes (the same file sent again)."""
    return session.scalars(
        select(SheetImport)
        .where(SheetImport.file_sha256 == sha256)
        .order_by(SheetImport.id.desc())
        .limit(1)
    ).first()
