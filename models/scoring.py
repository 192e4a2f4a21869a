"""The composite score of streamers (优秀主播奖) and the award tiers: pure rules, plain values.

Over counted reports (not rejected) inside the live period, per streamer across accounts:
  * a day's live hours = the day's durations summed over platforms, capped at
    max_hours_per_day (padding does not pay);
  * live days = days whose summed duration is at least min_minutes_per_day;
  * average daily hours = capped hours of the live days / live days (0 without a live day);
  * GMV, viewers, likes = sums.
Each metric becomes a percentile p = (rank - 1) / (n - 1) over the n streamers with at least
one counted report (ascending ranks, ties share the average rank, n = 1 gives 1.0), and
score = sum(weight * p * 100). A percentile, not a share of the maximum, so one enormous GMV
cannot flatten everybody else. Ties on score: higher GMV, then earlier registration.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import compress
from operator import add, not_
from typing import Any, NamedTuple

METRICS = ("gmv", "live_days", "avg_daily_hours", "viewers", "likes")


@dataclass(frozen=True)
class ScoringRules:
    max_hours_per_day: int
    min_minutes_per_day: int
    live_start: dt.date
    live_end: dt.date
    weights: tuple[tuple[str, float], ...]  # (metric, weight) in METRICS order

    @classmethod
    def of(cls, config: Any) -> ScoringRules:
        """From the festival config (duck-typed: models/ does not import bot/)."""
        w = config.awards.score_weights
        return cls(
            max_hours_per_day=config.scoring.max_hours_per_day,
            min_minutes_per_day=config.scoring.min_minutes_per_day,
            live_start=config.calendar.live_start,
            live_end=config.calendar.live_end,
            weights=tuple((m, float(getattr(w, m))) for m in METRICS),
        )

    def in_live_period(self, day: dt.date) -> bool:
        return self.live_start <= day <= self.live_end


@dataclass(frozen=True)
class DayContribution:
    """What one day adds to a streamer's totals."""

    live_day: int  # 1 or 0
    live_minutes: int  # capped minutes, counted only on a live day


def day_contribution(minutes: int, rules: ScoringRules) -> DayContribution:
    """A day's summed duration (all platforms) -> live day and capped minutes."""
    if minutes <= 0 or minutes < rules.min_minutes_per_day:
        return DayContribution(0, 0)
    return DayContribution(1, min(minutes, rules.max_hours_per_day * 60))


class Totals(NamedTuple):
    """A streamer's sums over counted reports in the live period. (A NamedTuple: a board
    builds 100,000 of them, and a frozen dataclass costs several times more to create.)"""

    streamer_id: int
    reports: int  # counted reports; 0 means "no counted report": score 0, listed last
    gmv_fen: int
    viewers: int
    likes: int
    live_days: int
    live_minutes: int  # capped minutes of the live days
    registered: tuple[Any, ...] = ()  # sort key of the registration (earlier first)

    @property
    def avg_daily_hours(self) -> float:
        return self.live_minutes / 60 / self.live_days if self.live_days else 0.0


class Scored(NamedTuple):
    rank: int
    totals: Totals
    score: float
    ps: tuple[float, ...]  # percentile (0..1) of each metric, in METRICS order

    @property
    def percentiles(self) -> dict[str, float]:
        return dict(zip(METRICS, self.ps, strict=True))


def percentiles(values: Sequence[float]) -> list[float]:
    """p = (rank - 1) / (n - 1), ascending ranks, ties share the average rank; n = 1 -> 1.0."""
    n = len(values)
    if n == 0:
        return []
    if n == 1:
        return [1.0]
    ordered = sorted(values)
    # a tie of value v holds 0-based places first[v]..last[v]; its average rank - 1 is their
    # mean (dicts built in C: this runs for 100,000 streamers and five metrics each week)
    last = dict(zip(ordered, range(n), strict=True))
    first = dict(zip(reversed(ordered), range(n - 1, -1, -1), strict=True))
    scale = 0.5 / (n - 1)
    p_of = {v: (first[v] + place) * scale for v, place in last.items()}
    return list(map(p_of.__getitem__, values))


def score_board(rows: Sequence[Totals], rules: ScoringRules) -> list[Scored]:
    """Every streamer ranked: those with a counted report by score, then the others."""
    active = [t for t in rows if t.reports > 0]
    idle = [t for t in rows if t.reports <= 0]
    columns: dict[str, list[float]] = {
        "gmv": [t.gmv_fen for t in active],
        "live_days": [t.live_days for t in active],
        "avg_daily_hours": [t.live_minutes / t.live_days if t.live_days else 0.0 for t in active],
        "viewers": [t.viewers for t in active],
        "likes": [t.likes for t in active],
    }
    weights = dict(rules.weights)
    per_metric = [percentiles(columns[m]) for m in METRICS]
    w = [weights.get(m, 0.0) * 100 for m in METRICS]
    scored = [
        (w[0] * a + w[1] * b + w[2] * c + w[3] * d + w[4] * e, t, (a, b, c, d, e))
        for t, a, b, c, d, e in zip(active, *per_metric, strict=True)
    ]
    scored.sort(key=lambda s: (-s[0], -s[1].gmv_fen, s[1].registered, s[1].streamer_id))
    idle.sort(key=lambda t: (-t.gmv_fen, t.registered, t.streamer_id))
    zero = (0.0,) * len(METRICS)
    board = [Scored(i, t, score, ps) for i, (score, t, ps) in enumerate(scored, 1)]
    first = len(board) + 1
    board += [Scored(i, t, 0.0, zero) for i, t in enumerate(idle, first)]
    return board


