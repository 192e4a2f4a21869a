"""Announcements (/announce): what the committee or a unit contact sent to whom, and how far
its delivery got, read from the outbox rows it made (one per person or group chat, keyed
`announce:ID:...`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, BigId, IdMixin, ReviewStatus
from models.enterprises import Enterprise
from models.outbox import OutboxMessage, OutboxStatus
from models.people import Role
from models.streamers import Streamer
from models.units import Unit

AUDIENCES = ("streamers", "approved", "enterprises", "contacts", "unit", "groups")
# Registrations that count as someone of the festival: submitted and not turned down.
REGISTERED = (
    ReviewStatus.PENDING_UNIT.value,
    ReviewStatus.PENDING_REVIEW.value,
    ReviewStatus.APPROVED.value,
)
VIA = "|via:"  # a copy rerouted to the person's other channel (bot/core/delivery.py)


class Announcement(IdMixin, Base):
    __tablename__ = "announcements"

    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("people.id"), index=True)
    audience: Mapped[str] = mapped_column(String(20))  # one of AUDIENCES
    unit_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("units.id"))  # audience unit
    text: Mapped[str] = mapped_column(Text)
    image_path: Mapped[str | None] = mapped_column(String(300))
    people: Mapped[int] = mapped_column(default=0)  # people it was enqueued for
    chats: Mapped[int] = mapped_column(default=0)  # group chats it was enqueued for
    created_at: Mapped[dt.datetime]


def key_prefix(announcement_id: int) -> str:
    return f"announce:{announcement_id}:"


# ----- who an audience is -------------------------------------------------------------------
def unit_and_children(session: Session, unit_id: int) -> list[int]:
    """A unit and, for a city, its counties: the people of a city include its counties'."""
    children = session.scalars(select(Unit.id).where(Unit.parent_id == unit_id)).all()
    return [unit_id, *children]


def audience_people(session: Session, audience: str, unit_id: int | None = None) -> list[int]:
    """Person ids of an audience, each once, in a stable order (none for "groups")."""
    streamers = select(Streamer.person_id).where(Streamer.status.in_(REGISTERED))
    enterprises = select(Enterprise.person_id).where(Enterprise.status.in_(REGISTERED))
    contacts = select(Role.person_id).where(Role.role == "unit_contact", Role.unit_id.is_not(None))
    if audience == "streamers":
        found = list(session.scalars(streamers))
    elif audience == "approved":
        found = list(
            session.scalars(
                select(Streamer.person_id).where(Streamer.status == ReviewStatus.APPROVED.value)
            )
        )
    elif audience == "enterprises":
        found = list(session.scalars(enterprises))
    elif audience == "contacts":
        found = list(session.scalars(contacts))
    elif audience == "unit" and unit_id is not None:
        units = unit_and_children(session, unit_id)
        found = [
            *session.scalars(streamers.where(Streamer.unit_id.in_(units))),
            *session.scalars(enterprises.where(Enterprise.unit_id.in_(units))),
            *session.scalars(contacts.where(Role.unit_id.in_(units))),
        ]
    else:
        found = []
    return sorted(set(found))


def recent(session: Session, limit: int, unit_ids: list[int] | None = None) -> list[Announcement]:
    """The latest announcements, newest first; `unit_ids`: only those to these units."""
    stmt = select(Announcement).order_by(Announcement.id.desc()).limit(limit)
    if unit_ids is not None:
        stmt = stmt.where(Announcement.unit_id.in_(unit_ids))
    return list(session.scalars(stmt))


# ----- how far it got -----------------------------------------------------------------------
@dataclass(frozen=True)
class Delivery:
    delivered: int  # reached the person or chat (on some channel)
    pending: int  # still in the outbox (or its rerouted copy is)
    undeliverable: int  # failed for good on every channel tried

    @property
    def total(self) -> int:
        return self.delivered + self.pending + self.undeliverable


def delivery(session: Session, announcement_id: int) -> Delivery:
    """Each recipient once: delivered if any of its rows (the first, or the copy rerouted to
    the person's other channel) was sent; else pending while one is; else undeliverable."""
    rows = session.execute(
        select(OutboxMessage.idempotency_key, OutboxMessage.status).where(
            OutboxMessage.idempotency_key.startswith(key_prefix(announcement_id), autoescape=True)
        )
    ).tuples()
    best: dict[str, str] = {}
    rank = {OutboxStatus.SENT.value: 2, OutboxStatus.PENDING.value: 1}
    for key, status in rows:
        base = key.split(VIA, 1)[0]
        if rank.get(status, 0) >= rank.get(best.get(base, ""), 0):
            best[base] = status
    counts = {s: 0 for s in (OutboxStatus.SENT, OutboxStatus.PENDING, OutboxStatus.FAILED)}
    for status in best.values():
        counts[OutboxStatus(status)] += 1
    return Delivery(
        counts[OutboxStatus.SENT], counts[OutboxStatus.PENDING], counts[OutboxStatus.FAILED]
    )
