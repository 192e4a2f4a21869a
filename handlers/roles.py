"""/roles: the committee sees who holds which role (admins, unit contacts with their units) and
removes one with a button; the change is audited and the person told."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.messages import Button, Reply
from handlers import notify
from models import Role, Unit, people, repo
from models.units import unit_full_name


def roles(ctx: Ctx) -> list[Reply]:
    """/roles [PAGE]: every granted role, a page at a time, each with a remove button."""
    arg = ctx.incoming.args.strip()
    page = int(arg) if arg.isdigit() and len(arg) < 6 else 1
    size = ctx.config.committee.review_page_size
    rows = people.all_roles(ctx.session)
    pages = max(1, -(-len(rows) // size))
    page = min(max(page, 1), pages)
    lines = [ctx.t("roles.title", n=len(rows), page=page, pages=pages)]
    buttons: list[tuple[Button, ...]] = []
    for role in rows[(page - 1) * size : page * size]:
        label = _label(ctx, role)
        name = repo.person_name(ctx.session, role.person_id)
        lines.append(ctx.t("roles.line", id=role.id, name=name, role=label))
        if role.person_id != ctx.person_id:  # nobody removes their own last way in
            buttons.append((ctx.button("btn.remove_role", f"cmd:unrole {role.id}", name=name),))
    nav = []
    if page > 1:
        nav.append(ctx.button("btn.prev_page", f"cmd:roles {page - 1}"))
    if page < pages:
        nav.append(ctx.button("btn.next_page", f"cmd:roles {page + 1}"))
    if nav:
        buttons.append(tuple(nav))
    return [Reply("\n".join(lines), tuple(buttons), numbered=True)]


def unrole(ctx: Ctx) -> list[Reply]:
    """/unrole ID: removes one granted role (admins from config.yaml come back at their next
    first message only if their identity is new; remove them from config.yaml as well)."""
    arg = ctx.incoming.args.strip()
    role = ctx.session.get(Role, int(arg)) if arg.isdigit() and len(arg) < 18 else None
    if role is None:
        return [ctx.reply("roles.not_found", id=arg[:18])]
    if role.person_id == ctx.person_id:
        return [ctx.reply("roles.not_yourself")]
    label, name = _label(ctx, role), repo.person_name(ctx.session, role.person_id)
    people.delete_role(ctx.session, role.id)
    repo.audit(
        ctx.session,
        ctx.clock.now(),
        ctx.person_id,
        "remove_role",
        "role",
        role.id,
        before={"person": role.person_id, "role": role.role, "unit": role.unit_id},
    )
    notify.to_person(
        ctx, role.person_id, f"role_removed:{role.id}", "notice.role_removed", role=label
    )
    return [ctx.reply("roles.removed", name=name, role=label)]


def _label(ctx: Ctx, role: Role) -> str:
    if role.role == "admin" or role.unit_id is None:
        return ctx.t("opt.invite_role.admin")
    unit = ctx.session.get(Unit, role.unit_id)
    return ctx.t("invite.role_of_unit", unit=unit_full_name(ctx.session, unit) if unit else "")
