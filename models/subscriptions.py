"""Group chats subscribed to broadcasts (the 龙虎榜, announcements): looked up, moved."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.committee import GroupSubscription


def subscription(session: Session, channel: str, chat_id: str) -> GroupSubscription | None:
    return session.scalars(
        select(GroupSubscription).where(
            GroupSubscription.channel == channel, GroupSubscription.chat_id == chat_id
        )
    ).first()


def migrate(session: Session, channel: str, old_id: str, new_id: str, now: dt.datetime) -> None:
    """The group got a new chat id (Telegram: upgraded to a supergroup): its subscription
    moves there; if the new id already has one, the old row is dropped."""
    old = subscription(session, channel, old_id)
    if old is None:
        return
    new = subscription(session, channel, new_id)
    if new is None:
        old.chat_id, old.updated_at = new_id, now
        return
    new.active = new.active or old.active
    new.updated_at = now
    session.delete(old)
