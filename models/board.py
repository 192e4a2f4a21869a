"""The 龙虎榜: computed from the maintained totals, published boards stored with every entry
so that the change since the last board (↑3 ↓1 新上榜) is exact.

Scopes: "all" (every approved streamer), "city:<unit code>" (the streamers of a city and its
counties), "university" (streamers of university units). A streamer's score is the same on
every board (percentiles among all approved streamers); a scoped board only renumbers.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Numeric,
    String,
    UniqueConstraint,
    and_,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from models.base import Base, BigId, IdMixin
from models.ranking import current
from models.scoring import Ranking, ScoringRules
from models.streamers import Streamer
from models.units import Unit

UNIVERSITY_KINDS = ("provincial_university", "other_university")


class Board(IdMixin, Base):
    """One published board: a scope for a period (the week's Monday, or "final")."""

    __tablename__ = "boards"
    __table_args__ = (UniqueConstraint("scope", "period"),)

    scope: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(20))
    published_at: Mapped[dt.datetime] = mapped_column(index=True)
    entries: Mapped[int]
    image_path: Mapped[str | None] = mapped_column(String(300))  # the rendered picture


class BoardEntry(Base):
    __tablename__ = "board_entries"
    __table_args__ = (Index("ix_board_entries_board_rank", "board_id", "rank"),)

    board_id: Mapped[int] = mapped_column(BigId, ForeignKey("boards.id"), primary_key=True)
    streamer_id: Mapped[int] = mapped_column(BigId, ForeignKey("streamers.id"), primary_key=True)
    rank: Mapped[int]
    score: Mapped[Decimal] = mapped_column(Numeric(7, 3))  # 0..100, as shown
    gmv_fen: Mapped[int] = mapped_column(BigInteger)
    live_days: Mapped[int]
    # previous board's rank of this streamer, None: new on the board (新上榜)
    previous_rank: Mapped[int | None]
    # the other totals the score came from, so that a published board (the final one: the
    # awards) is explained from itself alone; NULL on boards published before they were kept
    reports: Mapped[int | None]
    viewers: Mapped[int | None] = mapped_column(BigInteger)
    likes: Mapped[int | None] = mapped_column(BigInteger)
    live_minutes: Mapped[int | None]


_BATCH = 10_000  # entries inserted per statement
_KEPT = ("reports", "viewers", "likes", "live_minutes")  # totals kept beside the score


# ----- scopes ---------------------------------------------------------------------------
def scope_units(session: Session, scope: str) -> set[int] | None:
    """The unit ids a scope covers (None: every unit)."""
    if scope == "all":
        return None
    if scope == "university":
        return set(session.scalars(select(Unit.id).where(Unit.kind.in_(UNIVERSITY_KINDS))))
    if scope.startswith("city:"):
        city = session.scalars(select(Unit).where(Unit.code == scope[5:])).first()
        if city is None:
            return set()
        children = session.scalars(select(Unit.id).where(Unit.parent_id == city.id))
        return {city.id, *children}
    raise ValueError(f"unknown board scope {scope!r}")


def city_scopes(session: Session) -> list[tuple[str, str]]:
    """(scope, city name) of every city."""
    cities = session.execute(
        select(Unit.code, Unit.name).where(Unit.kind == "city").order_by(Unit.code)
    )
    return [(f"city:{code}", name) for code, name in cities]


# ----- publishing -----------------------------------------------------------------------
def latest(session: Session, scope: str) -> Board | None:
    return session.scalars(
        select(Board)
        .where(Board.scope == scope)
        .order_by(Board.published_at.desc(), Board.id.desc())
        .limit(1)
    ).first()


def published(session: Session, scope: str, period: str) -> Board | None:
    return session.scalars(
        select(Board).where(Board.scope == scope, Board.period == period)
    ).first()


