"""The award rules by hand (models/award_rules.py): tiers cut by the published rule with ties
at the boundaries, an organisation score for three units worked out on paper, and the
enterprise tiers at exactly 100,000 and 500,000 yuan."""

from __future__ import annotations

import datetime as dt

import pytest

from models.award_rules import (
    EnterpriseTier,
    StreamerCandidate,
    UnitFigures,
    counted_received,
    enterprise_awards,
    enterprise_next,
    enterprise_tier,
    enterprise_tiers,
    organisation_awards,
    organisation_scores,
    streamer_awards,
)

C = StreamerCandidate
COUNTS = [("grand", 1), ("first", 2), ("second", 2)]


def test_streamer_tiers_with_ties_at_each_boundary() -> None:
    a = C(streamer_id=1, score=90.0, gmv_fen=100, registered=5)
    b = C(2, 80.0, 500, 3)
    c = C(3, 80.0, 500, 1)  # same score and GMV as b, registered earlier: before b
    d = C(4, 80.0, 400, 0)  # same score, less GMV: after b and c although registered first
    f = C(5, 70.0, 300, 2)
    g = C(6, 70.0, 300, 4)  # tie with f on score and GMV, registered later: left out
    h = C(7, 10.0, 10**9, 6)
    placed, cuts = streamer_awards([h, g, f, d, c, b, a], COUNTS)
    assert [(p, tier, x.streamer_id) for p, tier, x in placed] == [
        (1, "grand", 1),
        (2, "first", 3),
        (3, "first", 2),
        (4, "second", 4),
        (5, "second", 5),
    ]
    assert [
        (cut.tier, cut.last.streamer_id, cut.next and cut.next.streamer_id) for cut in cuts
    ] == [
        ("grand", 1, 3),
        ("first", 2, 4),
        ("second", 5, 6),
    ]
    # which step of the rule decided each boundary
    assert [cut.decided_by for cut in cuts] == ["score", "gmv", "registration"]


def test_streamer_tiers_are_the_same_whatever_the_input_order() -> None:
    rows = [C(i, float(i % 3), 100 * (i % 2), 9 - i) for i in range(10)]
    first, _ = streamer_awards(rows, COUNTS)
    second, _ = streamer_awards(list(reversed(rows)), COUNTS)
    assert first == second


def test_fewer_candidates_than_awards() -> None:
    placed, cuts = streamer_awards([C(1, 50.0, 0, 0), C(2, 40.0, 0, 1)], COUNTS)
    assert [(p, t) for p, t, _ in placed] == [(1, "grand"), (2, "first")]
    assert cuts[-1].next is None and cuts[-1].decided_by is None
    assert streamer_awards([], COUNTS) == ([], [])
    # a tier with count 0 is skipped
    placed, _ = streamer_awards([C(1, 50.0, 0, 0)], [("grand", 0), ("first", 1)])
    assert [(p, t) for p, t, _ in placed] == [(1, "first")]


WEIGHTS = {"streamers": 0.20, "products": 0.15, "sales": 0.25, "winners": 0.20, "publicity": 0.20}


def test_an_organisation_score_by_hand_for_three_units() -> None:
    u1 = UnitFigures(1, "360100", streamers=10, products=3, sales_fen=5000, winners=2, publicity=80)
    u2 = UnitFigures(2, "360200", streamers=5, products=3, sales_fen=9000, winners=0, publicity=90)
    u3 = UnitFigures(3, "360300", streamers=5, products=1, sales_fen=1000, winners=1, publicity=60)
    # percentiles p = (rank - 1) / (n - 1), n = 3, ties share the average rank:
    #   streamers 10, 5, 5       -> 1, .25, .25    products 3, 3, 1  -> .75, .75, 0
    #   sales 5000, 9000, 1000   -> .5, 1, 0       winners 2, 0, 1   -> 1, 0, .5
    #   publicity 80, 90, 60     -> .5, 1, 0
    # u1 = 20*1 + 15*.75 + 25*.5 + 20*1 + 20*.5 = 73.75
    # u2 = 20*.25 + 15*.75 + 25*1 + 20*0 + 20*1 = 61.25
    # u3 = 20*.25 + 15*0 + 25*0 + 20*.5 + 20*0 = 15
    scored = organisation_scores([u3, u1, u2], WEIGHTS)
    assert [s.figures.unit_id for s in scored] == [1, 2, 3]
    assert [s.score for s in scored] == pytest.approx([73.75, 61.25, 15.0])
    assert scored[0].ps == (1.0, 0.75, 0.5, 1.0, 0.5)
    assert scored[2].ps == (0.25, 0.0, 0.0, 0.5, 0.0)
    placed, cuts, _ = organisation_awards([u1, u2, u3], WEIGHTS, 2, "organisation")
    assert [(p, s.figures.unit_id) for p, _t, s in placed] == [(1, 1), (2, 2)]
    assert cuts[0].decided_by == "score" and cuts[0].next is not None
    assert cuts[0].last.score - cuts[0].next.score == pytest.approx(46.25)


