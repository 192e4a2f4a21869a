"""/me: one's own registrations, with edit and withdraw; /reports: one's own daily reports.

```mermaid
flowchart LR
  me[/me] --> cards[streamer and enterprise cards with status and reason]
  cards -- 修改 --> summary[the form's summary, every field editable] --> resubmit[resubmitted]
  cards -- 撤回报名 --> confirm{确认撤回?} -- yes --> withdrawn[已撤回]
  confirm -- no --> kept[unchanged]
```
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from bot.core.context import Ctx
from bot.core.i18n import fmt_int, fmt_list, fmt_minutes, fmt_yuan
from bot.core.messages import Button, Reply
from handlers import donations, enterprise, money, streamer
from models import ReviewStatus, Streamer, Unit, repo
from models.units import unit_full_name


def me(ctx: Ctx) -> list[Reply]:
    """Shows the person's streamer and enterprise registrations and what they can do."""
    s = repo.streamer_of_person(ctx.session, ctx.person_id)
    e = repo.enterprise_of_person(ctx.session, ctx.person_id)
    if s is None and e is None:
        drafts = ctx.state.data.get("drafts") or {}
        if drafts:  # a registration begun and left: not "nothing"
            titles = fmt_list(
                (
                    ctx.forms.name_of(ctx, ctx.forms.forms[name])
                    for name in drafts
                    if name in ctx.forms.forms
                ),
                ctx.locale,
            )
            return [ctx.reply("me.draft_open", titles=titles)]
        return [ctx.reply("me.nothing")]
    replies: list[Reply] = []
    ctx.state.flow = "me"
    if s is not None:
        unit = ctx.session.get(Unit, s.unit_id)
        accounts = fmt_list(
            (
                f"{ctx.config.platform_label(a.platform, ctx.locale)} {a.account_name}"
                for a in repo.accounts_of(ctx.session, s.id)
            ),
            ctx.locale,
        )
        text = ctx.t(
            "me.streamer",
            accounts=accounts,
            status=ctx.t(f"status.{s.status}"),
            unit=unit_full_name(ctx.session, unit) if unit else "",
            phone=s.phone,
            followers=fmt_int(s.followers),
        )
        if s.status == ReviewStatus.REJECTED and s.reject_reason:
            text += "\n" + ctx.t("me.reason", reason=s.reject_reason)
        text += "\n" + (donations.share_text(ctx) or "")  # the 20% share, information only
        buttons: list[Button] = [ctx.button("btn.edit_streamer", "me:edit_streamer")]
        if s.status != ReviewStatus.WITHDRAWN:
            buttons.append(ctx.button("btn.withdraw", "me:withdraw_streamer"))
        replies.append(Reply(text, (tuple(buttons),), numbered=True))
    if e is not None:
        products = repo.products_of(ctx.session, e.id)
        lines = [ctx.t("me.enterprise", name=e.name, status=ctx.t(f"status.{e.status}"))]
        if products:
            lines.append(ctx.t("me.product_counts", **_product_counts(p.status for p in products)))
        for p in products:
            lines.append(ctx.t("me.product", name=p.name, status=ctx.t(f"status.{p.status}")))
            if p.status == ReviewStatus.REJECTED and p.reject_reason:
                lines.append(ctx.t("me.product_reason", reason=p.reject_reason))
        # the donation rule, and the statement once a turnover is reported
        if e.money_rules_agreed_at is None:
            lines.append(ctx.t("money.me_not_agreed"))
        lines.append(money.donation_rule(ctx.locale, ctx.config))
        row = donations.row_of(ctx, e.id)
        if row is not None and (row.turnover_status or row.received_fen):
            lines.append(donations.statement_text(ctx.locale, row))
        buttons = [ctx.button("btn.edit_enterprise", "me:edit_enterprise")]
        if e.status != ReviewStatus.WITHDRAWN:
            buttons.append(ctx.button("btn.withdraw_enterprise", "me:withdraw_enterprise"))
        replies.append(Reply("\n".join(lines), (tuple(buttons),), numbered=True))
    return replies


def _product_counts(statuses: Iterable[str]) -> dict[str, int]:
    """The enterprise's products by where they stand: approved, waiting (for the unit or the
    committee), rejected (withdrawn ones are in none)."""
    counts = Counter(statuses)
    return {
        "approved": counts[ReviewStatus.APPROVED],
        "waiting": counts[ReviewStatus.PENDING_REVIEW] + counts[ReviewStatus.PENDING_UNIT],
        "rejected": counts[ReviewStatus.REJECTED],
    }


