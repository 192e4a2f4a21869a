"""Daily livestream report (每日战报) of an approved streamer, one per account and day.
Filing a day again is a correction: the new figures count, the old ones go to the audit log.

```mermaid
flowchart TD
  start([每日战报]) --> ok{approved streamer,<br/>inside the live period?}
  ok -- no --> refuse[explained refusal]
  ok -- yes --> date[date: 今天 / 昨天 / typed, no future] --> acct{more than one account?}
  acct -- yes --> pick[account] --> figures
  acct -- no --> figures[GMV, duration, viewers, likes, orders] --> evidence[screenshot, optional by config]
  evidence --> summary[summary] --> confirm([确认: stored; correction if the day exists])
```
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.core.context import Ctx
from bot.core.forms import Answers, Field, FieldError, Form, Option
from bot.core.i18n import fmt_int, fmt_minutes, fmt_yuan
from bot.core.messages import Reply
from bot.core.parsers import ParseError, parse_date
from handlers import fields as f
from handlers import schemas
from models import DailyReport, ReviewStatus, Streamer, repo, totals
from models.scoring import in_live_period


def _allowed_dates(ctx: Ctx) -> list[dt.date]:
    today = ctx.clock.today()
    days = [today - dt.timedelta(days=n) for n in range(ctx.config.reports.backfill_days + 1)]
    return [d for d in days if _in_period(ctx, d)]


def _in_period(ctx: Ctx, day: dt.date) -> bool:
    if not ctx.config.reports.only_in_live_period:
        return True
    cal = ctx.config.calendar
    return in_live_period(day, cal.live_start, cal.live_end)


def _date_options(ctx: Ctx, _a: Answers) -> list[Option]:
    names = {0: "opt.today", 1: "opt.yesterday", 2: "opt.day_before"}
    today = ctx.clock.today()
    options = []
    for day in _allowed_dates(ctx):
        n = (today - day).days
        label = ctx.t(names[n]) if n in names else ""
        options.append(Option(day.isoformat(), f"{label} {day:%m-%d}".strip()))
    return options


def _date(raw: str, ctx: Ctx, _a: Answers) -> str:
    day = parse_date(raw, today=ctx.clock.today(), max_back_days=ctx.config.reports.backfill_days)
    if not _in_period(ctx, day):
        cal = ctx.config.calendar
        raise ParseError("err.outside_live_period", start=cal.live_start, end=cal.live_end)
    return day.isoformat()


def _streamer(ctx: Ctx) -> Streamer | None:
    """The reporting person's registration, looked up once per step (the form asks for it
    in several places: who may report, which accounts, the confirm)."""
    if "report_streamer" not in ctx.extra:
        ctx.extra["report_streamer"] = repo.streamer_of_person(ctx.session, ctx.person_id)
    found: Streamer | None = ctx.extra["report_streamer"]
    return found


def _account_options(ctx: Ctx, _a: Answers) -> list[Option]:
    """The person's accounts; once per step (every step of the form asks whether there are
    several, to know whether the account question applies)."""
    if "report_accounts" not in ctx.extra:
        streamer = _streamer(ctx)
        accounts = repo.accounts_of(ctx.session, streamer.id) if streamer else []
        ctx.extra["report_accounts"] = [
            Option(str(a.id), f"{ctx.config.platform_label(a.platform)} {a.account_name}")
            for a in accounts
        ]
    options: list[Option] = ctx.extra["report_accounts"]
    return options


def _several_accounts(_a: Answers, ctx: Ctx) -> bool:
    return len(_account_options(ctx, {})) > 1


def _evidence_prompt(ctx: Ctx, _a: Answers) -> dict[str, object]:
    key = (
        "report.evidence_required"
        if ctx.config.reports.evidence_required
        else "report.evidence_optional"
    )
    return {"rule": ctx.t(key)}


FIELDS = (
    Field(
        "report_date",
        "ask.report_date",
        "label.report_date",
        options=_date_options,
        parse=_date,
        show=lambda v, c: str(v),
    ),
    Field(
        "account_id",
        "ask.account",
        "label.account",
        options=_account_options,
        when=_several_accounts,
    ),
    Field(
        "gmv_fen",
        "ask.gmv",
        "label.gmv",
        parse=f.Money(limit=lambda c: c.config.reports.max_gmv_yuan),
        show=f.show_yuan,
        heading="export.col.gmv",
    ),
    Field(
        "duration_minutes",
        "ask.duration",
        "label.duration",
        parse=f.Minutes(limit=lambda c: c.config.reports.max_hours_per_report),
        show=f.show_minutes,
        heading="export.col.duration_minutes",
    ),
    Field(
        "viewers",
        "ask.viewers",
        "label.viewers",
        parse=f.count(limit=lambda c: c.config.plausibility.max_cumulative),
        show=f.show_int,
        heading="export.col.viewers",
    ),
    Field(
        "likes",
        "ask.likes",
        "label.likes",
        parse=f.count(limit=lambda c: c.config.plausibility.max_cumulative),
        show=f.show_int,
        heading="export.col.likes",
    ),
    Field(
        "orders",
        "ask.orders",
        "label.orders",
        parse=f.count(limit=lambda c: c.config.plausibility.max_cumulative),
        show=f.show_int,
        heading="export.col.orders",
    ),
    Field(
        "evidence_file_id",
        "ask.evidence",
        "label.evidence",
        accepts_photo=True,
        optional=lambda ctx: not ctx.config.reports.evidence_required,
        prompt_params=_evidence_prompt,
        show=lambda v, c: c.t("form.photo_received"),
    ),
)

# The figures validated once more at confirm, and those stored as they are (the audit's
# figures, the spreadsheet's columns): all from the fields.
Figures = schemas.model_of("DailyFigures", FIELDS, schemas.ReportDerived)
STORED = schemas.stored_fields(FIELDS, DailyReport, schemas.ReportDerived)


def refusal(ctx: Ctx) -> Reply | None:
    """Why this person cannot report now, or None."""
    streamer = _streamer(ctx)
    if streamer is None:
        return ctx.reply("report.not_registered")
    if streamer.status != ReviewStatus.APPROVED:
        return ctx.reply("report.not_approved", status=ctx.t(f"status.{streamer.status}"))
    if not _allowed_dates(ctx):
        cal = ctx.config.calendar
        return ctx.reply("report.outside_period", start=cal.live_start, end=cal.live_end)
    return None


def start_answers(ctx: Ctx) -> Answers:
    options = _account_options(ctx, {})
    return {"preset_account": options[0].value} if len(options) == 1 else {}


def on_confirm(ctx: Ctx, a: Answers) -> list[Reply]:
    """Stores the day's figures; an existing day is corrected and its old figures audited."""
    if ctx.config.reports.evidence_required and not a.get("evidence_file_id"):
        raise FieldError("evidence_file_id", "err.evidence_required")
    streamer = _streamer(ctx)
    if streamer is None or streamer.status != ReviewStatus.APPROVED:
        return [refusal(ctx) or ctx.reply("report.not_registered")]
    try:  # the day may have ended while the form was open
        _date(a["report_date"], ctx, a)
    except ParseError as err:
        raise FieldError("report_date", err.key, **err.params) from err
    figures = Figures.model_validate(
        {**a, "account_id": a.get("account_id") or a.get("preset_account")}
    )
    account_ids = {int(o.value) for o in _account_options(ctx, {})}
    if figures.account_id not in account_ids:
        raise FieldError("account_id", "err.stale_choice")
    now = ctx.clock.now()
    report = repo.report_of(ctx.session, figures.account_id, figures.report_date)
    values = schemas.row_values(
        figures.model_dump(), DailyReport, exclude=("account_id", "report_date")
    )
    if report is None:
        report = DailyReport(
            account_id=figures.account_id,
            streamer_id=streamer.id,
            report_date=figures.report_date,
            created_at=now,
            updated_at=now,
            **values,
        )
        ctx.session.add(report)
        ctx.session.flush()
        repo.audit(
            ctx.session,
            now,
            ctx.person_id,
            "report",
            "daily_report",
            report.id,
            after=_figures(report),
        )
        key = "report.saved"
    else:
        before = _figures(report)
        for name, value in values.items():
            setattr(report, name, value)
        report.revision += 1
        report.rejected, report.reject_reason, report.updated_at = False, None, now
        ctx.session.flush()
        repo.audit(
            ctx.session,
            now,
            ctx.person_id,
            "correct",
            "daily_report",
            report.id,
            before=before,
            after=_figures(report),
        )
        key = "report.corrected"
    # The board reads maintained totals, so they move in this same transaction.
    totals.refresh_day(ctx.session, streamer.id, figures.report_date, ctx.config)
    return [
        ctx.reply(
            key,
            date=figures.report_date,
            gmv=fmt_yuan(report.gmv_fen),
            duration=fmt_minutes(report.duration_minutes, ctx.locale),
            viewers=fmt_int(report.viewers),
            likes=fmt_int(report.likes),
        )
    ]


def _figures(r: DailyReport) -> dict[str, Any]:
    return {
        "date": r.report_date.isoformat(),
        "account_id": r.account_id,
        **{field.name: getattr(r, field.name) for field in STORED},
        "revision": r.revision,
    }


FORM = Form("report", "report.summary_title", FIELDS, on_confirm)
