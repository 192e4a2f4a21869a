"""Group chats: /subscribe and /unsubscribe register a group for broadcasts (the 龙虎榜,
announcements). A group upgraded to a supergroup keeps its subscription under the new id
(`models.subscriptions.migrate`, handed to the channels by the routing table)."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.messages import Reply
from models import GroupSubscription
from models.subscriptions import subscription as _subscription


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
