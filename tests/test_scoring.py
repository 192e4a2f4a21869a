"""The composite score and the award tiers, as tables of cases."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import numpy as np
import pytest

from bot.config import FestivalConfig
from models.scoring import (
    Columns,
    ScoringRules,
    Totals,
    day_contribution,
    gap_to,
    next_tier,
    percentile_array,
    percentiles,
    rank_columns,
    score_board,
    tier_of,
    tiers,
)

RULES = ScoringRules(
    max_hours_per_day=12,
    min_minutes_per_day=30,
    live_start=dt.date(2020, 10, 30),
    live_end=dt.date(2020, 11, 27),
    weights=(
        ("gmv", 0.40),
        ("live_days", 0.15),
        ("avg_daily_hours", 0.15),
        ("viewers", 0.15),
        ("likes", 0.15),
    ),
)


def totals(sid: int, gmv: int = 0, days: int = 1, minutes: int = 60, **kw: int) -> Totals:
    return Totals(
        streamer_id=sid,
        reports=kw.get("reports", 1),
        gmv_fen=gmv,
        viewers=kw.get("viewers", 0),
        likes=kw.get("likes", 0),
        live_days=days,
        live_minutes=minutes,
        registered=(kw.get("registered", sid),),
    )


def test_rules_come_from_the_config(config: FestivalConfig) -> None:
    assert ScoringRules.of(config) == RULES


@pytest.mark.parametrize(
    ("minutes", "live_day", "live_minutes"),
    [
        (0, 0, 0),
        (29, 0, 0),  # below min_minutes_per_day: not a live day
        (30, 1, 30),
        (150, 1, 150),
        (12 * 60, 1, 720),
        (30 * 60, 1, 720),  # a 30-hour day (two platforms) is capped at 12 hours
        (-5, 0, 0),
    ],
)
def test_day_contribution(minutes: int, live_day: int, live_minutes: int) -> None:
    c = day_contribution(minutes, RULES)
    assert (c.live_day, c.live_minutes) == (live_day, live_minutes)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], []),
        ([7], [1.0]),  # one streamer
        ([100, 50, 50], [1.0, 0.25, 0.25]),  # the example
        ([1, 2, 3, 4, 5], [0.0, 0.25, 0.5, 0.75, 1.0]),
        ([5, 5, 5], [0.5, 0.5, 0.5]),  # all tied
        ([10**12, 2, 1], [1.0, 0.5, 0.0]),  # an enormous value does not zero the others
        ([0, 0, 9], [0.25, 0.25, 1.0]),
    ],
)
def test_percentiles(values: list[float], expected: list[float]) -> None:
    assert percentiles(values) == expected
    assert percentile_array(np.array(values, dtype=np.int64)).tolist() == expected


@pytest.mark.parametrize("seed", range(5))
def test_percentile_array_gives_the_same_floats(seed: int) -> None:
    rnd = random.Random(seed)
    n = rnd.choice([2, 3, 10, 1000])
    ints = [rnd.choice([0, 0, 1, 7, 10**12, rnd.randrange(50)]) for _ in range(n)]
    floats = [m / d for m, d in ((rnd.randrange(1, 2000), rnd.randrange(1, 31)) for _ in range(n))]
    assert percentile_array(np.array(ints, dtype=np.int64)).tolist() == percentiles(ints)
    assert percentile_array(np.array(floats)).tolist() == percentiles(floats)


def test_average_daily_hours() -> None:
    assert totals(1, days=2, minutes=300).avg_daily_hours == 2.5
    assert totals(1, days=0, minutes=0).avg_daily_hours == 0.0


def test_one_streamer_scores_100() -> None:
    [only] = score_board([totals(1, gmv=5)], RULES)
    assert (only.rank, only.score) == (1, 100.0)


def test_streamers_without_a_counted_report_score_0_and_come_last() -> None:
    board = score_board(
        [totals(1, reports=0, days=0, minutes=0), totals(2, gmv=1), totals(3, gmv=9)], RULES
    )
    assert [s.totals.streamer_id for s in board] == [3, 2, 1]
    assert board[-1].score == 0.0
    assert board[0].score == pytest.approx(70.0) and board[1].score == pytest.approx(30.0)


def test_enormous_gmv_does_not_zero_everyone_else() -> None:
    board = score_board(
        [totals(1, gmv=10**13, viewers=1), totals(2, gmv=100, viewers=3), totals(3, gmv=50)],
        RULES,
    )
    by_id = {s.totals.streamer_id: s for s in board}
    assert by_id[2].percentiles["gmv"] == 0.5
    # gmv 0.5*40 + viewers 1.0*15 + three tied metrics 0.5*15 each
    assert by_id[2].score == pytest.approx(20 + 15 + 22.5)
    assert by_id[3].score > 0


@pytest.mark.parametrize(
    ("rows", "order"),
    [
        # equal score: the higher GMV first
        ([totals(1, gmv=5, viewers=9), totals(2, gmv=9, viewers=5)], [2, 1]),
        # everything equal: the earlier registration first
        ([totals(1, gmv=5, registered=20), totals(2, gmv=5, registered=10)], [2, 1]),
        ([totals(1, gmv=5), totals(2, gmv=5)], [1, 2]),
    ],
)
def test_tie_breaks(rows: list[Totals], order: list[int]) -> None:
    board = score_board(rows, RULES)
    assert [s.totals.streamer_id for s in board] == order


def test_score_weights_gmv_and_live_days() -> None:
    board = score_board(
        [totals(1, gmv=100, days=1, minutes=60), totals(2, gmv=50, days=3, minutes=180)], RULES
    )
    by_id = {s.totals.streamer_id: s for s in board}
    assert by_id[1].score == pytest.approx(40 + 3 * 7.5)  # gmv 1.0; avg hours tie 0.5
    assert by_id[2].score == pytest.approx(15 + 7.5 + 7.5 + 7.5)


def test_a_correction_changes_the_ranking() -> None:
    before = score_board([totals(1, gmv=100), totals(2, gmv=90)], RULES)
    after = score_board([totals(1, gmv=100), totals(2, gmv=110)], RULES)
    assert [s.totals.streamer_id for s in before] == [1, 2]
    assert [s.totals.streamer_id for s in after] == [2, 1]


def ranked_both_ways(rows: list[Totals], rules: ScoringRules) -> None:
    """rank_columns (over columns, as lists and as arrays) hands out exactly what score_board
    does: same ranks, totals, score floats and percentiles."""
    for i, t in enumerate(rows):
        assert t.registered == (i,)  # the columns' order is the registration order
    expected = score_board(rows, rules)
    lists = columns_of(rows)
    arrays = Columns(*np.array(lists, dtype=np.int64).reshape(7, -1))
    for columns in (lists, arrays):
        ranking = rank_columns(columns, rules)
        assert len(ranking) == len(rows)
        assert ranking.ranked == sum(t.reports > 0 for t in rows)
        assert ranking.top() == expected
        assert ranking.top(3) == expected[:3]
        assert list(ranking.rows()) == [(s.rank, s.totals.registered[0], s.score) for s in expected]
        for s in expected:
            assert ranking.rank_of(s.totals.streamer_id) == s.rank
        assert ranking.rank_of(-1) is None
        assert ranking.columns == lists
        # plain Python values: the database drivers bind them, numpy scalars they do not
        assert all(type(v) is int for column in ranking.columns for v in column)
        assert all(type(score) is float for _r, _i, score in ranking.rows())


ODD_WEIGHTS = dataclasses.replace(
    RULES,
    weights=(
        ("gmv", 0.1),
        ("live_days", 0.2),
        ("avg_daily_hours", 0.3),
        ("viewers", 0.17),
        ("likes", 0.23),
    ),
)


@pytest.mark.parametrize("rules", [RULES, ODD_WEIGHTS], ids=["config", "odd"])
@pytest.mark.parametrize("seed", range(12))
def test_rank_columns_ranks_as_score_board(rules: ScoringRules, seed: int) -> None:
    rnd = random.Random(seed)
    n = rnd.choice([2, 5, 40, 300, 3000])
    # few distinct values: many ties on each metric and on the score
    spread = rnd.choice([2, 3, 10, 10**6])
    rows = []
    for i in range(n):
        days = rnd.randrange(0, 4)
        rows.append(
            Totals(
                streamer_id=rnd.randrange(10**9) * 1000 + i,  # not in registration order
                reports=rnd.choice([0, 1, 1, 1, 5]),
                gmv_fen=rnd.choice([0, rnd.randrange(spread), rnd.randrange(spread), 10**13]),
                viewers=rnd.randrange(spread),
                likes=rnd.randrange(spread),
                live_days=days,
                live_minutes=sum(rnd.choice([30, 60, 90, 720]) for _ in range(days)),
                registered=(i,),
            )
        )
    ranked_both_ways(rows, rules)


@pytest.mark.parametrize(
    "reports",
    [
        [],  # nobody approved yet
        [1],  # one streamer: percentile 1.0 everywhere
        [0],  # one streamer without a counted report
        [0, 0, 0],  # nobody has one: all last, by GMV then registration
        [1, 0, 1, 1],
    ],
)
def test_rank_columns_small_boards(reports: list[int]) -> None:
    rows = [
        Totals(100 - i, r, [5, 9, 5, 0][i], i, 0, r, 60 * r, (i,)) for i, r in enumerate(reports)
    ]
    ranked_both_ways(rows, RULES)


EVEN_WEIGHTS = dataclasses.replace(RULES, weights=tuple((m, 0.2) for m, _w in RULES.weights))


def test_rank_columns_breaks_ties_on_score_as_score_board() -> None:
    # the two trade GMV against viewers at equal weights: equal scores (exactly, in floats),
    # so the higher GMV goes first although it registered later
    traded = [
        Totals(1, 1, gmv_fen=10, viewers=2, likes=0, live_days=1, live_minutes=60, registered=(0,)),
        Totals(2, 1, gmv_fen=20, viewers=1, likes=0, live_days=1, live_minutes=60, registered=(1,)),
    ]
    board = rank_columns(columns_of(traded), EVEN_WEIGHTS).top()
    assert [s.totals.streamer_id for s in board] == [2, 1]
    assert board[0].score == board[1].score == 50.0
    ranked_both_ways(traded, EVEN_WEIGHTS)
    # equal in everything: the earlier registration first
    same = [Totals(9 - i, 1, 5, 5, 5, 1, 60, (i,)) for i in range(3)]
    assert [s.totals.streamer_id for s in rank_columns(columns_of(same), RULES).top()] == [9, 8, 7]
    ranked_both_ways(same, RULES)


def columns_of(rows: list[Totals]) -> Columns:
    """Totals (first seven fields) as columns of lists."""
    if not rows:
        return Columns([], [], [], [], [], [], [])
    return Columns(*(list(c) for c in zip(*(t[:7] for t in rows), strict=True)))


TIERS = tiers([("grand", 1), ("first", 2), ("second", 5), ("third", 10), ("excellent", 20)])


@pytest.mark.parametrize(
    ("rank", "tier", "above"),
    [
        (1, "grand", None),
        (2, "first", "grand"),
        (3, "first", "grand"),
        (4, "second", "first"),
        (8, "second", "first"),
        (9, "third", "second"),
        (18, "third", "second"),
        (19, "excellent", "third"),
        (38, "excellent", "third"),
        (39, None, "excellent"),
        (500, None, "excellent"),
    ],
)
def test_award_tiers(rank: int, tier: str | None, above: str | None) -> None:
    found = tier_of(rank, TIERS)
    assert (found.key if found else None) == tier
    better = next_tier(rank, TIERS)
    assert (better.key if better else None) == above


def test_tiers_from_config_and_zero_counts(config: FestivalConfig) -> None:
    counts = [(a.key, a.count) for a in config.awards.streamer]
    assert tiers(counts) == TIERS
    assert [t.key for t in tiers([("a", 0), ("b", 2)])] == ["b"]
    assert tiers([]) == [] and next_tier(1, []) is None


def test_gap_to_a_rank() -> None:
    scores = [90.0, 80.0, 70.5]
    assert gap_to(2, 70.5, scores) == 9.5
    assert gap_to(3, 70.5, scores) == 0.0
    assert gap_to(9, 1.0, scores) == 0.0
    assert gap_to(0, 1.0, scores) == 0.0


def test_gap_to_over_a_rankings_scores() -> None:
    """/rank hands over Ranking.scores, a numpy array: the gap is the same plain float."""
    ranked = rank_columns(
        Columns([1, 2, 3], [1, 1, 1], [300, 200, 100], [3, 2, 1], [3, 2, 1], [3, 2, 1], [90] * 3),
        RULES,
    )
    own = ranked.at(3).score
    gap = gap_to(2, own, ranked.scores)
    assert type(gap) is float and gap == ranked.at(2).score - own > 0
    assert gap_to(3, own, ranked.scores) == 0.0 and gap_to(4, own, ranked.scores) == 0.0
