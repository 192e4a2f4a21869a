"""What each private Telegram chat was last shown, shared by several workers
(BOT_WORKERS=shared): the question and from which message id (bot/core/answers.py), with the
chat's recent message ids. Apart from the stored updates (models/telegram.py) because it is
the answer binding's state, not an update's life; it is pruned with them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import String, bindparam, delete, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from models.base import Base, IdMixin


class TelegramShown(IdMixin, Base):
    """Several workers (BOT_WORKERS=shared): which question each private chat was last shown
    and from which message id (bot/core/answers.py), with the chat's recent message ids, as
    the worker that sent it left them; the next holder of the person's turn, another worker
    maybe, reads it before the step, so an answer typed before the question showed answers
    the question before on every worker. Written in the person's turn only."""

    __tablename__ = "telegram_shown"

    chat_key: Mapped[str] = mapped_column(String(40), unique=True)
    data: Mapped[dict[str, Any]]
    updated_at: Mapped[dt.datetime]


_SHOWN = select(TelegramShown.data).where(TelegramShown.chat_key == bindparam("key"))
_KEEP_SHOWN = text(
    """INSERT INTO telegram_shown (chat_key, data, updated_at) VALUES (:key, :data, :now)
    ON CONFLICT (chat_key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at"""
).bindparams(
    bindparam("data", type_=TelegramShown.__table__.c.data.type),
    bindparam("now", type_=TelegramShown.__table__.c.updated_at.type),
)


def shown_of(sessions: sessionmaker[Session], chat_key: str) -> dict[str, Any] | None:
    with sessions() as session:
        found = session.execute(_SHOWN, {"key": chat_key}).scalar()
        return dict(found) if found else None


def keep_shown(
    sessions: sessionmaker[Session], chat_key: str, data: dict[str, Any], now: dt.datetime
) -> None:
    with sessions() as session, session.begin():
        session.execute(_KEEP_SHOWN, {"key": chat_key, "data": data, "now": now})


def prune_shown(sessions: sessionmaker[Session], before: dt.datetime, chunk: int) -> None:
    """Rows not written since `before` (nothing known then: the next answer counts for the
    open question, as after a restart), a chunk per transaction."""
    while True:
        with sessions() as session, session.begin():
            old = select(TelegramShown.id).where(TelegramShown.updated_at < before)
            result = session.execute(
                delete(TelegramShown).where(TelegramShown.id.in_(old.limit(chunk)))
            )
        if int(getattr(result, "rowcount", 0) or 0) < chunk:
            return