def test_organisation_ties_are_decided_by_sales_winners_then_code() -> None:
    only_publicity = {"streamers": 0, "products": 0, "sales": 0, "winners": 0, "publicity": 1}
    same = {"streamers": 1, "products": 1, "winners": 1, "publicity": 50}
    units = [
        UnitFigures(1, "B", sales_fen=100, **same),
        UnitFigures(2, "A", sales_fen=100, **same),
        UnitFigures(3, "C", sales_fen=200, **same),
        UnitFigures(4, "D", sales_fen=100, streamers=1, products=1, winners=2, publicity=50),
    ]
    placed, cuts, scored = organisation_awards(units, only_publicity, 3, "organisation")
    assert {s.score for s in scored} == {50.0}  # every publicity the same: p = .5 each
    assert [s.figures.unit_id for s in scored] == [3, 4, 2, 1]
    assert [(p, s.figures.code) for p, _t, s in placed] == [(1, "C"), (2, "D"), (3, "A")]
    assert cuts[0].decided_by == "code"  # A and B: same score, sales and winners
    placed, cuts, _ = organisation_awards(units, only_publicity, 1, "organisation")
    assert cuts[0].decided_by == "sales"
    placed, cuts, _ = organisation_awards(units, only_publicity, 2, "organisation")
    assert cuts[0].decided_by == "winners"


def test_no_units() -> None:
    assert organisation_scores([], WEIGHTS) == []
    one = UnitFigures(1, "X", 0, 0, 0, 0, 0)
    assert organisation_scores([one], WEIGHTS)[0].score == pytest.approx(100.0)  # n = 1 -> 1.0


TIERS = enterprise_tiers([("contribution", 100_000), ("outstanding", 500_000)])


@pytest.mark.parametrize(
    ("fen", "tier"),
    [
        (0, None),
        (9_999_999, None),  # 99,999.99 元
        (10_000_000, "contribution"),  # exactly 100,000 元
        (10_000_001, "contribution"),
        (49_999_999, "contribution"),
        (50_000_000, "outstanding"),  # exactly 500,000 元
        (10**12, "outstanding"),
    ],
)
def test_enterprise_tiers_at_the_thresholds(fen: int, tier: str | None) -> None:
    got = enterprise_tier(fen, TIERS)
    assert (got.key if got else None) == tier


def test_enterprise_tiers_from_config_in_any_order() -> None:
    assert TIERS == [
        EnterpriseTier("contribution", 10_000_000),
        EnterpriseTier("outstanding", 50_000_000),
    ]
    assert enterprise_tiers([("outstanding", 500_000), ("contribution", 100_000)]) == TIERS


def test_what_an_enterprise_still_lacks() -> None:
    assert enterprise_next(0, TIERS) == (TIERS[0], 10_000_000)
    assert enterprise_next(10_000_000, TIERS) == (TIERS[1], 40_000_000)
    assert enterprise_next(50_000_000, TIERS) is None


def test_payments_count_until_the_configured_day_directed_part_included() -> None:
    until = dt.date(2020, 12, 31)
    payments = [
        (7_500_000, dt.date(2020, 12, 1)),  # the undirected part
        (2_500_000, dt.date(2020, 12, 31)),  # the directed part, on the last day: counts
        (90_000_000, dt.date(2021, 1, 1)),  # too late for the tier
    ]
    received = counted_received(payments, until)
    assert received == 10_000_000
    assert enterprise_tier(received, TIERS) == TIERS[0]


def test_enterprise_award_order() -> None:
    received = {1: 10_000_000, 2: 60_000_000, 3: 9_000_000, 4: 10_000_000, 5: 20_000_000}
    assert [(e, t.key, fen) for e, t, fen in enterprise_awards(received, TIERS)] == [
        (2, "outstanding", 60_000_000),
        (5, "contribution", 20_000_000),
        (1, "contribution", 10_000_000),
        (4, "contribution", 10_000_000),
    ]
