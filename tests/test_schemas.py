"""A form's field is declared once: the pydantic model checked at confirm, the stored columns
a registration is edited from, and the committee's spreadsheet columns all derive from it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

import pytest
from pydantic import ValidationError
from sqlalchemy import BigInteger, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.config import FestivalConfig
from bot.core.context import Ctx
from bot.core.forms import Field
from bot.core.i18n import translate
from bot.core.parsers import ParseError
from handlers import enterprise, report, schemas, streamer
from handlers import export_book as export
from handlers import fields as f


class _Scratch(DeclarativeBase):
    """Tables of these tests only (not the festival's metadata)."""


class Club(_Scratch):
    __tablename__ = "clubs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    fans: Mapped[int] = mapped_column(BigInteger)
    fee_fen: Mapped[int | None] = mapped_column(BigInteger)


FIELDS = (
    Field("name", "ask.club", "label.club", parse=f.text(30), heading="export.col.enterprise"),
    Field("city", "ask.city", "label.city", parse=f.text()),  # an answer not stored as is
)
# The new column: one field line (with its model column above, and its catalog keys).
NEW = Field("fans", "ask.fans", "label.followers", parse=f.count(max_value=500))
OPTIONAL = Field("fee_fen", "ask.fee", "label.dou_plus", parse=f.money(), optional=True)


def ctx(config: FestivalConfig) -> Ctx:
    fake = SimpleNamespace(config=config, t=lambda key, **p: translate("zh_CN", key, **p))
    return cast(Ctx, fake)


def test_a_new_field_shows_up_in_the_model_the_snapshot_and_the_export(
    config: FestivalConfig,
) -> None:
    before = schemas.model_of("Club", FIELDS, schemas.FormModel)
    assert "fans" not in before.model_fields
    fields = (*FIELDS, NEW)
    model = schemas.model_of("Club", fields, schemas.FormModel)
    stored = schemas.stored_fields(fields, Club)
    assert [s.name for s in stored] == ["name", "fans"]
    # headed by the field's heading, else its label; the sheet's own columns around them
    assert export.headings(ctx(config), ("no",), stored, ("id",)) == [
        "序号",
        "企业名称",
        "粉丝量",
        "系统编号",
    ]
    valid = model.model_validate({"name": " 果园 ", "city": "萍乡", "fans": 300})
    assert schemas.row_values(valid.model_dump(), Club) == {"name": "果园", "fans": 300}
    row = Club(name="果园", fans=300)
    assert export.cells(ctx(config), stored, row) == ["果园", 300]


def test_the_parsers_bound_is_the_models_bound() -> None:
    model = schemas.model_of("Club", (*FIELDS, NEW), schemas.FormModel)
    with pytest.raises(ParseError):
        NEW.parse("501", cast(Ctx, None), {})  # type: ignore[misc]
    with pytest.raises(ValidationError):
        model.model_validate({"name": "果园", "city": "萍乡", "fans": 501})
    with pytest.raises(ValidationError):  # a field not skippable is required
        model.model_validate({"name": "果园", "city": "萍乡"})


def test_a_skippable_field_may_be_missing(config: FestivalConfig) -> None:
    fields = (*FIELDS, OPTIONAL)
    model = schemas.model_of("Club", fields, schemas.FormModel)
    assert model.model_validate({"name": "果园", "city": "萍乡"}).model_dump()["fee_fen"] is None
    stored = schemas.stored_fields(fields, Club)
    assert export.cells(ctx(config), stored, Club(name="果园", fee_fen=None)) == ["果园", ""]
    assert export.cells(ctx(config), stored, Club(name="果园", fee_fen=12345)) == ["果园", 123.45]


def test_a_field_of_unknown_kind_is_refused_when_the_form_is_built() -> None:
    odd = Field("odd", "ask.odd", "label.odd", parse=lambda r, c, a: r)
    with pytest.raises(TypeError, match="odd"):
        schemas.model_of("Club", (odd,), schemas.FormModel)


# ----- the festival's forms -----------------------------------------------------------------
def test_the_streamer_forms_derived_columns() -> None:
    assert streamer.SNAPSHOT_COLUMNS == (
        "phone",
        "followers",
        "likes_received",
        "tips_income",
        "monthly_live_days",
        "monthly_live_hours",
        "cumulative_viewers",
        "peak_concurrent",
        "cumulative_orders",
        "cumulative_sales_fen",
        "avg_order_value_fen",
        "dou_plus_spend_fen",
        "conversion_rate",
        "categories",
    )
    assert [f.name for f in enterprise.STORED] == [
        "name", "industry", "main_products", "contact_name", "phone", "has_shop", "shop_type",
        "shop_link",
    ]  # fmt: skip
    assert [f.name for f in enterprise.PRODUCT_STORED] == [
        "name", "priority_tag", "monthly_orders", "monthly_turnover_fen", "stock",
        "attachment_file_id",
    ]  # fmt: skip
    assert [f.name for f in report.STORED] == [
        "gmv_fen", "duration_minutes", "viewers", "likes", "orders", "evidence_file_id",
    ]  # fmt: skip


def _streamer_answers(**changes: Any) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "unit": "360302",
        "recommendation": "self",
        "declarations": ["experience"],
        "platform": "douyin",
        "account_name": "小明的果园",
        "phone": "13800138000",
        "followers": 12000,
        "likes_received": 0,
        "tips_income": 0,
        "monthly_live_days": 31,
        "monthly_live_hours": "744",
        "cumulative_viewers": 0,
        "peak_concurrent": 0,
        "cumulative_orders": 0,
        "cumulative_sales_fen": 0,
        "conversion_rate": "100",
        "categories": ["农产品"],
    }
    return {**answers, **changes}


