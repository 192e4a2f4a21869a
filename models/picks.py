"""选品: the products an approved streamer picked to sell, and how a daily report's GMV splits
across them (sales per product and per enterprise exist only through these splits)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin


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
