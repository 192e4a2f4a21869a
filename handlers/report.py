"""Daily livestream report (每日战报) of an approved streamer, one per account and day.
Filing a day again is a correction: the new figures count, the old ones go to the audit log.

```mermaid
flowchart TD
  start([每日战报]) --> ok{approved streamer,<br/>inside the live period?}
  ok -- no --> refuse[explained refusal]
  ok -- yes --> date[date: 今天 / 昨天 / typed, no future] --> acct{more than one account?}
  acct -- yes --> pick[account] --> figures
  acct -- no --> figures[GMV, duration, viewers, likes, orders] --> evidence[screenshot, by config]
  evidence --> summary[summary] --> confirm([确认: stored; correction if the day exists])
  confirm --> rules{anomaly rules}
  rules -- a rule fires --> held([held: waits for a check, the helpful evidence named])
```

Longer than 300 lines on purpose: one form (the daily report's fields, its diagram) with its
confirmation and its checks: a form is data and reads best whole.
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
from handlers import trust as checks
from models import DailyReport, ReviewStatus, Streamer, picks, repo, totals
from models.anomaly_rules import Figures as RuleFigures
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
    """A button for each day that can still be reported (reports.backfill_days, inside the
    live period), each named by how long ago it was and its date."""
    names = {0: "opt.today", 1: "opt.yesterday", 2: "opt.day_before"}
    today = ctx.clock.today()
    options = []
    for day in _allowed_dates(ctx):
        n = (today - day).days
        label = ctx.t(names[n]) if n in names else ctx.t("opt.days_ago", n=n)
        options.append(Option(day.isoformat(), f"{label} {day:%m-%d}"))
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
            Option(
                str(a.id), f"{ctx.config.platform_label(a.platform, ctx.locale)} {a.account_name}"
            )
            for a in accounts
        ]
    options: list[Option] = ctx.extra["report_accounts"]
    return options


def _several_accounts(_a: Answers, ctx: Ctx) -> bool:
    return len(_account_options(ctx, {})) > 1


# ----- the GMV split across picked products (选品) ---------------------------------------
def _picked(ctx: Ctx) -> list[Option]:
    """The streamer's picked products that can be sold, once per step."""
    if "report_picks" not in ctx.extra:
        streamer = _streamer(ctx)
        rows = picks.picks_of(ctx.session, streamer.id) if streamer else []
        ctx.extra["report_picks"] = [Option(str(r.product_id), r.name) for r in rows]
    found: list[Option] = ctx.extra["report_picks"]
    return found


def _has_picks(a: Answers, ctx: Ctx) -> bool:
    """Whether the split question applies: as the streamer's picks stood when the report
    began (`start_answers`), so the other steps of the form need not ask the database; a
    draft begun before that snapshot existed asks."""
    if "has_picks" in a:
        return a["has_picks"] == "1"
    return bool(_picked(ctx))


def _splitting(a: Answers, ctx: Ctx) -> bool:
    # the picks as they are now: one picked since the report began can be split onto too
    return a.get("split_wanted") == "yes" and bool(_picked(ctx))


def _form_answers(ctx: Ctx) -> Answers:
    """The whole report's answers, for a question of one split item (which sees its item)."""
    answers: Answers = ctx.state.data.get("form", {}).get("answers", {})
    return answers


def _others(ctx: Ctx, item: Answers) -> list[Answers]:
    return [other for other in _form_answers(ctx).get("split", []) if other is not item]


def _left(ctx: Ctx, item: Answers) -> int:
    """Fen of the report's GMV not yet assigned to another product."""
    taken = sum(int(o.get("gmv_fen") or 0) for o in _others(ctx, item))
    return int(_form_answers(ctx).get("gmv_fen") or 0) - taken


def _split_product_options(ctx: Ctx, item: Answers) -> list[Option]:
    used = {o.get("product_id") for o in _others(ctx, item)}
    return [o for o in _picked(ctx) if o.value not in used]


def _within_gmv(fen: Any, ctx: Ctx, item: Answers) -> None:
    """A product's part may not exceed what is left of the report's GMV."""
    left = _left(ctx, item)
    if fen > left:
        gmv = int(_form_answers(ctx).get("gmv_fen") or 0)
        raise ParseError("err.split_exceeds", gmv=fmt_yuan(gmv), left=fmt_yuan(max(left, 0)))


def _split_wanted_params(ctx: Ctx, a: Answers) -> dict[str, object]:
    return {"gmv": fmt_yuan(int(a.get("gmv_fen") or 0))}


def _split_gmv_params(ctx: Ctx, item: Answers) -> dict[str, object]:
    names = {o.value: o.label for o in _picked(ctx)}
    return {
        "product": names.get(str(item.get("product_id")), ""),
        "gmv": fmt_yuan(int(_form_answers(ctx).get("gmv_fen") or 0)),
        "left": fmt_yuan(max(_left(ctx, item), 0)),
    }


SPLIT = Form(
    "split",
    "label.split",
    (
        Field(
            "product_id",
            "ask.split_product",
            "label.split_product",
            options=_split_product_options,
        ),
        Field(
            "gmv_fen",
            "ask.split_gmv",
            "label.split_gmv",
            parse=f.Money(limit=lambda c: c.config.reports.max_gmv_yuan).then(_within_gmv),
            show=f.show_yuan,
            prompt_params=_split_gmv_params,
        ),
    ),
    on_confirm=lambda _ctx, _a: [],
    item_label="label.split_item",
)


def _existing(ctx: Ctx, a: Answers) -> DailyReport | None:
    """The report already filed for the chosen day and account (this form then corrects
    it), looked up once per step."""
    account = a.get("account_id") or a.get("preset_account")
    day = a.get("report_date")
    if not account or not day:
        return None
    key = f"report_existing:{account}:{day}"
    if key not in ctx.extra:
        ctx.extra[key] = repo.report_of(ctx.session, int(account), dt.date.fromisoformat(str(day)))
    found: DailyReport | None = ctx.extra[key]
    return found


