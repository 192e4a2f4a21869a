"""Whose people a reviewer may see and decide on: the committee sees every unit; a unit
contact sees their unit, and a city's contact also the counties under that city (the notice
has the city committees collect their counties' forms)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.people import Role
from models.units import Unit


@dataclass(frozen=True)
class ReviewerScope:
    committee: bool
    own_units: tuple[int, ...]  # the units this person is a contact of
    unit_ids: frozenset[int]  # own units and, for a city, its counties

    @property
    def is_reviewer(self) -> bool:
        return self.committee or bool(self.own_units)

    def covers(self, unit_id: int | None) -> bool:
        return self.committee or (unit_id is not None and unit_id in self.unit_ids)


def reviewer_scope(session: Session, person_id: int, is_admin: bool) -> ReviewerScope:
    own = tuple(
        session.scalars(
            select(Role.unit_id)
            .where(
                Role.person_id == person_id,
                Role.role == "unit_contact",
                Role.unit_id.is_not(None),
            )
            .order_by(Role.unit_id)
        ).all()
    )
    own_ids = tuple(u for u in own if u is not None)
    children = (
        session.scalars(select(Unit.id).where(Unit.parent_id.in_(own_ids))).all() if own_ids else []
    )
    return ReviewerScope(is_admin, own_ids, frozenset(own_ids) | frozenset(children))
