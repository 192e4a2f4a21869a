"""Streamers (附件2 达人报名登记表), their livestream accounts and daily reports; and the
reviewers' queries on them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, BigId, IdMixin, status_column


class Streamer(IdMixin, Base):
    __tablename__ = "streamers"

    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("people.id"), unique=True)
    unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("units.id"), index=True)
    recommendation: Mapped[str] = mapped_column(String(10))  # org (组织推荐) | self (自荐)
    phone: Mapped[str] = mapped_column(String(20))  # 联系电话, personal data
    followers: Mapped[int] = mapped_column(BigInteger)  # 粉丝量
    likes_received: Mapped[int] = mapped_column(BigInteger)  # 获赞量
    # 直播音浪总收入 (音浪): None when no platform of the streamer's asks it (config)
    tips_income: Mapped[int | None] = mapped_column(BigInteger)
    monthly_live_days: Mapped[int]  # 月均直播有效天
    monthly_live_hours: Mapped[Decimal] = mapped_column(Numeric(6, 1))  # 月均直播有效时长
    cumulative_viewers: Mapped[int] = mapped_column(BigInteger)  # 累积观看人数
    peak_concurrent: Mapped[int] = mapped_column(BigInteger)  # 最高同时在线人数
    cumulative_orders: Mapped[int] = mapped_column(BigInteger)  # 直播累计销量(单)
    cumulative_sales_fen: Mapped[int] = mapped_column(BigInteger)  # 直播累计销售额（元）
    avg_order_value_fen: Mapped[int | None] = mapped_column(BigInteger)  # 平均客单价(元)
    dou_plus_spend_fen: Mapped[int | None] = mapped_column(BigInteger)  # dou+消耗
    conversion_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))  # 转化率, percent
    categories: Mapped[list[Any]] = mapped_column(default=list)  # 主要直播品类
    declarations: Mapped[list[Any]] = mapped_column(default=list)  # eligibility self-declarations
    status: Mapped[str] = status_column()
    reject_reason: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[dt.datetime | None]
    reviewed_at: Mapped[dt.datetime | None]
    reviewed_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("people.id"))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class LiveAccount(IdMixin, Base):
    """A streamer's account on one platform; an account belongs to exactly one streamer."""

    __tablename__ = "live_accounts"
    __table_args__ = (
        UniqueConstraint("platform", "account_name"),
        UniqueConstraint("streamer_id", "platform"),
    )

    streamer_id: Mapped[int] = mapped_column(BigId, ForeignKey("streamers.id"), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    account_name: Mapped[str] = mapped_column(String(100))


class DailyReport(IdMixin, Base):
    """One day's figures of one account. Filing the same day again is a correction (revision+1)."""

    __tablename__ = "daily_reports"
    __table_args__ = (UniqueConstraint("account_id", "report_date"),)

    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("live_accounts.id"))
    streamer_id: Mapped[int] = mapped_column(BigId, ForeignKey("streamers.id"), index=True)
    report_date: Mapped[dt.date] = mapped_column(Date, index=True)
    gmv_fen: Mapped[int] = mapped_column(BigInteger)
    duration_minutes: Mapped[int]
    viewers: Mapped[int] = mapped_column(BigInteger)
    likes: Mapped[int] = mapped_column(BigInteger)
    orders: Mapped[int] = mapped_column(BigInteger)
    evidence_file_id: Mapped[str | None] = mapped_column(String(300))
    # sha256 of the evidence picture's bytes: the same picture on two reports flags both
    evidence_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    # held: an anomaly rule flagged this revision (models/anomaly_rules.py `flags`, each
    # {"rule": name, ...its numbers}); it does not count until a reviewer clears it
    held: Mapped[bool] = mapped_column(default=False)
    flags: Mapped[list[Any]] = mapped_column(default=list)
    rejected: Mapped[bool] = mapped_column(default=False)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


# ----- for reviewers (unit_ids None: every unit, as the committee sees them) -------------------
def count_streamers(session: Session, unit_ids: Collection[int] | None) -> int:
    stmt = select(func.count()).select_from(Streamer)
    if unit_ids is not None:
        stmt = stmt.where(Streamer.unit_id.in_(unit_ids))
    return session.scalar(stmt) or 0


def streamers_page(
    session: Session, unit_ids: Collection[int] | None, offset: int, limit: int
) -> list[Streamer]:
    """Streamers in registration (id) order, `limit` of them from `offset`."""
    stmt = select(Streamer).order_by(Streamer.id)
    if unit_ids is not None:
        stmt = stmt.where(Streamer.unit_id.in_(unit_ids))
    return list(session.scalars(stmt.offset(offset).limit(limit)))


def reject_report(
    session: Session,
    report_id: int,
    streamer_id: int,
    revision: int,
    reason: str,
    now: dt.datetime,
) -> tuple[dt.date, int] | None:
    """Reject this revision of the streamer's report: its (day, account id), or None when it
    is not theirs, is rejected already or was corrected meanwhile (a correction is a new
    revision the reviewer has not seen)."""
    row = session.execute(
        update(DailyReport)
        .where(
            DailyReport.id == report_id,
            DailyReport.streamer_id == streamer_id,
            DailyReport.revision == revision,
            DailyReport.rejected.is_(False),
        )
        .values(rejected=True, reject_reason=reason, held=False, updated_at=now)
        .returning(DailyReport.report_date, DailyReport.account_id)
    ).first()
    return None if row is None else (row[0], row[1])