def publish(
    session: Session,
    scope: str,
    period: str,
    rules: ScoringRules,
    now: dt.datetime,
    ranked: Ranking | None = None,
) -> Board:
    """Store the board (once per scope and period: publishing again returns the stored one).
    "all" stores the current ranking (`ranked`, computed if not given); a scoped board
    renumbers the "all" board of the same period, so a score is the same on every board."""
    existing = published(session, scope, period)
    if existing is not None:
        return existing
    main = None if scope == "all" else publish(session, "all", period, rules, now, ranked)
    before = latest(session, scope)
    board = Board(scope=scope, period=period, published_at=now, entries=0)
    session.add(board)
    session.flush()
    previous: dict[int, int] = {}
    if before is not None:
        found = session.execute(
            select(BoardEntry.streamer_id, BoardEntry.rank).where(BoardEntry.board_id == before.id)
        )
        previous = {sid: rank for sid, rank in found.tuples()}
    if main is None:
        ranked = ranked if ranked is not None else current(session, rules)
        # a batch at a time, from the ranking's arrays: 100,000 entries as dicts at once
        # were ~100 MB, and the ranking's columns as Python lists ~25 MB more
        for start in range(0, len(ranked), _BATCH):
            batch = [
                {
                    "board_id": board.id,
                    "streamer_id": sid,
                    "rank": rank,
                    "score": Decimal(f"{score:.3f}"),
                    "gmv_fen": gmv_fen,
                    "live_days": live_days,
                    "previous_rank": previous.get(sid),
                    "reports": reports,
                    "viewers": viewers,
                    "likes": likes,
                    "live_minutes": live_minutes,
                }
                for rank, (
                    sid,
                    reports,
                    gmv_fen,
                    viewers,
                    likes,
                    live_days,
                    live_minutes,
                ), score in ranked.page(start, start + _BATCH)
            ]
            session.execute(insert(BoardEntry), batch)
            board.entries += len(batch)
        return board
    units = scope_units(session, scope) or set()
    source = (
        select(
            BoardEntry.streamer_id.label("sid"),
            func.row_number().over(order_by=BoardEntry.rank).label("rank"),
            BoardEntry.score,
            BoardEntry.gmv_fen,
            BoardEntry.live_days,
            BoardEntry.reports,
            BoardEntry.viewers,
            BoardEntry.likes,
            BoardEntry.live_minutes,
        )
        .join(Streamer, Streamer.id == BoardEntry.streamer_id)
        .where(BoardEntry.board_id == main.id, Streamer.unit_id.in_(units))
        .subquery("source")
    )
    prior = aliased(BoardEntry, name="prior")
    session.execute(
        insert(BoardEntry).from_select(
            [
                "board_id",
                "streamer_id",
                "rank",
                "score",
                "gmv_fen",
                "live_days",
                "previous_rank",
                *_KEPT,
            ],
            select(
                literal(board.id),
                source.c.sid,
                source.c.rank,
                source.c.score,
                source.c.gmv_fen,
                source.c.live_days,
                prior.rank,
                *(source.c[k] for k in _KEPT),
            ).outerjoin(
                prior,
                and_(
                    prior.board_id == (before.id if before is not None else -1),
                    prior.streamer_id == source.c.sid,
                ),
            ),
        )
    )
    board.entries = (
        session.scalar(
            select(func.count()).select_from(BoardEntry).where(BoardEntry.board_id == board.id)
        )
        or 0
    )
    return board


def holds(session: Session, board_id: int, ranked: Ranking) -> bool:
    """Whether a stored "all" board holds exactly this ranking: every streamer with the same
    rank, score (as stored) and totals. A board published again from it would say nothing new."""
    stored = set(
        session.execute(
            select(
                BoardEntry.streamer_id,
                BoardEntry.rank,
                BoardEntry.score,
                BoardEntry.gmv_fen,
                BoardEntry.live_days,
                *(getattr(BoardEntry, k) for k in _KEPT),
            ).where(BoardEntry.board_id == board_id)
        ).tuples()
    )
    c = ranked.columns
    fresh = {
        (
            c.ids[i],
            rank,
            Decimal(f"{score:.3f}"),
            c.gmv_fen[i],
            c.live_days[i],
            c.reports[i],
            c.viewers[i],
            c.likes[i],
            c.live_minutes[i],
        )
        for rank, i, score in ranked.rows()
    }
    return stored == fresh


def entries(session: Session, board_id: int, limit: int | None = None) -> list[BoardEntry]:
    stmt = select(BoardEntry).where(BoardEntry.board_id == board_id).order_by(BoardEntry.rank)
    return list(session.scalars(stmt.limit(limit) if limit else stmt))


# ----- the final board: published once after the last reports, again (a new version) when
# an audit changes them afterwards; the awards read only the latest version ----------------
FINAL = "final"


def final_period(version: int) -> str:
    """ "final" for the first final board, "final-2", "final-3"... for republished ones."""
    return FINAL if version <= 1 else f"{FINAL}-{version}"


def final_boards(session: Session, scope: str = "all") -> list[Board]:
    """Every version of the final board of a scope, oldest first (by id: each version is
    inserted after the one it replaces)."""
    return list(
        session.scalars(
            select(Board)
            .where(
                Board.scope == scope,
                (Board.period == FINAL) | Board.period.like(f"{FINAL}-%"),
            )
            .order_by(Board.id)
        )
    )


def final_board(session: Session) -> Board | None:
    """The latest version of the overall final board (None: not published yet)."""
    versions = final_boards(session)
    return versions[-1] if versions else None
