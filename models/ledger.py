"""Queries of the donation ledger (tables in models/donations.py, rules in
models/donation_rules.py): turnovers and their review, the directed part, payments, the
foundation's certificate numbers, and the ledger of all enterprises. Money in fen.

For other parts of the bot (awards, certificates):
- `received_by_enterprise(session, until=...)`: payments received per enterprise;
- `ledger(session, rules, ...)`: one `LedgerRow` per enterprise, with what streamers reported
  selling for its products (models/sales.py: the one definition of the sales that count).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models.donation_rules import DonationRules, Statement, donation
from models.donations import (
    DonationCertificate,
    DonationDirection,
    DonationPayment,
    Turnover,
    TurnoverStatus,
)
from models.enterprises import Enterprise
from models.sales import reported_sales_by_enterprise
from models.sales import reported_sales_by_product as reported_sales_by_product

# The sales that count are models/sales.py's; `reported_sales_by_product` is named here as well
# because the tests of the ledger's figures read both kinds of sales through this module.


# ----- turnovers ---------------------------------------------------------------------------
def turnover_of(session: Session, enterprise_id: int) -> Turnover | None:
    return session.scalars(select(Turnover).where(Turnover.enterprise_id == enterprise_id)).first()


def submit_turnover(
    session: Session, enterprise_id: int, amount_fen: int, evidence: str | None, now: dt.datetime
) -> Turnover:
    """Stores (or replaces, revision + 1) the enterprise's turnover, waiting for review."""
    row = turnover_of(session, enterprise_id)
    if row is None:
        row = Turnover(
            enterprise_id=enterprise_id,
            amount_fen=amount_fen,
            evidence_file_id=evidence,
            status=TurnoverStatus.SUBMITTED.value,
            revision=1,
            submitted_at=now,
        )
        session.add(row)
    else:
        row.amount_fen, row.evidence_file_id = amount_fen, evidence
        row.status, row.reason, row.revision = (
            TurnoverStatus.SUBMITTED.value,
            None,
            row.revision + 1,
        )
        row.submitted_at, row.reviewed_at, row.reviewed_by = now, None, None
    session.flush()
    return row


def waiting_turnovers(session: Session) -> list[int]:
    """Ids of turnovers waiting for the committee, oldest first."""
    stmt = (
        select(Turnover.id)
        .where(Turnover.status == TurnoverStatus.SUBMITTED.value)
        .order_by(Turnover.submitted_at, Turnover.id)
    )
    return list(session.scalars(stmt))


