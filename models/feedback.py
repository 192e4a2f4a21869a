"""Feedback after the festival (反馈期): a streamer's short form and a unit contact's 活动总结
with its files, one of each per person, editable until calendar.feedback_deadline."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, SmallInteger, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, BigId, IdMixin
from models.people import Person
from models.units import Unit

STREAMER, UNIT = "streamer", "unit"


class Feedback(IdMixin, Base):
    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("person_id", "kind"),)

    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("people.id"))
    kind: Mapped[str] = mapped_column(String(10))  # streamer | unit
    unit_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("units.id"))
    went_well: Mapped[str | None] = mapped_column(Text)  # streamers
    improve: Mapped[str | None] = mapped_column(Text)
    join_again: Mapped[int | None] = mapped_column(SmallInteger)  # 1..5
    summary: Mapped[str | None] = mapped_column(Text)  # units: 活动总结
    files: Mapped[list[Any]] = mapped_column(default=list)  # stored paths or picture ids
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


def feedback_of(session: Session, person_id: int, kind: str) -> Feedback | None:
    return session.scalars(
        select(Feedback).where(Feedback.person_id == person_id, Feedback.kind == kind)
    ).first()


def save(
    session: Session, person_id: int, kind: str, now: dt.datetime, **values: Any
) -> tuple[Feedback, dict[str, Any] | None]:
    """The person's feedback of this kind, created or replaced; the values before (None:
    new)."""
    row = feedback_of(session, person_id, kind)
    before = None
    if row is None:
        row = Feedback(person_id=person_id, kind=kind, created_at=now, updated_at=now, **values)
        session.add(row)
    else:
        before = {k: getattr(row, k) for k in values}
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = now
    session.flush()
    return row, before


def all_feedback(session: Session) -> list[tuple[Feedback, str, str | None]]:
    """Every feedback with the person's name and the unit's name, newest first."""
    rows = session.execute(
        select(Feedback, Person.display_name, Unit.name)
        .join(Person, Person.id == Feedback.person_id)
        .outerjoin(Unit, Unit.id == Feedback.unit_id)
        .order_by(Feedback.updated_at.desc(), Feedback.id.desc())
    )
    return [(f, name or "", unit) for f, name, unit in rows.tuples()]
