"""The anomaly rules, pure: does a stored daily report look wrong against the streamer's own
history, the products they picked, and the other reports' evidence? A report any rule flags is
held (it does not count on boards) until a reviewer clears or rejects it.

Input plausibility (impossible values, wrong units) is checked by the form's parsers; these
rules judge figures that passed them. Likes far above viewers are normal on Douyin live: not a
rule. Every threshold comes from config `trust:` (and `reports.backfill_days`).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# The rules' names: what is stored on a flagged report and what the catalogs label
# (trust.rule.NAME, trust.help.NAME).
GMV_SPIKE = "gmv_spike"
ORDERS_ABOVE_VIEWERS = "orders_above_viewers"
AOV_BOUNDS = "aov_bounds"
AOV_PICKS = "aov_picks"
CORRECTION_RAISE = "correction_raise"
REPEATED_FIGURES = "repeated_figures"
DAY_HOURS = "day_hours"
BACKFILL_EDGE = "backfill_edge"
EVIDENCE_REUSED = "evidence_reused"
RULES = (
    GMV_SPIKE,
    ORDERS_ABOVE_VIEWERS,
    AOV_BOUNDS,
    AOV_PICKS,
    CORRECTION_RAISE,
    REPEATED_FIGURES,
    DAY_HOURS,
    BACKFILL_EDGE,
    EVIDENCE_REUSED,
)


@dataclass(frozen=True)
class Figures:
    """One report's figures (an account's day)."""

    day: dt.date
    gmv_fen: int
    minutes: int
    viewers: int
    likes: int
    orders: int

    def key(self) -> tuple[int, int, int, int, int]:
        return (self.gmv_fen, self.minutes, self.viewers, self.likes, self.orders)


@dataclass(frozen=True)
class Flag:
    """A rule that fired, with the numbers that made it fire (fen, minutes, counts)."""

    rule: str
    params: dict[str, Any] = field(default_factory=dict)

    def stored(self) -> dict[str, Any]:
        return {"rule": self.rule, **self.params}


@dataclass(frozen=True)
class TrustRules:
    median_factor: float
    median_after_reports: int
    aov_factor: float
    aov_min_fen: float
    aov_max_fen: float
    correction_raise_percent: int
    max_day_minutes: int
    backfill_days: int
    backfill_edge_hours: int

    @classmethod
    def of(cls, config: Any) -> TrustRules:
        """From the festival config (its `trust` and `reports` sections)."""
        t = config.trust
        return cls(
            median_factor=t.median_factor,
            median_after_reports=t.median_after_reports,
            aov_factor=t.aov_factor,
            aov_min_fen=t.aov_min_yuan * 100,
            aov_max_fen=t.aov_max_yuan * 100,
            correction_raise_percent=t.correction_raise_percent,
            max_day_minutes=t.max_day_hours * 60,
            backfill_days=config.reports.backfill_days,
            backfill_edge_hours=t.backfill_edge_hours,
        )


@dataclass(frozen=True)
class Case:
    """A report as stored, and what it is judged against."""

    report: Figures
    # the streamer's other reports (other days or accounts) that count: not rejected, not held
    counted: Sequence[Figures] = ()
    # the streamer's other reports of other days that are not rejected (held ones included)
    others: Sequence[Figures] = ()
    same_day_minutes: int = 0  # the streamer's other reports of the same day (other platforms)
    previous_gmv_fen: int | None = None  # a correction: the GMV it replaces
    picks_aov_fen: float | None = None  # 附件1 average order value of the picked products
    filed_at: dt.datetime | None = None  # local time (the festival's time zone)
    evidence_shared: int = 0  # other reports with the same evidence picture


# ----- the rules, one function each -------------------------------------------------------
def gmv_spike(report: Figures, counted: Sequence[Figures], rules: TrustRules) -> Flag | None:
    """GMV above k x the median of the streamer's own counted reports, once there are enough
    of them (days without sales left out: a median of zeros says nothing)."""
    earlier = [f.gmv_fen for f in counted if f.gmv_fen > 0]
    if len(earlier) < rules.median_after_reports:
        return None
    median = statistics.median(earlier)
    if report.gmv_fen > rules.median_factor * median:
        return Flag(GMV_SPIKE, {"median_fen": int(median), "factor": rules.median_factor})
    return None


def orders_above_viewers(report: Figures) -> Flag | None:
    """More orders than people who watched."""
    if report.orders > report.viewers:
        return Flag(ORDERS_ABOVE_VIEWERS, {"orders": report.orders, "viewers": report.viewers})
    return None


def aov_bounds(report: Figures, rules: TrustRules) -> Flag | None:
    """GMV / orders outside the configured bounds (no orders: nothing to divide)."""
    if report.orders <= 0 or report.gmv_fen <= 0:
        return None
    aov = report.gmv_fen / report.orders
    if aov < rules.aov_min_fen or aov > rules.aov_max_fen:
        return Flag(AOV_BOUNDS, {"aov_fen": round(aov)})
    return None


def aov_picks(report: Figures, picks_aov_fen: float | None, rules: TrustRules) -> Flag | None:
    """GMV / orders beyond x times (or below 1/x of) the average order value of the products
    the streamer picked, as their enterprises stated it in 附件1 (turnover / orders)."""
    if not picks_aov_fen or report.orders <= 0 or report.gmv_fen <= 0:
        return None
    aov = report.gmv_fen / report.orders
    if aov > picks_aov_fen * rules.aov_factor or aov < picks_aov_fen / rules.aov_factor:
        return Flag(AOV_PICKS, {"aov_fen": round(aov), "picks_aov_fen": round(picks_aov_fen)})
    return None


def correction_raise(
    report: Figures, previous_gmv_fen: int | None, rules: TrustRules
) -> Flag | None:
    """A correction raising GMV by more than x% (a correction of a zero GMV is judged by the
    other rules: x% of nothing is nothing)."""
    if previous_gmv_fen is None or previous_gmv_fen <= 0:
        return None
    if report.gmv_fen * 100 > previous_gmv_fen * (100 + rules.correction_raise_percent):
        return Flag(CORRECTION_RAISE, {"before_fen": previous_gmv_fen, "after_fen": report.gmv_fen})
    return None


def repeated_figures(report: Figures, others: Sequence[Figures]) -> Flag | None:
    """Exactly the same figures as on another day (with sales: a day of zeros may repeat)."""
    if report.gmv_fen <= 0:
        return None
    for other in others:
        if other.day != report.day and other.key() == report.key():
            return Flag(REPEATED_FIGURES, {"other_day": other.day.isoformat()})
    return None


def day_hours(report: Figures, same_day_minutes: int, rules: TrustRules) -> Flag | None:
    """The day's reports (every platform) summing past the cap."""
    total = report.minutes + same_day_minutes
    if total > rules.max_day_minutes:
        return Flag(DAY_HOURS, {"minutes": total, "cap_minutes": rules.max_day_minutes})
    return None


