"""The stored Telegram updates: saved before they are confirmed, marked when handled."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from models import TelegramUpdate

_table = TelegramUpdate.__table__
_later = _table.alias("later")


def chat_key(payload: dict[str, Any]) -> str | None:
    """The chat an update came from (its sender's id when it has none)."""
    for kind in ("message", "edited_message", "callback_query"):
        body = payload.get(kind)
        if not isinstance(body, dict):
            continue
        chat = body.get("chat") or (body.get("message") or {}).get("chat") or body.get("from")
        if isinstance(chat, dict) and "id" in chat:
            return str(chat["id"])[:40]
    return None


_when = _table.c.received_at.type


class UpdateStore:
    def __init__(self, sessions: sessionmaker[Session], engine: Engine) -> None:
        self.sessions = sessions
        # Built once: both run for every update, and building a statement costs more than
        # executing it.
        make = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        self._insert = (
            make(TelegramUpdate)
            .values(
                update_id=bindparam("uid"),
                payload=bindparam("payload", type_=_table.c.payload.type),
                received_at=bindparam("now", type_=_when),
                chat_key=bindparam("chat"),
            )
            .on_conflict_do_nothing(index_elements=["update_id"])
            .returning(TelegramUpdate.update_id)  # a row back: stored now, not seen before
        )
        self._mark = (
            update(TelegramUpdate)
            .where(TelegramUpdate.update_id == bindparam("uid"))
            .values(
                processed_at=bindparam("now", type_=_when),
                replies=bindparam("replies", type_=_table.c.replies.type),
                answered_at=bindparam("answered", type_=_when),
            )
        )

    def save(self, payloads: list[dict[str, Any]], now: dt.datetime) -> list[dict[str, Any]]:
        """Stores the updates in one transaction; returns those not seen before (a webhook
        retry or a redelivery after a restart is seen before and dropped here)."""
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
                }
                if conn.execute(self._insert, params).first() is not None:
                    new.append(payload)
        return new

    def unprocessed(self) -> list[dict[str, Any]]:
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(TelegramUpdate.payload)
                    .where(TelegramUpdate.processed_at.is_(None))
                    .order_by(TelegramUpdate.update_id)
                )
            )

    def mark(
        self,
        session: Session,
        update_id: int,
        now: dt.datetime,
        replies: list[dict[str, Any]] | None = None,
    ) -> None:
        """Handled, in the step's commit; with the replies still to send (None: nothing to
        send, answered already)."""
        params = {
            "uid": update_id,
            "now": now,
            "replies": replies,
            "answered": None if replies else now,
        }
        session.connection().execute(self._mark, params)

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

    def unsent(self, since: dt.datetime, now: dt.datetime) -> list[tuple[dict[str, Any], Any]]:
        """(update, replies) whose replies may never have been sent (a crash between the
        step's commit and the send), handled since `since`, each its chat's latest handled
        update; the ones a later update of their chat superseded are marked answered."""
        later = (
            select(_later.c.id)
            .where(
                _later.c.chat_key == TelegramUpdate.chat_key,
                _later.c.update_id > TelegramUpdate.update_id,
                _later.c.processed_at.is_not(None),
            )
            .exists()
        )
        waiting = (
            TelegramUpdate.replies.is_not(None),
            TelegramUpdate.processed_at >= since,
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
        write lock is never held for long); unhandled ones are never deleted."""
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
