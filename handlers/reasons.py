"""A reviewer's typed reason (a rejection, a request to report again): one rule for every
review flow (registrations, reports, turnovers, the audit)."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.messages import Reply
from bot.core.parsers import ParseError, parse_text

REASON_MAX = 200  # characters: the person reads it in one message


def typed_reason(ctx: Ctx) -> str | Reply:
    """The reason typed in this step, or what to tell the reviewer before asking again (a
    sticker or a picture is no reason; two characters at least)."""
    if ctx.incoming.text is None:
        return ctx.reply("err.need_text")
    try:
        return parse_text(ctx.incoming.text, max_len=REASON_MAX, min_len=2)
    except ParseError as err:
        return ctx.reply(err.key, **err.params)
