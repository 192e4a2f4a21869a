"""The committee's own records: invitation codes, wrong-code attempts (/join and /link, for
rate limiting) and the group chats subscribed to broadcasts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin


class Invitation(IdMixin, Base):
    """A one-time code that makes whoever redeems it an admin or a contact of one unit."""

    __tablename__ = "invitations"

    code: Mapped[str] = mapped_column(String(20), unique=True)
    role: Mapped[str] = mapped_column(String(20))  # admin | unit_contact
    unit_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("units.id"), index=True)
    created_by: Mapped[int] = mapped_column(BigId, ForeignKey("people.id"))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    redeemed_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("people.id"))
    redeemed_at: Mapped[dt.datetime | None]


class JoinAttempt(IdMixin, Base):
    """Each /join or /link with a code that did not work, so that guessing one-time codes can
    be rate limited (one count for both kinds: see handlers/codes.py)."""

    __tablename__ = "join_attempts"

    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("people.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)


class GroupSubscription(IdMixin, Base):
    """A group chat that receives broadcasts (the 龙虎榜, announcements). Subscribed with
    /subscribe in the group; group chats listed in config.yaml receive them as well."""

    __tablename__ = "group_subscriptions"
    __table_args__ = (UniqueConstraint("channel", "chat_id"),)

    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
    subscribed_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("people.id"))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
