"""What the committee's daily digest counts: registrations and reports since a time, and
what still waits for review."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from models.enterprises import Enterprise, Product
from models.people import DialogState, Identity
from models.review_rules import APPROVED, PENDING
from models.streamers import DailyReport, LiveAccount, Streamer

_COUNTS = {
    "streamers": (
        select(func.count())
        .select_from(Streamer)
        .where(Streamer.submitted_at >= bindparam("since"))
    ),
    "enterprises": (
        select(func.count())
        .select_from(Enterprise)
        .where(Enterprise.submitted_at >= bindparam("since"))
    ),
    "pending_streamers": (
        select(func.count()).select_from(Streamer).where(Streamer.status.in_(PENDING))
    ),
    "pending_products": (
        select(func.count()).select_from(Product).where(Product.status.in_(PENDING))
    ),
    "held_reports": (  # waiting for the committee's check (models/anomaly_rules.py)
        select(func.count())
        .select_from(DailyReport)
        .where(DailyReport.held.is_(True), DailyReport.rejected.is_(False))
    ),
    "reports": (
        select(func.count())
        .select_from(DailyReport)
        .where(DailyReport.updated_at >= bindparam("since"), DailyReport.rejected.is_(False))
    ),
}


def digest_counts(session: Session, since: dt.datetime) -> dict[str, int | None]:
    """Each count by its name in the digest message (remind.digest)."""
    return {name: session.scalar(stmt, {"since": since}) for name, stmt in _COUNTS.items()}


# ----- the live month -------------------------------------------------------------------
_FILED_FOR = (
    select(func.count())
    .select_from(DailyReport)
    .where(DailyReport.report_date == bindparam("day"), DailyReport.rejected.is_(False))
)
_REJECTED_SINCE = (
    select(func.count())
    .select_from(DailyReport)
    .where(DailyReport.updated_at >= bindparam("since"), DailyReport.rejected.is_(True))
)
_APPROVED = select(Streamer.id).where(Streamer.status == APPROVED)
_REPORTED_FROM = (
    select(DailyReport.streamer_id)
    .where(DailyReport.report_date >= bindparam("first"), DailyReport.rejected.is_(False))
    .distinct()
)
_ACCOUNT_NAMES = (
    select(LiveAccount.streamer_id, LiveAccount.account_name)
    .where(LiveAccount.streamer_id.in_(bindparam("ids", expanding=True)))
    .order_by(LiveAccount.streamer_id, LiveAccount.id)
)


@dataclass(frozen=True)
class LiveDigest:
    filed: int  # reports for the day
    new: int  # reports filed or corrected in the last day
    rejected: int  # reports rejected in the last day
    pending_streamers: int
    pending_products: int
    held: int  # reports an anomaly rule holds until the committee checks them
    silent: int  # approved streamers without a report in the last `silent_days` days
    silent_names: list[str]  # the first of them, by registration (account names)


def live_digest(
    session: Session, day: dt.date, since: dt.datetime, silent_days: int, names: int
) -> LiveDigest:
    """The committee's evening figures in the live month."""
    approved = list(session.scalars(_APPROVED))
    first = day - dt.timedelta(days=silent_days - 1)
    reported = set(session.scalars(_REPORTED_FROM, {"first": first}))
    silent = sorted(set(approved) - reported)
    shown: dict[int, str] = {}
    if silent[:names]:
        for sid, account in session.execute(_ACCOUNT_NAMES, {"ids": silent[:names]}):
            shown.setdefault(sid, account)
    counts = digest_counts(session, since)
    return LiveDigest(
        filed=int(session.scalar(_FILED_FOR, {"day": day}) or 0),
        new=int(counts["reports"] or 0),
        rejected=int(session.scalar(_REJECTED_SINCE, {"since": since}) or 0),
        pending_streamers=int(counts["pending_streamers"] or 0),
        pending_products=int(counts["pending_products"] or 0),
        held=int(counts["held_reports"] or 0),
        silent=len(silent),
        silent_names=[shown[s] for s in silent[:names] if s in shown],
    )


_UNIT_STREAMERS = (
    select(Streamer.unit_id, func.count())
    .where(Streamer.status == APPROVED)
    .group_by(Streamer.unit_id)
)
_UNIT_REPORT_DAYS = (
    select(Streamer.unit_id, func.count(func.distinct(DailyReport.streamer_id)), func.count())
    .join(DailyReport, DailyReport.streamer_id == Streamer.id)
    .where(
        Streamer.status == APPROVED,
        DailyReport.rejected.is_(False),
        DailyReport.report_date >= bindparam("first"),
        DailyReport.report_date <= bindparam("last"),
    )
    .group_by(Streamer.unit_id)
)


@dataclass(frozen=True)
class UnitWeek:
    streamers: int  # approved streamers of the unit
    reporting: int  # of them, those who reported at least once in the week
    report_days: int  # (streamer, day) reports in the week


def unit_weeks(session: Session, first: dt.date, last: dt.date) -> dict[int, UnitWeek]:
    """Per unit, its approved streamers' reporting over [first, last]."""
    streamers = dict(session.execute(_UNIT_STREAMERS).tuples().all())
    weeks = {unit_id: UnitWeek(int(n), 0, 0) for unit_id, n in streamers.items()}
    for unit_id, reporting, days in session.execute(
        _UNIT_REPORT_DAYS, {"first": first, "last": last}
    ):
        weeks[unit_id] = UnitWeek(int(streamers.get(unit_id, 0)), int(reporting), int(days))
    return weeks


# ----- drafts left idle -------------------------------------------------------------------
_IDLE = (
    select(
        DialogState.identity_id,
        Identity.person_id,
        DialogState.flow,
        DialogState.data,
        DialogState.updated_at,
    )
    .join(Identity, Identity.id == DialogState.identity_id)
    .where(
        DialogState.updated_at >= bindparam("older"),
        DialogState.updated_at < bindparam("newer"),
    )
    .order_by(DialogState.identity_id)
)


@dataclass(frozen=True)
class IdleDraft:
    identity_id: int
    person_id: int
    forms: list[str]  # the registration forms left unfinished
    idle_since: dt.datetime


def idle_drafts(
    session: Session, older: dt.datetime, newer: dt.datetime, forms: frozenset[str]
) -> list[IdleDraft]:
    """People whose conversation has not moved since [older, newer) and who hold an
    unfinished registration (the open form, or one kept as a draft)."""
    found = []
    for identity_id, person_id, flow, data, at in session.execute(
        _IDLE, {"older": older, "newer": newer}
    ):
        open_forms = [flow] if flow in forms else []
        kept = [name for name in (data or {}).get("drafts", {}) if name in forms]
        names = list(dict.fromkeys(open_forms + kept))
        if names:
            found.append(IdleDraft(identity_id, person_id, names, at))
    return found
