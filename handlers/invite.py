"""Invitations: the committee makes one-time codes (/invite), lists and revokes them
(/invites, /revoke); whoever redeems one (/join CODE, or the /start join_CODE deep link)
becomes a unit contact of its unit or a committee admin.

```mermaid
flowchart LR
  invite[/invite] --> role{role}
  role -- 单位联系人 --> unit[unit: city → county, university, provincial] --> code
  role -- 组委会 --> code[one-time code, expires after ttl_hours]
  code -- /join CODE --> check{valid?}
  check -- yes --> granted[role granted, inviter told]
  check -- wrong/used/expired/revoked --> refused[clear answer; failures rate limited]
```
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from bot.core.context import Ctx
from bot.core.forms import Answers, Field, Form, Option
from bot.core.i18n import fmt_local
from bot.core.messages import Reply
from bot.core.parsers import normalize
from handlers import notify, unit_picker
from handlers.codes import (
    CODE_LENGTH,
    blocked_for,
    clean_code,
    new_code,
    record_failure,
    show_code,
)
from models import Invitation, Role, Unit, committee, people, repo
from models.units import unit_by_code, unit_full_name


# ----- /invite ------------------------------------------------------------------------------
def _role_options(ctx: Ctx, _a: Answers) -> list[Option]:
    return [Option(r, ctx.t(f"opt.invite_role.{r}")) for r in ("unit_contact", "admin")]


def _for_contact(field: Field) -> Field:
    """The unit picker of the registration forms, asked only for a unit contact's code."""
    inner = field.when

    def when(a: Answers, ctx: Ctx) -> bool:
        return a.get("role") == "unit_contact" and (inner is None or inner(a, ctx))

    # the committee chooses another unit, not "your recommending unit"
    prompt = "ask.invite_unit_group" if field.name == "unit_group" else field.prompt
    return dataclasses.replace(field, when=when, prompt=prompt)


def _confirm(ctx: Ctx, a: Answers) -> list[Reply]:
    unit = unit_by_code(ctx.session, unit_picker.chosen_unit(a)) if a["role"] != "admin" else None
    return [_issue(ctx, a["role"], unit)]


FORM = Form(
    "invite",
    "form.invite_title",
    (
        Field("role", "ask.invite_role", "label.invite_role", options=_role_options),
        *(_for_contact(field) for field in unit_picker.unit_fields()),
    ),
    on_confirm=_confirm,
)


def invite(ctx: Ctx) -> list[Reply]:
    """/invite [admin | UNIT_CODE]: a code at once with an argument, else the short form."""
    arg = normalize(ctx.incoming.args)
    if not arg:
        return ctx.forms.start(ctx, FORM)
    if arg.lower() == "admin":
        return [_issue(ctx, "admin", None)]
    unit = unit_by_code(ctx.session, arg.upper())
    if unit is None or not unit.active:
        return [ctx.reply("invite.no_such_unit", code=arg[:20])]
    return [_issue(ctx, "unit_contact", unit)]


def _issue(ctx: Ctx, role: str, unit: Unit | None) -> Reply:
    now = ctx.clock.now()
    ttl = ctx.config.committee.invitations.ttl_hours
    code = new_code()
    while committee.code_taken(ctx.session, code):
        code = new_code()
    inv = Invitation(
        code=code,
        role=role,
        unit_id=unit.id if unit else None,
        created_by=ctx.person_id,
        created_at=now,
        expires_at=now + dt.timedelta(hours=ttl),
    )
    ctx.session.add(inv)
    ctx.session.flush()
    repo.audit(
        ctx.session,
        now,
        ctx.person_id,
        "invite",
        "invitation",
        inv.id,
        after={
            "role": role,
            "unit": unit.code if unit else None,
            "expires_at": str(inv.expires_at),
        },
    )
    text = ctx.t(
        "invite.issued",
        code=show_code(code),
        role=_role_label(ctx, role, unit),
        expires=fmt_local(inv.expires_at, ctx.clock.tz),
    )
    return Reply(text, start_link=(ctx.t("invite.link_label"), f"join_{code}"))


def _role_label(ctx: Ctx, role: str, unit: Unit | None) -> str:
    if role == "admin" or unit is None:
        return ctx.t("opt.invite_role.admin")
    return ctx.t("invite.role_of_unit", unit=unit_full_name(ctx.session, unit))


