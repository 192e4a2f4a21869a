"""Whether an enterprise has agreed to the money rules (`Enterprise.money_rules_agreed_at`)
or put them off (暂不, in the audit log): the queries behind handlers/money.py's gate, asked at
every command step of an enterprise contact outside a form.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from models.enterprises import Enterprise
from models.people import AuditEntry

# Built once, on the table: the money gate asks it at every command step outside a form, and
# nearly always finds nothing (a Core query of one column costs a third of an ORM one).
_ENT = Enterprise.__table__.c
_UNAGREED_OF = select(_ENT.id).where(
    _ENT.person_id == bindparam("person"), _ENT.money_rules_agreed_at.is_(None)
)


def unagreed_enterprise_of(session: Session, person_id: int) -> Enterprise | None:
    """The person's enterprise if it has not agreed to the money rules yet."""
    session.flush()  # as the ORM query did (autoflush): a change of this step counts
    found = session.connection().execute(_UNAGREED_OF, {"person": person_id}).first()
    return None if found is None else session.get(Enterprise, found[0])


def put_off_since(session: Session, enterprise_id: int, start: dt.datetime) -> bool:
    """Whether the enterprise said 暂不 to the money rules since `start` (the audit log)."""
    stmt = select(AuditEntry.id).where(
        AuditEntry.entity == "enterprise",
        AuditEntry.entity_id == enterprise_id,
        AuditEntry.action == "money_rules_later",
        AuditEntry.at >= start,
    )
    return session.scalars(stmt.limit(1)).first() is not None


def unagreed_enterprises(session: Session) -> list[tuple[int, int, str]]:
    """(enterprise id, contact person id, name) of enterprises that have not agreed to the
    money rules (registered before they were shown)."""
    stmt = (
        select(Enterprise.id, Enterprise.person_id, Enterprise.name)
        .where(Enterprise.money_rules_agreed_at.is_(None))
        .order_by(Enterprise.id)
    )
    return [(int(e), int(p), n) for e, p, n in session.execute(stmt)]