def me_flow(ctx: Ctx) -> list[Reply]:
    """Buttons of /me: edit opens the form at its summary; withdraw asks to confirm."""
    action = ctx.action or ""
    confirming = ctx.state.data.get("me_step")  # "withdraw" or "withdraw_enterprise"
    ctx.state.clear()
    if ctx.extra.get("reprompt"):  # after /help or a stale button: the same question again
        return [_withdraw_question(ctx, confirming)] if confirming else me(ctx)
    if not action.startswith("me:"):
        # typed text or a sticker is no answer here: say what is expected, then ask again
        hint = ctx.reply("err.use_buttons")
        return [hint, _withdraw_question(ctx, confirming)] if confirming else [hint, *me(ctx)]
    if action == "me:edit_streamer":
        s = repo.streamer_of_person(ctx.session, ctx.person_id)
        if s is not None:
            return ctx.forms.start(ctx, streamer.FORM, streamer.snapshot(ctx, s), editing=s.id)
    if action == "me:edit_enterprise":
        e = repo.enterprise_of_person(ctx.session, ctx.person_id)
        if e is not None:
            return ctx.forms.start(ctx, enterprise.FORM, enterprise.snapshot(ctx, e), editing=e.id)
    if action == "me:withdraw_streamer":
        return [_withdraw_question(ctx, "withdraw")]
    if action == "me:withdraw_enterprise":
        return [_withdraw_question(ctx, "withdraw_enterprise")]
    if action == "me:withdraw_enterprise_yes":
        return _withdraw_enterprise(ctx)
    if action == "me:withdraw_yes":
        s = repo.streamer_of_person(ctx.session, ctx.person_id)
        if s is not None and s.status != ReviewStatus.WITHDRAWN:
            now = ctx.clock.now()
            repo.audit(
                ctx.session,
                now,
                ctx.person_id,
                "withdraw",
                "streamer",
                s.id,
                before={"status": s.status},
                after={"status": "withdrawn"},
            )
            s.status, s.updated_at = ReviewStatus.WITHDRAWN.value, now
            return [ctx.reply("me.withdrawn")]
    if action == "me:keep":
        return [ctx.reply("me.kept")]
    return me(ctx)


def _withdraw_question(ctx: Ctx, step: str) -> Reply:
    ctx.state.flow = "me"
    ctx.state.data["me_step"] = step  # so that it is the question asked again
    enterprise_step = step == "withdraw_enterprise"
    return Reply(
        ctx.t("me.withdraw_enterprise_confirm" if enterprise_step else "me.withdraw_confirm"),
        (
            (
                ctx.button(
                    "btn.withdraw_yes",
                    "me:withdraw_enterprise_yes" if enterprise_step else "me:withdraw_yes",
                ),
                ctx.button("btn.keep_registration", "me:keep"),
            ),
        ),
        numbered=True,
    )


def _withdraw_enterprise(ctx: Ctx) -> list[Reply]:
    """The enterprise and every product of it withdrawn (out of the catalogue and review);
    editing it later resubmits it, as a withdrawn streamer's registration."""
    e = repo.enterprise_of_person(ctx.session, ctx.person_id)
    if e is None or e.status == ReviewStatus.WITHDRAWN:
        return me(ctx)
    now = ctx.clock.now()
    products = repo.products_of(ctx.session, e.id)
    repo.audit(
        ctx.session,
        now,
        ctx.person_id,
        "withdraw",
        "enterprise",
        e.id,
        before={"status": e.status, "products": {str(p.id): p.status for p in products}},
        after={"status": "withdrawn"},
    )
    for p in products:  # the same moment as the enterprise's (see enterprise._withdrawn_with)
        if p.status != ReviewStatus.WITHDRAWN:  # one removed earlier stays as it was
            p.status, p.updated_at = ReviewStatus.WITHDRAWN.value, now
    e.status, e.updated_at = ReviewStatus.WITHDRAWN.value, now
    return [ctx.reply("me.enterprise_withdrawn", name=e.name)]


def reports(ctx: Ctx) -> list[Reply]:
    s = repo.streamer_of_person(ctx.session, ctx.person_id)
    if s is None:
        return [ctx.reply("report.not_registered")]
    return _list_reports(ctx, s)


def _list_reports(ctx: Ctx, streamer: Streamer) -> list[Reply]:
    """/reports: the streamer's own reports, newest first."""
    reports = repo.reports_of_streamer(ctx.session, streamer.id)
    if not reports:
        return [ctx.reply("reports.none")]
    names = {
        a.id: ctx.config.platform_label(a.platform, ctx.locale)
        for a in repo.accounts_of(ctx.session, streamer.id)
    }
    lines = [ctx.t("reports.title", n=len(reports))]
    for r in reports:
        state = ctx.t("reports.rejected", reason=r.reject_reason or "") if r.rejected else ""
        if r.held and not r.rejected:  # waits for a check (handlers/trust.py)
            state = ctx.t("trust.held_mark")
        lines.append(
            ctx.t(
                "reports.line",
                date=r.report_date,
                platform=names.get(r.account_id, ""),
                gmv=fmt_yuan(r.gmv_fen),
                duration=fmt_minutes(r.duration_minutes, ctx.locale),
                viewers=fmt_int(r.viewers),
                likes=fmt_int(r.likes),
                revision=(ctx.t("reports.revised", n=r.revision - 1) if r.revision > 1 else ""),
                state=state,
            )
        )
    return [Reply("\n".join(lines))]
