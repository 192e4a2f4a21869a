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
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Engine,
    Index,
    String,
    bindparam,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from models.base import Base, IdMixin
from models.telegram_shown import prune_shown


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
    # process starts that found this update unhandled (a step that crashes the process)
    starts: Mapped[int] = mapped_column(default=0)
    # The person it is from (adapter.order_key): with several workers, whoever holds the
    # person's turn takes their oldest unhandled update first (the stored updates are the queue).
    order_key: Mapped[str | None] = mapped_column(String(40))

    __table_args__ = (
        Index("ix_telegram_updates_chat_key", "chat_key", "update_id"),
        Index(
            "ix_telegram_updates_pending",
            "order_key",
            "update_id",
            postgresql_where=text("processed_at IS NULL"),
            sqlite_where=text("processed_at IS NULL"),
        ),
    )


_table = TelegramUpdate.__table__
_later = _table.alias("later")


_when = _table.c.received_at.type


class UpdateStore:
    def __init__(self, sessions: sessionmaker[Session], engine: Engine) -> None:
        self.sessions = sessions
        # Built once: both run for every update, and building a statement costs more than
        # executing it.
        # Written as text: SQLAlchemy 2.0 never caches a dialect's ON CONFLICT insert
        # (postgresql/sqlite Insert has inherit_cache = False), so the ORM form was compiled
        # again for every update (~0.25 ms of CPU each); a text() statement is compiled once.
        self._insert = text(
            "INSERT INTO telegram_updates "
            "(update_id, payload, received_at, chat_key, order_key, starts) "
            "VALUES (:uid, :payload, :now, :chat, :person, 0) "
            "ON CONFLICT (update_id) DO NOTHING "
            "RETURNING update_id"  # a row back: stored now, not seen before
        ).bindparams(
            bindparam("payload", type_=_table.c.payload.type),
            bindparam("now", type_=_when),
        )
        self._mark = (
            update(TelegramUpdate)
            .where(
                TelegramUpdate.update_id == bindparam("uid"), TelegramUpdate.processed_at.is_(None)
            )
            .values(
                processed_at=bindparam("now", type_=_when),
                replies=bindparam("replies", type_=_table.c.replies.type),
                answered_at=bindparam("answered", type_=_when),
            )
        )

    def save(
        self,
        payloads: list[dict[str, Any]],
        now: dt.datetime,
        chat_key: Callable[[dict[str, Any]], str | None],
        order_key: Callable[[dict[str, Any]], str] | None = None,
    ) -> list[dict[str, Any]]:
        """Stores the updates in one transaction; returns those not seen before (a webhook
        retry or a redelivery after a restart is seen before and dropped here). `chat_key`
        and `order_key` read an update's chat and person (the channel knows the payload's
        shape)."""
        if not payloads:
            return []
        new = []
        with self.sessions() as session, session.begin():
            conn = session.connection()
            for payload in payloads:
                params = {
                    "uid": int(payload["update_id"]),
                    "payload": payload,
                    "now": now,
                    "chat": chat_key(payload),
                    "person": order_key(payload) if order_key is not None else None,
                }
                if conn.execute(self._insert, params).first() is not None:
                    new.append(payload)
        return new

    def unprocessed(self) -> list[tuple[dict[str, Any], int]]:
        """At start: the updates stored but not handled before the last stop, oldest first,
        each with how many starts have now found it unhandled (counted here, once per start,
        so that an update whose step kills the process cannot loop forever; nothing is
        written per step on the hot path)."""
        with self.sessions() as session, session.begin():
            pending = TelegramUpdate.processed_at.is_(None)
            session.execute(
                update(TelegramUpdate).where(pending).values(starts=TelegramUpdate.starts + 1)
            )
            rows = session.execute(
                select(TelegramUpdate.payload, TelegramUpdate.starts)
                .where(pending)
                .order_by(TelegramUpdate.update_id)
            )
            return [(payload, starts) for payload, starts in rows]

    def mark(
        self,
        session: Session,
        update_id: int,
        now: dt.datetime,
        replies: list[dict[str, Any]] | None = None,
    ) -> bool:
        """Handled, in the step's commit; with the replies still to send (None: nothing to
        send, answered already). False: it was handled before (by another worker), and the
        caller must roll its step back."""
        params = {
            "uid": update_id,
            "now": now,
            "replies": replies,
            "answered": None if replies else now,
        }
        return bool(session.connection().execute(self._mark, params).rowcount)

    def pending_of(self, person: str) -> list[tuple[dict[str, Any], int]]:
        """A person's stored updates not handled yet, oldest first, each with its starts
        (several workers: whoever holds the person's turn handles them in this order)."""
        with self.sessions() as session:
            rows = session.execute(
                select(TelegramUpdate.payload, TelegramUpdate.starts)
                .where(TelegramUpdate.order_key == person, TelegramUpdate.processed_at.is_(None))
                .order_by(TelegramUpdate.update_id)
            )
            return [(payload, starts) for payload, starts in rows]

    def orphaned(self, before: dt.datetime) -> list[str]:
        """The persons with an update received before `before` and still not handled (its
        worker died, or never got to it)."""
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(TelegramUpdate.order_key)
                    .where(
                        TelegramUpdate.processed_at.is_(None),
                        TelegramUpdate.received_at < before,
                        TelegramUpdate.order_key.is_not(None),
                    )
                    .group_by(TelegramUpdate.order_key)
                    .order_by(func.min(TelegramUpdate.update_id))
                    .limit(1000)
                )
            )

    def mark_alone(self, update_id: int, now: dt.datetime) -> None:
        with self.sessions() as session, session.begin():
            self.mark(session, update_id, now)

    def answered(self, update_ids: list[int], now: dt.datetime) -> None:
        """The replies of these updates were sent (or handed to the outbox): forget them."""
        with self.sessions() as session, session.begin():
            for start in range(0, len(update_ids), 500):
                session.execute(
                    update(TelegramUpdate)
                    .where(TelegramUpdate.update_id.in_(update_ids[start : start + 500]))
                    .values(answered_at=now, replies=None)
                )

    def unsent(
        self, since: dt.datetime, now: dt.datetime, until: dt.datetime | None = None
    ) -> list[tuple[dict[str, Any], Any]]:
        """(update, replies) whose replies may never have been sent (a crash between the
        step's commit and the send), handled since `since` (and before `until`: with several
        workers, the recent ones may be another live worker's, still sending), each its
        chat's latest update; the ones a later update of their chat superseded are marked
        answered. A later update, even one not handled yet, supersedes: the person wrote
        again (most likely after reading these), and that update's own answer is coming."""
        later = (
            select(_later.c.id)
            .where(
                _later.c.chat_key == TelegramUpdate.chat_key,
                _later.c.update_id > TelegramUpdate.update_id,
            )
            .exists()
        )
        waiting = (
            TelegramUpdate.replies.is_not(None),
            TelegramUpdate.processed_at >= since,
            TelegramUpdate.processed_at < (until or now + dt.timedelta(days=1)),
        )
        with self.sessions() as session, session.begin():
            session.execute(
                update(TelegramUpdate)
                .where(*waiting, later)
                .values(answered_at=now, replies=None)
                .execution_options(synchronize_session=False)
            )
            rows = session.execute(
                select(TelegramUpdate.payload, TelegramUpdate.replies)
                .where(*waiting)
                .order_by(TelegramUpdate.update_id)
            ).all()
        return [(payload, replies) for payload, replies in rows]

    def prune(self, before: dt.datetime, chunk: int = 5_000) -> int:
        """Deletes updates handled before `before`, a chunk per transaction (SQLite's one
        write lock is never held for long); unhandled ones are never deleted. What a chat was
        last shown goes too when it is that old (nothing known: the next answer counts for
        the open question, as after a restart)."""
        prune_shown(self.sessions, before, chunk)
        total = 0
        while True:
            with self.sessions() as session, session.begin():
                ids = select(TelegramUpdate.id).where(
                    TelegramUpdate.processed_at.is_not(None), TelegramUpdate.processed_at < before
                )
                result = session.execute(
                    delete(TelegramUpdate).where(TelegramUpdate.id.in_(ids.limit(chunk)))
                )
                done = int(getattr(result, "rowcount", 0) or 0)
            total += done
            if done < chunk:
                return total
