"""选品: the products an approved streamer picked to sell, and how a daily report's GMV splits
across them (sales per product and per enterprise exist only through these splits)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import NamedTuple, cast

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Table,
    UniqueConstraint,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, BigId, IdMixin, ReviewStatus
from models.enterprises import Enterprise, Product


class ProductPick(IdMixin, Base):
    """A streamer sells this product. Removing a pick deletes the row (the audit log keeps
    who picked and dropped what); past report splits keep their product."""

    __tablename__ = "product_picks"
    __table_args__ = (UniqueConstraint("streamer_id", "product_id"),)

    streamer_id: Mapped[int] = mapped_column(BigId, ForeignKey("streamers.id"), index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"), index=True)
    picked_at: Mapped[dt.datetime]


class ReportProductSale(Base):
    """The part of one daily report's GMV the streamer assigned to one picked product. The
    rest of the report's GMV is unassigned. A corrected report replaces its splits."""

    __tablename__ = "report_product_sales"

    report_id: Mapped[int] = mapped_column(BigId, ForeignKey("daily_reports.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("products.id"), primary_key=True, index=True
    )
    gmv_fen: Mapped[int] = mapped_column(BigInteger)


# ----- the catalogue ----------------------------------------------------------------------
class CatalogueRow(NamedTuple):
    product_id: int
    name: str
    priority_tag: str | None
    monthly_turnover_fen: int
    enterprise_id: int
    enterprise: str
    industry: str


_CATALOGUE_COLUMNS = (
    Product.id,
    Product.name,
    Product.priority_tag,
    Product.monthly_turnover_fen,
    Enterprise.id,
    Enterprise.name,
    Enterprise.industry,
)


def _like(text: str) -> str:
    """A LIKE pattern that matches the text literally (its % and _ are not wildcards)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def catalogue(
    session: Session,
    *,
    industry: str | None = None,
    tag: str | None = None,
    name: str | None = None,
    ids: Collection[int] | None = None,
    offset: int = 0,
    limit: int = 8,
) -> tuple[list[CatalogueRow], int]:
    """Approved products (产品审核 passed) of enterprises that have not withdrawn, filtered by
    their enterprise's 行业, their priority tag or a part of their name (or enterprise's
    name); a page of them in a stable order (priority tags first, then name) and how many
    match in all."""
    where = [
        Product.status == ReviewStatus.APPROVED.value,
        Enterprise.status != ReviewStatus.WITHDRAWN.value,
    ]
    if industry:
        where.append(Enterprise.industry == industry)
    if tag:
        where.append(Product.priority_tag == tag)
    if name:
        pattern = _like(name)
        where.append(
            or_(Product.name.like(pattern, escape="\\"), Enterprise.name.like(pattern, escape="\\"))
        )
    if ids is not None:
        where.append(Product.id.in_(list(ids)))
    base = select(*_CATALOGUE_COLUMNS).join(Enterprise, Enterprise.id == Product.enterprise_id)
    total = session.scalar(
        select(func.count())
        .select_from(Product)
        .join(Enterprise, Enterprise.id == Product.enterprise_id)
        .where(*where)
    )
    rows = session.execute(
        base.where(*where)
        .order_by(Product.priority_tag.is_(None), Product.name, Product.id)
        .offset(offset)
        .limit(limit)
    )
    return [CatalogueRow(*r) for r in rows], int(total or 0)


# ----- a streamer's picks -----------------------------------------------------------------
# Built once: the report form asks it in every step of a streamer with picks.
_PICKED_IDS = (
    select(ProductPick.product_id)
    .join(Product, Product.id == ProductPick.product_id)
    .where(
        ProductPick.streamer_id == bindparam("streamer"),
        Product.status == ReviewStatus.APPROVED.value,
    )
    .order_by(ProductPick.picked_at, ProductPick.id)
)


def picked_ids(session: Session, streamer_id: int) -> list[int]:
    """The streamer's picked products that can still be sold (approved), in pick order."""
    session.flush()  # on the connection, past the ORM layer, as its autoflush would
    return list(session.connection().execute(_PICKED_IDS, {"streamer": streamer_id}).scalars())


def picks_of(session: Session, streamer_id: int) -> list[CatalogueRow]:
    ids = picked_ids(session, streamer_id)
    if not ids:
        return []
    rows, _ = catalogue(session, ids=ids, limit=len(ids))
    order = {pid: i for i, pid in enumerate(ids)}
    return sorted(rows, key=lambda r: order[r.product_id])


def count_picks(session: Session, streamer_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(ProductPick)
            .where(ProductPick.streamer_id == streamer_id)
        )
        or 0
    )


def find_pick(session: Session, streamer_id: int, product_id: int) -> ProductPick | None:
    return session.scalars(
        select(ProductPick).where(
            ProductPick.streamer_id == streamer_id, ProductPick.product_id == product_id
        )
    ).first()


def pickers_of_enterprise(session: Session, enterprise_id: int) -> dict[int, int]:
    """How many streamers picked each of the enterprise's products (product id -> count)."""
    rows = session.execute(
        select(ProductPick.product_id, func.count())
        .join(Product, Product.id == ProductPick.product_id)
        .where(Product.enterprise_id == enterprise_id)
        .group_by(ProductPick.product_id)
    )
    return {pid: int(n) for pid, n in rows}


# ----- report splits (sales per product and enterprise: models/sales.py) ------------------
def splits_of(session: Session, report_id: int) -> dict[int, int]:
    rows = session.execute(
        select(ReportProductSale.product_id, ReportProductSale.gmv_fen).where(
            ReportProductSale.report_id == report_id
        )
    )
    return {pid: int(fen) for pid, fen in rows}


# Built once, on the table: the ORM never holds split rows as objects (only columns are read)
_SPLITS = cast(Table, ReportProductSale.__table__)
_DELETE_SPLITS = delete(_SPLITS).where(_SPLITS.c.report_id == bindparam("report"))


def replace_splits(
    session: Session, report_id: int, splits: dict[int, int], new: bool = False
) -> None:
    """The report's GMV split, replacing the one it had (a corrected report). A `new` report
    has none yet: nothing to delete (every report's confirm step comes here)."""
    if not new:
        session.execute(_DELETE_SPLITS, {"report": report_id})
    rows = [
        {"report_id": report_id, "product_id": pid, "gmv_fen": fen}
        for pid, fen in splits.items()
        if fen > 0
    ]
    if rows:
        session.execute(insert(ReportProductSale), rows)
