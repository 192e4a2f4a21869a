"""节间成交额: an enterprise reports its festival turnover after the live period (`/turnover`,
inside turnover.opens..deadline), with an order export as evidence; the committee confirms
it or asks again with a reason (`/turnovers`), seeing it beside what streamers reported for
the enterprise's products. A confirmed turnover gives the donation due.

```mermaid
flowchart LR
  t[/turnover] --> ok{enterprise, rules agreed,<br/>window open?} -- yes --> amount[amount]
  amount --> evidence[order export: picture or file] --> summary --> submitted([待确认])
  c[/turnovers] --> card[reported beside streamers' sales, evidence]
  card -- 确认 --> confirmed([已确认: donation due; enterprise told])
  card -- 请重新填报 --> reason[reason] --> asked([请重新填报; enterprise told])
```

The committee's side, /turnovers, is handlers/turnover_review.py.
"""

from __future__ import annotations

from pathlib import PurePath

from bot.core.context import Ctx
from bot.core.forms import Answers, Field, FieldError, Form
from bot.core.i18n import fmt_yuan, translate
from bot.core.messages import Button, Reply
from bot.core.parsers import ParseError
from handlers import fields as f
from handlers import money
from models import Enterprise, Turnover, TurnoverStatus, ledger, recipients, repo


def window_open(ctx: Ctx) -> bool:
    t = ctx.config.turnover
    return t.opens <= ctx.clock.today() <= t.deadline


def _enterprise(ctx: Ctx) -> Enterprise | None:
    if "turnover_enterprise" not in ctx.extra:
        ctx.extra["turnover_enterprise"] = repo.enterprise_of_person(ctx.session, ctx.person_id)
    found: Enterprise | None = ctx.extra["turnover_enterprise"]
    return found


def _amount_prompt(ctx: Ctx, _a: Answers) -> dict[str, object]:
    cal = ctx.config.calendar
    return {"start": cal.live_start, "end": cal.live_end}


FIELDS = (
    Field(
        "amount_fen",
        "ask.turnover_amount",
        "label.turnover_amount",
        parse=f.Money(limit=lambda c: c.config.turnover.max_yuan),
        show=f.show_yuan,
        prompt_params=_amount_prompt,
    ),
    Field(
        "evidence_file_id",
        "ask.turnover_evidence",
        "label.turnover_evidence",
        accepts_photo=True,
        accepts_file=True,  # where a channel takes files (Telegram; an Official Account: none)
        check=lambda v, ctx, _a: _evidence_kind(ctx),
        show=lambda v, c: c.t("turnover.file_received" if is_file(v) else "form.photo_received"),
    ),
)

# An order export as the shop's backend writes it; a picture sent as a file is a picture.
EVIDENCE_FILES = (".xlsx", ".xls", ".csv", ".pdf")
EVIDENCE_PICTURES = (".jpg", ".jpeg", ".png", ".webp")


def _evidence_kind(ctx: Ctx) -> None:
    """A file sent as evidence must be an order export (or a picture)."""
    inc = ctx.incoming
    if inc.document and not inc.photo:
        suffix = PurePath(inc.document_name or inc.document).suffix.lower()
        if suffix not in EVIDENCE_FILES + EVIDENCE_PICTURES:
            raise ParseError("err.turnover_file_kind")


def is_file(evidence: str | None) -> bool:
    """Evidence stored as an order export file (shown as a document, not a picture)."""
    return bool(evidence) and PurePath(str(evidence)).suffix.lower() in EVIDENCE_FILES


def refusal(ctx: Ctx) -> list[Reply] | None:
    """Why this person cannot report a turnover now, or None."""
    ent = _enterprise(ctx)
    if ent is None:
        return [ctx.reply("turnover.not_enterprise")]
    gate = money.refusal_unless_agreed(ctx, ent)
    if gate is not None:
        return gate
    t = ctx.config.turnover
    if not window_open(ctx):
        return [ctx.reply("turnover.closed", opens=t.opens, deadline=t.deadline)]
    current = ledger.turnover_of(ctx.session, ent.id)
    if current is not None and current.status == TurnoverStatus.CONFIRMED:
        return [ctx.reply("turnover.already_confirmed", amount=fmt_yuan(current.amount_fen))]
    return None


def start(ctx: Ctx) -> list[Reply]:
    """/turnover: the form, for an enterprise inside the window."""
    return refusal(ctx) or ctx.forms.start(ctx, FORM)


def on_confirm(ctx: Ctx, a: Answers) -> list[Reply]:
    """Stores the turnover (待确认) and tells the committee."""
    refused = refusal(ctx)
    if refused is not None:  # the window closed or it was confirmed while the form was open
        ctx.state.clear()
        return refused
    ent = _enterprise(ctx)
    assert ent is not None
    if not a.get("evidence_file_id"):
        raise FieldError("evidence_file_id", "err.need_file")
    if not 0 <= int(a["amount_fen"]) <= ctx.config.turnover.max_yuan * 100:
        raise FieldError("amount_fen", "err.invalid_value")
    now = ctx.clock.now()
    before = ledger.turnover_of(ctx.session, ent.id)
    old = {"amount_fen": before.amount_fen, "status": before.status} if before else None
    row = ledger.submit_turnover(
        ctx.session, ent.id, int(a["amount_fen"]), a["evidence_file_id"], now
    )
    repo.audit(
        ctx.session,
        now,
        ctx.person_id,
        "turnover",
        "enterprise",
        ent.id,
        before=old,
        after={"amount_fen": row.amount_fen, "revision": row.revision},
    )
    _tell_committee(ctx, ent, row)
    return [ctx.reply("turnover.submitted", amount=fmt_yuan(row.amount_fen))]


def _tell_committee(ctx: Ctx, ent: Enterprise, row: Turnover) -> None:
    notices = []
    for person in recipients.people(ctx.session, recipients.admins(ctx.session)):
        locale = person.locale or ctx.config.locale.default
        text = translate(
            locale,
            "notice.turnover_submitted",
            name=ent.name,
            id=ent.id,
            amount=fmt_yuan(row.amount_fen),
        )
        button = Button(translate(locale, "btn.turnovers"), "*:cmd:turnovers")
        key = f"turnover:{row.id}:{row.revision}:p{person.id}"
        notices.append((person.id, key, Reply(text, ((button,),))))
    ctx.outbox.to_people(notices)


FORM = Form("turnover", "turnover.summary_title", FIELDS, on_confirm)
