"""Group chats: /subscribe and /unsubscribe register a group for broadcasts (the 龙虎榜,
announcements); a group upgraded to a supergroup keeps its subscription under the new id."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.context import Ctx
from bot.core.messages import Reply
from models import GroupSubscription


def _subscription(session: Session, channel: str, chat_id: str) -> GroupSubscription | None:
    return session.scalars(
        select(GroupSubscription).where(
            GroupSubscription.channel == channel, GroupSubscription.chat_id == chat_id
        )
    ).first()


def subscribe(ctx: Ctx) -> list[Reply]:
    """/subscribe (committee admins, in a group): stores the group as a broadcast target."""
    inc = ctx.incoming
    if inc.chat_kind == "private":
        return [ctx.reply("groups.only_in_group")]
    if not ctx.is_admin:
        return [ctx.reply("groups.admins_only")]
    now = ctx.clock.now()
    sub = _subscription(ctx.session, inc.channel, inc.chat_id)
    if sub is not None and sub.active:
        return [ctx.reply("groups.already_subscribed")]
    if sub is None:
        sub = GroupSubscription(
            channel=inc.channel, chat_id=inc.chat_id, created_at=now, updated_at=now
        )
        ctx.session.add(sub)
    sub.active, sub.subscribed_by, sub.updated_at = True, ctx.person_id, now
    ctx.session.flush()
    return [ctx.reply("groups.subscribed")]


def unsubscribe(ctx: Ctx) -> list[Reply]:
    """/unsubscribe (committee admins, in a group): the group receives no more broadcasts."""
    inc = ctx.incoming
    if inc.chat_kind == "private":
        return [ctx.reply("groups.only_in_group")]
    if not ctx.is_admin:
        return [ctx.reply("groups.admins_only")]
    sub = _subscription(ctx.session, inc.channel, inc.chat_id)
    if sub is None or not sub.active:
        return [ctx.reply("groups.not_subscribed")]
    sub.active, sub.updated_at = False, ctx.clock.now()
    return [ctx.reply("groups.unsubscribed")]


def migrate(session: Session, channel: str, old_id: str, new_id: str, now: dt.datetime) -> None:
    """The group got a new chat id (Telegram: upgraded to a supergroup): move its
    subscription there; if the new id already has one, the old row is dropped."""
    old = _subscription(session, channel, old_id)
    if old is None:
        return
    new = _subscription(session, channel, new_id)
    if new is None:
        old.chat_id, old.updated_at = new_id, now
        return
    new.active = new.active or old.active
    new.updated_at = now
    session.delete(old)