# ----- /invites, /revoke --------------------------------------------------------------------
def invites(ctx: Ctx) -> list[Reply]:
    """/invites: the codes still open, each with a revoke button."""
    now = ctx.clock.now()
    open_ = committee.open_invitations(ctx.session, now, ctx.config.committee.review_page_size)
    if not open_:
        return [ctx.reply("invite.none_open")]
    lines = [ctx.t("invite.open_title")]
    buttons = []
    for inv in open_:
        unit = ctx.session.get(Unit, inv.unit_id) if inv.unit_id else None
        lines.append(
            ctx.t(
                "invite.open_line",
                code=show_code(inv.code),
                role=_role_label(ctx, inv.role, unit),
                expires=fmt_local(inv.expires_at, ctx.clock.tz),
            )
        )
        buttons.append(
            (ctx.button("btn.revoke_code", f"cmd:revoke {inv.code}", code=show_code(inv.code)),)
        )
    return [Reply("\n".join(lines), tuple(buttons))]


def revoke(ctx: Ctx) -> list[Reply]:
    """/revoke CODE: the code can no longer be redeemed (a redeemed one stays redeemed)."""
    code = clean_code(ctx.incoming.args, "join_")
    if not code:
        return [ctx.reply("invite.revoke_usage")]
    now = ctx.clock.now()
    done = committee.revoke_invitation(ctx.session, code, now)
    if done is None:
        return [ctx.reply("invite.cannot_revoke", code=show_code(code))]
    repo.audit(ctx.session, now, ctx.person_id, "revoke_invite", "invitation", done)
    return [ctx.reply("invite.revoked", code=show_code(code))]


# ----- /join --------------------------------------------------------------------------------
def join(ctx: Ctx) -> list[Reply]:
    """/join CODE: redeem an invitation (wrong codes are counted and rate limited)."""
    return [redeem(ctx, ctx.incoming.args)]


def redeem(ctx: Ctx, typed: str) -> Reply:
    now = ctx.clock.now()
    limits = ctx.config.committee.invitations
    window = dt.timedelta(minutes=limits.failed_window_minutes)
    if blocked_for(ctx.session, ctx.person_id, now, limits.max_failed_joins, window) is not None:
        return ctx.reply("join.too_many", minutes=limits.failed_window_minutes)
    code = clean_code(typed, "join_")
    if not code:
        return ctx.reply("join.usage")
    inv = committee.invitation_by_code(ctx.session, code) if len(code) <= CODE_LENGTH else None
    if (
        inv is not None
        and inv.redeemed_by == ctx.person_id
        and people.has_role(ctx.session, ctx.person_id, inv.role, inv.unit_id)
    ):  # one's own code again (a second tap on the link): no wrong try, just where one is
        return ctx.reply("join.already")
    problem = _problem(ctx, inv, now)
    if problem is None and inv is not None:
        if people.has_role(ctx.session, ctx.person_id, inv.role, inv.unit_id):
            return ctx.reply("join.already")
        if committee.claim_invitation(ctx.session, inv.id, ctx.person_id, now):
            return _grant(ctx, inv, now)
        problem = "join.used"
    record_failure(ctx.session, ctx.person_id, now)
    return ctx.reply(problem or "join.wrong")


def _problem(ctx: Ctx, inv: Invitation | None, now: dt.datetime) -> str | None:
    if inv is None:
        return "join.wrong"
    if inv.revoked_at is not None:
        return "join.revoked"
    if inv.redeemed_at is not None:
        return "join.used"
    if inv.expires_at <= now:
        return "join.expired"
    return None


def _grant(ctx: Ctx, inv: Invitation, now: dt.datetime) -> Reply:
    role = Role(person_id=ctx.person_id, role=inv.role, unit_id=inv.unit_id, created_at=now)
    ctx.session.add(role)
    ctx.session.flush()
    unit = ctx.session.get(Unit, inv.unit_id) if inv.unit_id else None
    after = {"person": ctx.person_id, "role": inv.role, "unit": unit.code if unit else None}
    repo.audit(ctx.session, now, ctx.person_id, "redeem_invite", "invitation", inv.id, after=after)
    repo.audit(ctx.session, now, ctx.person_id, "grant_role", "role", role.id, after=after)
    role_label = _role_label(ctx, inv.role, unit)
    name = repo.person_name(ctx.session, ctx.person_id)
    assert inv.created_by is not None  # only claim codes come from the command line
    notify.to_person(
        ctx,
        inv.created_by,
        f"invite_redeemed:{inv.id}",
        "notice.invite_redeemed",
        name=name,
        role=role_label,
        code=show_code(inv.code),
    )
    key = "join.welcome_admin" if inv.role == "admin" else "join.welcome_contact"
    return ctx.reply(key, role=role_label)
