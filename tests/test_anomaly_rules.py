"""The anomaly rules as case tables: each fires just past its threshold and not at it, the
thresholds read from the shipped config (trust:, reports.backfill_days)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest

from bot.config import FestivalConfig
from models import anomaly_rules as ar
from models.anomaly_rules import Case, Figures, TrustRules

DAY = dt.date(2020, 11, 10)
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def rules(config: FestivalConfig) -> TrustRules:
    return TrustRules.of(config)


def fig(
    gmv: int = 300_000,
    minutes: int = 120,
    viewers: int = 1_000,
    likes: int = 50,
    orders: int = 50,
    day: dt.date = DAY,
) -> Figures:
    return Figures(day, gmv, minutes, viewers, likes, orders)


def history(*gmvs: int) -> list[Figures]:
    return [fig(gmv=g, day=DAY - dt.timedelta(days=n + 1)) for n, g in enumerate(gmvs)]


def test_thresholds_come_from_the_config(config: FestivalConfig, rules: TrustRules) -> None:
    assert rules.median_factor == config.trust.median_factor
    assert rules.max_day_minutes == config.trust.max_day_hours * 60
    assert rules.aov_max_fen == config.trust.aov_max_yuan * 100
    assert rules.backfill_days == config.reports.backfill_days


# ----- GMV above k x the streamer's own median ------------------------------------------
def test_gmv_spike(rules: TrustRules) -> None:
    n, k = rules.median_after_reports, rules.median_factor
    earlier = history(*[10_000] * n)  # median 100 yuan
    limit = int(k * 10_000)
    assert ar.gmv_spike(fig(gmv=limit), earlier, rules) is None  # at k x: not yet
    flag = ar.gmv_spike(fig(gmv=limit + 1), earlier, rules)
    assert flag is not None and flag.rule == ar.GMV_SPIKE and flag.params["median_fen"] == 10_000
    # too few reports to know the streamer's own level
    assert ar.gmv_spike(fig(gmv=limit * 10), earlier[: n - 1], rules) is None
    # days without sales say nothing about the level
    zeros = [*earlier[: n - 1], *history(0, 0, 0)]
    assert ar.gmv_spike(fig(gmv=limit * 10), zeros, rules) is None


# ----- orders above viewers -------------------------------------------------------------
@pytest.mark.parametrize(("orders", "viewers", "fires"), [(100, 100, False), (101, 100, True)])
def test_orders_above_viewers(orders: int, viewers: int, fires: bool) -> None:
    found = ar.orders_above_viewers(fig(orders=orders, viewers=viewers))
    assert (found is not None) is fires


# ----- average order value --------------------------------------------------------------
def test_aov_bounds(rules: TrustRules) -> None:
    low, high = int(rules.aov_min_fen), int(rules.aov_max_fen)
    assert ar.aov_bounds(fig(gmv=high * 10, orders=10), rules) is None  # exactly the bound
    assert ar.aov_bounds(fig(gmv=high * 10 + 10, orders=10), rules) is not None
    assert ar.aov_bounds(fig(gmv=low * 10, orders=10), rules) is None
    assert ar.aov_bounds(fig(gmv=low * 10 - 1, orders=10), rules) is not None
    assert ar.aov_bounds(fig(gmv=500_000, orders=0), rules) is None  # nothing to divide by


def test_aov_against_the_picked_products(rules: TrustRules) -> None:
    f = rules.aov_factor
    picks = 6_000.0  # 60 yuan an order, as the enterprises stated in 附件1
    at_high = int(picks * f) * 10
    assert ar.aov_picks(fig(gmv=at_high, orders=10), picks, rules) is None
    assert ar.aov_picks(fig(gmv=at_high + 10, orders=10), picks, rules) is not None
    at_low = int(picks / f) * 10
    assert ar.aov_picks(fig(gmv=at_low, orders=10), picks, rules) is None
    assert ar.aov_picks(fig(gmv=at_low - 10, orders=10), picks, rules) is not None
    assert ar.aov_picks(fig(gmv=at_high * 100, orders=10), None, rules) is None  # no picks


# ----- a correction raising GMV ---------------------------------------------------------
def test_correction_raise(rules: TrustRules) -> None:
    before = 100_000
    limit = before * (100 + rules.correction_raise_percent) // 100
    assert ar.correction_raise(fig(gmv=limit), before, rules) is None
    assert ar.correction_raise(fig(gmv=limit + 1), before, rules) is not None
    assert ar.correction_raise(fig(gmv=limit * 5), None, rules) is None  # not a correction
    assert ar.correction_raise(fig(gmv=limit * 5), 0, rules) is None  # x% of nothing
    assert ar.correction_raise(fig(gmv=1), before, rules) is None  # lowering is fine


# ----- the same figures on two days -----------------------------------------------------
def test_repeated_figures() -> None:
    other = fig(day=DAY - dt.timedelta(days=3))
    assert ar.repeated_figures(fig(), [other]) is not None
    assert ar.repeated_figures(fig(likes=51), [other]) is None  # one figure differs
    assert ar.repeated_figures(fig(), [fig()]) is None  # the same day (another platform)
    zero = fig(gmv=0, orders=0)
    assert ar.repeated_figures(zero, [Figures(other.day, *zero.key())]) is None  # no sales


# ----- a day's hours --------------------------------------------------------------------
def test_day_hours(rules: TrustRules) -> None:
    cap = rules.max_day_minutes
    assert ar.day_hours(fig(minutes=cap - 60), 60, rules) is None
    assert ar.day_hours(fig(minutes=cap - 59), 60, rules) is not None
    assert ar.day_hours(fig(minutes=cap + 1), 0, rules) is not None


# ----- filed at the edge of the backfill window -----------------------------------------
def test_backfill_edge(rules: TrustRules) -> None:
    closes = dt.datetime.combine(DAY + dt.timedelta(days=rules.backfill_days + 1), dt.time(), TZ)
    edge = closes - dt.timedelta(hours=rules.backfill_edge_hours)
    assert ar.backfill_edge(fig(), edge - dt.timedelta(seconds=1), rules) is None
    assert ar.backfill_edge(fig(), edge, rules) is not None
    assert ar.backfill_edge(fig(), closes - dt.timedelta(seconds=1), rules) is not None
    # without backfill the window ends the day itself, whose evening is when honest
    # reports come: only a day reported afterwards can be at the edge
    same_day = dt.datetime.combine(DAY, dt.time(23, 30), TZ)
    assert ar.backfill_edge(fig(), same_day, replace(rules, backfill_days=0)) is None


# ----- evidence reused ------------------------------------------------------------------
def test_evidence_reused() -> None:
    assert ar.evidence_reused(0) is None
    flag = ar.evidence_reused(1)
    assert flag is not None and flag.stored() == {"rule": ar.EVIDENCE_REUSED, "n": 1}


def test_evaluate_lists_every_rule_that_fires(rules: TrustRules) -> None:
    report = fig(gmv=int(rules.median_factor * 10_000) + 1, orders=2_000, viewers=1_000)
    case = Case(
        report,
        counted=history(*[10_000] * rules.median_after_reports),
        same_day_minutes=rules.max_day_minutes,
        evidence_shared=2,
    )
    assert [f.rule for f in ar.evaluate(case, rules)] == [
        ar.GMV_SPIKE,
        ar.ORDERS_ABOVE_VIEWERS,
        ar.DAY_HOURS,
        ar.EVIDENCE_REUSED,
    ]
    assert ar.evaluate(Case(fig()), rules) == []
