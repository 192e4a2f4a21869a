"""/history KIND ID: the audit log of one item for the committee: who did what, when (shown
in the festival's time zone), what changed and why, with readable labels (a daily report: who
reported and corrected it, which rules held it, who cleared or rejected it). Phone numbers are
masked even here."""

from __future__ import annotations

from typing import Any

from bot.core.context import Ctx
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
                changes=changes(ctx, e.before, e.after),
                note=f" — {e.note}" if e.note else "",
            )
        )
    return [Reply("\n".join(lines))]


def _label(ctx: Ctx, key: str, fallback: str) -> str:
    """The catalog's label, or the raw name when the catalog has none yet."""
    text = ctx.t(key)
    return fallback if text == key else text


def changes(ctx: Ctx, before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    """'状态: 待审核 → 已通过; 粉丝量: 1200 → 1300' (only what changed, labelled)."""
    before, after = before or {}, after or {}
    parts = []
    for key in sorted(set(before) | set(after), key=lambda k: (k not in after, k)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        name = _label(ctx, f"history.field.{key}", key)
        old_s, new_s = _show(ctx, key, old), _show(ctx, key, new)
        parts.append(f"{name}: {old_s} → {new_s}" if key in before else f"{name}: {new_s}")
    return "; ".join(parts)


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
    return text if len(text) <= VALUE_MAX else text[: VALUE_MAX - 1] + "…"
