"""Quota progress of recommending units: a pure rule (Tally) and the one query behind /unit,
/units and the deadline reminders."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.enterprises import Enterprise, Product
from models.review_rules import COUNTED, PENDING_UNIT
from models.streamers import LiveAccount, Streamer
from models.units import Unit


@dataclass(frozen=True)
class Tally:
    """How many a unit has against its quota. Quotas are minimums; `max` (universities and
    provincial units) is a ceiling that warns when passed, it never blocks."""

    done: int
    min: int
    max: int | None = None

    @property
    def shortfall(self) -> int:
        return max(self.min - self.done, 0)

    @property
    def over(self) -> int:
        return max(self.done - self.max, 0) if self.max is not None else 0

    @property
    def met(self) -> bool:
        return self.done >= self.min


@dataclass(frozen=True)
class UnitProgress:
    unit_id: int
    unit_code: str
    unit_name: str
    kind: str
    streamers: Tally
    products: Tally
    pending: list[str] = field(default_factory=list)  # waiting for the unit's endorsement

    @property
    def shortfall(self) -> int:
        return self.streamers.shortfall + self.products.shortfall


def counted_streamers(session: Session, unit_ids: list[int]) -> dict[int, int]:
    rows = session.execute(
        select(Streamer.unit_id, func.count())
        .where(Streamer.unit_id.in_(unit_ids), Streamer.status.in_(COUNTED))
        .group_by(Streamer.unit_id)
    )
    return {unit_id: n for unit_id, n in rows.tuples()}


def counted_products(session: Session, unit_ids: list[int]) -> dict[int, int]:
    rows = session.execute(
        select(Enterprise.unit_id, func.count())
        .join(Product, Product.enterprise_id == Enterprise.id)
        .where(Enterprise.unit_id.in_(unit_ids), Product.status.in_(COUNTED))
        .group_by(Enterprise.unit_id)
    )
    return {unit_id: n for unit_id, n in rows.tuples()}


def pending_names(session: Session, unit_id: int) -> list[str]:
    """Account names and product names that wait for this unit's endorsement."""
    accounts = session.scalars(
        select(LiveAccount.account_name)
        .join(Streamer, Streamer.id == LiveAccount.streamer_id)
        .where(Streamer.unit_id == unit_id, Streamer.status == PENDING_UNIT)
        .order_by(LiveAccount.id)
    )
    products = session.scalars(
        select(Product.name)
        .join(Enterprise, Enterprise.id == Product.enterprise_id)
        .where(Enterprise.unit_id == unit_id, Product.status == PENDING_UNIT)
        .order_by(Product.id)
    )
    return [*accounts, *products]


class _Quota(Protocol):
    @property
    def min(self) -> int: ...
    @property
    def max(self) -> int | None: ...


class KindQuotas(Protocol):
    """config.units.kinds[kind] (models/ does not import the config module)."""

    @property
    def streamers(self) -> _Quota: ...
    @property
    def products(self) -> _Quota: ...


def progress_of_units(
    session: Session,
    kinds: Mapping[Any, KindQuotas],
    units: list[Unit],
    with_pending: bool = False,
    only: str | None = None,
) -> list[UnitProgress]:
    """`only` ("streamers" or "products"): count just that; the other tally reads 0."""
    ids = [u.id for u in units]
    streamers = counted_streamers(session, ids) if only in (None, "streamers") else {}
    products = counted_products(session, ids) if only in (None, "products") else {}
    result = []
    for unit in units:
        quota = kinds[unit.kind]
        s_min, s_max = quota.streamers.min, quota.streamers.max
        p_min, p_max = quota.products.min, quota.products.max
        result.append(
            UnitProgress(
                unit_id=unit.id,
                unit_code=unit.code,
                unit_name=unit.name,
                kind=unit.kind,
                streamers=Tally(streamers.get(unit.id, 0), s_min, s_max),
                products=Tally(products.get(unit.id, 0), p_min, p_max),
                pending=pending_names(session, unit.id) if with_pending else [],
            )
        )
    return result


def unit_progress(session: Session, config: Any, unit_id: int) -> UnitProgress:
    """One unit's progress with who is pending; config is the FestivalConfig."""
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise LookupError(f"no unit {unit_id}")
    return progress_of_units(session, config.units.kinds, [unit], with_pending=True)[0]
