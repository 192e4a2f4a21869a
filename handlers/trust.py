"""The anomaly rules applied to a report as it is stored or corrected: which fire
(models/anomaly_rules.py), holding the report (it stops counting until a reviewer clears it),
holding the other reports that carry the same evidence picture, and what the streamers are
told: that the report waits for a check and which evidence helps, never an accusation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.core.context import Ctx
from bot.core.i18n import fmt_minutes, fmt_yuan, translate
from bot.core.messages import Reply
from handlers import notify
from models import DailyReport, LiveAccount, Person, Streamer, repo, totals, trust
from models import anomaly_rules as rules
from models.anomaly_rules import Flag


@dataclass
class Verdict:
    flags: list[Flag]
    digest: str | None  # the evidence picture's sha256
    sharing: list[DailyReport] = field(default_factory=list)  # other reports, same picture


def judge(
    ctx: Ctx,
    streamer_id: int,
    existing: DailyReport | None,
    figures: rules.Figures,
    evidence: str | None,
) -> Verdict:
    """The rules that fire on these figures (before anything is written: the caller may yet
    ask for a screenshot). `existing` is the report a correction replaces."""
    others = [
        r
        for r in trust.other_reports_of(ctx.session, streamer_id)
        if existing is None or r.id != existing.id
    ]
    digest = trust.evidence_digest(evidence)
    sharing = (
        trust.sharing_evidence(ctx.session, digest, existing.id if existing else 0)
        if digest
        else []
    )
    case = rules.Case(
        report=figures,
        counted=[trust.figures(r) for r in others if not r.held],
        others=[trust.figures(r) for r in others if r.report_date != figures.day],
        same_day_minutes=sum(r.duration_minutes for r in others if r.report_date == figures.day),
        previous_gmv_fen=existing.gmv_fen if existing is not None else None,
        picks_aov_fen=trust.picks_aov_fen(ctx.session, streamer_id),
        filed_at=ctx.clock.now().astimezone(ctx.clock.tz),
        evidence_shared=len(sharing),
    )
    return Verdict(rules.evaluate(case, rules.TrustRules.of(ctx.config)), digest, sharing)


def stored_flags(flags: Sequence[Flag]) -> list[dict[str, Any]]:
    return [f.stored() for f in flags]


def record_hold(ctx: Ctx, report: DailyReport, flags: Sequence[Flag]) -> None:
    """The audit entry of a held revision: which rules fired (/history report ID)."""
    repo.audit(
        ctx.session,
        ctx.clock.now(),
        None,  # the rules, not a person
        "flag",
        "daily_report",
        report.id,
        after={"held": True, "rules": [f.rule for f in flags], "revision": report.revision},
    )


def hold_sharing(ctx: Ctx, report: DailyReport, sharing: Sequence[DailyReport]) -> None:
    """The other reports with the same evidence picture are held too (each streamer told)."""
    for other in sharing:
        present = [f for f in other.flags or [] if f.get("rule") != rules.EVIDENCE_REUSED]
        n = len(trust.sharing_evidence(ctx.session, other.evidence_sha256 or "", other.id))
        flag = Flag(rules.EVIDENCE_REUSED, {"n": n, "report": report.id})
        other.flags = [*present, flag.stored()]
        newly = not other.held
        other.held, other.updated_at = True, ctx.clock.now()
        ctx.session.flush()
        record_hold(ctx, other, [flag])
        totals.refresh_day(ctx.session, other.streamer_id, other.report_date, ctx.config)
        owner = ctx.session.get(Streamer, other.streamer_id)
        if owner is not None and newly:
            notify.to_person(
                ctx,
                owner.person_id,
                f"report_held:{other.id}:{other.revision}:{report.id}",
                "notice.report_held",
                date=other.report_date,
                account=account_label(ctx, other.account_id),
                help=_help(owner_locale(ctx, owner.person_id), [flag.stored()]),
            )


def held_reply(ctx: Ctx, report: DailyReport) -> Reply:
    """What the streamer reads under the saved report: it waits for a check; what helps."""
    return ctx.reply(
        "report.held", date=report.report_date, help=_help(ctx.locale, report.flags or [])
    )


def _help(locale: str, flags: Sequence[dict[str, Any]]) -> str:
    seen: list[str] = []
    for f in flags:
        rule = str(f.get("rule"))
        if rule not in seen:
            seen.append(rule)
    return "\n".join(
        "· " + translate(locale, f"trust.help.{rule}") for rule in seen if rule in rules.RULES
    )


def owner_locale(ctx: Ctx, person_id: int) -> str:
    person = ctx.session.get(Person, person_id)
    return (person.locale if person else None) or ctx.config.locale.default


def rule_lines(ctx: Ctx, flags: Sequence[dict[str, Any]]) -> list[str]:
    """The rules that fired, each with its numbers, for reviewers."""
    return ["· " + ctx.t(f"trust.rule.{f.get('rule')}", **shown(ctx, f)) for f in flags]


def shown(ctx: Ctx, flag: dict[str, Any]) -> dict[str, object]:
    """A stored flag's numbers as the catalogs show them (yuan, hours and minutes)."""
    out: dict[str, object] = {}
    for key, value in flag.items():
        if key.endswith("_fen") and isinstance(value, int | float):
            out[key.removesuffix("_fen")] = fmt_yuan(int(value))
        elif key.endswith("minutes") and isinstance(value, int):
            out[key] = fmt_minutes(value, ctx.locale)
        elif isinstance(value, float) and value.is_integer():
            out[key] = int(value)
        else:
            out[key] = value
    return out


def account_label(ctx: Ctx, account_id: int, locale: str | None = None) -> str:
    """'抖音 甲' / 'Douyin 甲' for the reader (default: the one writing)."""
    account = ctx.session.get(LiveAccount, account_id)
    if account is None:
        return ""
    platform = ctx.config.platform_label(account.platform, locale or ctx.locale)
    return f"{platform} {account.account_name}"


def evidence_missing_key(ctx: Ctx, gmv_fen: int) -> str:
    """Why the screenshot is asked for: every report, a large GMV, or a check."""
    reports = ctx.config.reports
    if reports.evidence == "all":
        return "err.evidence_required"
    if reports.evidence == "above" and gmv_fen > reports.evidence_above_yuan * 100:
        return "err.evidence_above"
    return "err.evidence_for_check"
