"""Telegram's 429 waits, shared by several bot workers (BOT_WORKERS=shared).

A 429 answer (RetryAfter) tells the bot, not one process, to leave a chat alone for so many
seconds. Alone, a process keeps that in memory (bot/channels/telegram/sender.py); with several
workers on one PostgreSQL, the worker that was told writes it here and every worker reads the
chats still held (bot/channels/telegram/pauses.py), so no other worker sends into the pause and
earns a longer one. `until` is wall-clock UTC: workers on several machines agree on it to
within their clocks' skew (NTP), far less than Telegram's waits (seconds).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, String, bindparam, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base


class SendPause(Base):
    __tablename__ = "send_pauses"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # "": calls of no chat
    until: Mapped[dt.datetime]


_until = SendPause.__table__.c.until


class PauseStore:
    """The statements, built once (the hold runs on Telegram's 429 path, the read every
    second in every worker)."""

    def __init__(self, engine: Engine) -> None:
        make = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        insert = make(SendPause).values(
            channel=bindparam("channel"),
            chat_id=bindparam("chat"),
            until=bindparam("until", type_=_until.type),
        )
        # a second 429 with a shorter wait never shortens the pause another one set
        longer = (
            func.greatest(_until, insert.excluded.until)
            if engine.dialect.name == "postgresql"
            else func.max(_until, insert.excluded.until)
        )
        self._hold = insert.on_conflict_do_update(
            index_elements=["channel", "chat_id"], set_={"until": longer}
        )
        self._held = select(SendPause.chat_id, SendPause.until).where(
            SendPause.channel == bindparam("channel"),
            SendPause.until > bindparam("now", type_=_until.type),
        )
        self._prune = delete(SendPause).where(
            SendPause.until < bindparam("before", type_=_until.type)
        )

    def hold(self, session: Session, channel: str, chat_id: str, until: dt.datetime) -> None:
        session.execute(self._hold, {"channel": channel, "chat": chat_id, "until": until})

    def held(self, session: Session, channel: str, now: dt.datetime) -> dict[str, dt.datetime]:
        """The channel's chats held at `now`, with until when."""
        rows = session.execute(self._held, {"channel": channel, "now": now})
        return {chat: until for chat, until in rows}

    def prune(self, session: Session, before: dt.datetime) -> int:
        """Pauses over before `before` (nobody needs them)."""
        result = session.execute(self._prune, {"before": before})
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
