"""Claim codes: a registration imported from a unit's sheet belongs to a placeholder person
until the streamer (or the enterprise's contact) opens `/start claim_CODE`; then it is theirs
(/me, /report, reminders). The codes are invitations (models.committee.Invitation, role
"claim", one-time, expiring after `excel.claim_days`, wrong codes rate limited with /join's).

```mermaid
flowchart LR
  import[sheet imported] --> code[a claim code per new registration]
  code -- the unit hands it over --> open[/start claim_CODE]
  open --> check{valid, and the person holds no registration of that kind?}
  check -- yes --> mine[the registration is theirs now; the unit is told]
  check -- no --> refused[clear answer; wrong codes counted]
```
"""

from __future__ import annotations

import datetime as dt

from bot.core.context import Ctx
from bot.core.i18n import fmt_list
from bot.core.messages import Reply
from handlers import notify
from handlers.codes import CODE_LENGTH, blocked_for, clean_code, new_code, record_failure
from models import Enterprise, Invitation, Streamer, committee, repo

KINDS: dict[str, type[Streamer] | type[Enterprise]] = {
    "streamer": Streamer,
    "enterprise": Enterprise,
}


def issue(
    ctx: Ctx, kind: str, item_id: int, unit_id: int, actor: int | None, code: str | None = None
) -> str:
    """A new claim code for an imported registration (`code`: one of fresh_codes)."""
    now = ctx.clock.now()
    if code is None:
        [code] = fresh_codes(ctx, 1)
    ctx.session.add(
        Invitation(
            code=code,
            role="claim",
            unit_id=unit_id,
            created_by=actor,
            created_at=now,
            expires_at=now + dt.timedelta(days=ctx.config.excel.claim_days),
            claim_kind=kind,
            claim_id=item_id,
        )
    )
    return code


def fresh_codes(ctx: Ctx, n: int) -> list[str]:
    """n new codes, none of them stored yet (an import issues a thousand: checked at once)."""
    codes: set[str] = set()
    while len(codes) < n:
        drawn = {new_code() for _ in range(n - len(codes))} - codes
        codes |= drawn - committee.codes_taken(ctx.session, drawn)
    return sorted(codes)


def open_code(ctx: Ctx, kind: str, item_id: int) -> str | None:
    """The registration's claim code while it can still be opened (a sheet imported again
    lists it again), else None."""
    return committee.open_claim_code(ctx.session, kind, item_id, ctx.clock.now())


def redeem(ctx: Ctx, typed: str) -> Reply:
    """/start claim_CODE: the registration becomes the person's who opened it."""
    now = ctx.clock.now()
    limits = ctx.config.committee.invitations
    window = dt.timedelta(minutes=limits.failed_window_minutes)
    if blocked_for(ctx.session, ctx.person_id, now, limits.max_failed_joins, window) is not None:
        return ctx.reply("join.too_many", minutes=limits.failed_window_minutes)
    code = clean_code(typed, "claim_")
    inv = committee.invitation_by_code(ctx.session, code) if 0 < len(code) <= CODE_LENGTH else None
    if inv is None or inv.role != "claim" or inv.claim_kind not in KINDS or inv.claim_id is None:
        record_failure(ctx.session, ctx.person_id, now)
        return ctx.reply("claim.wrong")
    if inv.revoked_at is not None or inv.redeemed_at is not None or inv.expires_at <= now:
        key = "claim.used" if inv.redeemed_at is not None else "claim.expired"
        if inv.redeemed_by == ctx.person_id:
            key = "claim.already_yours"
        return ctx.reply(key)
    table = KINDS[inv.claim_kind]
    if repo.registration_id_of(ctx.session, inv.claim_kind, ctx.person_id) is not None:
        return ctx.reply(f"claim.holds_{inv.claim_kind}")
    item: Streamer | Enterprise | None = ctx.session.get(table, inv.claim_id)  # type: ignore[assignment]
    if item is None or not committee.claim_invitation(ctx.session, inv.id, ctx.person_id, now):
        return ctx.reply("claim.used")
    placeholder = item.person_id
    if not repo.move_registration(
        ctx.session, inv.claim_kind, item.id, placeholder, ctx.person_id, now
    ):
        return ctx.reply("claim.used")
    ctx.session.expire(item)
    after = {"person": ctx.person_id, "from_placeholder": placeholder}
    repo.audit(ctx.session, now, ctx.person_id, "claim", inv.claim_kind, item.id, after=after)
    if inv.created_by is not None:
        title = _title(ctx, inv.claim_kind, item.id, notify.locale_of(ctx, inv.created_by))
        notify.to_person(ctx, inv.created_by, f"claimed:{inv.id}", "claim.notice", title=title)
    title = _title(ctx, inv.claim_kind, item.id, ctx.locale)
    return ctx.reply(f"claim.done_{inv.claim_kind}", title=title)


def _title(ctx: Ctx, kind: str, item_id: int, locale: str | None) -> str:
    if kind == "enterprise":
        return ctx.session.get_one(Enterprise, item_id).name
    return fmt_list((a.account_name for a in repo.accounts_of(ctx.session, item_id)), locale)
