"""Enterprises (附件1 企业报名登记表) and the products they enter for livestreams."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, status_column


class Enterprise(IdMixin, Base):
    __tablename__ = "enterprises"

    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("people.id"), unique=True)
    unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("units.id"), index=True)  # 填报单位
    name: Mapped[str] = mapped_column(String(100))  # 企业名称
    industry: Mapped[str] = mapped_column(String(40))  # 行业(类目)
    main_products: Mapped[str] = mapped_column(String(200))  # 主营产品
    contact_name: Mapped[str] = mapped_column(String(40))  # 联系人
    phone: Mapped[str] = mapped_column(String(20))  # 手机, personal data
    has_shop: Mapped[bool]  # 是否有店铺
    shop_type: Mapped[str | None] = mapped_column(String(100))  # 店铺类型（所在平台）
    shop_link: Mapped[str | None] = mapped_column(String(500))  # 店铺链接
    status: Mapped[str] = status_column()
    submitted_at: Mapped[dt.datetime | None]
    # when the contact agreed to the donation rule (5% of festival turnover, the directed
    # part); None: registered before the rule was shown, asked at the next message
    money_rules_agreed_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class Product(IdMixin, Base):
    """需要报名直播产品, reviewed one by one (产品审核)."""

    __tablename__ = "products"

    enterprise_id: Mapped[int] = mapped_column(BigId, ForeignKey("enterprises.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    priority_tag: Mapped[str | None] = mapped_column(String(20))  # 扶贫目录 / 农副产品 / 滞销
    monthly_orders: Mapped[int] = mapped_column(BigInteger)  # 产品月均有效订单量
    monthly_turnover_fen: Mapped[int] = mapped_column(BigInteger)  # 产品月均有效成交额
    stock: Mapped[int] = mapped_column(BigInteger)  # 预计直播可供应库存量
    attachment_file_id: Mapped[str | None] = mapped_column(String(300))  # 产品附件
    status: Mapped[str] = status_column()
    reject_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[dt.datetime | None]
    reviewed_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("people.id"))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
