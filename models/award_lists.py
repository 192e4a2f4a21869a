"""The award lists from the database: the figures the rules of models/award_rules.py take (the
final board's entries, each unit's streamers, products, sales and publicity, each enterprise's
payments received), the computed list with every winner's breakdown, and the frozen lists
(award_lists + award_entries) that certificates and notices are made from.

Streamer awards read only the latest final board (models/board.py `final_board`): its stored
totals are ranked again by the score rule (`scoring.rank_columns`), in the board's order, so
ranks, scores and percentiles are the board's own, whatever changed in the totals since. A
report rejected afterwards republishes the final board (handlers/awards.py `republish_final`).

For the certificates: `current_list(session)` is the frozen list in force (None before the
first `/awards final`), `winners(session, list_id)` its entries (kind, tier, subject id,
place, score, ambassador, breakdown), best first within each kind.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import audits, ledger, repo, sales, trust
from models.award_rules import (
    ORG_METRICS,
    Cut,
    EnterpriseTier,
    ScoredUnit,
    StreamerCandidate,
    UnitFigures,
    enterprise_awards,
    enterprise_next,
    enterprise_tier,
    enterprise_tiers,
    organisation_awards,
    streamer_awards,
)
from models.awards import AmbassadorMark, AwardEntry, AwardList, UnitPublicity
from models.base import ReviewStatus
from models.board import Board, BoardEntry, final_board
from models.enterprises import Enterprise, Product
from models.scoring import METRICS, Columns, Ranking, ScoringRules, rank_columns
from models.streamer_names import account_names
from models.streamers import Streamer
from models.units import Unit

APPROVED = ReviewStatus.APPROVED.value
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


# ----- the figures -----------------------------------------------------------------------
_ENTRY_COLUMNS = (
    BoardEntry.streamer_id,
    func.coalesce(BoardEntry.reports, 0),
    BoardEntry.gmv_fen,
    func.coalesce(BoardEntry.viewers, 0),
    func.coalesce(BoardEntry.likes, 0),
    BoardEntry.live_days,
    func.coalesce(BoardEntry.live_minutes, 0),
)


def board_ranking(session: Session, board: Board, rules: ScoringRules) -> Ranking:
    """The board's entries ranked again by the score rule. Given in the board's rank order,
    the rule's last tie-break (the earlier registration, by row) is the board's own order,
    which already held it when the board was published: the ranking is the board's."""
    stmt = (
        select(*_ENTRY_COLUMNS)
        .where(BoardEntry.board_id == int(board.id))
        .order_by(BoardEntry.rank)
    )
    conn = session.connection()
    # a DBAPI cursor, as models/ranking.py: plain tuples into one array (the only value is
    # our own integer id, rendered inline)
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql)
        table = np.array(cursor.fetchall(), dtype=np.int64).reshape(-1, len(Columns._fields))
    finally:
        cursor.close()
    return rank_columns(Columns(*table.T), rules)


def unit_figures(
    session: Session, config: Any, winners_by_unit: dict[int, int]
) -> list[UnitFigures]:
    """Every unit taking part (an approved streamer or product, or a publicity score)."""
    cal = config.calendar
    streamers = dict(
        session.execute(
            select(Streamer.unit_id, func.count())
            .where(Streamer.status == APPROVED)
            .group_by(Streamer.unit_id)
        )
        .tuples()
        .all()
    )
    products = dict(
        session.execute(
            select(Enterprise.unit_id, func.count())
            .join(Product, Product.enterprise_id == Enterprise.id)
            .where(Product.status == APPROVED)
            .group_by(Enterprise.unit_id)
        )
        .tuples()
        .all()
    )
    unit_of_product = dict(
        session.execute(
            select(Product.id, Enterprise.unit_id)
            .join(Enterprise, Enterprise.id == Product.enterprise_id)
            .where(Product.status == APPROVED)
        )
        .tuples()
        .all()
    )
    sales: dict[int, int] = {}
    for product_id, fen in product_sales(session, cal.live_start, cal.live_end).items():
        unit_id = unit_of_product.get(product_id)
        if unit_id is not None:
            sales[unit_id] = sales.get(unit_id, 0) + fen
    publicity = dict(
        session.execute(select(UnitPublicity.unit_id, UnitPublicity.score)).tuples().all()
    )
    taking_part = set(streamers) | set(products) | set(publicity)
    codes = dict(
        session.execute(select(Unit.id, Unit.code).where(Unit.id.in_(taking_part))).tuples().all()
    )
    return [
        UnitFigures(
            unit_id,
            codes[unit_id],
            streamers.get(unit_id, 0),
            products.get(unit_id, 0),
            int(sales.get(unit_id) or 0),
            winners_by_unit.get(unit_id, 0),
            publicity.get(unit_id, 0),
        )
        for unit_id in sorted(taking_part, key=lambda u: codes[u])
    ]


