"""The finished answers, validated once more as pydantic models before anything is stored."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class _Form(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class StreamerRegistration(_Form):
    unit: str = Field(min_length=1)
    recommendation: str = Field(pattern="^(org|self)$")
    platform: str
    account_name: str = Field(min_length=1, max_length=100)
    second_platform: str | None = None
    second_account: str | None = Field(default=None, max_length=100)
    phone: str = Field(pattern=r"^1\d{10}$")
    followers: int = Field(ge=0)
    likes_received: int = Field(ge=0)
    tips_income: int = Field(ge=0)
    monthly_live_days: int = Field(ge=0, le=31)
    monthly_live_hours: Decimal = Field(ge=0, le=744)
    cumulative_viewers: int = Field(ge=0)
    peak_concurrent: int = Field(ge=0)
    cumulative_orders: int = Field(ge=0)
    cumulative_sales_fen: int = Field(ge=0)
    avg_order_value_fen: int | None = Field(default=None, ge=0)
    dou_plus_spend_fen: int | None = Field(default=None, ge=0)
    conversion_rate: Decimal | None = Field(default=None, ge=0, le=100)
    categories: list[str] = Field(min_length=1)
    declarations: list[str]


class ProductEntry(_Form):
    name: str = Field(min_length=1, max_length=100)
    priority_tag: str | None = None
    monthly_orders: int = Field(ge=0)
    monthly_turnover_fen: int = Field(ge=0)
    stock: int = Field(ge=0)
    attachment_file_id: str | None = None


class EnterpriseRegistration(_Form):
    unit: str = Field(min_length=1)
    name: str = Field(min_length=1, max_length=100)
    industry: str = Field(min_length=1, max_length=40)
    main_products: str = Field(min_length=1, max_length=200)
    contact_name: str = Field(min_length=1, max_length=40)
    phone: str = Field(pattern=r"^1\d{10}$")
    has_shop: bool
    shop_type: str | None = Field(default=None, max_length=100)
    shop_link: str | None = Field(default=None, max_length=500)
    products: list[ProductEntry] = Field(min_length=1)


class DailyFigures(_Form):
    report_date: dt.date
    account_id: int
    gmv_fen: int = Field(ge=0)
    duration_minutes: int = Field(ge=0, le=24 * 60)
    viewers: int = Field(ge=0)
    likes: int = Field(ge=0)
    orders: int = Field(ge=0)
    evidence_file_id: str | None = None
