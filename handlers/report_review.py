"""Report review: a daily report counts as soon as it is filed (unless an anomaly rule holds
it: handlers/trust.py, cleared in /review); the committee and the streamer's unit contact can
look at a streamer's reports with their evidence pictures (/streamers, /streamer ID) and
reject one with a reason. The streamer is told and corrects it by reporting the same day
again.
"""

from __future__ import annotations

import datetime as dt

from bot.core.context import Ctx
from bot.core.i18n import fmt_int, fmt_minutes, fmt_typed, fmt_yuan
from bot.core.messages import Button, Reply
from bot.core.parsers import normalize
from handlers import notify
from handlers import review_items as items
from handlers import trust as checks
from handlers.reasons import REASON_MAX, typed_reason
from models import DailyReport, Unit, repo, totals
from models.streamers import count_streamers, reject_report, streamers_page
from models.units import unit_full_name

FLOW = "report_review"
SHOWN = 10  # latest reports on a streamer's card


def streamers(ctx: Ctx) -> list[Reply]:
    """/streamers [PAGE]: the streamers in the reviewer's scope, a page at a time."""
    arg = normalize(ctx.incoming.args)
    page = int(arg) if arg.isdigit() and len(arg) < 6 else 1
    units = None if ctx.scope.committee else ctx.scope.unit_ids
    total = count_streamers(ctx.session, units)
    if total == 0:
        return [ctx.reply("streamers.none")]
    size = ctx.config.committee.review_page_size
    pages = -(-total // size)
    page = min(max(page, 1), pages)
    lines = [ctx.t("streamers.title", n=total, page=page, pages=pages)]
    for s in streamers_page(ctx.session, units, (page - 1) * size, size):
        unit = ctx.session.get(Unit, s.unit_id)
        lines.append(
            ctx.t(
                "streamers.line",
                id=s.id,
                accounts=items.account_names(ctx, s.id),
                unit=unit_full_name(ctx.session, unit) if unit else "",
                status=ctx.t(f"status.{s.status}"),
            )
        )
    lines.append(ctx.t("streamers.hint"))
    nav = []
    if page > 1:
        nav.append(ctx.button("btn.prev_page", f"cmd:streamers {page - 1}"))
    if page < pages:
        nav.append(ctx.button("btn.next_page", f"cmd:streamers {page + 1}"))
    return [Reply("\n".join(lines), (tuple(nav),) if nav else (), numbered=True)]


def streamer(ctx: Ctx) -> list[Reply]:
    """/streamer ID: the registration card and the latest reports, with evidence and reject."""
    arg = normalize(ctx.incoming.args)
    item = items.load(ctx, "s", int(arg)) if arg.isdigit() and len(arg) < 18 else None
    if item is None:
        return [ctx.reply("streamers.not_found", id=fmt_typed(arg))]
    ctx.state.flow = FLOW
    ctx.state.data = {"streamer": item.row.id}
    return _card(ctx, item)


def _card(ctx: Ctx, item: items.Item) -> list[Reply]:
    reports = repo.reports_of_streamer(ctx.session, item.row.id, limit=SHOWN)
    platforms = {
        a.id: ctx.config.platform_label(a.platform, ctx.locale)
        for a in repo.accounts_of(ctx.session, item.row.id)
    }
    lines = [items.card(ctx, item), ctx.t("streamers.reports_title", n=len(reports))]
    rows: list[tuple[Button, ...]] = []
    for r in reports:
        day = f"{r.report_date:%m-%d} {platforms.get(r.account_id, '')}"
        state = ctx.t("reports.rejected", reason=r.reject_reason or "") if r.rejected else ""
        if r.held and not r.rejected:  # waits for a check: /review clears it
            state = ctx.t("trust.held_mark")
        lines.append(
            ctx.t(
                "streamers.report_line",
                day=day,
                gmv=fmt_yuan(r.gmv_fen),
                duration=fmt_minutes(r.duration_minutes, ctx.locale),
                viewers=fmt_int(r.viewers),
                likes=fmt_int(r.likes),
                orders=fmt_int(r.orders),
                evidence=ctx.t("streamers.has_evidence") if r.evidence_file_id else "",
                state=state,
            )
        )
        row = []
        if r.evidence_file_id:
            row.append(ctx.button("btn.evidence", f"rr:pic:{r.id}", day=day))
        if not r.rejected:
            row.append(ctx.button("btn.reject_report", f"rr:no:{r.id}:{r.revision}", day=day))
        if row:
            rows.append(tuple(row))
    rows.append((ctx.button("btn.end_review", "rr:end"),))
    return [Reply("\n".join(lines), tuple(rows), numbered=True)]


def report_review_flow(ctx: Ctx) -> list[Reply]:
    data = ctx.state.data
    item = items.load(ctx, "s", int(data.get("streamer", 0)))
    if item is None:
        ctx.state.clear()
        return [ctx.reply("streamers.not_found", id=data.get("streamer", ""))]
    if ctx.extra.get("reprompt"):
        return _reason_prompt(ctx) if data.get("reject") else _card(ctx, item)
    action = ctx.action or ""
    if data.get("reject"):
        if action == "rr:back":
            data.pop("reject")
            return _card(ctx, item)
        reason = typed_reason(ctx)
        if isinstance(reason, Reply):  # no reason yet: said why, asked again
            return [reason, *_reason_prompt(ctx)]
        report_id, revision = data.pop("reject")
        return [_reject(ctx, item, report_id, revision, reason), *_card(ctx, item)]
    kind, _, rest = action.removeprefix("rr:").partition(":")
    report = _report(ctx, item, rest.partition(":")[0])
    if kind == "pic" and report is not None and report.evidence_file_id:
        return [
            Reply(
                ctx.t("streamers.evidence_of", day=report.report_date),
                image_path=report.evidence_file_id,
            )
        ]
    if kind == "no" and report is not None:
        revision = rest.partition(":")[2]
        data["reject"] = [report.id, int(revision) if revision.isdigit() else 0]
        return _reason_prompt(ctx)
    if kind == "end":
        ctx.state.clear()
        return [ctx.reply("review.ended")]
    return [ctx.reply("review.use_buttons"), *_card(ctx, item)]


def _report(ctx: Ctx, item: items.Item, raw: str) -> DailyReport | None:
    report = ctx.session.get(DailyReport, int(raw)) if raw.isdigit() and len(raw) < 18 else None
    return report if report is not None and report.streamer_id == item.row.id else None


def _reason_prompt(ctx: Ctx) -> list[Reply]:
    return [
        Reply(ctx.t("review.ask_reason", max=REASON_MAX), ((ctx.button("btn.back", "rr:back"),),))
    ]


def _reject(ctx: Ctx, item: items.Item, report_id: int, revision: int, reason: str) -> Reply:
    day = reject(ctx, item.row.id, item.owner, report_id, revision, reason)
    if day is None:
        return ctx.reply("streamers.report_changed")
    return ctx.reply("streamers.report_rejected", date=day)


def reject(
    ctx: Ctx, streamer_id: int, owner: int, report_id: int, revision: int, reason: str
) -> dt.date | None:
    """Rejects this revision of the streamer's report with a reason (audited), refreshes the
    streamer's totals of that day and tells the streamer (`owner`): the day, or None when the
    report was corrected or rejected meanwhile. The one rejection path (/streamer, /audit)."""
    now = ctx.clock.now()
    # Only the figures the reviewer saw: a correction filed meanwhile is a new revision.
    done = reject_report(ctx.session, report_id, streamer_id, revision, reason, now)
    if done is None:
        return None
    day, account_id = done
    repo.audit(
        ctx.session,
        now,
        ctx.person_id,
        "reject_report",
        "daily_report",
        report_id,
        before={"rejected": False},
        after={"rejected": True},
        note=reason,
    )
    totals.refresh_day(ctx.session, streamer_id, day, ctx.config)
    notify.to_person(
        ctx,
        owner,
        f"report_rejected:{report_id}:{revision}",
        "notice.report_rejected",
        date=day,
        account=checks.account_label(ctx, account_id, notify.locale_of(ctx, owner)),
        reason=reason,
    )
    return day
