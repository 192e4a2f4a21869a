"""Held daily reports in /review (they come first): the card shows the rules that fired with
their numbers, the streamer's recent reports beside it and the evidence picture; the reviewer
clears the report (it counts from then on) or rejects it with a reason. A decision applies to
the revision the reviewer saw: a correction filed meanwhile is judged anew."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.i18n import fmt_int, fmt_minutes, fmt_yuan
from bot.core.messages import Reply
from handlers import notify
from handlers import trust as checks
from models import DailyReport, Streamer, repo, totals, trust
from models.streamers import reject_report


def seen(report: DailyReport) -> str:
    """What a decision is conditional on: the revision shown."""
    return f"rev{report.revision}"


def title(ctx: Ctx, report: DailyReport) -> str:
    return f"{report.report_date:%m-%d} {checks.account_label(ctx, report.account_id)}"


def _line(ctx: Ctx, r: DailyReport) -> str:
    state = ""
    if r.rejected:
        state = ctx.t("reports.rejected", reason=r.reject_reason or "")
    elif r.held:
        state = ctx.t("trust.held_mark")
    return ctx.t(
        "streamers.report_line",
        day=f"{r.report_date:%m-%d} {checks.account_label(ctx, r.account_id)}",
        gmv=fmt_yuan(r.gmv_fen),
        duration=fmt_minutes(r.duration_minutes, ctx.locale),
        viewers=fmt_int(r.viewers),
        likes=fmt_int(r.likes),
        orders=fmt_int(r.orders),
        evidence=ctx.t("streamers.has_evidence") if r.evidence_file_id else "",
        state=state,
    )


def card(ctx: Ctx, report: DailyReport, unit_name: str, accounts: str) -> str:
    lines = [
        ctx.t(
            "trust.card_title",
            id=report.id,
            title=title(ctx, report),
            revision=report.revision,
        ),
        ctx.t("trust.card_streamer", id=report.streamer_id, accounts=accounts, unit=unit_name),
        _line(ctx, report),
    ]
    if report.orders > 0:
        lines.append(ctx.t("trust.card_aov", aov=fmt_yuan(report.gmv_fen // report.orders)))
    lines.append(ctx.t("trust.card_rules"))
    lines += checks.rule_lines(ctx, report.flags or [])
    history = [
        r
        for r in repo.reports_of_streamer(
            ctx.session, report.streamer_id, limit=ctx.config.trust.history_shown + 1
        )
        if r.id != report.id
    ][: ctx.config.trust.history_shown]
    lines.append(ctx.t("trust.card_history", n=len(history)))
    lines += [_line(ctx, r) for r in history] or [ctx.t("trust.card_no_history")]
    key = "trust.card_evidence" if report.evidence_file_id else "trust.card_no_evidence"
    lines.append(ctx.t(key))
    return "\n".join(lines)


def attachment(report: DailyReport) -> Reply | None:
    return Reply("", image_path=report.evidence_file_id) if report.evidence_file_id else None


def decide(
    ctx: Ctx, report: DailyReport, approve: bool, reason: str, seen_as: str | None
) -> tuple[Reply, bool]:
    """Clear (approve) or reject a held report, conditional on the revision seen; whether
    this decision was the one stored."""
    name = title(ctx, report)
    if not report.held or report.rejected:
        return ctx.reply("trust.not_held", title=name), False
    if seen_as is not None and seen_as != seen(report):
        return ctx.reply("trust.changed", title=name), False
    now, revision = ctx.clock.now(), report.revision
    owner = ctx.session.get(Streamer, report.streamer_id)
    if approve:
        done = trust.clear_report(ctx.session, report.id, revision, now)
        if done is None:
            return ctx.reply("trust.changed", title=name), False
        action, before, after = "clear_report", {"held": True}, {"held": False}
    else:
        rejected = reject_report(ctx.session, report.id, report.streamer_id, revision, reason, now)
        if rejected is None:
            return ctx.reply("trust.changed", title=name), False
        action, before, after = "reject_report", {"rejected": False}, {"rejected": True}
    repo.audit(
        ctx.session,
        now,
        ctx.person_id,
        action,
        "daily_report",
        report.id,
        before=before,
        after=after,
        note=reason or None,
    )
    ctx.session.refresh(report)
    totals.refresh_day(ctx.session, report.streamer_id, report.report_date, ctx.config)
    if owner is not None:
        owner_locale = notify.locale_of(ctx, owner.person_id)
        account = checks.account_label(ctx, report.account_id, owner_locale)
        if approve:
            notify.to_person(
                ctx,
                owner.person_id,
                f"report_cleared:{report.id}:{revision}",
                "notice.report_cleared",
                date=report.report_date,
                account=account,
            )
        else:
            notify.to_person(
                ctx,
                owner.person_id,
                f"report_rejected:{report.id}:{revision}",
                "notice.report_rejected",
                date=report.report_date,
                account=account,
                reason=reason,
            )
    return ctx.reply("trust.done_clear" if approve else "trust.done_reject", title=name), True
