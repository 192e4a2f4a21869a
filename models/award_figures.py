"""The figures the award rules of models/award_rules.py take, read from the database: the
final board's entries ranked again by the score rule (`board_ranking`: ranks, scores and
percentiles are the board's own, whatever changed in the totals since), each unit's approved
streamers and products, sales (models/sales.py) and publicity score (`unit_figures`), and each
enterprise's payments received (`received_by_enterprise`). The lists computed from them are
models/award_lists.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import ledger, sales
from models.award_rules import UnitFigures
from models.awards import UnitPublicity
from models.base import ReviewStatus
from models.board import Board, BoardEntry
from models.enterprises import Enterprise, Product
from models.scoring import Columns, Ranking, ScoringRules, rank_columns
from models.streamers import Streamer
from models.units import Unit

APPROVED = ReviewStatus.APPROVED.value

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
