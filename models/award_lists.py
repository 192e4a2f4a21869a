"""The award lists: the one computed from the latest final board (`compute`: every winner's
breakdown and, after each tier, who comes next and what they lack), what still holds its
freeze (`open_items`; the top-N audit's scope, `audit_scope`), and the frozen lists
(award_lists + award_entries) that certificates and notices are made from: `current_list`
(None before the first `/awards final`) and `winners(session, list_id)` (kind, tier, subject
id, place, score, ambassador, breakdown; best first within each kind).

The figures the rules take (the final board ranked again by the score rule) are
models/award_figures.py; freezing a list and the committee's other inputs,
models/award_decisions.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import audits, trust
from models.award_figures import board_ranking, received_by_enterprise, unit_figures
from models.award_figures import product_sales as product_sales  # the tests read it here
from models.award_rules import (
    ORG_METRICS,
    Cut,
    EnterpriseTier,
    ScoredUnit,
    StreamerCandidate,
    enterprise_awards,
    enterprise_next,
    enterprise_tier,
    enterprise_tiers,
    organisation_awards,
    streamer_awards,
)
from models.awards import AmbassadorMark, AwardEntry, AwardList
from models.board import Board, final_board
from models.scoring import METRICS, ScoringRules
from models.streamer_names import account_names
from models.streamers import Streamer

ORGANISATION = "organisation"  # the tier key of 优秀组织奖 (one tier)
KINDS = ("streamer", "organisation", "enterprise")


class OpenItem(NamedTuple):
    """Something that must be settled before the list is frozen: a catalog key and its
    parameters (today the top-N audit's; further checks add theirs to `open_items`)."""

    key: str
    params: dict[str, Any]


def open_items(session: Session, config: Any) -> list[OpenItem]:
    """What still holds the freeze (`/awards final` refuses while this is not empty): reports
    an anomaly rule holds until the committee checks them (models/trust.py), and the top-N
    audit (models/audits.py) while a streamer in its scope has reports to audit."""
    items: list[OpenItem] = [
        OpenItem(key, dict(params)) for key, params in trust.open_checks(session)
    ]
    scope = audit_scope(session, config)
    if scope:
        cal = config.calendar
        done = audits.progress(session, scope, cal.live_start, cal.live_end)
        if done.waiting:
            left = done.open_streamers
            names = account_names(session, left[:AUDIT_NAMES_SHOWN])
            shown = " · ".join(names.get(sid, f"#{sid}") for sid in left[:AUDIT_NAMES_SHOWN])
            if len(left) > AUDIT_NAMES_SHOWN:
                shown += "…"
            params = {
                "done": done.done,
                "total": done.total,
                "reports": done.reports_left,
                "names": shown,
            }
            items.append(OpenItem("audit.open_item", params))
    return items


AUDIT_NAMES_SHOWN = 5


def audit_size(config: Any) -> int:
    """How many streamers the audit covers: audit.top_n, or the streamer award places."""
    n = config.audit.top_n
    return int(n) if n is not None else sum(max(a.count, 0) for a in config.awards.streamer)


def audit_scope(session: Session, config: Any) -> list[int] | None:
    """The streamers the audit covers, best first: the top N of the latest final board as the
    awards rank it (`board_ranking`), among those with a counted report. None: no final board
    yet. A rejection republishes the final board, and whoever enters the top N comes in."""
    board = final_board(session)
    if board is None:
        return None
    n = audit_size(config)
    if n <= 0:
        return []
    ranked = board_ranking(session, board, ScoringRules.of(config))
    return (
        [s.totals.streamer_id for s in ranked.top(min(n, ranked.ranked))] if ranked.ranked else []
    )


# ----- the computed list -----------------------------------------------------------------
@dataclass(frozen=True)
class Win:
    """A winner with what explains it (`breakdown`, stored with a frozen entry)."""

    kind: str
    tier: str
    subject_id: int
    place: int
    score: float | None
    breakdown: dict[str, Any]
    ambassador: bool = False


@dataclass
class Awards:
    board: Board
    streamers: list[Win] = field(default_factory=list)
    organisations: list[Win] = field(default_factory=list)
    enterprises: list[Win] = field(default_factory=list)
    # after each tier: who comes next and why (kind, tier, last subject, next subject or None,
    # decided_by, points behind, GMV or sales behind in fen)
    # (kept in the breakdown of the tier's last winner as "cut")
    cuts: list[dict[str, Any]] = field(default_factory=list)
    # the enterprise with the most received among those without a tier: (id, fen, tier, lacks)
    closest_enterprise: tuple[int, int, str, int] | None = None

    def all(self) -> list[Win]:
        return [*self.streamers, *self.organisations, *self.enterprises]


def compute(session: Session, config: Any) -> Awards | None:
    """The provisional list, from the latest final board (None: not published yet)."""
    board = final_board(session)
    if board is None:
        return None
    rules = ScoringRules.of(config)
    awards = Awards(board)
    _streamers(session, config, rules, awards)
    winners_by_unit: dict[int, int] = {}
    if awards.streamers:
        ids = [w.subject_id for w in awards.streamers]
        for unit_id in session.scalars(select(Streamer.unit_id).where(Streamer.id.in_(ids))):
            winners_by_unit[unit_id] = winners_by_unit.get(unit_id, 0) + 1
    _organisations(session, config, winners_by_unit, awards)
    _enterprises(session, config, awards)
    # what the next one lacks is kept with the last winner of each tier (frozen with it)
    last = {(w.kind, w.subject_id): w for w in awards.all()}
    for c in awards.cuts:
        win = last.get((c["kind"], c["last"]))
        if win is not None and c["next"] is not None:
            win.breakdown["cut"] = c
    return awards


def _streamers(session: Session, config: Any, rules: ScoringRules, awards: Awards) -> None:
    counts = [(a.key, a.count) for a in config.awards.streamer]
    ranked = board_ranking(session, awards.board, rules)
    wanted = min(sum(max(c, 0) for _k, c in counts) + 1, ranked.ranked)  # + the next one
    top = ranked.top(wanted) if wanted > 0 else []  # top(0) would be everybody
    candidates = [
        StreamerCandidate(s.totals.streamer_id, s.score, s.totals.gmv_fen, s.rank) for s in top
    ]
    by_id = {s.totals.streamer_id: s for s in top}
    marked = set(session.scalars(select(AmbassadorMark.streamer_id)))
    placed, cuts = streamer_awards(candidates, counts)
    weights = dict(rules.weights)
    for place, tier, c in placed:
        s = by_id[c.streamer_id]
        t = s.totals
        values = (t.gmv_fen, t.live_days, round(t.avg_daily_hours, 2), t.viewers, t.likes)
        metrics = {
            m: {"value": v, "percentile": p, "points": weights[m] * p * 100}
            for m, v, p in zip(METRICS, values, s.ps, strict=True)
        }
        breakdown = {"board_rank": s.rank, "score": s.score, "metrics": metrics}
        awards.streamers.append(
            Win("streamer", tier, c.streamer_id, place, s.score, breakdown, c.streamer_id in marked)
        )
    awards.cuts += [_streamer_cut(cut) for cut in cuts]


def _streamer_cut(c: Cut[StreamerCandidate]) -> dict[str, Any]:
    nxt = c.next
    return {
        "kind": "streamer",
        "tier": c.tier,
        "last": c.last.streamer_id,
        "next": nxt.streamer_id if nxt else None,
        "next_score": nxt.score if nxt else None,
        "decided_by": c.decided_by,
        "points": c.last.score - nxt.score if nxt else None,
        "fen": c.last.gmv_fen - nxt.gmv_fen if nxt else None,
    }


def _organisations(
    session: Session, config: Any, winners_by_unit: dict[int, int], awards: Awards
) -> None:
    w = config.awards.organisation_weights
    weights = {m: float(getattr(w, m)) for m in ORG_METRICS}
    figures = unit_figures(session, config, winners_by_unit)
    placed, cuts, _all = organisation_awards(
        figures, weights, config.awards.organisation_count, ORGANISATION
    )
    for place, tier, s in placed:
        metrics = {
            m: {"value": v, "percentile": p, "points": weights[m] * p * 100}
            for m, v, p in zip(ORG_METRICS, s.figures.values(), s.ps, strict=True)
        }
        breakdown = {"score": s.score, "metrics": metrics}
        awards.organisations.append(
            Win("organisation", tier, s.figures.unit_id, place, s.score, breakdown)
        )
    awards.cuts += [_org_cut(c) for c in cuts]


def _org_cut(c: Cut[ScoredUnit]) -> dict[str, Any]:
    nxt = c.next
    return {
        "kind": "organisation",
        "tier": c.tier,
        "last": c.last.figures.unit_id,
        "next": nxt.figures.unit_id if nxt else None,
        "next_score": nxt.score if nxt else None,
        "decided_by": c.decided_by,
        "points": c.last.score - nxt.score if nxt else None,
        "fen": c.last.figures.sales_fen - nxt.figures.sales_fen if nxt else None,
        "winners": c.last.figures.winners - nxt.figures.winners if nxt else None,
    }


def _enterprises(session: Session, config: Any, awards: Awards) -> None:
    a = config.awards
    tiers = enterprise_tiers((t.key, t.min_donation_yuan) for t in a.enterprise)
    received = received_by_enterprise(session, a.enterprise_tiers_until)
    for place, (eid, tier, fen) in enumerate(enterprise_awards(received, tiers), 1):
        breakdown: dict[str, Any] = {"received_fen": fen, "min_fen": tier.min_fen}
        ahead = enterprise_next(fen, tiers)
        if ahead is not None:
            breakdown["next"] = {"tier": ahead[0].key, "lacks_fen": ahead[1]}
        awards.enterprises.append(Win("enterprise", tier.key, eid, place, None, breakdown))
    awards.closest_enterprise = _closest(received, tiers)


def _closest(
    received: dict[int, int], tiers: list[EnterpriseTier]
) -> tuple[int, int, str, int] | None:
    below = [(fen, eid) for eid, fen in received.items() if enterprise_tier(fen, tiers) is None]
    if not below or not tiers:
        return None
    fen, eid = max(below, key=lambda x: (x[0], -x[1]))
    lowest = tiers[0]
    return eid, fen, lowest.key, lowest.min_fen - fen


# ----- frozen lists ----------------------------------------------------------------------
def current_list(session: Session) -> AwardList | None:
    """The frozen list in force (the latest version not superseded)."""
    return session.scalars(
        select(AwardList)
        .where(AwardList.superseded_at.is_(None))
        .order_by(AwardList.version.desc())
        .limit(1)
    ).first()


def winners(session: Session, list_id: int, kind: str | None = None) -> list[AwardEntry]:
    """A frozen list's entries: by kind (streamer, organisation, enterprise), then place."""
    stmt = select(AwardEntry).where(AwardEntry.list_id == list_id)
    if kind is not None:
        stmt = stmt.where(AwardEntry.kind == kind)
    entries = list(session.scalars(stmt))
    return sorted(entries, key=lambda e: (KINDS.index(e.kind), e.place))


def as_awards(session: Session, award_list: AwardList) -> Awards:
    """A frozen list in the shape of a computed one (for the same text and picture)."""
    board = session.get(Board, award_list.board_id) if award_list.board_id else None
    awards = Awards(board if board is not None else Board(scope="all", period="?", entries=0))
    for e in winners(session, award_list.id):
        win = Win(
            e.kind,
            e.tier,
            e.subject_id,
            e.place,
            None if e.score is None else float(e.score),
            dict(e.breakdown),
            e.ambassador,
        )
        {"streamer": awards.streamers, "organisation": awards.organisations}.get(
            e.kind, awards.enterprises
        ).append(win)
    return awards
