"""Daily reports (每日战报) of an approved streamer, as console transcripts."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from sqlalchemy import Engine, func, select

from bot.channels.console import render
from bot.config import FestivalConfig, parse_config
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from bot.core.messages import Incoming
from handlers.routes import ROUTES
from models import AuditEntry, DailyReport, LiveAccount, Streamer
from tests.catalog import label, said
from tests.chat import Chat
from tests.conftest import ROOT
from tests.flows import REPORT_LINES, report_lines, streamer_lines

DATE_PROMPT = (
    "请选择战报日期，或输入日期（如 11-02）：\n  [1] 今天 11-02  [2] 昨天 11-01  [3] 取消\n"
)
GMV_PROMPT = "当天成交额（GMV）是多少元？\n  [返回]  [取消]\n"
DURATION_PROMPT = "当天直播时长？（如 2小时30分、2.5h、150分钟）\n  [返回]  [取消]\n"
SAVED_TODAY = (
    "战报已保存：2020-11-02 成交额 5,000 元，直播 2小时30分钟，观看 1,200 人，获赞 3,000。\n"
)


def register(chat: Chat, user: str = "s", account: str = "小明的果园") -> None:
    out = chat.run(user, [*streamer_lines(account), "确认提交"])
    assert "报名已提交" in out


def streamer_id(core: Core) -> int:
    with core.sessions() as s:
        return s.scalars(select(Streamer.id)).one()


def approve(chat: Chat, core: Core) -> None:
    out = chat.say("admin", f"/approve streamer {streamer_id(core)}")
    assert out == "「小明的果园」已通过，已通知申请人。\n"
    chat.deliver()


@pytest.fixture
def approved(chat: Chat, core: Core) -> str:
    """A registered and approved streamer, user "s"."""
    register(chat)
    approve(chat, core)
    return "s"


def reports(core: Core) -> list[DailyReport]:
    with core.sessions() as s:
        return list(s.scalars(select(DailyReport).order_by(DailyReport.report_date)))


def press_data(core: Core, user: str, data: str) -> str:
    inc = Incoming(channel="console", user_id=user, chat_id=user, button=data)
    return render(core.process_sync(inc))


def button_data(chat: Chat, label: str) -> str:
    return next(b.data for r in chat.last for b in r.flat_buttons() if b.label == label)


def test_nobody_registered_is_sent_to_register(chat: Chat) -> None:
    assert chat.say("nobody", "/report") == "你还没有报名主播，请先发送 /register 报名。\n"
    assert chat.say("nobody", "/reports") == "你还没有报名主播，请先发送 /register 报名。\n"


def test_refused_before_approval_then_notified(chat: Chat, core: Core) -> None:
    chat.say("admin", "/start")
    register(chat)
    assert "新的主播报名：小明的果园" in chat.deliver()
    assert chat.say("s", "/report") == (
        "你的主播报名还未通过审核（当前：待审核），通过后才能提交战报。\n"
    )
    sid = streamer_id(core)
    assert chat.say("admin", f"/approve streamer {sid}") == (
        "「小明的果园」已通过，已通知申请人。\n"
    )
    assert chat.deliver() == "📨 → s [s]:\n   你的报名「小明的果园」已通过审核！\n"
    with core.sessions() as s:
        streamer = s.get(Streamer, sid)
        assert streamer is not None and streamer.status == "approved"
    assert chat.say("s", "/report") == DATE_PROMPT
    assert reports(core) == []


def test_report_today_then_correct_it(chat: Chat, core: Core, approved: str) -> None:
    out = chat.run(approved, REPORT_LINES)
    assert out.endswith(
        "【每日战报确认】\n\n"
        "日期: 2020-11-02\n"
        "成交额: 5,000 元\n"
        "直播时长: 2小时30分钟\n"
        "观看人数: 1,200\n"
        "获赞数: 3,000\n"
        "订单数: 45\n"
        "截图凭证: （未填）\n\n"
        "请核对以上信息：点「确认提交」提交，或点对应按钮修改。\n"
        "  [1] 确认提交  [2] 取消  [3] 改日期  [4] 改成交额  [5] 改直播时长  [6] 改观看人数"
        "  [7] 改获赞数  [8] 改订单数  [9] 改截图凭证\n"
    )
    assert chat.say(approved, "确认提交") == SAVED_TODAY
    [first] = reports(core)
    assert (first.report_date, first.gmv_fen, first.duration_minutes, first.revision) == (
        dt.date(2020, 11, 2),
        500_000,
        150,
        1,
    )

    lines = report_lines("今天", "6000", "3h", "1500", "4k", "50", "/photo shot")
    out = chat.run(approved, [*lines, "确认提交"])
    assert out.endswith(
        "已更正 2020-11-02 的战报（以新数据为准，原数据已存档）："
        "成交额 6,000 元，直播 3小时，观看 1,500 人，获赞 4,000。\n"
    )
    [report] = reports(core)
    assert report.id == first.id
    assert (report.gmv_fen, report.duration_minutes, report.viewers, report.likes) == (
        600_000,
        180,
        1500,
        4000,
    )
    assert (report.orders, report.evidence_file_id, report.revision) == (50, "console:shot", 2)
    with core.sessions() as s:
        entries = s.scalars(
            select(AuditEntry).where(AuditEntry.entity == "daily_report").order_by(AuditEntry.id)
        ).all()
    assert [e.action for e in entries] == ["report", "correct"]
    correct = entries[1]
    assert correct.entity_id == report.id
    assert correct.before is not None and correct.after is not None
    assert correct.before["gmv_fen"] == 500_000
    assert correct.before["duration_minutes"] == 150
    assert correct.before["likes"] == 3000
    assert correct.before["revision"] == 1
    assert correct.before["evidence_file_id"] is None
    assert (correct.after["gmv_fen"], correct.after["revision"]) == (600_000, 2)


def test_yesterday_can_be_backfilled(chat: Chat, core: Core, approved: str) -> None:
    out = chat.run(approved, [*report_lines("昨天", gmv="1000"), "确认提交"])
    assert out.endswith(
        "战报已保存：2020-11-01 成交额 1,000 元，直播 2小时30分钟，观看 1,200 人，获赞 3,000。\n"
    )
    [report] = reports(core)
    assert (report.report_date, report.gmv_fen) == (dt.date(2020, 11, 1), 100_000)
    with core.sessions() as s:
        assert report.account_id == s.scalar(select(LiveAccount.id))


def test_typed_dates_future_and_too_old_are_refused(chat: Chat, core: Core, approved: str) -> None:
    assert chat.say(approved, "/report") == DATE_PROMPT
    assert chat.say(approved, "11-03") == "不能提交未来日期的战报。\n" + DATE_PROMPT
    assert chat.say(approved, "2020-10-30") == "只能补报最近 1 天内的战报。\n" + DATE_PROMPT
    assert chat.say(approved, "11月31日") == (
        "没看懂这个日期，请输入如 11-02、11月2日、2号、周一 或 2020-11-02。\n" + DATE_PROMPT
    )
    assert chat.say(approved, "11月1日") == GMV_PROMPT
    out = chat.run(approved, [*REPORT_LINES[2:], "确认提交"])
    assert out.endswith(
        "战报已保存：2020-11-01 成交额 5,000 元，直播 2小时30分钟，观看 1,200 人，获赞 3,000。\n"
    )
    assert [r.report_date for r in reports(core)] == [dt.date(2020, 11, 1)]


def test_outside_the_live_period(chat: Chat, core: Core, clock: FixedClock, approved: str) -> None:
    clock.set(dt.datetime(2020, 12, 5, 12, 0))
    assert chat.say(approved, "/report") == (
        "现在不在直播期内（2020-10-30 至 2020-11-27），不能提交战报。\n"
    )
    assert reports(core) == []


def test_first_live_day_cannot_backfill_before_the_period(
    chat: Chat, core: Core, clock: FixedClock, approved: str
) -> None:
    clock.set(dt.datetime(2020, 10, 30, 21, 0))
    assert chat.say(approved, "/report") == (
        "请选择战报日期，或输入日期（如 11-02）：\n  [1] 今天 10-30  [2] 取消\n"
    )
    assert chat.say(approved, "昨天") == (
        "只能提交直播期内（2020-10-30 至 2020-11-27）的战报。\n"
        "请选择战报日期，或输入日期（如 11-02）：\n  [1] 今天 10-30  [2] 取消\n"
    )


def test_a_form_left_open_past_the_period_is_refused_at_confirmation(
    chat: Chat, core: Core, clock: FixedClock, approved: str
) -> None:
    clock.set(dt.datetime(2020, 11, 27, 23, 50))
    chat.run(approved, report_lines("昨天"))
    clock.set(dt.datetime(2020, 11, 29, 0, 10))  # 11-26 is now too old
    out = chat.say(approved, "确认提交")
    assert out.startswith("只能补报最近 1 天内的战报。\n请选择战报日期")
    assert reports(core) == []


BAD_GMV = [
    ("abc", "请输入一个数字，例如 12000、1.2万 或 5k。"),
    ("-5", "不能是负数，请重新输入。"),
    ("🙂", "请输入一个数字，例如 12000、1.2万 或 5k。"),
    ("8" * 10_000, "消息太长了（最多 2000 个字），请分开发送或精简。"),
    ("99999999999", "数字太大了（最多 100000000），请检查后重新输入。"),
    ("/sticker", "请输入文字回答（暂不支持表情包、语音、位置等）。"),
    ("/photo gmv", "请输入文字回答（暂不支持表情包、语音、位置等）。"),
]


def test_bad_gmv_answers_are_asked_again(chat: Chat, core: Core, approved: str) -> None:
    chat.run(approved, ["/report", "今天"])
    for answer, error in BAD_GMV:
        assert chat.say(approved, answer) == error + "\n" + GMV_PROMPT, answer[:20]
    assert reports(core) == []
    assert chat.say(approved, "1.2万") == DURATION_PROMPT  # the form is still where it was
    out = chat.run(approved, [*REPORT_LINES[3:], "确认提交"])
    assert "成交额 12,000 元" in out
    [report] = reports(core)
    assert report.gmv_fen == 1_200_000


def test_reports_lists_own_reports_newest_first(chat: Chat, core: Core, approved: str) -> None:
    assert chat.say(approved, "/reports") == "你还没有提交过战报。\n"
    chat.run(approved, [*report_lines("昨天", gmv="1000", duration="1h"), "确认提交"])
    chat.run(approved, [*REPORT_LINES, "确认提交"])
    chat.run(approved, [*report_lines(gmv="6000", duration="3h", viewers="1500"), "确认提交"])
    assert chat.say(approved, "/reports") == (
        "你的战报（最近 2 条）：\n"
        "· 2020-11-02 抖音：成交额 6,000 元，3小时，观看 1,500，获赞 3,000（已更正 1 次）\n"
        "· 2020-11-01 抖音：成交额 1,000 元，1小时，观看 1,200，获赞 3,000\n"
    )
    assert chat.say("other", "/reports") == "你还没有报名主播，请先发送 /register 报名。\n"


def test_an_old_date_button_is_stale(chat: Chat, core: Core, approved: str) -> None:
    chat.say(approved, "/report")
    today = button_data(chat, "今天 11-02")
    assert chat.say(approved, "昨天") == GMV_PROMPT
    assert press_data(core, approved, today) == (
        "这个按钮已过期，请按最新的提示操作。\n" + GMV_PROMPT
    )
    chat.run(approved, [*REPORT_LINES[2:], "确认提交"])
    assert [r.report_date for r in reports(core)] == [dt.date(2020, 11, 1)]  # unchanged


def test_confirm_pressed_twice_is_stale_the_second_time(
    chat: Chat, core: Core, approved: str
) -> None:
    chat.run(approved, REPORT_LINES)
    confirm = button_data(chat, "确认提交")
    assert press_data(core, approved, confirm) == SAVED_TODAY
    assert press_data(core, approved, confirm) == "这个按钮已过期，请按最新的提示操作。\n"
    [report] = reports(core)
    assert report.revision == 1
    with core.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.entity == "daily_report")) == 1  # fmt: skip


def test_a_required_screenshot_cannot_be_skipped(
    db: Engine, config: FestivalConfig, clock: FixedClock
) -> None:
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["reports"]["evidence"] = "all"
    data["calendar"]["registration_closes"] = False  # signing up on the live month's clock
    strict = Core(parse_config(data), db, clock, ROUTES)
    try:
        chat = Chat(strict)
        register(chat)
        chat.say("admin", f"/approve streamer {streamer_id(strict)}")
        out = chat.run("s", report_lines()[:-1])
        assert "跳过" not in out.splitlines()[-1]  # the screenshot step offers no skip button
        out = chat.say("s", "跳过")
        assert "截图" in out
        with strict.sessions() as s:
            assert s.scalar(select(func.count()).select_from(DailyReport)) == 0
        out = chat.run("s", ["/photo shot", "确认提交"])
        assert "战报已保存" in out
    finally:
        strict.executor.shutdown()


def test_a_correction_is_announced_and_keeps_the_earlier_screenshot(
    chat: Chat, core: Core, approved: str
) -> None:
    """Before the figures the streamer reads that the day has a report and what it says; a
    correction sent without a new screenshot keeps the earlier one, a new one replaces it."""
    chat.run(approved, [*report_lines(evidence="/photo first"), "确认提交"])
    [first] = reports(core)
    assert first.evidence_file_id == "console:first"
    out = chat.run(approved, ["/report", "今天"])
    assert said(
        out, "report.day_has_report", date="2020-11-02", gmv="5,000", viewers="1,200",
        evidence=label("report.has_evidence"),
    )  # fmt: skip
    chat.run(approved, [*report_lines("今天", "6000")[2:], "确认提交"])
    [kept] = reports(core)
    assert (kept.revision, kept.gmv_fen, kept.evidence_file_id) == (2, 600_000, "console:first")
    chat.run(approved, [*report_lines("今天", "6100", evidence="/photo second"), "确认提交"])
    [replaced] = reports(core)
    assert (replaced.revision, replaced.evidence_file_id) == (3, "console:second")
    # a day without a report says nothing of the kind
    out = chat.run(approved, ["/report", "昨天"])
    assert not said(
        out,
        "report.day_has_report",
        date="2020-11-01",
        gmv="5,000",
        viewers="1,200",
        evidence=label("report.has_evidence"),
    )
