"""/turnovers (committee): the turnovers waiting for confirmation, one card at a time, each
beside what streamers reported selling for the enterprise's products (models/sales.py) and
the donation it would mean, with its evidence; 确认 confirms it, 请重新填报 asks again with a
reason. A decision applies only to the revision shown (of two reviewers one wins), and the
enterprise is told either way. The enterprise's side, the form, is handlers/turnover.py.
"""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.i18n import fmt_local, fmt_yuan
from bot.core.messages import Reply
from handlers import notify
from handlers.reasons import REASON_MAX, typed_reason
from handlers.turnover import is_file
from models import Enterprise, Turnover, TurnoverStatus, ledger, repo
from models.donation_rules import DonationRules, donation
from models.sales import reported_sales_by_enterprise

FLOW = "turnover_review"


def turnovers(ctx: Ctx) -> list[Reply]:
    """/turnovers: the turnovers waiting for confirmation, one card at a time."""
    ctx.state.flow = FLOW
    ctx.state.data = {"skipped": []}
    return _next(ctx, [])


def _next(ctx: Ctx, before: list[Reply]) -> list[Reply]:
    skipped = set(ctx.state.data.get("skipped", []))
    for turnover_id in ledger.waiting_turnovers(ctx.session):
        if turnover_id in skipped:
            continue
        row = ctx.session.get(Turnover, turnover_id)
        if row is None:
            continue
        ctx.state.data.update(item=row.id, revision=row.revision)
        return [*before, *_evidence(ctx, row), _card(ctx, row)]
    ctx.state.clear()
    key = "turnovers.queue_skipped" if skipped else "turnovers.queue_empty"
    return [*before, ctx.reply(key, n=len(skipped))]


def _evidence(ctx: Ctx, row: Turnover) -> list[Reply]:
    if not row.evidence_file_id:
        return []
    text = ctx.t("turnovers.evidence_of", id=row.enterprise_id)
    if is_file(row.evidence_file_id):
        return [Reply(text, document_path=row.evidence_file_id)]
    return [Reply(text, image_path=row.evidence_file_id)]


def card_text(ctx: Ctx, row: Turnover) -> str:
    ent = ctx.session.get(Enterprise, row.enterprise_id)
    cal = ctx.config.calendar
    sales = reported_sales_by_enterprise(
        ctx.session, cal.live_start, cal.live_end, [row.enterprise_id]
    ).get(row.enterprise_id, 0)
    due = donation(row.amount_fen, DonationRules.of(ctx.config))
    lines = [
        ctx.t(
            "turnovers.card",
            name=ent.name if ent else "",
            id=row.enterprise_id,
            status=ctx.t(f"turnover.status.{row.status}"),
            revision=row.revision,
        ),
        ctx.t("turnovers.card_amount", amount=fmt_yuan(row.amount_fen)),
        ctx.t("turnovers.card_sales", sales=fmt_yuan(sales)),
        ctx.t(
            "turnovers.card_due",
            due=fmt_yuan(due.due_fen),
            directed=fmt_yuan(due.directed_max_fen),
        ),
        ctx.t("turnovers.card_submitted", at=fmt_local(row.submitted_at, ctx.clock.tz)),
    ]
    return "\n".join(lines)


def _card(ctx: Ctx, row: Turnover) -> Reply:
    return Reply(
        card_text(ctx, row),
        (
            (
                ctx.button("btn.turnover_confirm", "tv:ok"),
                ctx.button("btn.turnover_again", "tv:no"),
            ),
            (ctx.button("btn.skip_item", "tv:skip"), ctx.button("btn.end_review", "tv:end")),
        ),
        numbered=True,
    )


def _reason_prompt(ctx: Ctx) -> list[Reply]:
    return [
        Reply(ctx.t("review.ask_reason", max=REASON_MAX), ((ctx.button("btn.back", "tv:back"),),))
    ]


def turnover_review_flow(ctx: Ctx) -> list[Reply]:
    """A button of the current card, or the typed reason for asking again."""
    data = ctx.state.data
    row = ctx.session.get(Turnover, int(data.get("item") or 0))
    if (
        row is None
        or row.status != TurnoverStatus.SUBMITTED
        or row.revision != data.get("revision")
    ):
        # decided by someone else, or a new revision came in: the next card
        note = [ctx.reply("turnovers.changed")] if row is not None else []
        return _next(ctx, note)
    if ctx.extra.get("reprompt"):
        return _reason_prompt(ctx) if data.get("await_reason") else [_card(ctx, row)]
    action = ctx.action
    if data.get("await_reason"):
        if action == "tv:back":
            data.pop("await_reason")
            return [_card(ctx, row)]
        reason = typed_reason(ctx)
        if isinstance(reason, Reply):  # no reason yet: said why, asked again
            return [reason, *_reason_prompt(ctx)]
        data.pop("await_reason")
        return _next(ctx, [_decide(ctx, row, False, reason)])
    if action == "tv:ok":
        return _next(ctx, [_decide(ctx, row, True, None)])
    if action == "tv:no":
        data["await_reason"] = True
        return _reason_prompt(ctx)
    if action == "tv:skip":
        data["skipped"].append(row.id)
        return _next(ctx, [])
    if action == "tv:end":
        ctx.state.clear()
        return [ctx.reply("review.ended")]
    return [ctx.reply("review.use_buttons"), _card(ctx, row)]


def _decide(ctx: Ctx, row: Turnover, confirm: bool, reason: str | None) -> Reply:
    now = ctx.clock.now()
    won = ledger.decide_turnover(
        ctx.session, row.id, row.revision, confirm, reason, ctx.person_id, now
    )
    ctx.session.refresh(row)
    if not won:
        return ctx.reply("turnovers.changed")
    ent = ctx.session.get(Enterprise, row.enterprise_id)
    name = ent.name if ent else ""
    repo.audit(
        ctx.session,
        now,
        ctx.person_id,
        "confirm_turnover" if confirm else "ask_turnover_again",
        "enterprise",
        row.enterprise_id,
        before={"status": TurnoverStatus.SUBMITTED.value, "revision": row.revision},
        after={"status": row.status, "amount_fen": row.amount_fen},
        note=reason,
    )
    if ent is not None:
        key = f"turnover_decided:{row.id}:{row.revision}:{row.status}"
        if confirm:
            due = donation(row.amount_fen, DonationRules.of(ctx.config))
            notify.to_person(
                ctx,
                ent.person_id,
                key,
                "notice.turnover_confirmed",
                amount=fmt_yuan(row.amount_fen),
                due=fmt_yuan(due.due_fen),
                directed=fmt_yuan(due.directed_max_fen),
            )
        else:
            notify.to_person(
                ctx,
                ent.person_id,
                key,
                "notice.turnover_asked_again",
                amount=fmt_yuan(row.amount_fen),
                reason=reason or "",
            )
    key = "turnovers.done_confirmed" if confirm else "turnovers.done_asked_again"
    return ctx.reply(key, name=name, amount=fmt_yuan(row.amount_fen))
