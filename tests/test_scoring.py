"""The composite score and the award tiers, as tables of cases."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.config import FestivalConfig
from models.scoring import (
    ScoringRules,
    Totals,
    day_contribution,
    gap_to,
    next_tier,
    percentiles,
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
