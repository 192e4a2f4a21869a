"""/link: one person on two channels (Telegram and WeChat). `/link` gives a one-time code;
`/link CODE` typed on the other channel merges the two identities into one person, so
registrations, reports and roles are shared and reminders go to the channel used last.

```mermaid
flowchart LR
  a[/link on channel A] --> code[one-time code, expires after wechat.link_code_minutes]
  code -- /link CODE on channel B --> limit{too many wrong codes lately?}
  limit -- yes --> wait[come back in N minutes]
  limit -- no --> check{valid, other channel, other person?}
  check -- yes --> merged[B's identities join A's person, or the other way round]
  check -- wrong or expired --> counted[clear answer; counted for the limit]
  check -- same person, same channel, conflict --> refused[clear answer]
```
Two people who both hold something (a registration, a role...) are not merged automatically:
which registration wins is the committee's decision.

Wrong codes are rate limited (wechat.link_max_failed per wechat.link_failed_window_minutes,
counted together with /join's wrong codes, see handlers/codes.py): a link code merges two
people's data, so it must not be guessable by trying. Only a code that does not open counts;
the other refusals come with a valid code and are not guesses.
"""

from __future__ import annotations

import datetime as dt
import math

from bot.core.context import Ctx
from bot.core.messages import Reply
from handlers.codes import blocked_for, clean_code, new_code, record_failure
from models import repo
from models.wechat import holds_something, issue_link_code, merge_people, open_link_code


def link(ctx: Ctx) -> list[Reply]:
    """/link [CODE]: without a code stores a new one and shows it; with a code merges."""
    typed = clean_code(ctx.incoming.args)[:20]
    now = ctx.clock.now()
    if not typed:
        minutes = ctx.config.wechat.link_code_minutes
        code = new_code()
        issue_link_code(
            ctx.session,
            ctx.person_id,
            ctx.incoming.channel,
            code,
            now,
            dt.timedelta(minutes=minutes),
        )
        return [ctx.reply("link.code", code=code, minutes=minutes)]
    limits = ctx.config.wechat
    wait = blocked_for(
        ctx.session,
        ctx.person_id,
        now,
        limits.link_max_failed,
        dt.timedelta(minutes=limits.link_failed_window_minutes),
    )
    if wait is not None:
        return [ctx.reply("link.too_many", minutes=max(1, math.ceil(wait.total_seconds() / 60)))]
    found = open_link_code(ctx.session, typed, now)
    if found is None:
        record_failure(ctx.session, ctx.person_id, now)
        return [ctx.reply("link.bad_code")]
    if found.person_id == ctx.person_id:
        return [ctx.reply("link.same_person")]
    if found.channel == ctx.incoming.channel:
        return [ctx.reply("link.same_channel")]
    other, me = found.person_id, ctx.person_id
    if holds_something(ctx.session, me):
        if holds_something(ctx.session, other):
            return [ctx.reply("link.conflict")]
        keep, drop = me, other
    else:
        keep, drop = other, me
    found.used_at = now
    merge_people(ctx.session, keep, drop, ctx.incoming.channel)
    repo.audit(ctx.session, now, keep, "link", "person", keep, note=f"merged person {drop}")
    return [ctx.reply("link.done")]
