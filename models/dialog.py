"""Who is writing and where they are in a conversation: the queries of every step.

Every step runs these, so they are SQLAlchemy Core statements built once at import with bound
parameters (building an expression cost more than executing it) and run on the step's own
connection.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, bindparam, exists, insert, select, update
from sqlalchemy.orm import Session

from models.people import DialogState, Identity, Person, Role

_LOAD = (
    select(
        Identity.id.label("identity_id"),
        Identity.person_id,
        Person.locale,
        Person.privacy_accepted_at,
        Person.last_channel,
        Person.unreachable_at,
        DialogState.flow,
        DialogState.data,
        DialogState.version,
        exists()
        .where(Role.person_id == Identity.person_id, Role.role == "admin")
        .label("has_admin_role"),
    )
    .join(Person, Person.id == Identity.person_id)
    .join(DialogState, DialogState.identity_id == Identity.id)
    .where(Identity.channel == bindparam("channel"), Identity.user_id == bindparam("user"))
)
_LOAD_KEYS = tuple(str(c.key) for c in _LOAD.selected_columns)
_STORE = (
    update(DialogState)
    .where(
        DialogState.identity_id == bindparam("ident"),
        DialogState.version == bindparam("old_version"),
    )
    .values(
        flow=bindparam("flow"),
        data=bindparam("data", type_=DialogState.__table__.c.data.type),
        version=bindparam("new_version"),
        updated_at=bindparam("now", type_=DialogState.__table__.c.updated_at.type),
    )
)
_NEW_PERSON = insert(Person).returning(Person.id)
_NEW_IDENTITY = insert(Identity).returning(Identity.id)
_NEW_STATE = insert(DialogState)
_SEEN_ON = (
    update(Person)
    .where(Person.id == bindparam("person"))
    .values(last_channel=bindparam("channel"), unreachable_at=None)
)


def load(conn: Connection, channel: str, user_id: str) -> dict[str, Any] | None:
    """The identity, its person and its conversation state; None for someone new."""
    row = conn.execute(_LOAD, {"channel": channel, "user": user_id}).first()
    return dict(zip(_LOAD_KEYS, row, strict=True)) if row is not None else None  # no RowMapping


def create(
    conn: Connection,
    *,
    channel: str,
    user_id: str,
    chat_id: str,
    display_name: str,
    locale: str | None,
    now: dt.datetime,
) -> int:
    """A first message: the person, their identity and an empty state; the person's id."""
    person_id = conn.execute(
        _NEW_PERSON,
        {
            "display_name": display_name[:100],
            "created_at": now,
            "last_channel": channel,
            "locale": locale,
        },
    ).scalar_one()
    identity_id = conn.execute(
        _NEW_IDENTITY,
        {
            "person_id": person_id,
            "channel": channel,
            "user_id": user_id,
            "chat_id": chat_id,
            "created_at": now,
        },
    ).scalar_one()
    conn.execute(
        _NEW_STATE,
        {"identity_id": identity_id, "flow": None, "data": {}, "version": 0, "updated_at": now},
    )
    return int(person_id)


def seen_on(conn: Connection, person_id: int, channel: str) -> None:
    """They wrote on `channel`: it is the one they read, and they have not blocked the bot."""
    conn.execute(_SEEN_ON, {"person": person_id, "channel": channel})


def store(
    conn: Connection,
    identity_id: int,
    version: int,
    flow: str | None,
    data: dict[str, Any],
    now: dt.datetime,
) -> bool:
    """The state after a step, if nobody stored another since `version` was read."""
    result = conn.execute(
        _STORE,
        {
            "ident": identity_id,
            "old_version": version,
            "flow": flow,
            "data": data,
            "new_version": version + 1,
            "now": now,
        },
    )
    return result.rowcount == 1


def grant_admin(session: Session, person_id: int, name: str | None, now: dt.datetime) -> None:
    """A committee admin listed in config writes for the first time: the role, their name."""
    session.execute(
        insert(Role).values(person_id=person_id, role="admin", unit_id=None, created_at=now)
    )
    if name:
        session.execute(update(Person).where(Person.id == person_id).values(display_name=name))
