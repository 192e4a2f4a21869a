"""Who is who, for display: a streamer's account name and unit name (never a phone number),
as the boards, the award list, the audit and /reconcile show them.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.streamers import LiveAccount, Streamer
from models.units import Unit


def account_names(session: Session, streamer_ids: list[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    for sid, name in session.execute(
        select(LiveAccount.streamer_id, LiveAccount.account_name)
        .where(LiveAccount.streamer_id.in_(streamer_ids))
        .order_by(LiveAccount.id)
    ):
        names.setdefault(sid, name)
    return names


def unit_names(session: Session, streamer_ids: list[int]) -> dict[int, str]:
    """'赣州市 瑞金市' for a county's streamer, the unit's own name otherwise."""
    parent = Unit.__table__.alias("parent")
    rows = session.execute(
        select(Streamer.id, Unit.name, parent.c.name)
        .join(Unit, Unit.id == Streamer.unit_id)
        .outerjoin(parent, parent.c.id == Unit.parent_id)
        .where(Streamer.id.in_(streamer_ids))
    )
    return {sid: f"{p} {u}" if p else u for sid, u, p in rows}
