"""Recommending units (推荐单位 / 填报单位): cities, counties, universities, provincial units;
and queries on them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ForeignKey, String, bindparam, or_, select
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from models.base import Base, BigId, IdMixin
from models.people import Person, Role


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
    # The unit's contact as its last imported sheet names them (联系人及手机号 in the notice's
    # header line); the export's header line shows them.
    contact_name: Mapped[str | None] = mapped_column(String(40))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[dt.datetime]


def active_units(session: Session) -> list[Unit]:
    return list(session.scalars(select(Unit).where(Unit.active.is_(True)).order_by(Unit.code)))


def children_of(session: Session, unit_id: int) -> list[Unit]:
    """A city's counties by code, inactive ones included (child_units, for the forms,
    leaves those out)."""
    return list(session.scalars(select(Unit).where(Unit.parent_id == unit_id).order_by(Unit.code)))


# ----- the directory and reviewers of units ----------------------------------------------
def units_of_kind(session: Session, *kinds: str) -> list[Unit]:
    return list(
        session.scalars(
            select(Unit).where(Unit.kind.in_(kinds), Unit.active.is_(True)).order_by(Unit.code)
        )
    )


def child_units(session: Session, parent_code: str) -> list[Unit]:
    parent = unit_by_code(session, parent_code)
    if parent is None:
        return []
    return list(
        session.scalars(
            select(Unit)
            .where(Unit.parent_id == parent.id, Unit.active.is_(True))
            .order_by(Unit.code)
        )
    )


def units_by_id(session: Session, ids: Iterable[int]) -> list[Unit]:
    return list(session.scalars(select(Unit).where(Unit.id.in_(list(ids)))))


def unit_by_code(session: Session, code: str) -> Unit | None:
    return session.scalars(select(Unit).where(Unit.code == code)).first()


def unit_by_rec_token(session: Session, token: str) -> Unit | None:
    if not token:
        return None
    return session.scalars(select(Unit).where(Unit.rec_token == token)).first()


def unit_full_name(session: Session, unit: Unit) -> str:
    """'赣州市 瑞金市' for a county, the unit's own name otherwise."""
    if unit.parent_id is None:
        return unit.name
    parent = session.get(Unit, unit.parent_id)
    return f"{parent.name} {unit.name}" if parent else unit.name


@dataclass(frozen=True)
class UnitInfo:
    """What forms and notices need of a unit, without a query (see unit_directory)."""

    id: int
    code: str
    name: str
    full_name: str  # '赣州市 瑞金市' for a county, as unit_full_name
    kind: str
    parent_id: int | None
    parent_code: str | None


def unit_directory(session: Session) -> list[UnitInfo]:
    """Every unit, in one query (cached per process by handlers.unit_picker: units are only added
    at start)."""
    parent = aliased(Unit)
    rows = session.execute(
        select(
            Unit.id, Unit.code, Unit.name, Unit.kind, Unit.parent_id, parent.code, parent.name
        ).outerjoin(parent, parent.id == Unit.parent_id)
    )
    return [
        UnitInfo(id_, code, name, f"{up} {name}" if up else name, kind, parent_id, up_code)
        for id_, code, name, kind, parent_id, up_code, up in rows
    ]


def unit_contacts(session: Session) -> dict[int, tuple[str | None, str | None]]:
    """Every unit's contact (name, phone) as its last imported sheet gave it, in one query."""
    rows = session.execute(
        select(Unit.id, Unit.contact_name, Unit.contact_phone).where(
            (Unit.contact_name.is_not(None)) | (Unit.contact_phone.is_not(None))
        )
    )
    return {int(id_): (name, phone) for id_, name, phone in rows}


@dataclass(frozen=True)
class UnitReviewers:
    """Who reviews a unit's registrations, with what the submit step needs to know of them."""

    has_contact: bool  # the unit itself has a contact (self-recommendations wait for them)
    people: list[tuple[int, str | None]]  # as reviewers_of_unit_with_locale


_REVIEWER_ROWS = (
    select(Role.person_id, Person.locale, Role.role, Role.unit_id)
    .join(Person, Person.id == Role.person_id)
    .where(
        or_(
            Role.role == "admin",
            (Role.role == "unit_contact") & Role.unit_id.in_(bindparam("units", expanding=True)),
        )
    )
)


def unit_reviewers(session: Session, unit_id: int, parent_id: int | None) -> UnitReviewers:
    """Whether the unit has a contact, and reviewers_of_unit_with_locale, in one query."""
    rows = _reviewer_rows(session, [unit_id] + ([parent_id] if parent_id else []))
    return UnitReviewers(
        has_contact=any(role == "unit_contact" and at == unit_id for _p, _l, role, at in rows),
        people=_people(rows),
    )


def reviewers_of_unit_with_locale(session: Session, unit_id: int) -> list[tuple[int, str | None]]:
    """Committee admins, plus the contacts of the unit and of its parent city, each with their
    language (notices are translated per recipient)."""
    unit = session.get(Unit, unit_id)
    return unit_reviewers(session, unit_id, unit.parent_id if unit else None).people


def _reviewer_rows(
    session: Session, unit_ids: list[int]
) -> list[tuple[int, str | None, str, int | None]]:
    """Admins and the contacts of these units: (person id, locale, role, unit id)."""
    rows = session.connection().execute(_REVIEWER_ROWS, {"units": unit_ids})
    return [(person_id, locale, role, at) for person_id, locale, role, at in rows]


def _people(rows: list[tuple[int, str | None, str, int | None]]) -> list[tuple[int, str | None]]:
    """Each person once (an admin may also be a contact), by id."""
    return sorted({p: locale for p, locale, _role, _unit in rows}.items())
