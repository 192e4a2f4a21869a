"""/review one item at a time, the scope of a city's contact, two reviewers deciding at
once, and report review with evidence pictures."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import delete, select

from bot.core.dispatcher import Core
from bot.core.messages import Incoming
from models import DailyReport, Role, Streamer
from tests.catalog import begins, line
from tests.chat import Chat
from tests.committee_helpers import (
    ANYUAN,
    PINGXIANG,
    XIANGDONG,
    invite,
    make_contact,
    register,
    status,
)
from tests.flows import report_lines


def test_a_city_contact_sees_its_counties(chat: Chat, core: Core) -> None:
    make_contact(chat, "county", ANYUAN)
    make_contact(chat, "city", PINGXIANG)
    make_contact(chat, "other", XIANGDONG)
    sid = register(chat, "s", "小明的果园")
    assert status(core, sid) == "pending_unit"
    assert chat.say("city", "/review").startswith(f"【主播资格审核】编号 {sid}")
    assert chat.say("other", "/review") == line("review.queue_empty")
    unit = chat.say("city", "/unit")
    assert unit.startswith("【萍乡市】设区市团委 推荐进度\n")
    assert (
        "下辖县（市、区）：\n· 安源区：主播 0/10 已推荐（还差 10）；产品 0/3 已推荐（还差 3）"
        in unit
    )
    assert "本单位推荐链接：请主播向本机器人发送 /start rec_" in unit


def test_skip_and_end_and_typed_numbers(chat: Chat, core: Core) -> None:
    first = register(chat, "s1", "甲")
    second = register(chat, "s2", "乙")
    assert chat.say("admin", "/review").startswith(f"【主播资格审核】编号 {first}")
    assert chat.say("admin", "3").startswith(f"【主播资格审核】编号 {second}")  # 跳过
    assert chat.say("admin", "跳过") == line("review.queue_skipped", n="2")
    assert chat.say("admin", "/review").startswith(f"【主播资格审核】编号 {first}")
    assert chat.say("admin", "随便说点什么").startswith("请按下面的按钮操作")
    assert chat.say("admin", "结束") == line("review.ended")
    assert (status(core, first), status(core, second)) == ("pending_review", "pending_review")


def test_reject_asks_a_reason_and_checks_it(chat: Chat, core: Core) -> None:
    sid = register(chat, "s", "小明的果园")
    chat.say("admin", "/review")
    ask = "请写明驳回原因（200 字以内），申请人会看到它：\n  [返回]\n"
    assert chat.press("admin", "驳回") == ask
    assert chat.say("admin", "x" * 300) == "太长了，最多 200 个字，请精简后重新输入。\n" + ask
    assert (
        chat.say("admin", "/sticker") == "请输入文字回答（暂不支持表情包、语音、位置等）。\n" + ask
    )
    assert chat.say("admin", "   ") == "内容不能为空，请重新输入。\n" + ask
    assert status(core, sid) == "pending_review"
    assert chat.press("admin", "返回").startswith(f"【主播资格审核】编号 {sid}")
    chat.press("admin", "驳回")
    assert chat.say("admin", "粉丝截图看不清") == (
        "「小明的果园」已驳回，已把原因告知申请人。\n目前没有需要你审核的报名。\n"
    )
    assert status(core, sid) == "rejected"
    assert "原因：粉丝截图看不清" in chat.deliver()


def test_two_reviewers_on_one_card_one_wins_the_other_is_told(chat: Chat, core: Core) -> None:
    make_contact(chat, "c1", ANYUAN)
    sid = register(chat, "s", "小明的果园")
    chat.deliver()
    assert chat.say("c1", "/review").startswith(f"【主播资格审核】编号 {sid}，状态：待推荐")
    contact_card = chat.last
    assert chat.say("admin", "/review").startswith(f"【主播资格审核】编号 {sid}，状态：待推荐")
    chat.press("admin", "通过")
    assert status(core, sid) == "approved"
    chat.last = contact_card
    assert chat.press("c1", "推荐") == (
        "「小明的果园」刚刚已被 组委会管理员 处理，现在的状态是「已通过」，你的操作没有生效。\n"
        "目前没有需要你审核的报名。\n"
    )
    assert status(core, sid) == "approved"
    delivered = chat.deliver()
    assert delivered.count("📨 → s [s]") == 1  # told once, of the decision that stood


def test_approve_and_reject_at_the_same_moment(chat: Chat, core: Core) -> None:
    """Two admins decide the same item in two threads: exactly one decision is stored."""
    chat.say("a2", "/join " + invite(chat, "admin"))
    sid = register(chat, "s", "小明的果园")
    for _ in range(3):  # a few rounds: the interleaving differs from run to run
        with ThreadPoolExecutor(2) as pool:
            results = list(
                pool.map(
                    lambda args: core.process_sync(Incoming.from_text("console", *args)),
                    [("admin", f"/approve streamer {sid}"), ("a2", f"/reject streamer {sid} 不行")],
                )
            )
        texts = [r[0].text for r in results]
        decided = [t for t in texts if t.startswith("「小明的果园」已")]
        told = [t for t in texts if "你的操作没有生效" in t or "不需要你处理" in t]
        assert len(decided) == 1 and len(told) == 1, texts
        assert status(core, sid) == ("approved" if "已通过" in decided[0] else "rejected")
        # back to pending for the next round, as a resubmission would do
        with core.sessions() as s, s.begin():
            row = s.get(Streamer, sid)
            assert row is not None
            row.status = "pending_review"


def test_a_contact_whose_role_is_removed_is_stopped_mid_review(chat: Chat, core: Core) -> None:
    make_contact(chat, "c1", ANYUAN)
    sid = register(chat, "s", "小明的果园")
    chat.say("c1", "/review")
    with core.sessions() as s, s.begin():
        s.execute(delete(Role).where(Role.role == "unit_contact"))
    out = chat.press("c1", "推荐")
    assert out.startswith("抱歉，这个功能只对组委会和单位联系人开放。")
    assert status(core, sid) == "pending_unit"


# ----- report review ----------------------------------------------------------------------
def approved_with_report(chat: Chat, core: Core) -> int:
    sid = register(chat, "s", "小明的果园")
    chat.say("admin", f"/approve streamer {sid}")
    out = chat.run("s", [*report_lines("今天", "6000", "3h", "1500", "4k", "50", "/photo shot")])
    out = chat.say("s", "确认提交")
    assert "战报已保存" in out, out
    chat.deliver()
    return sid


def test_the_committee_rejects_a_report_and_the_streamer_corrects_it(
    chat: Chat, core: Core
) -> None:
    sid = approved_with_report(chat, core)
    card = chat.say("admin", f"/streamer {sid}")
    assert (
        "最近 1 条战报：\n"
        "· 11-02 抖音：成交额 6,000 元，3小时，观看 1,500，获赞 4,000，50 单，有截图\n" in card
    )
    assert card.endswith("  [1] 截图 11-02 抖音  [2] 驳回 11-02 抖音  [3] 结束\n")
    assert chat.press("admin", "截图 11-02 抖音") == "2020-11-02 的战报截图\n[图片: console:shot]\n"
    chat.say("admin", f"/streamer {sid}")
    chat.press("admin", "驳回 11-02 抖音")
    out = chat.say("admin", "成交额与截图不符")
    assert begins(out, "streamers.report_rejected", date="2020-11-02")
    assert "【被驳回：成交额与截图不符】" in out
    assert chat.deliver() == (
        "📨 → s [s]:\n   你 2020-11-02 的战报（抖音 小明的果园）被驳回。原因：成交额与截图不符。"
        "请发送 /report 重新填报这一天的数据。\n"
    )
    with core.sessions() as s:
        report = s.scalars(select(DailyReport)).one()
        assert (report.rejected, report.reject_reason) == (True, "成交额与截图不符")
    out = chat.run(
        "s", [*report_lines("今天", "5000", "3h", "1500", "4k", "50", "跳过"), "确认提交"]
    )
    assert "已更正 2020-11-02 的战报" in out
    with core.sessions() as s:
        report = s.scalars(select(DailyReport)).one()
        assert (report.rejected, report.gmv_fen, report.revision) == (False, 500000, 2)


def test_a_report_corrected_meanwhile_is_not_rejected(chat: Chat, core: Core) -> None:
    sid = approved_with_report(chat, core)
    chat.say("admin", f"/streamer {sid}")
    chat.press("admin", "驳回 11-02 抖音")
    chat.run("s", [*report_lines("今天", "5000", "3h", "1500", "4k", "50", "跳过"), "确认提交"])
    out = chat.say("admin", "成交额与截图不符")
    assert out.startswith("这条战报刚刚已被更正或已被驳回，你的操作没有生效。\n")
    with core.sessions() as s:
        assert s.scalars(select(DailyReport.rejected)).one() is False


def test_another_units_contact_cannot_see_reports(chat: Chat, core: Core) -> None:
    sid = approved_with_report(chat, core)
    make_contact(chat, "other", XIANGDONG)
    make_contact(chat, "mine", ANYUAN)
    assert chat.say("other", f"/streamer {sid}").startswith("找不到编号为")
    assert chat.say("mine", f"/streamer {sid}").startswith(f"【主播资格审核】编号 {sid}")
    assert "· 1：小明的果园" not in chat.say("other", "/streamers")
    assert f"· {sid}：抖音 小明的果园 — 萍乡市 安源区 — 已通过" in chat.say("mine", "/streamers")
