"""Review by typed command (/approve, /reject) and /me (status, edit, withdraw)."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.channels.console import render
from bot.core.dispatcher import Core
from bot.core.messages import Incoming
from models import AuditEntry, Enterprise, Identity, OutboxMessage, Product, Streamer
from tests.catalog import line, said
from tests.chat import Chat
from tests.flows import enterprise_two_products, streamer_lines

NOT_ALLOWED = "抱歉，这个功能只对组委会开放。\n"
STALE = "这个按钮已过期，请按最新的提示操作。\n"
ME_PENDING = (
    "【主播报名】状态：待审核\n"
    "账号：抖音 小明的果园\n"
    "推荐单位：萍乡市 安源区\n"
    "联系电话：13800138000\n"
    "粉丝量：12,000\n"
    "  [1] 修改  [2] 撤回报名\n"
)


def register(chat: Chat, user: str = "s", account: str = "小明的果园") -> int:
    out = chat.run(user, [*streamer_lines(account), "确认提交"])
    assert "报名已提交" in out
    return streamer_of(chat.core, user).id


def streamer_of(core: Core, user: str) -> Streamer:
    with core.sessions() as s:
        person_id = s.scalar(select(Identity.person_id).where(Identity.user_id == user))
        return s.scalars(select(Streamer).where(Streamer.person_id == person_id)).one()


def person_of(core: Core, user: str) -> int:
    with core.sessions() as s:
        return s.scalars(select(Identity.person_id).where(Identity.user_id == user)).one()


def press_data(core: Core, user: str, data: str) -> str:
    inc = Incoming(channel="console", user_id=user, chat_id=user, button=data)
    return render(core.process_sync(inc))


def button_data(chat: Chat, label: str) -> str:
    return next(b.data for r in chat.last for b in r.flat_buttons() if b.label == label)


def audit_actions(core: Core) -> list[str]:
    with core.sessions() as s:
        return list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


# ----- review by typed command (the /review queue: tests/test_committee.py) ----------------
REVIEWERS_ONLY = (
    "抱歉，这个功能只对组委会和单位联系人开放。"
    "如果你是单位联系人，请先用组委会发给你的邀请码发送 /join 邀请码。\n"
)
USAGE = (
    "用法：/review 逐条审核；或 /approve streamer|product 编号；"
    "/reject streamer|product 编号 原因\n"
)


def test_review_commands_are_for_reviewers_only(chat: Chat, core: Core) -> None:
    sid = register(chat)
    assert chat.say("s", "/pending") == REVIEWERS_ONLY
    assert chat.say("s", "/review") == REVIEWERS_ONLY
    assert chat.say("s", f"/approve streamer {sid}") == REVIEWERS_ONLY
    assert chat.say("someone", f"/reject streamer {sid} 不合格") == REVIEWERS_ONLY
    assert chat.say("someone", "/invite admin") == NOT_ALLOWED
    assert streamer_of(core, "s").status == "pending_review"
    assert audit_actions(core) == ["register"]
    with core.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_bad_review_commands_explain_the_usage(chat: Chat, core: Core) -> None:
    sid = register(chat)
    assert chat.say("admin", "/approve") == USAGE
    assert chat.say("admin", "/approve streamer abc") == USAGE
    assert chat.say("admin", f"/approve shop {sid}") == USAGE
    assert chat.say("admin", f"/approve streamer {'9' * 400}") == (
        f"找不到 streamer {'9' * 18}，或它不在你的审核范围内。\n"
    )
    assert chat.say("admin", f"/reject streamer {sid}") == line("review.reason_needed", max="200")
    assert chat.say("admin", f"/approve streamer {sid + 100}") == (
        f"找不到 streamer {sid + 100}，或它不在你的审核范围内。\n"
    )
    assert streamer_of(core, "s").status == "pending_review"
    assert audit_actions(core) == ["register"]


def test_reject_with_reason_notifies_and_me_shows_it(chat: Chat, core: Core) -> None:
    sid = register(chat)
    assert chat.say("admin", f"/reject streamer {sid}   粉丝量截图不清晰") == line(
        "review.done_reject", title="小明的果园"
    )
    assert chat.deliver() == (
        "📨 → s [s]:\n"
        "   很抱歉，你的报名「小明的果园」未通过审核。原因：粉丝量截图不清晰。"
        "可发送 /me 修改后重新提交。\n"
    )
    streamer = streamer_of(core, "s")
    assert (streamer.status, streamer.reject_reason) == ("rejected", "粉丝量截图不清晰")
    assert streamer.reviewed_by == person_of(core, "admin")
    with core.sessions() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "reject")).one()
        assert (entry.entity, entry.entity_id, entry.note) == ("streamer", sid, "粉丝量截图不清晰")
        assert entry.before == {"status": "pending_review"}
        assert entry.after == {"status": "rejected"}
    assert chat.say("s", "/me") == (
        "【主播报名】状态：已驳回\n"
        "账号：抖音 小明的果园\n"
        "推荐单位：萍乡市 安源区\n"
        "联系电话：13800138000\n"
        "粉丝量：12,000\n"
        "驳回原因：粉丝量截图不清晰（修改后可重新提交）\n"
        "  [1] 修改  [2] 撤回报名\n"
    )
    # decided once: a second decision is refused and nobody is told twice
    assert chat.say("admin", f"/approve streamer {sid}") == line(
        "review.not_pending", status="已驳回"
    )
    assert chat.deliver() == ""


def test_products_are_reviewed_one_by_one(chat: Chat, core: Core) -> None:
    chat.run("ent", [*enterprise_two_products(), "确认提交"])
    with core.sessions() as s:
        ent_id = s.scalars(select(Enterprise.id)).one()
        p1, p2 = s.scalars(select(Product.id).order_by(Product.id)).all()
    assert chat.say("admin", f"/reject product {p1} 不在扶贫目录内") == line(
        "review.done_reject", title="莲花血鸭"
    )
    assert chat.deliver() == (
        "📨 → ent [ent]:\n"
        "   很抱歉，你的报名「莲花血鸭」未通过审核。原因：不在扶贫目录内。"
        "可发送 /me 修改后重新提交。\n"
    )
    with core.sessions() as s:  # the other product still waits: so does the enterprise
        assert s.get(Enterprise, ent_id).status == "pending_review"  # type: ignore[union-attr]
    assert chat.say("admin", f"/approve product {p2}") == line(
        "review.done_approve", title="安源脐橙"
    )
    assert said(chat.deliver(), "notice.approved", title="安源脐橙")
    with core.sessions() as s:
        statuses = s.execute(select(Product.id, Product.status, Product.reject_reason)).all()
        assert sorted(statuses) == sorted(
            [(p1, "rejected", "不在扶贫目录内"), (p2, "approved", None)]
        )
        assert s.get(Enterprise, ent_id).status == "approved"  # type: ignore[union-attr]
    assert chat.say("ent", "/me") == (
        "【企业报名】萍乡绿源农业有限公司，状态：已通过\n"
        "  · 产品「莲花血鸭」：已驳回\n"
        "  · 产品「安源脐橙」：已通过\n"
        "  [1] 修改\n"
    )


def test_an_enterprise_with_every_product_rejected_is_rejected(chat: Chat, core: Core) -> None:
    chat.run("ent", [*enterprise_two_products(), "确认提交"])
    with core.sessions() as s:
        ent_id = s.scalars(select(Enterprise.id)).one()
        p1, p2 = s.scalars(select(Product.id).order_by(Product.id)).all()
    chat.say("admin", f"/reject product {p1} 图片不清晰")
    chat.say("admin", f"/reject product {p2} 图片不清晰")
    with core.sessions() as s:
        assert s.get(Enterprise, ent_id).status == "rejected"  # type: ignore[union-attr]


# ----- /me ---------------------------------------------------------------------------------
def test_me_without_registrations(chat: Chat) -> None:
    assert chat.say("new", "/me") == line("me.nothing")


def test_me_edit_opens_the_summary_and_resubmits(chat: Chat, core: Core) -> None:
    sid = register(chat)
    chat.say("admin", f"/reject streamer {sid} 粉丝量截图不清晰")
    chat.say("s", "/me")
    out = chat.press("s", "修改")
    assert out.startswith(
        "【主播报名信息确认】\n\n"
        "推荐单位类型: 设区市 / 县（市、区）团委\n"
        "设区市: 萍乡市\n"
        "推荐单位: 萍乡市 安源区\n"
        "直播平台: 抖音\n"
        "达人账号名: 小明的果园\n"
    )
    assert "粉丝量: 12,000\n" in out
    assert chat.press("s", "改粉丝量") == (
        "粉丝量是多少？（报名需 1,000 以上，可写 1.2万、12000）\n"
        "（当前：12,000）\n  [返回]  [保持不变]  [取消]\n"
    )
    assert "粉丝量: 20,000\n" in chat.say("s", "2万")
    assert chat.say("s", "确认提交") == line(
        "streamer.submitted", account="小明的果园", unit="萍乡市 安源区", status="待审核"
    )
    streamer = streamer_of(core, "s")
    assert (streamer.id, streamer.status, streamer.followers) == (sid, "pending_review", 20000)
    assert audit_actions(core) == ["register", "reject", "edit"]
    assert chat.say("s", "/me") == ME_PENDING.replace("12,000", "20,000")


def test_withdraw_asks_first_then_withdraws(chat: Chat, core: Core) -> None:
    register(chat)
    assert chat.say("s", "/me") == ME_PENDING
    confirm = "确定撤回主播报名吗？撤回后可重新修改提交。\n  [1] 确认撤回  [2] 不撤回\n"
    assert chat.press("s", "撤回报名") == confirm
    assert chat.press("s", "不撤回") == line("me.kept")
    assert streamer_of(core, "s").status == "pending_review"
    chat.say("s", "/me")
    assert chat.press("s", "撤回报名") == confirm
    assert chat.press("s", "确认撤回") == line("me.withdrawn")
    assert streamer_of(core, "s").status == "withdrawn"
    with core.sessions() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "withdraw")).one()
        assert (entry.before, entry.after) == (
            {"status": "pending_review"},
            {"status": "withdrawn"},
        )
    assert chat.say("s", "/me") == (
        ME_PENDING.replace("待审核", "已撤回").replace("  [2] 撤回报名", "")
    )
    assert chat.say("admin", "/review") == line("review.queue_empty")
    assert chat.say("s", "/report") == line("report.not_approved", status="已撤回")


def test_text_after_me_says_what_is_expected(chat: Chat, core: Core) -> None:
    """Typed text (or a sticker) at the /me card or its withdrawal question is no answer:
    the person is told to use the buttons and sees the same question again."""
    use_buttons = "请从按钮中选择（也可以输入选项前的编号）。\n"
    confirm = "确定撤回主播报名吗？撤回后可重新修改提交。\n  [1] 确认撤回  [2] 不撤回\n"
    register(chat)
    chat.say("s", "/me")
    assert chat.say("s", "你好") == use_buttons + ME_PENDING
    assert chat.say("s", "/sticker") == use_buttons + ME_PENDING
    assert chat.press("s", "撤回报名") == confirm
    assert chat.say("s", "你好") == use_buttons + confirm  # not the card: still this question
    out = chat.say("s", "/help")
    assert out.startswith("「点亮原产地·江西青年直播节」机器人可以：")
    assert out.endswith(confirm)
    assert streamer_of(core, "s").status == "pending_review"
    assert chat.press("s", "确认撤回") == line("me.withdrawn")
    assert streamer_of(core, "s").status == "withdrawn"


# ----- stale buttons -----------------------------------------------------------------------
def test_withdraw_confirmed_twice_is_stale_the_second_time(chat: Chat, core: Core) -> None:
    register(chat)
    chat.say("s", "/me")
    chat.press("s", "撤回报名")
    yes = button_data(chat, "确认撤回")
    assert press_data(core, "s", yes) == line("me.withdrawn")
    assert press_data(core, "s", yes) == STALE
    assert audit_actions(core) == ["register", "withdraw"]


def test_an_old_me_button_after_another_step_is_stale(chat: Chat, core: Core) -> None:
    sid = register(chat)
    chat.say("s", "/me")
    withdraw = button_data(chat, "撤回报名")
    edit = button_data(chat, "修改")
    assert "/register 主播报名" in chat.say("s", "/help")  # answered, then /me again
    assert press_data(core, "s", withdraw) == STALE + ME_PENDING
    assert press_data(core, "s", edit) == STALE + ME_PENDING
    assert streamer_of(core, "s").status == "pending_review"
    assert audit_actions(core) == ["register"]
    # the stale press did not disturb the conversation: the current buttons still work
    chat.say("s", "/me")
    assert chat.press("s", "撤回报名").startswith("确定撤回主播报名吗？")
    assert streamer_of(core, "s").id == sid


def test_an_old_withdraw_confirmation_after_keeping_is_stale(chat: Chat, core: Core) -> None:
    sid = register(chat)
    chat.say("s", "/me")
    withdraw = button_data(chat, "撤回报名")
    chat.press("s", "撤回报名")
    stale_yes = button_data(chat, "确认撤回")
    chat.press("s", "不撤回")
    assert press_data(core, "s", stale_yes) == STALE
    assert press_data(core, "s", withdraw) == STALE
    assert streamer_of(core, "s").status == "pending_review"
    assert chat.say("admin", f"/approve streamer {sid}") == line(
        "review.done_approve", title="小明的果园"
    )
    assert streamer_of(core, "s").status == "approved"
