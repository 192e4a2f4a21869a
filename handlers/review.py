"""Interim committee review by command, until the review issue brings /review:
/pending lists what waits; /approve streamer|product|enterprise ID; /reject KIND ID REASON.
Admin only (admins are bootstrapped from config.yaml)."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.messages import Reply
from handlers import notify
from models import Enterprise, Product, ReviewStatus, Streamer, repo

PENDING = (ReviewStatus.PENDING_UNIT, ReviewStatus.PENDING_REVIEW)


def pending(ctx: Ctx) -> list[Reply]:
    if not ctx.is_admin:
        return [ctx.reply("err.not_allowed")]
    lines = [ctx.t("review.pending_title")]
    for s in repo.pending_streamers(ctx.session):
        names = "、".join(a.account_name for a in repo.accounts_of(ctx.session, s.id))
        lines.append(
            ctx.t(
                "review.pending_streamer",
                id=s.id,
                account=names,
                status=ctx.t(f"status.{s.status}"),
            )
        )
    for p in repo.pending_products(ctx.session):
        ent = ctx.session.get(Enterprise, p.enterprise_id)
        lines.append(
            ctx.t(
                "review.pending_product",
                id=p.id,
                name=p.name,
                enterprise=ent.name if ent else "",
                status=ctx.t(f"status.{p.status}"),
            )
        )
    if len(lines) == 1:
        return [ctx.reply("review.nothing")]
    lines.append(ctx.t("review.usage"))
    return [Reply("\n".join(lines))]


def approve(ctx: Ctx) -> list[Reply]:
    return _decide(ctx, approve=True)


def reject(ctx: Ctx) -> list[Reply]:
    return _decide(ctx, approve=False)


def _decide(ctx: Ctx, approve: bool) -> list[Reply]:
    if not ctx.is_admin:
        return [ctx.reply("err.not_allowed")]
    parts = ctx.incoming.args.split(maxsplit=2)
    if (
        len(parts) < 2
        or parts[0] not in ("streamer", "product", "enterprise")
        or not parts[1].isdigit()
    ):
        return [ctx.reply("review.usage")]
    kind, item_id = parts[0], int(parts[1])
    reason = parts[2].strip() if len(parts) > 2 else ""
    if not approve and not reason:
        return [ctx.reply("review.reason_needed")]
    status = ReviewStatus.APPROVED if approve else ReviewStatus.REJECTED
    now = ctx.clock.now()
    targets: list[Streamer | Product] = []
    owner: int | None = None
    title = ""
    if kind == "streamer":
        s = ctx.session.get(Streamer, item_id)
        if s is not None:
            targets, owner = [s], s.person_id
            title = "、".join(a.account_name for a in repo.accounts_of(ctx.session, s.id))
    elif kind == "product":
        p = ctx.session.get(Product, item_id)
        ent = ctx.session.get(Enterprise, p.enterprise_id) if p else None
        if p is not None and ent is not None:
            targets, owner, title = [p], ent.person_id, p.name
    else:
        ent = ctx.session.get(Enterprise, item_id)
        if ent is not None:
            targets = [p for p in repo.products_of(ctx.session, ent.id) if p.status in PENDING]
            owner, title = ent.person_id, ent.name
            if targets:  # with nothing pending, nothing changes (the reply says so)
                ent.status = status.value
    if owner is None:
        return [ctx.reply("review.not_found", kind=kind, id=item_id)]
    decided = [t for t in targets if t.status in PENDING]
    if not decided:
        return [ctx.reply("review.not_pending", kind=kind, id=item_id)]
    for item in decided:
        repo.audit(
            ctx.session,
            now,
            ctx.person_id,
            "approve" if approve else "reject",
            "streamer" if isinstance(item, Streamer) else "product",
            item.id,
            before={"status": item.status},
            after={"status": status.value},
            note=reason or None,
        )
        item.status, item.reject_reason = status.value, reason or None
        item.reviewed_at, item.reviewed_by, item.updated_at = now, ctx.person_id, now
    notify.to_person(
        ctx,
        owner,
        f"decision:{kind}:{item_id}:{now.isoformat()}",
        "notice.approved" if approve else "notice.rejected",
        title=title,
        reason=reason,
    )
    return [
        ctx.reply(
            "review.done",
            kind=kind,
            id=item_id,
            n=len(decided),
            status=ctx.t(f"status.{status.value}"),
        )
    ]
