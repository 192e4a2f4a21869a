"""/direct (an enterprise): the project and amount of the directed part of its donation, a
form, within the bound its confirmed turnover gives (models/donation_rules.py); the bound is
checked as the amount is typed and again when it is stored (the turnover may have changed).
"""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.forms import Answers, Field, FieldError, Form
from bot.core.i18n import fmt_yuan
from bot.core.messages import Reply
from bot.core.parsers import ParseError
from handlers import fields as f
from handlers import money
from handlers.donations import row_of, statement_text
from models import ledger, repo
from models.donation_rules import DonationRules, direction_refusal, donation
from models.ledger import LedgerRow

PROJECT_MAX = 100


def _bound(ctx: Ctx) -> LedgerRow | None:
    if "direct_row" not in ctx.extra:
        ent = repo.enterprise_of_person(ctx.session, ctx.person_id)
        ctx.extra["direct_row"] = row_of(ctx, ent.id) if ent else None
    found: LedgerRow | None = ctx.extra["direct_row"]
    return found


def _within_bound(value: int, ctx: Ctx, _a: Answers) -> None:
    row = _bound(ctx)
    if row is None or not row.confirmed:
        raise ParseError("direct.no_turnover")
    why = direction_refusal(value, donation(row.turnover_fen or 0, DonationRules.of(ctx.config)))
    if why is not None:
        raise ParseError(f"direct.refused_{why}", max=fmt_yuan(row.directed_max_fen))


def _amount_prompt(ctx: Ctx, _a: Answers) -> dict[str, object]:
    row = _bound(ctx)
    return {"max": fmt_yuan(row.directed_max_fen if row else 0)}


DIRECT_FIELDS = (
    Field("project", "ask.direct_project", "label.direct_project", parse=f.text(PROJECT_MAX)),
    Field(
        "amount_fen",
        "ask.direct_amount",
        "label.direct_amount",
        parse=f.Money().then(_within_bound),
        show=f.show_yuan,
        prompt_params=_amount_prompt,
    ),
)


def direct(ctx: Ctx) -> list[Reply]:
    """/direct: the project and amount of the directed part, within the rules' bound."""
    ent = repo.enterprise_of_person(ctx.session, ctx.person_id)
    if ent is None:
        return [ctx.reply("donations.not_enterprise")]
    gate = money.refusal_unless_agreed(ctx, ent)
    if gate is not None:
        return gate
    row = _bound(ctx)
    if row is None or not row.confirmed:
        return [ctx.reply("direct.no_turnover")]
    if row.directed_max_fen <= 0:
        return [ctx.reply("direct.refused_none_allowed"), *_explain(ctx, row)]
    return ctx.forms.start(ctx, DIRECT_FORM)


def _explain(ctx: Ctx, row: LedgerRow) -> list[Reply]:
    return [Reply(statement_text(ctx.locale, row))]


def _on_direct(ctx: Ctx, a: Answers) -> list[Reply]:
    """Stores the directed part (the bound checked again: the turnover may have changed)."""
    row = _bound(ctx)
    try:
        _within_bound(int(a["amount_fen"]), ctx, a)
    except ParseError as err:
        if row is None or not row.confirmed:
            ctx.state.clear()
            return [ctx.reply(err.key, **err.params)]
        raise FieldError("amount_fen", err.key, **err.params) from err
    assert row is not None
    now = ctx.clock.now()
    old = ledger.direction_of(ctx.session, row.enterprise_id)
    before = {"project": old.project, "amount_fen": old.amount_fen} if old else None
    ledger.set_direction(ctx.session, row.enterprise_id, a["project"], int(a["amount_fen"]), now)
    repo.audit(
        ctx.session,
        now,
        ctx.person_id,
        "direct",
        "enterprise",
        row.enterprise_id,
        before=before,
        after={"project": a["project"], "amount_fen": int(a["amount_fen"])},
    )
    updated = row_of(ctx, row.enterprise_id)
    assert updated is not None
    return [
        ctx.reply("direct.saved", project=a["project"], amount=fmt_yuan(int(a["amount_fen"]))),
        Reply(statement_text(ctx.locale, updated)),
    ]


DIRECT_FORM = Form("direct", "direct.summary_title", DIRECT_FIELDS, _on_direct)