def decide_turnover(
    session: Session,
    turnover_id: int,
    revision: int,
    confirm: bool,
    reason: str | None,
    reviewer: int,
    now: dt.datetime,
) -> bool:
    """Confirms or asks again, only if the turnover is still the revision the reviewer saw
    and still waiting: of two reviewers (or a button pressed twice) one wins."""
    new = TurnoverStatus.CONFIRMED if confirm else TurnoverStatus.ASKED_AGAIN
    result = session.execute(
        update(Turnover)
        .where(
            Turnover.id == turnover_id,
            Turnover.revision == revision,
            Turnover.status == TurnoverStatus.SUBMITTED.value,
        )
        .values(status=new.value, reason=reason, reviewed_at=now, reviewed_by=reviewer)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


# ----- directed part, payments, certificates ----------------------------------------------
def direction_of(session: Session, enterprise_id: int) -> DonationDirection | None:
    return session.scalars(
        select(DonationDirection).where(DonationDirection.enterprise_id == enterprise_id)
    ).first()


def set_direction(
    session: Session, enterprise_id: int, project: str, amount_fen: int, now: dt.datetime
) -> DonationDirection:
    row = direction_of(session, enterprise_id)
    if row is None:
        row = DonationDirection(
            enterprise_id=enterprise_id, project=project, amount_fen=amount_fen, chosen_at=now
        )
        session.add(row)
    else:
        row.project, row.amount_fen, row.chosen_at = project, amount_fen, now
    session.flush()
    return row


def add_payment(
    session: Session,
    enterprise_id: int,
    amount_fen: int,
    received_on: dt.date,
    recorded_by: int | None,
    now: dt.datetime,
    note: str | None = None,
) -> DonationPayment:
    row = DonationPayment(
        enterprise_id=enterprise_id,
        amount_fen=amount_fen,
        received_on=received_on,
        recorded_by=recorded_by,
        recorded_at=now,
        note=note,
    )
    session.add(row)
    session.flush()
    return row


def payments_of(session: Session, enterprise_id: int) -> list[DonationPayment]:
    stmt = (
        select(DonationPayment)
        .where(DonationPayment.enterprise_id == enterprise_id)
        .order_by(DonationPayment.received_on, DonationPayment.id)
    )
    return list(session.scalars(stmt))


def received_by_enterprise(
    session: Session,
    enterprise_ids: Collection[int] | None = None,
    until: dt.date | None = None,
) -> dict[int, int]:
    """Enterprise id → payments received (fen), those received on or before `until` if
    given (爱心企业奖 tiers follow payments until awards.enterprise_tiers_until). Enterprises
    without payments are absent."""
    stmt = select(DonationPayment.enterprise_id, func.sum(DonationPayment.amount_fen))
    if enterprise_ids is not None:
        stmt = stmt.where(DonationPayment.enterprise_id.in_(list(enterprise_ids)))
    if until is not None:
        stmt = stmt.where(DonationPayment.received_on <= until)
    stmt = stmt.group_by(DonationPayment.enterprise_id)
    return {int(eid): int(total) for eid, total in session.execute(stmt)}


def add_certificate(
    session: Session, enterprise_id: int, number: str, recorded_by: int | None, now: dt.datetime
) -> DonationCertificate:
    row = DonationCertificate(
        enterprise_id=enterprise_id, number=number, recorded_by=recorded_by, recorded_at=now
    )
    session.add(row)
    session.flush()
    return row


def certificates_by_enterprise(
    session: Session, enterprise_ids: Collection[int] | None = None
) -> dict[int, list[str]]:
    stmt = select(DonationCertificate.enterprise_id, DonationCertificate.number).order_by(
        DonationCertificate.id
    )
    if enterprise_ids is not None:
        stmt = stmt.where(DonationCertificate.enterprise_id.in_(list(enterprise_ids)))
    found: dict[int, list[str]] = {}
    for eid, number in session.execute(stmt):
        found.setdefault(int(eid), []).append(number)
    return found


# ----- the ledger ----------------------------------------------------------------------------
@dataclass(frozen=True)
class LedgerRow:
    enterprise_id: int
    name: str
    person_id: int
    turnover_status: str | None  # None: not reported yet
    turnover_fen: int | None  # as reported (the latest revision)
    reported_sales_fen: int  # what streamers reported for its products
    due_fen: int  # 0 until the turnover is confirmed
    directed_max_fen: int
    directed_fen: int  # chosen, within the bound of the confirmed turnover
    project: str | None
    received_fen: int
    certificates: list[str] = field(default_factory=list)

    @property
    def confirmed(self) -> bool:
        return self.turnover_status == TurnoverStatus.CONFIRMED.value

    @property
    def statement(self) -> Statement:
        return Statement(self.due_fen, self.directed_fen, self.received_fen)

    @property
    def outstanding_fen(self) -> int:
        return self.statement.outstanding_fen


def ledger(
    session: Session,
    rules: DonationRules,
    live_start: dt.date,
    live_end: dt.date,
    enterprise_ids: Collection[int] | None = None,
) -> list[LedgerRow]:
    """One row per enterprise (all of them, or those given), in id order; a handful of
    grouped queries whatever the number of enterprises."""
    stmt = select(Enterprise.id, Enterprise.name, Enterprise.person_id).order_by(Enterprise.id)
    if enterprise_ids is not None:
        stmt = stmt.where(Enterprise.id.in_(list(enterprise_ids)))
    enterprises = session.execute(stmt).all()
    ids = None if enterprise_ids is None else [e[0] for e in enterprises]
    turnovers_stmt = select(Turnover)
    directions_stmt = select(DonationDirection)
    if ids is not None:
        turnovers_stmt = turnovers_stmt.where(Turnover.enterprise_id.in_(ids))
        directions_stmt = directions_stmt.where(DonationDirection.enterprise_id.in_(ids))
    turnovers = {t.enterprise_id: t for t in session.scalars(turnovers_stmt)}
    directions = {d.enterprise_id: d for d in session.scalars(directions_stmt)}
    sales = reported_sales_by_enterprise(session, live_start, live_end, ids)
    received = received_by_enterprise(session, ids)
    certificates = certificates_by_enterprise(session, ids)
    rows = []
    for eid, name, person_id in enterprises:
        t = turnovers.get(eid)
        d = directions.get(eid)
        confirmed = t is not None and t.status == TurnoverStatus.CONFIRMED.value
        due = donation(t.amount_fen, rules) if confirmed and t is not None else None
        directed_max = due.directed_max_fen if due else 0
        rows.append(
            LedgerRow(
                enterprise_id=eid,
                name=name,
                person_id=person_id,
                turnover_status=t.status if t else None,
                turnover_fen=t.amount_fen if t else None,
                reported_sales_fen=sales.get(eid, 0),
                due_fen=due.due_fen if due else 0,
                directed_max_fen=directed_max,
                directed_fen=min(d.amount_fen, directed_max) if d else 0,
                project=d.project if d else None,
                received_fen=received.get(eid, 0),
                certificates=certificates.get(eid, []),
            )
        )
    return rows
