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

Longer than 300 lines on purpose: one rule in two forms, the plain one and its numpy twin that
ranks 100,000 streamers (`rank_columns`), kept side by side so that they stay the same rule
(the tests check they rank alike).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

METRICS = ("gmv", "live_days", "avg_daily_hours", "viewers", "likes")


def in_live_period(day: dt.date, start: dt.date, end: dt.date) -> bool:
    """The live period includes its first and its last day (calendar.live_start, live_end):
    only its days are reported and scored."""
    return start <= day <= end


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
        return in_live_period(day, self.live_start, self.live_end)


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


Ints = Sequence[int] | npt.NDArray[np.int64]


class Columns(NamedTuple):
    """Every streamer's totals as columns, in registration order (earlier first)."""

    ids: Ints
    reports: Ints
    gmv_fen: Ints
    viewers: Ints
    likes: Ints
    live_days: Ints
    live_minutes: Ints


@dataclass(frozen=True, eq=False)
class Ranking:
    """score_board over columns: the same ranking held in numpy arrays, without an object per
    streamer, so that 100,000 streamers rank in a few hundredths of a second. Whatever it
    hands out (rows, at, columns) is plain Python ints and floats, as the drivers bind them."""

    data: npt.NDArray[np.int64]  # (7, n): the Columns fields, rows in registration order
    order: npt.NDArray[np.intp]  # row indices by rank: those with a counted report, the others
    scores: npt.NDArray[np.float64]  # by rank - 1 (0.0 for the others)
    per_metric: npt.NDArray[np.float64]  # (n, 5) percentiles by rank - 1, METRICS order
    ranked: int  # how many streamers have a counted report (ranks 1..ranked)

    def __len__(self) -> int:
        return len(self.order)

    @cached_property
    def columns(self) -> Columns:
        """The totals as lists of Python ints, indexed by the row index of rows()."""
        return Columns(*self.data.tolist())

    def rows(self) -> Iterator[tuple[int, int, float]]:
        """(rank, row index, score), best first."""
        ranks = range(1, len(self) + 1)
        return zip(ranks, self.order.tolist(), self.scores.tolist(), strict=True)

    def page(self, start: int, stop: int) -> Iterator[tuple[int, list[int], float]]:
        """(rank, the Columns fields' values, score) of ranks start + 1 .. stop, best first:
        a page's worth of Python values at a time (`columns` makes all 700,000 at once)."""
        at = self.order[start:stop]
        values = self.data[:, at].T.tolist()
        scores = self.scores[start:stop].tolist()
        return zip(range(start + 1, start + len(at) + 1), values, scores, strict=True)

    def at(self, rank: int) -> Scored:
        if not 1 <= rank <= len(self):
            raise IndexError(rank)
        i = int(self.order[rank - 1])
        sid, reports, gmv, viewers, likes, days, minutes = self.data[:, i].tolist()
        totals = Totals(sid, reports, gmv, viewers, likes, days, minutes, (i,))
        ps = tuple(self.per_metric[rank - 1].tolist())
        return Scored(rank, totals, float(self.scores[rank - 1]), ps)

    def top(self, n: int | None = None) -> list[Scored]:
        return [self.at(r) for r in range(1, min(n or len(self), len(self)) + 1)]

    def rank_of(self, streamer_id: int) -> int | None:
        row = np.flatnonzero(self.data[0] == streamer_id)
        if not len(row):
            return None
        return int(np.flatnonzero(self.order == row[0])[0]) + 1


def percentile_array(values: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """percentiles() over an array, with the same arithmetic, hence the same floats: a tie
    holding 0-based sorted places first..last gets (first + last) * (0.5 / (n - 1))."""
    n = len(values)
    if n <= 1:
        return np.ones(n)
    by_value = np.argsort(values)  # any order of equal values: they get the same percentile
    ordered = values[by_value]
    starts_tie = np.empty(n, dtype=bool)
    starts_tie[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts_tie[1:])
    first = np.flatnonzero(starts_tie)  # each tie's first place
    last = np.append(first[1:], n) - 1  # and its last place
    tie_of_place = np.cumsum(starts_tie) - 1
    result = np.empty(n)
    result[by_value] = ((first + last) * (0.5 / (n - 1)))[tie_of_place]
    return result


def rank_columns(c: Columns, rules: ScoringRules) -> Ranking:
    """The rule of score_board, over columns given in registration order (vectorised: every
    step is a numpy operation over all streamers, no Python loop per value)."""
    data = np.array(c, dtype=np.int64).reshape(len(Columns._fields), -1)
    _ids, reports, gmv, viewers, likes, days, minutes = data
    n = data.shape[1]
    active = np.flatnonzero(reports > 0)  # ascending: registration order
    idle = np.flatnonzero(reports <= 0)
    a_gmv, a_days = gmv[active], days[active]
    # m / d as score_board divides (int64 to double, one correctly rounded division; minutes
    # are far below 2**53, where Python's int / int does exactly that), 0.0 without a live day
    hours = np.zeros(len(active))
    np.divide(minutes[active], a_days, out=hours, where=a_days != 0)
    per_metric = [
        percentile_array(a_gmv),
        percentile_array(a_days),
        percentile_array(hours),
        percentile_array(viewers[active]),
        percentile_array(likes[active]),
    ]
    weights = dict(rules.weights)
    w = [weights.get(m, 0.0) * 100 for m in METRICS]
    # summed left to right as score_board does (w0*a + w1*b + ...): the same floats, so a tie
    # on score there is a tie here, and the order below is exactly the rule's
    score = w[0] * per_metric[0]
    for weight, ps in zip(w[1:], per_metric[1:], strict=True):
        score = score + weight * ps
    # best first: score, then GMV, descending, then the earlier registration. lexsort sorts
    # ascending by its last key first; reversing it turns score and GMV descending and -row
    # ascending (no negated score or GMV: exact for every value)
    places = np.lexsort((-active, a_gmv, score))[::-1]
    idle_order = idle[np.lexsort((-idle, gmv[idle]))[::-1]]
    ranked = len(active)
    scores = np.zeros(n)
    scores[:ranked] = score[places]
    percentiles_by_rank = np.zeros((n, len(METRICS)))
    if ranked:
        percentiles_by_rank[:ranked] = np.column_stack(per_metric)[places]
    order = np.concatenate((active[places], idle_order))
    return Ranking(data, order, scores, percentiles_by_rank, ranked)


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


def gap_to(
    target_rank: int, own_score: float, board_scores: Sequence[float] | npt.NDArray[np.float64]
) -> float:
    """Points needed to reach the score now at target_rank (1-based); 0 if already there or
    nobody holds that rank. `board_scores` by rank - 1, as Ranking.scores (no list is made of
    100,000 scores to look up one)."""
    if target_rank < 1 or target_rank > len(board_scores):
        return 0.0
    return max(0.0, float(board_scores[target_rank - 1]) - own_score)
