"""The money rules, shown and agreed: the donation rule an enterprise agrees to (in its
registration, or at its next message if it registered before the rule was shown), and the
streamer's revenue share. Every number comes from the config (`revenue.*`).

```mermaid
flowchart LR
  msg[a message of an enterprise contact<br/>who has not agreed] --> ask[the rule: 同意 / 暂不]
  ask -- 同意 --> agreed[money_rules_agreed_at set, audited] --> menu
  ask -- 暂不 --> later[audited; asked again the next day] --> menu
```

Enterprises registered before this are also told once through the outbox, when the bot starts
with this code (`notify_unagreed`, called by bot/app.py's `build` right after the migration that
added `money_rules_agreed_at`): one notice per enterprise that has not agreed, keyed by the
enterprise, so a later start (or another process starting) adds nothing. At start rather than
a scheduled job: the moment that matters is when the rule first exists, whatever the calendar,
and nobody registers without agreeing from then on.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.clock import Clock
from bot.core.context import Ctx
from bot.core.i18n import fmt_yuan, translate
from bot.core.messages import Reply
from bot.core.outbox import Outbox
from models import Enterprise, Person, money_agreement, repo
from models.donation_rules import FEN_PER_YUAN

FLOW = "money_rules"
# commands that never wait for the agreement: help, leaving, the language
_NOT_GATED = frozenset({"help", "cancel", "lang"})


def percent(rate: Decimal) -> str:
    """0.05 → '5', 0.125 → '12.5'."""
    text = f"{(Decimal(rate) * 100).normalize():f}"
    return text


def rule_params(config: FestivalConfig) -> dict[str, object]:
    r = config.revenue
    return {
        "rate": percent(r.donation_rate),
        "threshold": fmt_yuan(r.directed_donation_threshold_yuan * FEN_PER_YUAN),
        "share": percent(r.directed_donation_share_above_threshold),
        "commission": percent(r.streamer_commission_rate),
    }


def donation_rule(locale: str | None, config: FestivalConfig) -> str:
    """The donation rule with the config's numbers, e.g. 5% … 100,000 元 … 50%."""
    return translate(locale, "money.rule_donation", **rule_params(config))


def streamer_rule(locale: str | None, config: FestivalConfig) -> str:
    return translate(locale, "money.rule_streamer", **rule_params(config))


def help_text(ctx: Ctx) -> str:
    return "\n".join(
        (
            ctx.t("money.help_title"),
            donation_rule(ctx.locale, ctx.config),
            streamer_rule(ctx.locale, ctx.config),
        )
    )


# ----- the agreement of enterprises registered before the rule was shown -------------------
def pending_enterprise(ctx: Ctx) -> Enterprise | None:
    """The person's enterprise if it has not agreed to the money rules yet."""
    return money_agreement.unagreed_enterprise_of(ctx.session, ctx.person_id)


def _asked_today(ctx: Ctx, ent: Enterprise) -> bool:
    """Said 暂不 today already (recorded in the audit log): not asked again until tomorrow."""
    start = dt.datetime.combine(ctx.clock.today(), dt.time(0), ctx.clock.tz)
    return money_agreement.put_off_since(ctx.session, ent.id, start)


def gate(ctx: Ctx) -> list[Reply] | None:
    """Before anything else, outside any flow: an enterprise that has not agreed to the
    money rules is asked to (at most once a day if it says 暂不). None: go on as usual."""
    if ctx.incoming.command in _NOT_GATED:
        return None
    ent = pending_enterprise(ctx)
    if ent is None or _asked_today(ctx, ent):
        return None
    ctx.state.clear()  # a flow the command would have left (a form's draft is kept)
    ctx.state.flow = FLOW
    return [question(ctx, ent)]


def question(ctx: Ctx, ent: Enterprise) -> Reply:
    text = "\n\n".join(
        (
            ctx.t("money.agree_intro", name=ent.name),
            donation_rule(ctx.locale, ctx.config),
            ctx.t("money.agree_question"),
        )
    )
    return Reply(
        text,
        ((ctx.button("btn.money_agree", "mr:yes"), ctx.button("btn.money_later", "mr:later")),),
        numbered=True,
    )


def agreement_flow(ctx: Ctx) -> list[Reply]:
    """The answer to the rule: 同意 stores the agreement, 暂不 lets the person go on."""
    from handlers import menu  # menu imports this module for /help

    ent = pending_enterprise(ctx)
    if ent is None:  # agreed meanwhile (another channel, the registration form)
        ctx.state.clear()
        return [menu.menu(ctx)]
    if ctx.extra.get("reprompt"):
        return [question(ctx, ent)]
    action = ctx.action
    if action not in ("mr:yes", "mr:later"):
        return [ctx.reply("err.use_buttons"), question(ctx, ent)]
    ctx.state.clear()
    now = ctx.clock.now()
    if action == "mr:later":
        repo.audit(ctx.session, now, ctx.person_id, "money_rules_later", "enterprise", ent.id)
        return [ctx.reply("money.agree_later"), menu.menu(ctx)]
    agree(ctx, ent)
    return [ctx.reply("money.agreed"), menu.menu(ctx)]


def agree(ctx: Ctx, ent: Enterprise) -> None:
    """Records the agreement (and audits it) unless it was given before."""
    if ent.money_rules_agreed_at is not None:
        return
    now = ctx.clock.now()
    ent.money_rules_agreed_at = now
    repo.audit(
        ctx.session,
        now,
        ctx.person_id,
        "money_rules_agreed",
        "enterprise",
        ent.id,
        after={"rules": rule_params(ctx.config)},
    )


def refusal_unless_agreed(ctx: Ctx, ent: Enterprise) -> list[Reply] | None:
    """/turnover and /direct wait for the agreement: the question instead."""
    if ent.money_rules_agreed_at is not None:
        return None
    ctx.state.flow = FLOW
    return [ctx.reply("money.agree_first"), question(ctx, ent)]


def notify_unagreed(session: Session, config: FestivalConfig, clock: Clock) -> int:
    """Enqueues the rule to each enterprise that has not agreed to it, once per enterprise
    (the outbox key); returns how many are pending."""
    pending = money_agreement.unagreed_enterprises(session)
    outbox = Outbox(session, clock, batch=True)
    for enterprise_id, person_id, name in pending:
        person = session.get(Person, person_id)
        locale = (person.locale if person else None) or config.locale.default
        text = translate(locale, "notice.money_rules", name=name)
        text += "\n\n" + donation_rule(locale, config)
        outbox.to_person(person_id, f"money_rules:e{enterprise_id}", Reply(text))
    outbox.flush()
    return len(pending)
