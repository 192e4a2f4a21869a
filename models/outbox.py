"""The outbox: every message to someone other than the person who just wrote."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # permanent failure (blocked bot, no channel): reason in last_error


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
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