class Columns(NamedTuple):
    """Every streamer's totals as columns, in registration order (earlier first)."""

    ids: list[int]
    reports: list[int]
    gmv_fen: list[int]
    viewers: list[int]
    likes: list[int]
    live_days: list[int]
    live_minutes: list[int]


@dataclass(frozen=True)
class Ranking:
    """score_board over columns: the same ranking without an object per streamer, so that
    100,000 streamers rank in well under a second. Rows with a counted report are ranked by
    `places` (positions in `active`), the others (`idle`) follow."""

    columns: Columns
    active: list[int]  # row indices with a counted report, ascending
    places: list[int]  # positions in `active`, best first
    idle: list[int]  # row indices without one, in their order on the board
    scores: list[float]  # by position in `active`
    per_metric: list[list[float]]  # percentiles by metric (METRICS order), by position

    @property
    def ranked(self) -> int:
        """How many streamers have a counted report."""
        return len(self.active)

    def __len__(self) -> int:
        return len(self.active) + len(self.idle)

    def rows(self) -> Iterator[tuple[int, int, float]]:
        """(rank, row index, score), best first."""
        for rank, k in enumerate(self.places, 1):
            yield rank, self.active[k], self.scores[k]
        for rank, i in enumerate(self.idle, len(self.active) + 1):
            yield rank, i, 0.0

    def at(self, rank: int) -> Scored:
        if rank <= len(self.active):
            k = self.places[rank - 1]
            i, score = self.active[k], self.scores[k]
            ps = tuple(column[k] for column in self.per_metric)
        else:
            i, score, ps = self.idle[rank - len(self.active) - 1], 0.0, (0.0,) * len(METRICS)
        c = self.columns
        totals = Totals(
            c.ids[i],
            c.reports[i],
            c.gmv_fen[i],
            c.viewers[i],
            c.likes[i],
            c.live_days[i],
            c.live_minutes[i],
            (i,),
        )
        return Scored(rank, totals, score, ps)

    def top(self, n: int | None = None) -> list[Scored]:
        return [self.at(r) for r in range(1, min(n or len(self), len(self)) + 1)]

    def rank_of(self, streamer_id: int) -> int | None:
        try:
            i = self.columns.ids.index(streamer_id)
        except ValueError:
            return None
        k = bisect_left(self.active, i)
        if k < len(self.active) and self.active[k] == i:
            return self.places.index(k) + 1
        return len(self.active) + self.idle.index(i) + 1


def rank_columns(c: Columns, rules: ScoringRules) -> Ranking:
    """The rule of score_board, over columns given in registration order. (Written with
    map() over C-level callables: 100,000 streamers, so no Python loop per value.)"""
    everyone = range(len(c.ids))
    active = list(compress(everyone, c.reports))
    idle = list(compress(everyone, map(not_, c.reports)))

    def column(values: list[int]) -> list[int]:
        return list(map(values.__getitem__, active))

    gmv = column(c.gmv_fen)
    days, minutes = column(c.live_days), column(c.live_minutes)
    per_metric = [
        percentiles(gmv),
        percentiles(days),
        percentiles([m / d if d else 0.0 for m, d in zip(minutes, days, strict=True)]),
        percentiles(column(c.viewers)),
        percentiles(column(c.likes)),
    ]
    weights = dict(rules.weights)
    w = [weights.get(m, 0.0) * 100 for m in METRICS]
    score = list(map(w[0].__mul__, per_metric[0]))
    for weight, ps in zip(w[1:], per_metric[1:], strict=True):  # summed as score_board does
        score = list(map(add, score, map(weight.__mul__, ps)))
    # stable sorts, last key first: registration order (the input order), GMV, score
    places = list(range(len(active)))
    places.sort(key=gmv.__getitem__, reverse=True)
    places.sort(key=score.__getitem__, reverse=True)
    idle.sort(key=c.gmv_fen.__getitem__, reverse=True)
    return Ranking(c, active, places, idle, score, per_metric)


# ----- award tiers (优秀主播奖: 特等奖 1, 一等奖 2, ...) --------------------------------------
@dataclass(frozen=True)
class Tier:
    index: int  # 0 = the best tier
    key: str
    first_rank: int
    last_rank: int


def tiers(counts: Sequence[tuple[str, int]]) -> list[Tier]:
    """[(key, count), ...] in order of merit -> rank ranges; tiers with count 0 are skipped."""
    result, rank = [], 1
    for index, (key, count) in enumerate(counts):
        if count <= 0:
            continue
        result.append(Tier(index, key, rank, rank + count - 1))
        rank += count
    return result


def tier_of(rank: int, all_tiers: Sequence[Tier]) -> Tier | None:
    return next((t for t in all_tiers if t.first_rank <= rank <= t.last_rank), None)


def next_tier(rank: int, all_tiers: Sequence[Tier]) -> Tier | None:
    """The tier just above where this rank stands (None at the top)."""
    current = tier_of(rank, all_tiers)
    better = [t for t in all_tiers if t.last_rank < rank and (current is None or t != current)]
    return better[-1] if better else None


def gap_to(target_rank: int, own_score: float, board_scores: Sequence[float]) -> float:
    """Points needed to reach the score now at target_rank (1-based); 0 if already there."""
    if target_rank < 1 or target_rank > len(board_scores):
        return 0.0
    return max(0.0, board_scores[target_rank - 1] - own_score)