@pytest.mark.parametrize(
    ("changes", "valid"),
    [
        ({}, True),  # every bound at its limit
        ({"monthly_live_days": 32}, False),  # f.count(max_value=31)
        ({"monthly_live_hours": "744.1"}, False),  # f.hours(31 * 24)
        ({"conversion_rate": "100.01"}, False),  # a percent
        ({"phone": "12345"}, False),
        ({"account_name": "x" * 41}, False),  # f.text(40)
        ({"categories": []}, False),  # at least one category
        ({"recommendation": "friend"}, False),  # derived by the handler, bounded in its base
        ({"avg_order_value_fen": None, "dou_plus_spend_fen": None}, True),  # skippable
    ],
)
def test_the_streamer_models_bounds_are_the_fields(changes: dict[str, Any], valid: bool) -> None:
    data = _streamer_answers(**changes)
    if valid:
        reg = streamer.Registration.model_validate(data).model_dump()
        assert reg["monthly_live_hours"] == Decimal("744")
    else:
        with pytest.raises(ValidationError):
            streamer.Registration.model_validate(data)


def test_the_report_model_reads_the_date_and_the_enterprise_has_shop() -> None:
    figures = report.Figures.model_validate(
        {"report_date": "2020-11-02", "account_id": "3", "gmv_fen": 0, "duration_minutes": 1440,
         "viewers": 0, "likes": 0, "orders": 0}
    )  # fmt: skip
    assert (figures.report_date, figures.account_id) == (dt.date(2020, 11, 2), 3)
    with pytest.raises(ValidationError):  # at most 24 hours a day
        report.Figures.model_validate({**figures.model_dump(), "duration_minutes": 1441})
    product = {"name": "脐橙", "priority_tag": "none", "monthly_orders": 1,
               "monthly_turnover_fen": 1, "stock": 1}  # fmt: skip
    ent = enterprise.Registration.model_validate(
        {"unit": "360302", "name": "绿源", "industry": "农产品", "main_products": "脐橙",
         "contact_name": "张三", "phone": "13900001111", "has_shop": "no", "products": [product],
         "money_rules": "agree"}
    ).model_dump()  # fmt: skip
    assert ent["has_shop"] is False
    assert ent["products"][0]["attachment_file_id"] is None
