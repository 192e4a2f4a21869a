"""The award list as the committee reads it: every winner's breakdown (why they are there:
metric values and percentiles; what the next one lacks), and the names and tier labels every
text of the list uses (the groups' text and picture and the winners' notices are
handlers/award_notices.py). Names only (account names, units, enterprise names), never a
phone number."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.i18n import fmt_int, fmt_local, fmt_yuan, translate
from models import board as boards
from models import repo, streamer_names
from models.award_lists import Awards
from models.award_rules import ORG_METRICS
from models.awards import AwardList
from models.scoring import METRICS
from models.units import unit_full_name, units_by_id


@dataclass
class Names:
    """Who is who, for the wins and for the ones right after each cut."""

    accounts: dict[int, str] = field(default_factory=dict)
    streamer_units: dict[int, str] = field(default_factory=dict)
    units: dict[int, str] = field(default_factory=dict)
    enterprises: dict[int, str] = field(default_factory=dict)

    def of(self, kind: str, subject_id: int) -> str:
        table = {"streamer": self.accounts, "organisation": self.units}.get(kind, self.enterprises)
        return table.get(subject_id, "?")


def names(session: Session, awards: Awards) -> Names:
    ids: dict[str, set[int]] = {"streamer": set(), "organisation": set(), "enterprise": set()}
    for w in awards.all():
        ids[w.kind].add(w.subject_id)
        cut = w.breakdown.get("cut")
        if cut and cut.get("next") is not None:
            ids[w.kind].add(cut["next"])
    if awards.closest_enterprise:
        ids["enterprise"].add(awards.closest_enterprise[0])
    streamers = sorted(ids["streamer"])
    units = units_by_id(session, ids["organisation"])
    return Names(
        streamer_names.account_names(session, streamers),
        streamer_names.unit_names(session, streamers),
        {u.id: unit_full_name(session, u) for u in units},
        repo.enterprise_names(session, ids["enterprise"]),
    )


def tier_label(config: FestivalConfig, locale: str, kind: str, tier: str) -> str:
    if kind in ("streamer", "enterprise"):
        return config.award_label(kind, tier, locale)
    return translate(locale, "awards.org_tier")


# ----- the committee's text --------------------------------------------------------------
def committee_text(
    session: Session,
    config: FestivalConfig,
    locale: str,
    awards: Awards,
    frozen: AwardList | None = None,
    in_force: AwardList | None = None,
) -> str:
    """The whole list with breakdowns: provisional (frozen None) or a frozen version."""
    tz = config.calendar.tz
    who = names(session, awards)
    if frozen is None:
        versions = boards.final_boards(session)
        lines = [
            translate(
                locale,
                "awards.title_provisional",
                festival=config.festival.name_in(locale),
                date=fmt_local(awards.board.published_at, tz),
                board_version=len(versions),
            )
        ]
        if in_force is not None:
            lines.append(
                translate(
                    locale,
                    "awards.frozen_note",
                    version=in_force.version,
                    date=fmt_local(in_force.frozen_at, tz),
                )
            )
    else:
        lines = [
            translate(
                locale,
                "awards.title_frozen",
                festival=config.festival.name_in(locale),
                version=frozen.version,
                date=fmt_local(frozen.frozen_at, tz),
            )
        ]
    lines += _streamer_lines(config, locale, awards, who)
    lines += _organisation_lines(config, locale, awards, who)
    lines += _enterprise_lines(config, locale, awards, who)
    return "\n".join(lines)


def _parts(locale: str, parts: list[str]) -> str:
    return translate(
        locale, "awards.metric_line", parts=translate(locale, "awards.metric_sep").join(parts)
    )


def _streamer_lines(config: FestivalConfig, locale: str, awards: Awards, who: Names) -> list[str]:
    lines: list[str] = []
    weights = {m: float(getattr(config.awards.score_weights, m)) for m in METRICS}
    if not awards.streamers:
        return [translate(locale, "awards.no_streamers")]
    tier = None
    for w in awards.streamers:
        if w.tier != tier:
            tier = w.tier
            lines.append(
                translate(
                    locale,
                    "awards.section_streamer",
                    tier=tier_label(config, locale, "streamer", tier),
                )
            )
        amb = translate(locale, "awards.ambassador_tag") if w.ambassador else ""
        lines.append(
            translate(
                locale,
                "awards.streamer_line",
                place=w.place,
                account=who.accounts.get(w.subject_id, "?"),
                unit=who.streamer_units.get(w.subject_id, ""),
                score=f"{w.score or 0:.1f}",
                rank=w.breakdown.get("board_rank", w.place),
                ambassador=amb,
            )
        )
        metrics: dict[str, Any] = w.breakdown.get("metrics", {})
        parts = [
            translate(
                locale,
                "awards.metric_part",
                metric=translate(locale, f"rank.metric_{m}"),
                value=_streamer_value(locale, m, metrics[m]["value"]),
                percentile=f"{metrics[m]['percentile'] * 100:.0f}",
                points=f"{weights[m] * metrics[m]['percentile'] * 100:.1f}",
            )
            for m in METRICS
            if m in metrics
        ]
        lines.append(_parts(locale, parts))
        cut = w.breakdown.get("cut")
        if cut:
            lines.append(_streamer_cut(config, locale, cut, who))
    return lines


def _streamer_value(locale: str, metric: str, value: Any) -> str:
    if metric == "gmv":
        return translate(locale, "rank.value_gmv", gmv=fmt_yuan(int(value)))
    if metric == "live_days":
        return translate(locale, "rank.value_days", days=value)
    if metric == "avg_daily_hours":
        return translate(locale, "rank.value_hours", hours=f"{float(value):.1f}")
    return translate(locale, "rank.value_count", n=fmt_int(int(value)))


def _streamer_cut(config: FestivalConfig, locale: str, cut: dict[str, Any], who: Names) -> str:
    tier = tier_label(config, locale, "streamer", cut["tier"])
    nxt = who.accounts.get(cut["next"], "?")
    score = f"{cut['next_score']:.1f}"
    if cut["decided_by"] == "score":
        gap = f"{cut['points']:.1f}" if cut["points"] >= 0.05 else f"{cut['points']:.3f}"
        return translate(locale, "awards.cut_score", tier=tier, next=nxt, next_score=score, gap=gap)
    if cut["decided_by"] == "gmv":
        return translate(
            locale,
            "awards.cut_gmv",
            tier=tier,
            next=nxt,
            next_score=score,
            gap=fmt_yuan(cut["fen"]),
        )
    return translate(locale, "awards.cut_registration", tier=tier, next=nxt, next_score=score)


def _organisation_lines(
    config: FestivalConfig, locale: str, awards: Awards, who: Names
) -> list[str]:
    lines = [translate(locale, "awards.section_org", n=config.awards.organisation_count)]
    if not awards.organisations:
        return [*lines, translate(locale, "awards.no_units")]
    for w in awards.organisations:
        lines.append(
            translate(
                locale,
                "awards.org_line",
                place=w.place,
                unit=who.units.get(w.subject_id, "?"),
                score=f"{w.score or 0:.1f}",
            )
        )
        metrics: dict[str, Any] = w.breakdown.get("metrics", {})
        parts = [
            translate(
                locale,
                "awards.metric_part",
                metric=translate(locale, f"awards.org_metric_{m}"),
                value=_org_value(locale, m, metrics[m]["value"]),
                percentile=f"{metrics[m]['percentile'] * 100:.0f}",
                points=f"{metrics[m]['points']:.1f}",
            )
            for m in ORG_METRICS
            if m in metrics
        ]
        lines.append(_parts(locale, parts))
        cut = w.breakdown.get("cut")
        if cut:
            lines.append(_org_cut(locale, cut, who))
    return lines


def _org_value(locale: str, metric: str, value: Any) -> str:
    if metric == "sales":
        return translate(locale, "awards.org_value_sales", yuan=fmt_yuan(int(value)))
    return translate(locale, f"awards.org_value_{metric}", n=fmt_int(int(value)))


def _org_cut(locale: str, cut: dict[str, Any], who: Names) -> str:
    nxt = who.units.get(cut["next"], "?")
    score = f"{cut['next_score']:.1f}"
    by = cut["decided_by"]
    if by == "score":
        gap = f"{cut['points']:.1f}" if cut["points"] >= 0.05 else f"{cut['points']:.3f}"
        return translate(locale, "awards.org_cut_score", next=nxt, next_score=score, gap=gap)
    if by == "sales":
        gap = fmt_yuan(cut["fen"])
        return translate(locale, "awards.org_cut_sales", next=nxt, next_score=score, gap=gap)
    if by == "winners":
        return translate(locale, "awards.org_cut_winners", next=nxt, gap=cut["winners"])
    return translate(locale, "awards.org_cut_code", next=nxt)


def _enterprise_lines(config: FestivalConfig, locale: str, awards: Awards, who: Names) -> list[str]:
    until = config.awards.enterprise_tiers_until.isoformat()
    lines = [translate(locale, "awards.section_enterprise", until=until)]
    if not awards.enterprises:
        lines.append(translate(locale, "awards.no_enterprises"))
    for w in awards.enterprises:
        b = w.breakdown
        lines.append(
            translate(
                locale,
                "awards.enterprise_line",
                place=w.place,
                name=who.enterprises.get(w.subject_id, "?"),
                tier=tier_label(config, locale, "enterprise", w.tier),
                received=fmt_yuan(b["received_fen"]),
                min=fmt_yuan(b["min_fen"]),
            )
        )
        if "next" in b:
            lines.append(
                translate(
                    locale,
                    "awards.enterprise_next",
                    tier=tier_label(config, locale, "enterprise", b["next"]["tier"]),
                    lacks=fmt_yuan(b["next"]["lacks_fen"]),
                )
            )
    if awards.closest_enterprise:
        eid, fen, tier, lacks = awards.closest_enterprise
        lines.append(
            translate(
                locale,
                "awards.enterprise_closest",
                name=who.enterprises.get(eid, "?"),
                received=fmt_yuan(fen),
                tier=tier_label(config, locale, "enterprise", tier),
                lacks=fmt_yuan(lacks),
            )
        )
    return lines
