"""Quota progress through the bot: what counts, /units for the committee, and the warning
when a unit passes its maximum (it warns, it never blocks)."""

from __future__ import annotations

import re

import yaml
from sqlalchemy import Engine, select

from bot.config import FestivalConfig, parse_config
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from handlers.routes import ROUTES
from models import Unit
from tests.catalog import said
from tests.chat import Chat
from tests.committee_helpers import ANYUAN, make_contact, register
from tests.conftest import ROOT
from tests.flows import streamer_lines


def test_what_counts_towards_the_quota(chat: Chat, core: Core) -> None:
    make_contact(chat, "c1", ANYUAN)
    first = register(chat, "s1", "甲")  # waits for the unit: not counted yet
    register(chat, "s2", "乙")
    assert "主播 0/10 已推荐（还差 10）" in chat.say("c1", "/unit")
    chat.say("c1", "/review")
    chat.press("c1", "推荐")  # 甲 counts now
    chat.say("c1", "驳回")
    chat.say("c1", "不符合条件")  # 乙 rejected: does not count
    assert "主播 1/10 已推荐（还差 9）" in chat.say("c1", "/unit")
    chat.say("admin", f"/reject streamer {first} 材料不全")
    assert "主播 0/10 已推荐（还差 10）" in chat.say("c1", "/unit")


def test_units_for_the_committee_sorted_and_paged(chat: Chat, core: Core) -> None:
    register(chat, "s1", "甲")  # 安源区 has no contact: straight to 待审核, counted
    out = chat.say("admin", "/units")
    first_line = out.splitlines()[0]
    assert re.fullmatch(
        r"全部 (\d+) 个单位，0 个已完成名额；按缺口从大到小，第 1/(\d+) 页：", first_line
    )
    assert len([line for line in out.splitlines() if line.startswith("· ")]) == 15
    assert "[1] 下一页  [2] 按编码排序" in out
    # by shortfall, 安源区 (shortfall 12) comes after every unit still short of 13
    by_code = chat.say("admin", "/units code 3")
    assert "第 3/" in by_code and "[1] 上一页  [2] 下一页  [3] 按缺口排序" in by_code
    pages = int(re.search(r"第 1/(\d+) 页", out)[1])  # type: ignore[index]
    texts = "".join(chat.say("admin", f"/units shortfall {p}") for p in range(1, pages + 1))
    assert texts.index("安源区 (360302)：主播 1/10") > texts.index("湘东区 (360313)：主播 0/10")
    assert chat.say("admin", "/units shortfall 999").count("第 ") == 1  # clamped to the last


def test_going_over_the_maximum_warns_and_does_not_block(
    db: Engine, config: FestivalConfig, clock: FixedClock
) -> None:
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["units"]["kinds"]["provincial_unit"]["streamers"] = {"min": 1, "max": 1}
    small = parse_config(data)
    core = Core(small, db, clock, ROUTES)
    try:
        chat = Chat(core)
        make_contact(chat, "c1", "P001")
        token = re.search(r"/start rec_([0-9a-f]+)", chat.say("c1", "/unit"))[1]  # type: ignore[index]
        answers = streamer_lines("x")[7:]  # after the unit questions
        for user, account in (("s1", "甲"), ("s2", "乙")):
            out = chat.run(user, [f"/start rec_{token}", "同意并继续", "抖音", account])
            out = chat.run(user, [*answers[1:], "确认提交"])
            assert "报名已提交" in out and "状态：待审核" in out, out
        delivered = chat.deliver()
        warning = "提醒：江西金融团工委 已推荐 2 名主播，超过名额上限 1 名。"
        assert delivered.count(warning) == 2  # the contact and the committee admin
        assert "主播 2/1 已推荐（超出上限 1，多 1）" in chat.say("c1", "/unit")
    finally:
        core.executor.shutdown()


def test_a_leaked_recommendation_link_is_replaced(chat: Chat) -> None:
    """/unit newlink: a new link; the old one now says it is invalid, the new one works."""
    make_contact(chat, "c1", "360302")
    old = re.search(r"/start rec_([0-9a-f]+)", chat.say("c1", "/unit"))[1]  # type: ignore[index]
    out = chat.say("c1", "/unit newlink")
    assert out.startswith("已生成新的推荐链接，旧链接从现在起失效")
    new = re.search(r"/start rec_([0-9a-f]+)", out)[1]  # type: ignore[index]
    assert new != old
    assert chat.say("s1", f"/start rec_{old}").startswith("这个推荐链接无效或已过期")
    assert "个人信息" in chat.say("s2", f"/start rec_{new}")
    with chat.core.sessions() as session:
        unit_id = session.scalars(select(Unit.id).where(Unit.code == "360302")).one()
    history = chat.say("admin", f"/history unit {unit_id}")
    assert said(history, "history.action.rec_link") and said(
        history, "history.action.rec_link_new"
    )  # who, when: audited