def _gmv_prompt(ctx: Ctx, a: Answers) -> dict[str, object]:
    """Before the figures: the day already has a report, what it says, and that filling in
    corrects it (its screenshot kept unless a new one is sent)."""
    old = _existing(ctx, a)
    if old is None:
        return {"existing": ""}
    note = ctx.t(
        "report.day_has_report",
        date=old.report_date,
        gmv=fmt_yuan(old.gmv_fen),
        duration=fmt_minutes(old.duration_minutes, ctx.locale),
        viewers=fmt_int(old.viewers),
        evidence=ctx.t("report.has_evidence" if old.evidence_file_id else "report.no_evidence"),
    )
    return {"existing": note + "\n"}


def _evidence_prompt(ctx: Ctx, _a: Answers) -> dict[str, object]:
    reports = ctx.config.reports
    if reports.evidence == "above":
        return {"rule": ctx.t("report.evidence_above", amount=fmt_int(reports.evidence_above_yuan))}
    key = {"all": "report.evidence_required", "flagged": "report.evidence_flagged"}
    return {"rule": ctx.t(key.get(reports.evidence, "report.evidence_optional"))}


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
        resets=("split_wanted", "split"),  # a new GMV is split anew
        prompt_params=_gmv_prompt,
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
        "split_wanted",
        "ask.split_wanted",
        "label.split_wanted",
        options=f.yes_no_options,
        parse=f.yes_no_parse,
        show=lambda v, c: c.t("opt.yes") if v == "yes" else c.t("opt.no"),
        when=_has_picks,
        prompt_params=_split_wanted_params,
    ),
    Field(
        "split",
        "ask.split_product",
        "label.split",
        group=SPLIT,
        when=_splitting,
        max_items=lambda ctx: len(_picked(ctx)),
    ),
    Field(
        "evidence_file_id",
        "ask.evidence",
        "label.evidence",
        accepts_photo=True,
        optional=lambda ctx: ctx.config.reports.evidence != "all",
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
    answers: Answers = {"has_picks": "1" if _picked(ctx) else "0"}
    if len(options) == 1:
        answers["preset_account"] = options[0].value
    return answers


def on_confirm(ctx: Ctx, a: Answers) -> list[Reply]:
    """Stores the day's figures; an existing day is corrected and its old figures audited.
    A report an anomaly rule flags is stored held (handlers/trust.py)."""
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
    split = _split_of(ctx, a, a["gmv_fen"])  # checked before anything is written
    now = ctx.clock.now()
    report = repo.report_of(ctx.session, figures.account_id, figures.report_date)
    values = schemas.row_values(
        figures.model_dump(), DailyReport, exclude=("account_id", "report_date")
    )
    evidence = a.get("evidence_file_id")
    if report is not None and not evidence and report.evidence_file_id:
        # a correction without a new screenshot keeps the day's earlier one
        evidence = report.evidence_file_id
        values["evidence_file_id"] = evidence
    verdict = checks.judge(
        ctx,
        streamer.id,
        report,
        RuleFigures(
            figures.report_date,
            values["gmv_fen"],
            values["duration_minutes"],
            values["viewers"],
            values["likes"],
            values["orders"],
        ),
        evidence,
    )
    if not evidence and ctx.config.reports.evidence_needed(values["gmv_fen"], bool(verdict.flags)):
        raise FieldError(
            "evidence_file_id",
            checks.evidence_missing_key(ctx, values["gmv_fen"]),
            amount=fmt_int(ctx.config.reports.evidence_above_yuan),
        )
    values.update(
        evidence_sha256=verdict.digest,
        held=bool(verdict.flags),
        flags=checks.stored_flags(verdict.flags),
    )
    created = report is None
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
    picks.replace_splits(ctx.session, report.id, split, new=created)
    if verdict.flags:
        checks.record_hold(ctx, report, verdict.flags)
    # The board reads maintained totals, so they move in this same transaction.
    totals.refresh_day(ctx.session, streamer.id, figures.report_date, ctx.config)
    checks.hold_sharing(ctx, report, verdict.sharing)
    saved = ctx.reply(
        key,
        date=figures.report_date,
        gmv=fmt_yuan(report.gmv_fen),
        duration=fmt_minutes(report.duration_minutes, ctx.locale),
        viewers=fmt_int(report.viewers),
        likes=fmt_int(report.likes),
    )
    return [saved, checks.held_reply(ctx, report)] if report.held else [saved]


def _split_of(ctx: Ctx, a: Answers, gmv_fen: int) -> dict[int, int]:
    """The report's GMV split across picked products (product id -> fen). A product dropped
    (or withdrawn) while the form was open is left unassigned."""
    split: dict[int, int] = {}
    if a.get("split_wanted") == "yes":
        picked = {int(o.value) for o in _picked(ctx)}
        for item in a.get("split") or []:
            pid, fen = int(item["product_id"]), int(item["gmv_fen"])
            if pid in picked and fen > 0:
                split[pid] = split.get(pid, 0) + fen
    if sum(split.values()) > gmv_fen:
        raise FieldError(
            "gmv_fen", "err.split_sum", sum=fmt_yuan(sum(split.values())), gmv=fmt_yuan(gmv_fen)
        )
    return split


def _figures(r: DailyReport) -> dict[str, Any]:
    return {
        "date": r.report_date.isoformat(),
        "account_id": r.account_id,
        **{field.name: getattr(r, field.name) for field in STORED},
        "revision": r.revision,
    }


FORM = Form("report", "report.summary_title", FIELDS, on_confirm)
