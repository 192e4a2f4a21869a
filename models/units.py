"""Recommending units (推荐单位 / 填报单位): cities, counties, universities, provincial units;
and queries on them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, BigId, IdMixin


class Unit(IdMixin, Base):
    __tablename__ = "units"

    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    # city | county | provincial_university | other_university | provincial_unit
    kind: Mapped[str] = mapped_column(String(30), index=True)
    # county-level division kind as in the data set: district | county_city | county
    division: Mapped[str | None] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("units.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    # The secret of the unit's recommendation link (/start rec_TOKEN): whoever registers
    # through it is recommended by the unit (组织推荐). Made when a contact first asks for it.
    rec_token: Mapped[str | None] = mapped_column(String(32), unique=True)
    created_at: Mapped[dt.datetime]


def active_units(session: Session) -> list[Unit]:
    return list(session.scalars(select(Unit).where(Unit.active.is_(True)).order_by(Unit.code)))


def children_of(session: Session, unit_id: int) -> list[Unit]:
    """A city's counties by code, inactive ones included (repo.child_units, for the forms,
    leaves those out)."""
    return list(session.scalars(select(Unit).where(Unit.parent_id == unit_id).order_by(Unit.code)))
