"""/history KIND ID: the audit log of one item for the committee: who did what, when (shown
in the festival's time zone), and what changed. Phone numbers are masked even here."""

from __future__ import annotations

from typing import Any

from bot.core.context import Ctx
from bot.core.i18n import fmt_local, mask_phone
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
        action = ctx.t(f"history.action.{e.action}")
        if action.startswith("history."):  # an action without a label yet: its own name
            action = e.action
        lines.append(
            ctx.t(
                "history.line",
                at=fmt_local(e.at, ctx.clock.tz),
                who=repo.person_name(ctx.session, e.actor_person_id),
                action=action,
                what="" if e.entity == entity else f" ({e.entity} {e.entity_id})",
                changes=changes(e.before, e.after),
                note=f" — {e.note}" if e.note else "",
            )
        )
    return [Reply("\n".join(lines))]


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    """'status: pending_review → approved; followers: 1200 → 1300' (only what changed)."""
    before, after = before or {}, after or {}
    parts = []
    for key in sorted(set(before) | set(after), key=lambda k: (k not in after, k)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        old_s, new_s = _show(key, old), _show(key, new)
        parts.append(f"{key}: {old_s} → {new_s}" if key in before else f"{key}: {new_s}")
    return "; ".join(parts)


def _show(key: str, value: Any) -> str:
    if value is None:
        return "-"
    text = str(value)
    if key == "phone":
        return mask_phone(text)
    return text if len(text) <= VALUE_MAX else text[: VALUE_MAX - 1] + "…"
