"""Queries, one place: functions that take a session. No business rules here.

The statements of the submit step (the busiest step of a form: everyone who registers ends
there) are built once, at import: building a SQLAlchemy statement costs several times more than
running it. They run on the session's connection, so they see what is flushed, not pending
ORM changes; their callers run them before changing anything."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CursorResult, Executable, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from models.enterprises import Enterprise, Product
from models.people import AuditEntry, Person, Role
from models.streamers import DailyReport, LiveAccount, Streamer
from models.units import Unit


def changed_rows(session: Session, stmt: Executable) -> int:
    """Run a conditional UPDATE; how many rows it changed (0: someone else came first)."""
    result = session.execute(stmt)
    return result.rowcount if isinstance(result, CursorResult) else 0


# ----- units ------------------------------------------------------------------------------
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
    """Every unit, in one query (cached per process by handlers.fields: units are only added
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


# ----- people -----------------------------------------------------------------------------
def person_name(session: Session, person_id: int | None) -> str:
    """How a person is named to reviewers: their channel display name, or #id."""
    if person_id is None:
        return "-"
    person = session.get(Person, person_id)
    return (person.display_name if person else "") or f"#{person_id}"


_ACCEPT_PRIVACY = (
    update(Person)
    .where(Person.id == bindparam("person"))
    .values(privacy_accepted_at=bindparam("at", type_=Person.__table__.c.privacy_accepted_at.type))
)


def accept_privacy(session: Session, person_id: int, at: dt.datetime) -> None:
    session.connection().execute(_ACCEPT_PRIVACY, {"person": person_id, "at": at})


def set_locale(session: Session, person_id: int, locale: str) -> None:
    person = session.get(Person, person_id)
    if person is not None:
        person.locale = locale


# ----- streamers --------------------------------------------------------------------------
_STREAMER_OF_PERSON = select(Streamer).where(Streamer.person_id == bindparam("person"))


def streamer_of_person(session: Session, person_id: int) -> Streamer | None:
    """The person's registration (asked in most of a streamer's steps)."""
    return session.scalars(_STREAMER_OF_PERSON, {"person": person_id}).first()


_STREAMER_ID = select(Streamer.id).where(Streamer.person_id == bindparam("person"))
_INSERT_STREAMER = insert(Streamer).returning(Streamer.id)
_INSERT_ACCOUNT = insert(LiveAccount)


def streamer_id_of_person(session: Session, person_id: int) -> int | None:
    """The person's registration, if any (the submit step loads the whole row only to edit
    it)."""
    found = session.connection().execute(_STREAMER_ID, {"person": person_id}).scalar()
    return None if found is None else int(found)


def insert_streamer(session: Session, values: dict[str, Any], accounts: dict[str, str]) -> int:
    """A new registration and its accounts (platform: account name); returns its id."""
    conn = session.connection()
    streamer_id = int(conn.execute(_INSERT_STREAMER, values).scalar_one())
    for platform, name in accounts.items():
        conn.execute(
            _INSERT_ACCOUNT,
            {"streamer_id": streamer_id, "platform": platform, "account_name": name},
        )
    return streamer_id


_ACCOUNTS_OF = (
    select(LiveAccount)
    .where(LiveAccount.streamer_id == bindparam("streamer"))
    .order_by(LiveAccount.id)
)


def accounts_of(session: Session, streamer_id: int) -> list[LiveAccount]:
    return list(session.scalars(_ACCOUNTS_OF, {"streamer": streamer_id}))


_ACCOUNT_OWNER = select(LiveAccount.streamer_id).where(
    LiveAccount.platform == bindparam("platform"),
    func.lower(LiveAccount.account_name) == bindparam("name"),
)


def account_owner(session: Session, platform: str, account_name: str) -> int | None:
    """Whose registration holds this account (names compare without case)."""
    found = (
        session.connection()
        .execute(_ACCOUNT_OWNER, {"platform": platform, "name": account_name.lower()})
        .scalar()
    )
    return None if found is None else int(found)


_REPORT_OF = select(DailyReport).where(
    DailyReport.account_id == bindparam("account"), DailyReport.report_date == bindparam("day")
)


def report_of(session: Session, account_id: int, day: dt.date) -> DailyReport | None:
    return session.scalars(_REPORT_OF, {"account": account_id, "day": day}).first()


def reports_of_streamer(session: Session, streamer_id: int, limit: int = 60) -> list[DailyReport]:
    return list(
        session.scalars(
            select(DailyReport)
            .where(DailyReport.streamer_id == streamer_id)
            .order_by(DailyReport.report_date.desc(), DailyReport.account_id)
            .limit(limit)
        )
    )


# ----- enterprises ------------------------------------------------------------------------
def enterprise_of_person(session: Session, person_id: int) -> Enterprise | None:
    return session.scalars(select(Enterprise).where(Enterprise.person_id == person_id)).first()


def products_of(session: Session, enterprise_id: int) -> list[Product]:
    return list(
        session.scalars(
            select(Product).where(Product.enterprise_id == enterprise_id).order_by(Product.id)
        )
    )


# ----- review (interim, until the committee/review issue) ---------------------------------
def pending_streamers(session: Session) -> list[Streamer]:
    return list(
        session.scalars(
            select(Streamer)
            .where(Streamer.status.in_(["pending_unit", "pending_review"]))
            .order_by(Streamer.id)
        )
    )


def pending_products(session: Session) -> list[Product]:
    return list(
        session.scalars(
            select(Product)
            .where(Product.status.in_(["pending_unit", "pending_review"]))
            .order_by(Product.id)
        )
    )


# ----- audit ------------------------------------------------------------------------------
def audit(
    session: Session,
    at: dt.datetime,
    actor: int | None,
    action: str,
    entity: str,
    entity_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str | None = None,
) -> None:
    """Written with the step's other changes, at its commit: on SQLite a step holds the one
    write lock from its first write to its commit, so writes wait till the end."""
    session.add(
        AuditEntry(
            at=at,
            actor_person_id=actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            before=before,
            after=after,
            note=note,
        )
    )


_INSERT_AUDIT = insert(AuditEntry)


def audit_now(
    session: Session,
    at: dt.datetime,
    actor: int | None,
    action: str,
    entity: str,
    entity_id: int,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """audit(), written at once with a prebuilt statement: for a step that has written
    already (it holds the write lock anyway) and runs for everyone (the submit step)."""
    session.connection().execute(
        _INSERT_AUDIT,
        {
            "at": at,
            "actor_person_id": actor,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "before": before,
            "after": after,
            "note": None,
        },
    )
