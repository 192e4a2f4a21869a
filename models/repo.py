"""Queries, one place: functions that take a session. No business rules here.

The statements of the submit step (the busiest step of a form: everyone who registers ends
there) are built once, at import: building a SQLAlchemy statement costs several times more than
running it. They run on the session's connection, so they see what is flushed, not pending
ORM changes; their callers run them before changing anything."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import CursorResult, Executable, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from models.enterprises import Enterprise, Product
from models.people import AuditEntry, Person
from models.streamers import DailyReport, LiveAccount, Streamer


def changed_rows(session: Session, stmt: Executable) -> int:
    """Run a conditional UPDATE; how many rows it changed (0: someone else came first)."""
    result = session.execute(stmt)
    return result.rowcount if isinstance(result, CursorResult) else 0


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


def account_owners(session: Session, names: Iterable[str]) -> dict[tuple[str, str], int]:
    """account_owner for many names at once (an import's sheet): (platform, lower-case
    name) -> the registration, for the names that are stored."""
    wanted = sorted({n.lower() for n in names})
    lower = func.lower(LiveAccount.account_name)
    found: dict[tuple[str, str], int] = {}
    for start in range(0, len(wanted), 500):  # within every engine's limit of parameters
        chunk = wanted[start : start + 500]
        stmt = select(LiveAccount.platform, lower, LiveAccount.streamer_id).where(lower.in_(chunk))
        for platform, name, streamer_id in session.connection().execute(stmt):
            found.setdefault((platform, name), int(streamer_id))
    return found


def streamers_by_id(session: Session, ids: Iterable[int]) -> list[Streamer]:
    wanted = sorted(ids)
    found: list[Streamer] = []
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found += session.scalars(select(Streamer).where(Streamer.id.in_(chunk)))
    return found


_R = DailyReport.__table__.c
_REPORT_ID_OF = select(_R.id).where(
    _R.account_id == bindparam("account"), _R.report_date == bindparam("day")
)


def report_of(session: Session, account_id: int, day: dt.date) -> DailyReport | None:
    """The account's report of the day. Asked at every report's figures and confirm, and
    nearly always absent: its id is looked up on the connection first (a third of an ORM
    query), the report loaded only when there is one."""
    session.flush()  # as the ORM query's autoflush
    found = session.connection().execute(_REPORT_ID_OF, {"account": account_id, "day": day})
    report_id = found.scalar()
    return None if report_id is None else session.get(DailyReport, report_id)


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


_INSERT_AUDIT = insert(AuditEntry).returning(AuditEntry.id)


def audit_now(
    session: Session,
    at: dt.datetime,
    actor: int | None,
    action: str,
    entity: str,
    entity_id: int,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    note: str | None = None,
) -> int:
    """audit(), written at once with a prebuilt statement: for a step that has written
    already (it holds the write lock anyway) and runs for everyone (the submit step). Returns
    the entry's id: a submission's version, which notices about it are keyed by."""
    entry_id: int = (
        session.connection()
        .execute(
            _INSERT_AUDIT,
            {
                "at": at,
                "actor_person_id": actor,
                "action": action,
                "entity": entity,
                "entity_id": entity_id,
                "before": before,
                "after": after,
                "note": note,
            },
        )
        .scalar_one()
    )
    return entry_id


def person_of_registration(session: Session, kind: str, item_id: int) -> int | None:
    """The person a streamer's or an enterprise's registration (`kind`) belongs to."""
    table = Streamer if kind == "streamer" else Enterprise
    return session.scalar(select(table.person_id).where(table.id == item_id))


def registration_id_of(session: Session, kind: str, person_id: int) -> int | None:
    """The id of the person's streamer or enterprise registration (`kind`), if any."""
    table = Streamer if kind == "streamer" else Enterprise
    return session.scalar(select(table.id).where(table.person_id == person_id))


def move_registration(
    session: Session, kind: str, item_id: int, placeholder: int, person_id: int, now: dt.datetime
) -> bool:
    """The registration passes from its placeholder person to `person_id`, unless another
    step moved it first."""
    table = Streamer if kind == "streamer" else Enterprise
    stmt = (
        update(table)
        .where(table.id == item_id, table.person_id == placeholder)
        .values(person_id=person_id, updated_at=now)
    )
    return changed_rows(session, stmt) == 1


# built once: an import stores a thousand rows
_PLACEHOLDER = insert(Person).returning(Person.id)


def placeholder_person(session: Session, name: str, now: dt.datetime) -> int:
    """The person an imported registration belongs to until someone claims it."""
    params = {"display_name": name[:100], "created_at": now}
    return int(session.connection().execute(_PLACEHOLDER, params).scalar_one())


def enterprise_named(session: Session, name: str) -> Enterprise | None:
    """The stored enterprise of this name (names compare without case)."""
    found = select(Enterprise).where(func.lower(Enterprise.name) == name.lower()).limit(1)
    return session.scalars(found).first()


def enterprise_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    stmt = select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(list(ids)))
    return dict(session.execute(stmt).tuples().all())
