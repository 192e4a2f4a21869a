"""The committee issue's 'done when', as a console transcript: an admin invites a county
contact, the contact joins and recommends a streamer of that county, the admin approves, the
streamer is told, the quota moves, /history shows every step with who did it, and another
county's contact sees none of it."""

from __future__ import annotations

from sqlalchemy import select

from bot.core.dispatcher import Core
from models import AuditEntry, Role
from tests.catalog import line
from tests.chat import Chat
from tests.committee_helpers import ANYUAN, XIANGDONG, invite, register, status


def test_invite_recommend_approve_notify_quota_history(chat: Chat, core: Core) -> None:
    code = invite(chat, ANYUAN)
    assert chat.say("c1", f"/join {code}") == (
        "欢迎！你现在是 萍乡市 安源区 单位联系人。\n"
        "发送 /unit 查看本单位的推荐进度和推荐链接，/review 审核待推荐的报名。\n"
    )
    assert chat.deliver() == (
        "📨 → 组委会管理员 [admin]:\n"
        f"   c1 使用了邀请码 {code}，现在是 萍乡市 安源区 单位联系人。\n"
    )

    # a self-recommended streamer of 安源区 now waits for the unit (it has a contact)
    sid = register(chat, "s", "小明的果园")
    assert status(core, sid) == "pending_unit"
    delivered = chat.deliver()
    assert "📨 → c1 [c1]:\n   新的主播报名：小明的果园（萍乡市 安源区），状态：待推荐" in delivered
    assert "📨 → 组委会管理员 [admin]:" in delivered

    assert chat.say("c1", "/unit").startswith(
        "【萍乡市 安源区】县（市、区）团委 推荐进度\n"
        "主播 0/10 已推荐（还差 10）\n"
        "产品 0/3 已推荐（还差 3）\n"
        "待你推荐（1）：小明的果园\n"
    )
    card = chat.say("c1", "/review")
    assert card.startswith(f"【主播资格审核】编号 {sid}，状态：待推荐（等待推荐单位确认）\n")
    assert "账号：抖音 小明的果园\n推荐单位：萍乡市 安源区（自荐）\n" in card
    assert "联系电话：138****8000\n" in card  # a unit contact sees the number masked
    assert card.endswith("  [1] 推荐  [2] 驳回  [3] 跳过  [4] 结束\n")
    assert chat.press("c1", "推荐") == (
        "「小明的果园」已推荐，现为「待审核」，等待组委会审核；已通知申请人。\n"
    ) + line("review.queue_finished", n=1)
    delivered = chat.deliver()
    assert (
        "📨 → s [s]:\n   你的报名「小明的果园」已获推荐单位推荐，正在等待组委会审核。\n"
        in delivered
    )
    assert (
        "📨 → 组委会管理员 [admin]:\n   新的主播报名：小明的果园（萍乡市 安源区），状态：待审核"
        in delivered
    )
    assert chat.say("c1", "/unit").startswith(
        "【萍乡市 安源区】县（市、区）团委 推荐进度\n主播 1/10 已推荐（还差 9）\n"
    )

    card = chat.say("admin", "/review")
    assert card.startswith(f"【主播资格审核】编号 {sid}，状态：待审核\n")
    assert "联系电话：13800138000\n" in card  # the committee sees the whole number
    assert card.endswith("  [1] 通过  [2] 驳回  [3] 跳过  [4] 结束\n")
    done = "「小明的果园」已通过，已通知申请人。\n"
    assert chat.press("admin", "通过") == done + line("review.queue_finished", n=1)
    assert chat.deliver() == "📨 → s [s]:\n   你的报名「小明的果园」已通过审核！\n"
    assert status(core, sid) == "approved"
    assert "主播 1/10 已推荐（还差 9）" in chat.say("c1", "/unit")

    history = chat.say("admin", f"/history streamer {sid}")
    lines = history.splitlines()
    assert lines[0] == f"streamer {sid} 的记录（时间为北京时间）："
    assert lines[1].startswith("· 2020-11-02 20:00 s：报名")
    assert lines[2] == "· 2020-11-02 20:00 c1：单位推荐 状态: 待推荐（等待推荐单位确认） → 待审核"
    assert lines[3] == "· 2020-11-02 20:00 组委会管理员：审核通过 状态: 待审核 → 已通过"
    assert len(lines) == 4
    with core.sessions() as s:
        actions = list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == [
        "invite",
        "redeem_invite",
        "grant_role",
        "register",
        "rec_link",
        "recommend",
        "approve",
    ]

    # another county's contact sees none of it, even by guessing ids
    code = invite(chat, XIANGDONG)
    chat.say("c2", f"/join {code}")
    assert chat.say("c2", "/review") == "目前没有等待你审核的内容。\n"
    assert chat.say("c2", "/streamers") == "你的范围内还没有主播报名。\n"
    assert chat.say("c2", f"/streamer {sid}") == f"找不到编号为 {sid} 的主播，或不在你的范围内。\n"
    assert chat.say("c2", f"/approve streamer {sid}") == (
        f"找不到 streamer {sid}，或它不在你的审核范围内。\n"
    )
    assert chat.say("c2", f"/unit {ANYUAN}") == f"找不到单位 {ANYUAN}，或不在你的范围内。\n"
    assert chat.say("c2", f"/history streamer {sid}") == "抱歉，这个功能只对组委会开放。\n"
    assert "小明的果园" not in chat.say("c2", "/unit")
    with core.sessions() as s:
        assert s.scalar(select(Role.unit_id).where(Role.role == "unit_contact")) is not None
