"""The committee's decisions on the awards, each audited: a computed list frozen as the next
version (`freeze`, `/awards final`: only when it differs from the version in force), a unit's
publicity score (`/publicity`), a streamer marked 江西青年电商扶贫大使 (`/ambassador`, on the
list in force too). The lists themselves, computed and frozen, are models/award_lists.py.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import repo
from models.award_lists import KINDS, Awards, current_list, winners
from models.awards import AmbassadorMark, AwardEntry, AwardList, UnitPublicity


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
