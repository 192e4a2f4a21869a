"""Streamer registration end to end, as console transcripts."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.core.dispatcher import Core
from models import AuditEntry, LiveAccount, Streamer, Unit
from tests.catalog import said
from tests.chat import Chat, form_answers
from tests.committee_helpers import ANYUAN, PINGXIANG, XIANGDONG, make_contact
from tests.flows import STREAMER_HEAD, streamer_lines


def test_full_registration_ends_pending_review(chat: Chat, core: Core) -> None:
    out = chat.run("xiaoming", streamer_lines("小明的果园🍊"))
    assert "【主播报名信息确认】" in out
    assert "粉丝量: 12,000" in out
    assert "直播累计销售额: 125,000 元" in out
    assert "平均客单价: （未填）" in out
    assert "转化率: 3.5" in out
    out = chat.say("xiaoming", "确认提交")
    assert "报名已提交" in out and "待审核" in out and "萍乡市 安源区" in out
    with core.sessions() as s:
        streamer = s.scalars(select(Streamer)).one()
        assert streamer.status == "pending_review"
        assert streamer.phone == "13800138000"
        assert streamer.followers == 12000
        assert streamer.cumulative_sales_fen == 12_500_000
        assert streamer.avg_order_value_fen == 15_625  # skipped: 125,000 / 800 computed
        assert streamer.recommendation == "self"
        assert s.scalar(select(func.count()).select_from(LiveAccount)) == 1
        assert s.scalar(select(LiveAccount.account_name)) == "小明的果园🍊"
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 1


def test_committee_is_notified_through_outbox(chat: Chat) -> None:
    chat.say("admin", "/start")  # the config's bootstrapped admin has written once
    chat.run("xiaoming", [*streamer_lines("小明的果园"), "确认提交"])
    delivered = chat.deliver()
    assert "→ 组委会管理员 [admin]" in delivered
    assert "新的主播报名：小明的果园" in delivered
    assert "13800138000" not in delivered
    assert chat.deliver() == ""  # delivered exactly once


def test_every_reviewer_is_notified_once_in_their_language(chat: Chat) -> None:
    """The admin, the county's contact and its city's contact: one notice each, in the
    reader's language, written together in the submit step; another county's contact and the
    registrant (who is also a contact) get none."""
    chat.say("admin", "/start")
    make_contact(chat, "county", ANYUAN)
    make_contact(chat, "city", PINGXIANG)
    make_contact(chat, "elsewhere", XIANGDONG)
    chat.say("city", "/lang en")
    make_contact(chat, "xiaoming", ANYUAN)
    chat.deliver()
    chat.run("xiaoming", [*streamer_lines("小明的果园"), "确认提交"])
    delivered = chat.deliver()
    assert delivered.count("新的主播报名：小明的果园（萍乡市 安源区）") == 2, delivered
    assert "→ 组委会管理员 [admin]" in delivered and "→ county [county]" in delivered
    assert delivered.count("New streamer sign-up: 小明的果园") == 1
    assert "→ city [city]" in delivered
    assert "[elsewhere]" not in delivered and "[xiaoming]" not in delivered
    assert chat.deliver() == ""


def test_800_followers_refused_politely_then_corrected(chat: Chat, core: Core) -> None:
    lines = streamer_lines("小红家的脐橙", followers="800")
    index = lines.index("800")
    out = chat.run("xiaohong", lines[: index + 1])
    assert "报名需要粉丝量 1,000 以上，你填写的是 800" in out
    assert "粉丝量是多少" in out.splitlines()[-2] or "粉丝量是多少" in out
    # the draft survives leaving and coming back
    out = chat.say("xiaohong", "/cancel")
    assert "草稿" in out
    out = chat.say("xiaohong", "/register")
    assert "未完成" in out
    out = chat.say("xiaohong", "继续填写")
    assert "粉丝量是多少" in out
    out = chat.run("xiaohong", ["1800", *lines[index + 1 :], "确认提交"])
    assert "报名已提交" in out
    with core.sessions() as s:
        assert s.scalar(select(Streamer.followers)) == 1800
        assert s.scalar(select(func.count()).select_from(Streamer)) == 1


def test_restart_in_the_middle_continues_where_the_user_was(
    chat: Chat, core: Core, db, config, clock
) -> None:
    lines = streamer_lines("重启测试")
    chat.run("u1", lines[:10])
    core.executor.shutdown()
    fresh = Chat(Core(config, db, clock, core.routes))  # a new process on the same database
    out = fresh.say("u1", "/help")
    assert "粉丝量是多少" in out  # /help answers, then asks the pending question again
    out = fresh.run("u1", [*lines[10:], "确认提交"])
    assert "报名已提交" in out


def test_back_skip_and_summary_edit(chat: Chat, core: Core) -> None:
    chat.run("u2", STREAMER_HEAD)
    out = chat.say("u2", "返回")
    assert "主要直播平台" in out and "当前：抖音" in out
    out = chat.say("u2", "返回")
    assert "请选择县" in out and "当前：萍乡市 安源区" in out
    out = chat.say("u2", "保持不变")
    assert "主要直播平台" in out
    out = chat.say("u2", "保持不变")
    assert "达人账号名" in out
    out = chat.run("u2", streamer_lines("改过的账号")[len(STREAMER_HEAD) :])
    out = chat.say("u2", "改粉丝量")
    assert "当前：12,000" in out
    out = chat.say("u2", "2万")
    assert "【主播报名信息确认】" in out and "粉丝量: 20,000" in out
    chat.say("u2", "确认提交")
    with core.sessions() as s:
        assert s.scalar(select(Streamer.followers)) == 20000


def test_an_account_name_cannot_be_registered_twice(chat: Chat) -> None:
    chat.run("a", [*streamer_lines("同名账号"), "确认提交"])
    out = chat.run("b", streamer_lines("同名账号")[: len(STREAMER_HEAD) + 1])
    assert "这个抖音账号已经被报名了" in out


def test_self_declarations_required(chat: Chat, core: Core) -> None:
    """不完全符合 is refused when chosen, with the reason; the question stays; nothing stored."""
    lines = streamer_lines("条件不符")
    out = chat.run("c", [*lines[:-1], "不完全符合"])
    assert said(out, "err.declaration_refused")
    assert (chat.last[-1].question or "").endswith("['declarations']")
    assert "declarations" not in form_answers(core, "c")
    out = chat.say("c", "确认提交")  # not a button of this question
    assert not said(out, "form.summary_hint")
    with core.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Streamer)) == 0
    out = chat.say("c", "以上全部属实")  # all met after all: on to the summary
    assert "【主播报名信息确认】" in out


def test_a_public_unit_link_fixes_the_unit_but_is_a_self_recommendation(
    chat: Chat, core: Core
) -> None:
    out = chat.run("d", ["/start unit_360302", "同意并继续"])
    assert "主要直播平台" in out  # the unit is not asked
    lines = ["抖音", *streamer_lines("推荐主播")[len(STREAMER_HEAD) :]]
    out = chat.run("d", [*lines, "确认提交"])
    assert "萍乡市 安源区" in out
    with core.sessions() as s:
        assert s.scalar(select(Streamer.recommendation)) == "self"


def test_a_bad_or_unknown_link_shows_the_menu(chat: Chat) -> None:
    for link in ("unit_999999", "rec_", "rec_0123456789abcdef", "rec_" + "x" * 300):
        out = chat.say("d", f"/start {link}")
        assert out.startswith("这个推荐链接无效或已过期"), out


def test_changing_the_city_in_the_summary_asks_the_county_again(chat: Chat, core: Core) -> None:
    chat.run("e", streamer_lines("换城市"))
    out = chat.say("e", "改设区市")
    assert "当前：萍乡市" in out
    out = chat.say("e", "南昌市")
    assert "请选择县" in out  # the old county (萍乡市 安源区) is not kept
    out = chat.say("e", "东湖区")
    assert "推荐单位: 南昌市 东湖区" in out
    chat.say("e", "确认提交")
    with core.sessions() as s:
        unit = s.get(Unit, s.scalar(select(Streamer.unit_id)))
        assert unit is not None and unit.name == "东湖区"


def test_back_still_works_after_a_draft_is_continued(chat: Chat, core: Core) -> None:
    """/start (or /me) in the middle of the form, then 继续填写: 返回 goes to the question
    before, as it would have without the break (the way back is rebuilt from the answers)."""
    lines = streamer_lines("返回测试")
    chat.run("r", lines[:14])  # up to 月均直播有效时长
    chat.say("r", "/me")
    chat.run("r", ["/start", "主播报名"])
    out = chat.say("r", "继续填写")
    assert (chat.last[-1].question or "").endswith("['monthly_live_hours']")
    assert "返回" in out
    out = chat.say("r", "返回")
    assert not said(out, "form.at_start")
    assert (chat.last[-1].question or "").endswith("['monthly_live_days']")
    chat.say("r", "返回")
    assert (chat.last[-1].question or "").endswith("['tips_income']")
    chat.say("r", "21")  # a new answer on the way back, then on as before
    assert form_answers(core, "r")["tips_income"] == 21
    assert (chat.last[-1].question or "").endswith("['monthly_live_days']")
