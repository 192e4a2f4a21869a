"""Telegram updates as received, stored before Telegram is told they arrived.

Polling moves the getUpdates offset past an update only once it is in this table, and the
webhook answers 200 only then; a row without processed_at is handled again after a restart.
The step that handles an update marks it processed in the step's own transaction, so a killed
process never applies a stored answer twice. update_id is unique: a webhook retry is ignored.
The step's replies are stored in that same commit and cleared once sent, so a crash between
the commit and the send still gets them sent (at the next start).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin


class TelegramUpdate(IdMixin, Base):
    __tablename__ = "telegram_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    payload: Mapped[dict[str, Any]]
    received_at: Mapped[dt.datetime]
    processed_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    # The step's replies, stored in its commit and cleared when sent (answered_at): a crash
    # between the two leaves them here, and they are sent at the next start.
    replies: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))  # SQL NULL
    answered_at: Mapped[dt.datetime | None]
    # The chat it came from (chat id; the sender's id when there is no chat): replies are
    # sent again at start only for a chat's latest update.
    chat_key: Mapped[str | None] = mapped_column(String(40))

    __table_args__ = (Index("ix_telegram_updates_chat_key", "chat_key", "update_id"),)
