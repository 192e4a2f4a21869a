"""The outbox: every message to someone other than the person who just wrote."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Executable,
    ForeignKey,
    SmallInteger,
    String,
    Text,
    bindparam,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, BigId, IdMixin
from models.people import Identity, Person


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # permanent failure (blocked bot, no channel): reason in last_error
    # a late reply not sent: the question it asks is no longer the open one, or a later reply
    # asks it too (bot/core/delivery.py); why, in last_error
    SUPERSEDED = "superseded"


class OutboxMessage(IdMixin, Base):
    __tablename__ = "outbox"

    # (job or event, period or item, recipient): enqueueing the same key twice is a no-op.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    person_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("people.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]]  # a rendered Reply: text, buttons, image
    status: Mapped[str] = mapped_column(String(10), default=OutboxStatus.PENDING.value, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(index=True)
    # A worker that claimed the row owns it until then (several workers on PostgreSQL).
    claimed_until: Mapped[dt.datetime | None]
    # Higher goes first: the reply to someone in a conversation (a late WeChat answer, a
    # Telegram reply that had to wait) before a broadcast of 10,000 rows queued earlier.
    priority: Mapped[int] = mapped_column(SmallInteger, default=0)
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]


# ----- enqueueing: in the steps that submit registrations (every registrant), so built once --
_CHANNELS = (
    select(Identity.person_id, Identity.channel, Identity.chat_id, Person.last_channel)
    .join(Person, Person.id == Identity.person_id)
    .where(Identity.person_id.in_(bindparam("people", expanding=True)))
    .order_by(Identity.id)
)
_INSERTS: dict[str, Executable] = {}


def identities_of(session: Session, person_ids: list[int]) -> list[tuple[int, str, str, str]]:
    """(person, channel, chat id, the person's last channel) of every identity of these
    people, oldest identity first."""
    found = session.connection().execute(_CHANNELS, {"people": person_ids})
    return [(r[0], r[1], r[2], r[3]) for r in found]


def insert_new(session: Session, rows: list[dict[str, object]]) -> None:
    """One statement; a key already enqueued (a rerun, a retried step) is skipped."""
    dialect = session.get_bind().dialect.name
    if dialect not in _INSERTS:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        _INSERTS[dialect] = insert(OutboxMessage).on_conflict_do_nothing(
            index_elements=["idempotency_key"]
        )
    session.connection().execute(_INSERTS[dialect], rows)


# ----- delivering: a claim is a lease, so several workers never send one row twice ----------
def _claimable(now: dt.datetime) -> Any:
    return (OutboxMessage.claimed_until.is_(None)) | (OutboxMessage.claimed_until < now)


def claim(
    session: Session, channels: list[str], now: dt.datetime, lease: dt.datetime, limit: int
) -> list[tuple[int, str, str, dict[str, Any], str]]:
    """Takes up to `limit` due rows for these channels until `lease`: (id, channel, chat id,
    payload, recipient's name), oldest first."""
    ids = session.scalars(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == OutboxStatus.PENDING.value,
            OutboxMessage.channel.in_(channels),
            OutboxMessage.next_attempt_at <= now,
            _claimable(now),
        )
        .order_by(OutboxMessage.priority.desc(), OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not ids:
        return []
    # The claim re-checks the lease: on SQLite (no FOR UPDATE) another process, or another
    # pass, may have claimed some of these rows since the SELECT; only the rows this UPDATE
    # actually took are ours.
    ids = session.scalars(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(ids),
            OutboxMessage.status == OutboxStatus.PENDING.value,
            _claimable(now),
        )
        .values(claimed_until=lease, attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage.id)
    ).all()
    if not ids:
        return []
    rows = session.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.channel,
            OutboxMessage.chat_id,
            OutboxMessage.payload,
            Person.display_name,
        )
        .outerjoin(Person, Person.id == OutboxMessage.person_id)
        .where(OutboxMessage.id.in_(ids))
        .order_by(OutboxMessage.id)
    ).all()
    return [(r[0], r[1], r[2], r[3], r[4] or "") for r in rows]


def renew(
    session: Session, ids: Sequence[int], lease: dt.datetime, renewed: dt.datetime
) -> set[int]:
    """Extends a lease; returns the rows still held under it (a row whose lease ran out may
    have gone to another worker)."""
    kept = session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.claimed_until == lease)
        .values(claimed_until=renewed)
        .returning(OutboxMessage.id)
    ).all()
    return set(kept)


def release(session: Session, ids: Sequence[int], lease: dt.datetime) -> None:
    """Claimed but not attempted: due again at once, the attempt not counted."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.claimed_until == lease)
        .values(claimed_until=None, attempts=OutboxMessage.attempts - 1)
    )


def other_identities(session: Session, person_id: int, channel: str) -> Sequence[Identity]:
    """The person's identities on channels other than `channel`, oldest first."""
    return session.scalars(
        select(Identity)
        .where(Identity.person_id == person_id, Identity.channel != channel)
        .order_by(Identity.id)
    ).all()


def postpone(session: Session, ids: Sequence[int], lease: dt.datetime, until: dt.datetime) -> None:
    """Claimed but not attempted, after a message to the same chat failed: due when that one
    is tried again (a chat's messages never overtake each other), the attempt not counted."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.claimed_until == lease)
        .values(claimed_until=None, attempts=OutboxMessage.attempts - 1, next_attempt_at=until)
    )
