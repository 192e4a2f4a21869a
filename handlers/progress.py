"""Quota progress: /unit for a unit contact (their units, pending names, the recommendation
link; a city's contact also sees its counties), /units for the committee (every unit, sorted
by shortfall or by code, a page at a time)."""

from __future__ import annotations

import secrets

from bot.core.context import Ctx
from bot.core.i18n import fmt_list
from bot.core.messages import Reply
from bot.core.parsers import normalize
from handlers import qr
from models import Unit, repo
from models.quotas import Tally, UnitProgress, progress_of_units
from models.units import active_units, children_of, unit_by_code, unit_full_name


def tally_text(ctx: Ctx, what: str, tally: Tally) -> str:
    if tally.over:
        note = ctx.t("unit.over", n=tally.over, max=tally.max)
    elif tally.shortfall:
        note = ctx.t("unit.short", n=tally.shortfall)
    else:
        note = ctx.t("unit.met")
    return ctx.t(f"unit.{what}", done=tally.done, min=tally.min, note=note)


def progress_line(ctx: Ctx, p: UnitProgress, name: str) -> str:
    return ctx.t(
        "unit.line",
        unit=name,
        streamers=tally_text(ctx, "streamers", p.streamers),
        products=tally_text(ctx, "products", p.products),
    )


NEW_LINK_WORDS = ("newlink", "新链接")
QR_WORDS = ("qr", "二维码", "海报")


def unit(ctx: Ctx) -> list[Reply]:
    """/unit [CODE]: quota progress of one's own units (or of a unit in scope);
    /unit newlink [CODE]: a new recommendation link, the old one stops working (it leaked);
    /unit qr [CODE]: the link's QR posters, ready to print (handlers/qr.py)."""
    words = normalize(ctx.incoming.args).split()
    renew = bool(words) and words[0].lower() in NEW_LINK_WORDS
    posters = bool(words) and words[0].lower() in QR_WORDS
    if renew or posters:
        words = words[1:]
    arg = (words[0] if words else "").upper()[:20]
    if arg:
        chosen = unit_by_code(ctx.session, arg)
        if chosen is None or not ctx.scope.covers(chosen.id):
            return [ctx.reply("unit.not_found", code=arg)]
        targets = [chosen]
    else:
        targets = [u for u in (ctx.session.get(Unit, i) for i in ctx.scope.own_units) if u]
        if not targets:
            return [ctx.reply("unit.committee_hint")]
    if posters:
        return qr.unit_qr(ctx, targets)
    if renew:
        if len(targets) != 1:
            return [ctx.reply("unit.newlink_which")]
        new_rec_token(ctx, targets[0])
        return [ctx.reply("unit.newlink_done"), _detail(ctx, targets[0])]
    return [_detail(ctx, u) for u in targets]


def _detail(ctx: Ctx, unit: Unit) -> Reply:
    p = progress_of_units(ctx.session, ctx.config.units.kinds, [unit], with_pending=True)[0]
    full = unit_full_name(ctx.session, unit)
    kind = ctx.config.unit_kind_label(unit.kind, ctx.locale)
    lines = [ctx.t("unit.title", unit=full, kind=kind)]
    lines.append(tally_text(ctx, "streamers", p.streamers))
    lines.append(tally_text(ctx, "products", p.products))
    if p.pending:
        lines.append(
            ctx.t("unit.pending", n=len(p.pending), names=fmt_list(p.pending[:20], ctx.locale))
        )
    children = children_of(ctx.session, unit.id)
    if children:
        lines.append(ctx.t("unit.children_title"))
        for child in progress_of_units(ctx.session, ctx.config.units.kinds, children):
            lines.append(progress_line(ctx, child, child.unit_name))
    token = rec_token(ctx, unit)
    lines.append(ctx.t("unit.rec_link", token=token))
    lines.append(ctx.t("poster.hint"))
    buttons = ((ctx.button("btn.review_now", "cmd:review"),),) if p.pending else ()
    link = (ctx.t("unit.rec_link_label"), f"rec_{token}")
    return Reply("\n".join(lines), buttons, numbered=True, start_link=link)


def rec_token(ctx: Ctx, unit: Unit) -> str:
    """The unit's recommendation link secret, made on first use."""
    if unit.rec_token is None:
        unit.rec_token = secrets.token_hex(8)
        repo.audit(ctx.session, ctx.clock.now(), ctx.person_id, "rec_link", "unit", unit.id)
    return unit.rec_token


def new_rec_token(ctx: Ctx, unit: Unit) -> str:
    """A new recommendation link secret: streamers who use the old link get "invalid link"
    (registrations made through it stay as they are)."""
    unit.rec_token = secrets.token_hex(8)
    repo.audit(ctx.session, ctx.clock.now(), ctx.person_id, "rec_link_new", "unit", unit.id)
    return unit.rec_token


def units(ctx: Ctx) -> list[Reply]:
    """/units [shortfall|code] [PAGE]: every unit's progress for the committee."""
    args = normalize(ctx.incoming.args).lower().split()
    order = "code" if "code" in args else "shortfall"
    page = next((int(a) for a in args if a.isdigit() and len(a) < 6), 1)
    all_units = active_units(ctx.session)
    rows = progress_of_units(ctx.session, ctx.config.units.kinds, all_units)
    if order == "shortfall":
        rows.sort(key=lambda p: -p.shortfall)  # stable: equal shortfalls stay in code order
    size = ctx.config.committee.review_page_size
    pages = max(1, -(-len(rows) // size))
    page = min(max(page, 1), pages)
    met = sum(1 for p in rows if p.shortfall == 0)
    names = {u.id: unit_full_name(ctx.session, u) for u in all_units}
    lines = [
        ctx.t(
            "units.title",
            n=len(rows),
            met=met,
            order=ctx.t(f"units.order_{order}"),
            page=page,
            pages=pages,
        )
    ]
    for p in rows[(page - 1) * size : page * size]:
        lines.append(progress_line(ctx, p, f"{names[p.unit_id]} ({p.unit_code})"))
    nav = []
    if page > 1:
        nav.append(ctx.button("btn.prev_page", f"cmd:units {order} {page - 1}"))
    if page < pages:
        nav.append(ctx.button("btn.next_page", f"cmd:units {order} {page + 1}"))
    other = "code" if order == "shortfall" else "shortfall"
    sort = (ctx.button(f"btn.sort_{other}", f"cmd:units {other} 1"),)
    return [Reply("\n".join(lines), (tuple(nav), sort) if nav else (sort,), numbered=True)]
