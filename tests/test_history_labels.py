"""/history of a registration reads like its summary: the form's field labels and values
(units by name, money in yuan, choices by their label, phones masked), in the reader's
language; never the stored names (cumulative_sales_fen, unit_county, ...)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Enterprise, Streamer
from tests.catalog import label
from tests.chat import Chat
from tests.flows import enterprise_two_products, streamer_lines

RAW_NAMES = ("cumulative_sales_fen", "unit_county", "followers:", "categories:", "douyin", "'")


def ids(chat: Chat) -> tuple[int, int | None]:
    """The streamer's and the enterprise's ids (PostgreSQL's sequences go on across tests)."""
    with chat.core.sessions() as s:
        return s.scalars(select(Streamer.id)).one(), s.scalar(select(Enterprise.id))


@pytest.fixture
def edited(chat: Chat) -> Chat:
    """A streamer registered, approved, then edited its followers, sales and categories;
    an enterprise registered with two products."""
    chat.run("s", [*streamer_lines("小明的果园"), label("btn.confirm")])
    chat.run("admin", ["/start", f"/approve streamer {ids(chat)[0]}"])
    chat.run("s", ["/me", label("btn.edit_streamer")])
    chat.run("s", [label("btn.edit_field", label=label("label.followers")), "2万"])
    chat.run("s", [label("btn.edit_field", label=label("label.cumulative_sales")), "20万"])
    chat.run("s", [label("btn.edit_field", label=label("label.categories")), "2", "完成"])
    chat.say("s", label("btn.confirm"))
    chat.run("e", [*enterprise_two_products(), label("btn.confirm")])
    return chat


def test_a_registration_history_in_chinese(edited: Chat) -> None:
    history = edited.say("admin", f"/history streamer {ids(edited)[0]}")
    lines = history.splitlines()
    assert len(lines) == 4, history
    assert "推荐单位: 萍乡市 安源区" in lines[1] and "直播平台: 抖音" in lines[1]
    assert "联系电话: 138****8000" in lines[1] and "主要直播品类: 农产品、粮油米面" in lines[1]
    assert lines[3].endswith(
        "修改 粉丝量: 12,000 → 20,000; 直播累计销售额: 125,000 元 → 200,000 元; "
        "主要直播品类: 农产品、粮油米面 → 农产品、粮油米面、生鲜果蔬"
    )
    assert not [raw for raw in RAW_NAMES if raw in history]
    enterprise = edited.say("admin", f"/history enterprise {ids(edited)[1]}")
    assert "行业(类目): 农产品" in enterprise and "报名直播产品: 莲花血鸭、安源脐橙" in enterprise
    assert "手机: 139****1111" in enterprise and "捐赠规则: 同意" in enterprise
    assert "money_rules" not in enterprise and "products:" not in enterprise


def test_a_registration_history_in_english(edited: Chat) -> None:
    edited.say("admin", "/lang en")
    history = edited.say("admin", f"/history streamer {ids(edited)[0]}")
    assert "Recommending unit: 萍乡市 安源区" in history and "Platform: Douyin" in history
    assert "Followers: 12,000 → 20,000" in history
    assert "Total sales: ¥125,000 → ¥200,000" in history
    assert "Categories: Farm produce, Grain and oil → Farm produce, Grain and oil, Fresh" in history
    assert "status: Pending review → Approved" in history
    assert not [raw for raw in RAW_NAMES if raw in history]
    enterprise = edited.say("admin", f"/history enterprise {ids(edited)[1]}")
    assert "Industry: Farm produce" in enterprise and "Products: 莲花血鸭, 安源脐橙" in enterprise
