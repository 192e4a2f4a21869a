"""Telegram updates as received, stored before Telegram is told they arrived.

Polling moves the getUpdates offset past an update only once it is in this table, and the
webhook answers 200 only then; a row without processed_at is handled again after a restart.
The step that handles an update marks it processed in the step's own transaction, so a killed
process never applies a stored answer twice. update_id is unique: a webhook retry is ignored.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin


class TelegramUpdate(IdMixin, Base):
    __tablename__ = "telegram_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    payload: Mapped[dict[str, Any]]
    received_at: Mapped[dt.datetime]
    processed_at: Mapped[dt.datetime | None] = mapped_column(index=True)
