"""The award rules: who wins which award, as pure functions over plain values (no session).

优秀主播奖 (streamers): the tiers of config `awards.streamer` in order (特等奖 1, 一等奖 2, ...)
take the streamers of the FINAL board by its composite score (models/scoring.py); ties by the
published rule: the higher score, then the higher GMV, then the earlier registration. A tie at
a tier boundary is decided by that rule, and `Boundary.decided_by` says which step decided it.

优秀组织奖 (units): a unit's composite over five metrics, each a percentile among the units
taking part (the streamer score's method, `scoring.percentiles`): its approved streamers, its
approved products (through its enterprises, Enterprise.unit_id = 填报单位), 入选产品总体销量
(the sales of those products by any streamer), its streamers among the 优秀主播奖 winners, and
the committee's publicity score 0-100; score = sum(weight * percentile * 100), weights from
`awards.organisation_weights`. Ties: the higher score, then higher sales, then more winners,
then the unit code (ascending): deterministic, and each step is said at the boundary.

爱心企业奖 (enterprises): one tier per enterprise, the highest whose min_donation_yuan is at most
what the foundation received from it (every payment, the directed part included), payments
counted up to `awards.enterprise_tiers_until`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Generic, NamedTuple, TypeVar

from models.scoring import percentiles

T = TypeVar("T")


# ----- cutting an ordered list into tiers -------------------------------------------------
class Cut(NamedTuple, Generic[T]):
    """Where a tier ends: its last winner, the one right after it (the next tier's first, or
    the first who wins nothing; None when nobody is left) and why the rule put them apart."""

    tier: str
    last: T
    next: T | None
    decided_by: str | None  # None when there is no `next`


def cut(
    ordered: Sequence[T],
    counts: Sequence[tuple[str, int]],
    decided_by: Callable[[T, T], str],
) -> tuple[list[tuple[int, str, T]], list[Cut[T]]]:
    """(place, tier, item) for the winners, tiers in order (count 0 skipped), and the cut
    after each tier that has a winner. Fewer candidates than awards: the last tiers stay
    short or empty."""
    placed: list[tuple[int, str, T]] = []
    cuts: list[Cut[T]] = []
    i = 0
    for key, count in counts:
        if count <= 0 or i >= len(ordered):
            continue
        for item in ordered[i : i + count]:
            placed.append((len(placed) + 1, key, item))
        i = min(i + count, len(ordered))
        after = ordered[i] if i < len(ordered) else None
        last = ordered[i - 1]
        cuts.append(Cut(key, last, after, decided_by(last, after) if after else None))
    return placed, cuts


# ----- 优秀主播奖 --------------------------------------------------------------------------
class StreamerCandidate(NamedTuple):
    streamer_id: int
    score: float  # the composite, exact (as ranked), 0..100
    gmv_fen: int
    registered: int  # place in registration order (0 = the earliest)


def streamer_order(candidates: Iterable[StreamerCandidate]) -> list[StreamerCandidate]:
    """The published rule: score, then GMV (both descending), then the earlier registration."""
    return sorted(candidates, key=lambda c: (-c.score, -c.gmv_fen, c.registered, c.streamer_id))


def streamer_decided_by(above: StreamerCandidate, below: StreamerCandidate) -> str:
    """Which step of the rule puts `above` first: "score", "gmv" or "registration"."""
    if above.score != below.score:
        return "score"
    if above.gmv_fen != below.gmv_fen:
        return "gmv"
    return "registration"


def streamer_awards(
    candidates: Iterable[StreamerCandidate], counts: Sequence[tuple[str, int]]
) -> tuple[list[tuple[int, str, StreamerCandidate]], list[Cut[StreamerCandidate]]]:
    """The winners (place, tier key, candidate) and the cut after each tier."""
    return cut(streamer_order(candidates), counts, streamer_decided_by)


# ----- 优秀组织奖 --------------------------------------------------------------------------
ORG_METRICS = ("streamers", "products", "sales", "winners", "publicity")


class UnitFigures(NamedTuple):
    unit_id: int
    code: str
    streamers: int  # approved streamers of the unit
    products: int  # approved products of its enterprises
    sales_fen: int  # 入选产品总体销量: those products' sales in counted reports, any streamer
    winners: int  # its streamers among the 优秀主播奖 winners
    publicity: int  # the committee's score 0..100 (0 when not entered)

    def values(self) -> tuple[int, ...]:
        """In ORG_METRICS order."""
        return (self.streamers, self.products, self.sales_fen, self.winners, self.publicity)


class ScoredUnit(NamedTuple):
    figures: UnitFigures
    score: float
    ps: tuple[float, ...]  # percentile (0..1) of each metric, ORG_METRICS order


def organisation_scores(
    units: Sequence[UnitFigures], weights: Mapping[str, float]
) -> list[ScoredUnit]:
    """Every unit scored and ordered by the rule (best first)."""
    columns = list(zip(*(u.values() for u in units), strict=True)) if units else []
    per_metric = [percentiles(list(col)) for col in columns]
    w = [float(weights.get(m, 0.0)) * 100 for m in ORG_METRICS]
    scored = []
    for i, unit in enumerate(units):
        ps = tuple(p[i] for p in per_metric)
        score = 0.0
        for weight, p in zip(w, ps, strict=True):  # left to right, as the streamer score
            score += weight * p
        scored.append(ScoredUnit(unit, score, ps))
    return sorted(scored, key=_unit_key)


def _unit_key(s: ScoredUnit) -> tuple[float, int, int, str]:
    return (-s.score, -s.figures.sales_fen, -s.figures.winners, s.figures.code)


def organisation_decided_by(above: ScoredUnit, below: ScoredUnit) -> str:
    """Which step puts `above` first: "score", "sales", "winners" or "code"."""
    if above.score != below.score:
        return "score"
    if above.figures.sales_fen != below.figures.sales_fen:
        return "sales"
    if above.figures.winners != below.figures.winners:
        return "winners"
    return "code"


def organisation_awards(
    units: Sequence[UnitFigures], weights: Mapping[str, float], count: int, tier: str
) -> tuple[list[tuple[int, str, ScoredUnit]], list[Cut[ScoredUnit]], list[ScoredUnit]]:
    """The top `count` units, the cut after them, and every unit scored (for the gaps)."""
    scored = organisation_scores(units, weights)
    placed, cuts = cut(scored, [(tier, count)], organisation_decided_by)
    return placed, cuts, scored


# ----- 爱心企业奖 --------------------------------------------------------------------------
class EnterpriseTier(NamedTuple):
    key: str
    min_fen: int


def enterprise_tiers(config_tiers: Iterable[tuple[str, int]]) -> list[EnterpriseTier]:
    """(key, min_donation_yuan) from config -> tiers in fen, lowest first."""
    return sorted((EnterpriseTier(k, y * 100) for k, y in config_tiers), key=lambda t: t.min_fen)


def counted_received(payments: Iterable[tuple[int, dt.date]], until: dt.date) -> int:
    """What counts towards a tier: payments (amount in fen, day received) up to `until`."""
    return sum(amount for amount, day in payments if day <= until)


def enterprise_tier(received_fen: int, tiers: Sequence[EnterpriseTier]) -> EnterpriseTier | None:
    """The highest tier reached (at least its minimum received); None below the lowest or
    with nothing received."""
    if received_fen <= 0:
        return None
    reached = [t for t in tiers if t.min_fen <= received_fen]
    return max(reached, key=lambda t: t.min_fen) if reached else None


def enterprise_next(
    received_fen: int, tiers: Sequence[EnterpriseTier]
) -> tuple[EnterpriseTier, int] | None:
    """The next tier above and what is still missing to it (fen); None at the top."""
    above = [t for t in tiers if t.min_fen > received_fen]
    if not above:
        return None
    nearest = min(above, key=lambda t: t.min_fen)
    return nearest, nearest.min_fen - received_fen


def enterprise_awards(
    received: Mapping[int, int], tiers: Sequence[EnterpriseTier]
) -> list[tuple[int, EnterpriseTier, int]]:
    """(enterprise id, tier, received fen) of every winner: the highest tier first, then the
    larger sum received, then the enterprise id."""
    rank = {t.key: i for i, t in enumerate(sorted(tiers, key=lambda t: -t.min_fen))}
    won = []
    for enterprise_id, fen in received.items():
        tier = enterprise_tier(fen, tiers)
        if tier is not None:
            won.append((enterprise_id, tier, fen))
    return sorted(won, key=lambda w: (rank[w[1].key], -w[2], w[0]))