def backfill_edge(report: Figures, filed_at: dt.datetime | None, rules: TrustRules) -> Flag | None:
    """A day reported afterwards in the last hours before its backfill window closes (the
    window of day D closes at midnight ending day D + backfill_days). A report filed on its own
    day is not: the evening after the stream is when honest reports come."""
    if filed_at is None or rules.backfill_edge_hours <= 0 or filed_at.date() <= report.day:
        return None
    closes = dt.datetime.combine(
        report.day + dt.timedelta(days=rules.backfill_days + 1), dt.time(), filed_at.tzinfo
    )
    if closes - dt.timedelta(hours=rules.backfill_edge_hours) <= filed_at < closes:
        return Flag(BACKFILL_EDGE, {"hours": rules.backfill_edge_hours})
    return None


def evidence_reused(shared: int) -> Flag | None:
    """The same evidence picture (by content) on another report, this streamer's or not."""
    return Flag(EVIDENCE_REUSED, {"n": shared}) if shared > 0 else None


def evaluate(case: Case, rules: TrustRules) -> list[Flag]:
    """Every rule that fires on the report, in RULES order."""
    r = case.report
    found = (
        gmv_spike(r, case.counted, rules),
        orders_above_viewers(r),
        aov_bounds(r, rules),
        aov_picks(r, case.picks_aov_fen, rules),
        correction_raise(r, case.previous_gmv_fen, rules),
        repeated_figures(r, case.others),
        day_hours(r, case.same_day_minutes, rules),
        backfill_edge(r, case.filed_at, rules),
        evidence_reused(case.evidence_shared),
    )
    return [f for f in found if f is not None]
