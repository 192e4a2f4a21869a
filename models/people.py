"""People, their channel identities, roles, per-identity conversation state and the audit
log; and the queries on roles and the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    ColumnElement,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
    delete,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, BigId, IdMixin
from models.streamers import DailyReport


class Person(IdMixin, Base):
    __tablename__ = "people"

    display_name: Mapped[str] = mapped_column(String(100), default="")
    locale: Mapped[str | None] = mapped_column(String(10))
    privacy_accepted_at: Mapped[dt.datetime | None]
    # Set when a channel reports that the person blocked the bot; cleared when they write again.
    unreachable_at: Mapped[dt.datetime | None]
    last_channel: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[dt.datetime]
    # Set when the person's personal data was erased (/forget, or the retention date's job):
    # the row stays, anonymous, so what the festival keeps (boards, awards) still resolves.
    erased_at: Mapped[dt.datetime | None]


class Identity(IdMixin, Base):
    """One account of a person on one channel (console name, Telegram user id, WeChat openid)."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("channel", "user_id"),)

    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("people.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[str] = mapped_column(String(100))
    chat_id: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime]


class Role(IdMixin, Base):
    """admin (组委会) or unit_contact (单位联系人) of one unit."""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("person_id", "role", "unit_id"),)

    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("people.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("units.id"), index=True)
    created_at: Mapped[dt.datetime]


class DialogState(IdMixin, Base):
    """Where an identity is in a conversation. `version` guards against two writers per step."""

    __tablename__ = "dialog_states"

    identity_id: Mapped[int] = mapped_column(BigId, ForeignKey("identities.id"), unique=True)
    flow: Mapped[str | None] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[dt.datetime]


class AuditEntry(IdMixin, Base):
    """Who changed what, when (UTC), before and after."""

    __tablename__ = "audit_log"

    at: Mapped[dt.datetime] = mapped_column(index=True)
    actor_person_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("people.id"))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[int | None] = mapped_column(BigId)
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    note: Mapped[str | None] = mapped_column(Text)


def set_unreachable(session: Session, channel: str, chat_id: str, when: dt.datetime | None) -> None:
    """The people whose private chat on `channel` is `chat_id` blocked the bot (`when`) or
    wrote again (None)."""
    people = select(Identity.person_id).where(
        Identity.channel == channel, Identity.chat_id == chat_id
    )
    session.execute(update(Person).where(Person.id.in_(people)).values(unreachable_at=when))


def unreachable_chats(session: Session, channel: str) -> list[str]:
    """The private chats on `channel` of people who blocked the bot."""
    return list(
        session.scalars(
            select(Identity.chat_id)
            .join(Person, Person.id == Identity.person_id)
            .where(Identity.channel == channel, Person.unreachable_at.is_not(None))
        )
    )


def locale_of(session: Session, channel: str, user_id: str) -> str | None:
    """The language a channel identity's person chose (None: the default, or unknown)."""
    return session.scalar(
        select(Person.locale)
        .join(Identity, Identity.person_id == Person.id)
        .where(Identity.channel == channel, Identity.user_id == user_id)
    )


# ----- roles ----------------------------------------------------------------------------------
def all_roles(session: Session) -> list[Role]:
    """Every granted role, admins first, then by unit."""
    return list(session.scalars(select(Role).order_by(Role.role, Role.unit_id, Role.id)))


def has_role(session: Session, person_id: int, role: str, unit_id: int | None) -> bool:
    stmt = select(Role.id).where(Role.person_id == person_id, Role.role == role)
    stmt = stmt.where(Role.unit_id == unit_id) if unit_id else stmt.where(Role.unit_id.is_(None))
    return session.scalar(stmt) is not None


def delete_role(session: Session, role_id: int) -> None:
    session.execute(delete(Role).where(Role.id == role_id))


# ----- audit log ------------------------------------------------------------------------------
def audit_trail(session: Session, entity: str, entity_id: int, limit: int) -> list[AuditEntry]:
    """One item's audit entries, oldest first; a streamer's include those of their daily
    reports (a rejected report is part of the streamer's story)."""
    cond: ColumnElement[bool] = (AuditEntry.entity == entity) & (AuditEntry.entity_id == entity_id)
    if entity == "streamer":
        report_ids = select(DailyReport.id).where(DailyReport.streamer_id == entity_id)
        cond = or_(
            cond, (AuditEntry.entity == "daily_report") & AuditEntry.entity_id.in_(report_ids)
        )
    return list(
        session.scalars(select(AuditEntry).where(cond).order_by(AuditEntry.id).limit(limit))
    )
