"""/history KIND ID: the audit log of one item for the committee: who did what, when (shown
in the festival's time zone), what changed and why, with readable labels (a daily report: who
reported and corrected it, which rules held it, who cleared or rejected it). Phone numbers are
masked even here."""

from __future__ import annotations

from typing import Any

from bot.core.context import Ctx
from bot.core.forms import Field
from bot.core.i18n import fmt_list, fmt_local, fmt_yuan, mask_phone
from bot.core.messages import Reply
from bot.core.parsers import normalize
from models import people, repo

ENTITIES = {
    "streamer": "streamer",
    "product": "product",
    "enterprise": "enterprise",
    "invitation": "invitation",
    "report": "daily_report",
    "role": "role",
    "unit": "unit",
}
LIMIT = 30
VALUE_MAX = 40
# A registration's audit entries hold its form's answers: shown with the form's own labels
# and values (the summary's), under the form (and group) that asked them.
FORMS: dict[str, tuple[str, str | None]] = {
    "streamer": ("streamer", None),
    "enterprise": ("enterprise", None),
    "product": ("enterprise", "products"),
}


def history(ctx: Ctx) -> list[Reply]:
    parts = normalize(ctx.incoming.args).lower().split()
    if len(parts) != 2 or parts[0] not in ENTITIES or not parts[1].isdigit() or len(parts[1]) > 18:
        return [ctx.reply("history.usage", kinds=" | ".join(ENTITIES))]
    entity, item_id = ENTITIES[parts[0]], int(parts[1])
    entries = people.audit_trail(ctx.session, entity, item_id, LIMIT)
    if not entries:
        return [ctx.reply("history.none", kind=parts[0], id=item_id)]
    lines = [ctx.t("history.title", kind=parts[0], id=item_id)]
    for e in entries:
        lines.append(
            ctx.t(
                "history.line",
                at=fmt_local(e.at, ctx.clock.tz),
                # no actor: the anomaly rules (or another automatic step) did it
                who=repo.person_name(ctx.session, e.actor_person_id)
                if e.actor_person_id is not None
                else ctx.t("history.system"),
                action=_label(ctx, f"history.action.{e.action}", e.action),
                what="" if e.entity == entity else f" ({e.entity} {e.entity_id})",
                changes=changes(ctx, e.before, e.after, _fields(ctx, parts[0])),
                note=f" — {e.note}" if e.note else "",
            )
        )
    return [Reply("\n".join(lines))]


def _label(ctx: Ctx, key: str, fallback: str) -> str:
    """The catalog's label, or the raw name when the catalog has none yet."""
    text = ctx.t(key)
    return fallback if text == key else text


def _fields(ctx: Ctx, kind: str) -> dict[str, Field]:
    """The fields of the form that stores this kind of item, by name (none: not a form's)."""
    form_name, group_name = FORMS.get(kind, ("", None))
    form = ctx.forms.forms.get(form_name)
    if form is None:
        return {}
    fields = form.fields
    if group_name is not None:
        group = form.field(group_name).group
        fields = group.fields if group is not None else ()
    return {f.name: f for f in fields}


def changes(
    ctx: Ctx,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    fields: dict[str, Field] | None = None,
) -> str:
    """'状态: 待审核 → 已通过; 粉丝量: 12,000 → 13,000' (only what changed, labelled; a form's
    answers in the form's order, with its labels and values)."""
    before, after = before or {}, after or {}
    fields = fields or {}
    order = {name: i for i, name in enumerate(fields)}
    keys = sorted(set(before) | set(after), key=lambda k: (k not in after, order.get(k, 999), k))
    parts = []
    for key in keys:
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        field = fields.get(key)
        if field is not None:
            name = ctx.t(field.label)
            old_s, new_s = _answer(ctx, field, before), _answer(ctx, field, after)
        else:
            name = _label(ctx, f"history.field.{key}", key)
            old_s, new_s = _show(ctx, key, old), _show(ctx, key, new)
        parts.append(f"{name}: {old_s} → {new_s}" if key in before else f"{name}: {new_s}")
    return "; ".join(parts)


def _answer(ctx: Ctx, field: Field, answers: dict[str, Any]) -> str:
    """A form's answer as its summary shows it (phones masked, long values cut)."""
    value = answers.get(field.name)
    if value is None:
        return "-"
    if field.group is not None:  # the items' names (products)
        items = value if isinstance(value, list) else []
        return _cut(fmt_list((str(i.get("name", "?")) for i in items), ctx.locale))
    if field.accepts_contact:
        return mask_phone(str(value))
    if field.accepts_photo or field.accepts_file:
        return ctx.t("opt.yes")
    try:
        return _cut(ctx.forms.shown(ctx, field, answers))
    except (KeyError, TypeError, ValueError):  # an answer of an older form's shape
        return _show(ctx, field.name, value)


def _cut(text: str) -> str:
    return text if len(text) <= VALUE_MAX else text[: VALUE_MAX - 1] + "…"


def _show(ctx: Ctx, key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key == "status":
        return _label(ctx, f"status.{value}", str(value))
    if key == "rules" and isinstance(value, list):
        return fmt_list(
            (_label(ctx, f"trust.name.{rule}", str(rule)) for rule in value), ctx.locale
        )
    if isinstance(value, bool):
        return ctx.t("opt.yes") if value else ctx.t("opt.no")
    if key.endswith("_fen") and isinstance(value, int):
        return fmt_yuan(value)
    text = str(value)
    if key == "phone":
        return mask_phone(text)
    return _cut(text)