def product_sales(session: Session, start: dt.date, end: dt.date) -> dict[int, int]:
    """Fen sold per product in counted reports (models/sales.py: the one definition)."""
    return sales.reported_sales_by_product(session, start, end)


def received_by_enterprise(session: Session, until: dt.date) -> dict[int, int]:
    """Fen received from each enterprise (every payment, the directed part included) up to
    `until` (awards.enterprise_tiers_until): the ledger's own sum."""
    return ledger.received_by_enterprise(session, until=until)


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


def _signature(
    wins: list[tuple[str, str, int, int, bool]],
) -> list[tuple[str, str, int, int, bool]]:
    return sorted(wins)


def freeze(
    session: Session, awards: Awards, now: dt.datetime, actor: int | None
) -> tuple[AwardList, AwardList | None] | None:
    """Store the computed list as the next version (the one in force is superseded), audited:
    (new list, the list it replaces). None: the list in force is the same (same final board,
    same winners in the same places and tiers), so nothing is stored."""
    before = current_list(session)
    if before is not None and before.board_id == awards.board.id:
        stored = [
            (e.kind, e.tier, e.subject_id, e.place, e.ambassador)
            for e in winners(session, before.id)
        ]
        computed = [(w.kind, w.tier, w.subject_id, w.place, w.ambassador) for w in awards.all()]
        if _signature(stored) == _signature(computed):
            return None
    version = (session.scalar(select(func.max(AwardList.version))) or 0) + 1
    if before is not None:
        session.execute(
            update(AwardList).where(AwardList.superseded_at.is_(None)).values(superseded_at=now)
        )
    new = AwardList(version=version, board_id=awards.board.id, frozen_at=now, frozen_by=actor)
    session.add(new)
    session.flush()
    session.add_all(
        AwardEntry(
            list_id=new.id,
            kind=w.kind,
            tier=w.tier,
            subject_id=w.subject_id,
            place=w.place,
            score=None if w.score is None else Decimal(f"{w.score:.3f}"),
            ambassador=w.ambassador,
            breakdown=w.breakdown,
        )
        for w in awards.all()
    )
    session.flush()
    counts = {k: sum(1 for w in awards.all() if w.kind == k) for k in KINDS}
    repo.audit(
        session,
        now,
        actor,
        "freeze_awards",
        "award_list",
        new.id,
        before={"version": before.version} if before else None,
        after={"version": version, "board_id": awards.board.id, **counts},
    )
    return new, before


# ----- the committee's inputs ------------------------------------------------------------
def publicity_of(session: Session, unit_id: int) -> int | None:
    row = session.get(UnitPublicity, unit_id)
    return row.score if row else None


def set_publicity(
    session: Session, unit_id: int, score: int, actor: int | None, now: dt.datetime
) -> int | None:
    """宣传工作 score 0-100 of a unit (audited); the score it had (None: none yet)."""
    row = session.get(UnitPublicity, unit_id)
    previous = row.score if row else None
    if row is None:
        session.add(UnitPublicity(unit_id=unit_id, score=score, set_by=actor, set_at=now))
    else:
        row.score, row.set_by, row.set_at = score, actor, now
    repo.audit(
        session, now, actor, "set_publicity", "unit", unit_id,
        before={"publicity": previous} if previous is not None else None,
        after={"publicity": score},
    )  # fmt: skip
    return previous


def mark_ambassador(
    session: Session, streamer_id: int, on: bool, actor: int | None, now: dt.datetime
) -> bool:
    """Mark (or unmark) a streamer 江西青年电商扶贫大使, audited; also on the list in force.
    False: nothing changed (already so)."""
    row = session.get(AmbassadorMark, streamer_id)
    if (row is not None) == on:
        return False
    if on:
        session.add(AmbassadorMark(streamer_id=streamer_id, marked_by=actor, marked_at=now))
    else:
        session.delete(row)
    frozen = current_list(session)
    if frozen is not None:
        session.execute(
            update(AwardEntry)
            .where(
                AwardEntry.list_id == frozen.id,
                AwardEntry.kind == "streamer",
                AwardEntry.subject_id == streamer_id,
            )
            .values(ambassador=on)
        )
    repo.audit(
        session, now, actor, "mark_ambassador" if on else "unmark_ambassador", "streamer",
        streamer_id, after={"ambassador": on},
    )  # fmt: skip
    return True


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
