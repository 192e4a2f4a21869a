"""The reviewers' queue and decisions as queries (who may decide what is models/review_rules)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.enterprises import Enterprise, Product
from models.repo import changed_rows
from models.streamers import Streamer


def waiting_streamers(
    session: Session, statuses: Collection[str], unit_ids: Collection[int] | None
) -> list[tuple[int, str]]:
    """(id, status) of the streamers in these states, of these units (None: every unit), by
    id."""
    stmt = select(Streamer.id, Streamer.status).where(Streamer.status.in_(statuses))
    if unit_ids is not None:
        stmt = stmt.where(Streamer.unit_id.in_(unit_ids))
    return list(session.execute(stmt.order_by(Streamer.id)).tuples())


def waiting_products(
    session: Session, statuses: Collection[str], unit_ids: Collection[int] | None
) -> list[tuple[int, str]]:
    """(id, status) of the products in these states whose enterprise belongs to these units
    (None: every unit), by id."""
    stmt = (
        select(Product.id, Product.status)
        .join(Enterprise, Enterprise.id == Product.enterprise_id)
        .where(Product.status.in_(statuses))
    )
    if unit_ids is not None:
        stmt = stmt.where(Enterprise.unit_id.in_(unit_ids))
    return list(session.execute(stmt.order_by(Product.id)).tuples())


def record_decision(
    session: Session,
    model: type[Streamer] | type[Product],
    item_id: int,
    seen: str,
    new: str,
    reject_reason: str | None,
    reviewer: int | None,
    now: dt.datetime,
) -> bool:
    """Move the item from `seen` to `new`; False when its status is no longer `seen` (of two
    reviewers deciding at once, one wins and the other is told)."""
    won = changed_rows(
        session,
        update(model)
        .where(model.id == item_id, model.status == seen)
        .values(
            status=new,
            reject_reason=reject_reason,
            reviewed_at=now,
            reviewed_by=reviewer,
            updated_at=now,
        ),
    )
    return won == 1
