"""Queries of the donation ledger (tables in models/donations.py, rules in
models/donation_rules.py): turnovers and their review, the directed part, payments, the
foundation's certificate numbers, what streamers reported per product and per enterprise,
and the ledger of all enterprises. Money in fen.

For other parts of the bot (awards, certificates):
- `received_by_enterprise(session, until=...)`: payments received per enterprise;
- `reported_sales_by_product` / `reported_sales_by_enterprise`: the GMV streamers assigned
  to products in counted daily reports (not rejected, inside the live period, of an approved
  streamer): the one definition, also behind the awards' 入选产品总体销量 and /reconcile;
- `ledger(session, rules, ...)`: one `LedgerRow` per enterprise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import Select, bindparam, func, select, text, union, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from models.base import ReviewStatus
from models.donation_rules import DonationRules, Statement, donation
from models.donations import (
    DonationCertificate,
    DonationDirection,
    DonationPayment,
    Turnover,
    TurnoverStatus,
)
from models.enterprises import Enterprise, Product
from models.people import AuditEntry
from models.picks import ReportProductSale
from models.streamers import DailyReport, Streamer

# ----- what streamers reported for products ----------------------------------------------
# The one definition of the sales that count, for the ledger, /turnovers, /products, the
# awards (入选产品总体销量) and /reconcile: the product splits of counted reports: not
# rejected nor held (issue 15), dated inside the live period, of an approved streamer (as on
# the board).
APPROVED = ReviewStatus.APPROVED.value


def _counted_sales(
    group: InstrumentedAttribute[int], live_start: dt.date, live_end: dt.date
) -> Select[tuple[int, int]]:
    """(group, sum of the assigned GMV) over counted reports' product splits, joined: for a
    few products or enterprises."""
    return (
        select(group, func.sum(ReportProductSale.gmv_fen))
        .select_from(ReportProductSale)
        .join(DailyReport, DailyReport.id == ReportProductSale.report_id)
        .join(Streamer, Streamer.id == DailyReport.streamer_id)
        .where(
            DailyReport.rejected.is_(False),
            DailyReport.held.is_(False),
            DailyReport.report_date >= live_start,
            DailyReport.report_date <= live_end,
            Streamer.status == APPROVED,
        )
    )


def _all_product_sales(session: Session, start: dt.date, end: dt.date) -> dict[int, int]:
    """Fen sold per product, every product at once: all splits summed from one index, minus
    the splits of the few reports that do not count (each found through an index): joining
    1,500,000 splits to their reports one by one took seconds."""
    rps = ReportProductSale
    total = session.execute(select(rps.product_id, func.sum(rps.gmv_fen)).group_by(rps.product_id))
    sums = {int(pid): int(fen) for pid, fen in total.tuples()}
    not_approved = select(Streamer.id).where(Streamer.status != APPROVED)
    excluded = union(
        # written as the partial index's own predicate (SQLAlchemy renders "rejected = 1" on
        # SQLite, which SQLite does not match with the index's "WHERE rejected")
        select(DailyReport.id).where(text("daily_reports.rejected")),
        select(DailyReport.id).where(text("daily_reports.held")),  # models/trust.py's index
        select(DailyReport.id).where(DailyReport.report_date < start),
        select(DailyReport.id).where(DailyReport.report_date > end),
        select(DailyReport.id).where(DailyReport.streamer_id.in_(not_approved)),
    )
    minus = session.execute(
        select(rps.product_id, func.sum(rps.gmv_fen))
        .where(rps.report_id.in_(select(excluded.subquery().c.id)))
        .group_by(rps.product_id)
    )
    for pid, fen in minus.tuples():
        sums[int(pid)] -= int(fen)
    return {pid: fen for pid, fen in sums.items() if fen}


def reported_sales_by_product(
    session: Session,
    live_start: dt.date,
    live_end: dt.date,
    product_ids: Collection[int] | None = None,
) -> dict[int, int]:
    """Product id → GMV (fen) streamers assigned to it in counted reports. Products without
    sales are absent."""
    if product_ids is None:
        return _all_product_sales(session, live_start, live_end)
    stmt = _counted_sales(ReportProductSale.product_id, live_start, live_end)
    stmt = stmt.where(ReportProductSale.product_id.in_(list(product_ids)))
    stmt = stmt.group_by(ReportProductSale.product_id)
    return {int(pid): int(total) for pid, total in session.execute(stmt) if total}


def reported_sales_by_enterprise(
    session: Session,
    live_start: dt.date,
    live_end: dt.date,
    enterprise_ids: Collection[int] | None = None,
) -> dict[int, int]:
    """Enterprise id → GMV (fen) streamers assigned to its products in counted reports.
    Enterprises without sales are absent."""
    if enterprise_ids is None:
        owner = dict(session.execute(select(Product.id, Product.enterprise_id)).tuples().all())
        found: dict[int, int] = {}
        for pid, fen in _all_product_sales(session, live_start, live_end).items():
            eid = int(owner[pid])
            found[eid] = found.get(eid, 0) + fen
        return {eid: fen for eid, fen in found.items() if fen}
    stmt = _counted_sales(Product.enterprise_id, live_start, live_end).join(
        Product, Product.id == ReportProductSale.product_id
    )
    stmt = stmt.where(Product.enterprise_id.in_(list(enterprise_ids)))
    stmt = stmt.group_by(Product.enterprise_id)
    return {int(eid): int(total) for eid, total in session.execute(stmt) if total}


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
