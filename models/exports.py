"""The committee's spreadsheets' queries (/export): the rows of each sheet, for all units or
for a unit and its counties. Built once, like the submit step's: an export reads every
registration, but its statements need not be built again for each one."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import String, bindparam, cast, func, select
from sqlalchemy.orm import Session

from models.enterprises import Enterprise, Product
from models.streamers import DailyReport, LiveAccount, Streamer
from models.units import Unit

_BATCH = 2000  # rows fetched at a time by a streamed export

_CHILDREN = select(Unit.id).where(Unit.parent_id == bindparam("unit"))


def unit_with_children(session: Session, unit_id: int) -> list[int]:
    """The unit and the units under it (a city's counties)."""
    return [unit_id, *session.scalars(_CHILDREN, {"unit": unit_id})]


_STREAMERS = select(Streamer).order_by(Streamer.unit_id, Streamer.id)
_STREAMERS_OF = _STREAMERS.where(Streamer.unit_id.in_(bindparam("units", expanding=True)))


def streamers(session: Session, unit_ids: list[int] | None) -> list[Streamer]:
    """附件2's rows: registrations by unit, then in the order they came."""
    if unit_ids is None:
        return list(session.scalars(_STREAMERS))
    return list(session.scalars(_STREAMERS_OF, {"units": unit_ids}))


_ACCOUNTS = (
    select(LiveAccount.streamer_id, LiveAccount.platform, LiveAccount.account_name)
    .join(Streamer, Streamer.id == LiveAccount.streamer_id)
    .order_by(LiveAccount.id)
)
_ACCOUNTS_OF = _ACCOUNTS.where(Streamer.unit_id.in_(bindparam("units", expanding=True)))


def accounts_by_streamer(
    session: Session, unit_ids: list[int] | None
) -> dict[int, list[tuple[str, str]]]:
    """Every streamer's accounts (platform, name) in id order, in one query."""
    rows = (
        session.execute(_ACCOUNTS)
        if unit_ids is None
        else session.execute(_ACCOUNTS_OF, {"units": unit_ids})
    )
    found: dict[int, list[tuple[str, str]]] = {}
    for streamer_id, platform, name in rows:
        found.setdefault(streamer_id, []).append((platform, name))
    return found


_PRODUCTS = (
    select(Enterprise, Product)
    .join(Product, Product.enterprise_id == Enterprise.id)
    .order_by(Enterprise.unit_id, Enterprise.id, Product.id)
)
_PRODUCTS_OF = _PRODUCTS.where(Enterprise.unit_id.in_(bindparam("units", expanding=True)))


def enterprise_products(
    session: Session, unit_ids: list[int] | None
) -> list[tuple[Enterprise, Product]]:
    """附件1's rows: one per product, with its enterprise."""
    if unit_ids is None:
        return list(session.execute(_PRODUCTS).tuples())
    return list(session.execute(_PRODUCTS_OF, {"units": unit_ids}).tuples())


def report_count(session: Session, unit_ids: list[int] | None) -> int:
    """How many daily reports `report_rows` gives for these units (None: all)."""
    stmt = select(func.count()).select_from(DailyReport)
    if unit_ids is not None:
        stmt = stmt.join(Streamer, Streamer.id == DailyReport.streamer_id).where(
            Streamer.unit_id.in_(unit_ids)
        )
    return int(session.scalar(stmt) or 0)


def report_rows(
    session: Session, unit_ids: list[int] | None, columns: list[str]
) -> Iterator[Sequence[Any]]:
    """The daily reports as plain rows (a live month is millions: no ORM objects, and
    streamed in batches, never all in memory): date, account name, platform, unit id, then
    `columns` of the report, then rejected, reason, revision, streamer id, held, the rules
    that fired (their JSON text, None for none); by day."""
    stmt = (
        select(
            DailyReport.report_date,
            LiveAccount.account_name,
            LiveAccount.platform,
            Streamer.unit_id,
            *(getattr(DailyReport, c) for c in columns),
            DailyReport.rejected,
            DailyReport.reject_reason,
            DailyReport.revision,
            DailyReport.streamer_id,
            DailyReport.held,
            # the JSON as text, NULL for none: most reports have no rule fired, and
            # decoding 60,000 empty lists was a tenth of the export's own time
            func.nullif(cast(DailyReport.flags, String), "[]"),
        )
        .join(LiveAccount, LiveAccount.id == DailyReport.account_id)
        .join(Streamer, Streamer.id == DailyReport.streamer_id)
        .order_by(DailyReport.report_date, Streamer.unit_id, DailyReport.streamer_id)
    )
    if unit_ids is not None:
        stmt = stmt.where(Streamer.unit_id.in_(unit_ids))
    # yield_per: a server-side cursor on PostgreSQL (psycopg would otherwise fetch every
    # row into the client first), fetchmany on SQLite
    result = session.execute(stmt, execution_options={"yield_per": _BATCH})
    for partition in result.partitions():
        yield from partition
