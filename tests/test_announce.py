"""Announcements: the committee's short form (audience, text, picture, preview with the count,
confirm), a unit contact only to its own unit's people; one outbox row per person, delivered
once each, also to 10,000 people across a restart in the middle; /announce status from the
outbox rows; on WeChat inside and outside the 48-hour window over the fake servers."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time

import pytest
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from bot.config import FestivalConfig, WeChatSubscribe
from bot.core.clock import FixedClock
from bot.core.delivery import OutboxDispatcher
from bot.core.dispatcher import Core
from handlers.routes import ROUTES
from models import (
    Announcement,
    AuditEntry,
    DialogState,
    Identity,
    OutboxMessage,
    Person,
    Role,
    Streamer,
)
from models.announcements import delivery
from models.units import unit_by_code
from tests import festival_data as data
from tests.catalog import label, said
from tests.chat import Chat
from tests.fake_wechat import FakeWeChat, wechat_bot
from tests.test_scheduler import Recorder

NOW = dt.datetime(2020, 10, 10, tzinfo=dt.UTC)


@pytest.fixture
def festival(core: Core) -> None:
    """Two approved streamers and one waiting in 安源区 (萍乡市), one approved in 南昌大学,
    an enterprise, the contact of 安源区, one of 萍乡市 (the city) and a subscribed group."""
    with core.sessions() as s, s.begin():
        data.streamer(s, "小明的果园", "360302", user="ming")
        data.streamer(s, "小红的茶园", "360302", user="hong")
        data.streamer(s, "待审核", "360302", status="pending_review", user="wait")
        data.streamer(s, "南大主播", "U001", user="nanda")
        data.enterprise(s, "安源茶厂", [("安源红茶", None)], user="tea")
        data.contact(s, "c1", "360302")
        data.contact(s, "city", "360300")
        data.group(s, "g-board")


def announcements(core: Core) -> list[Announcement]:
    with core.sessions() as s:
        return list(s.scalars(select(Announcement).order_by(Announcement.id)))


def test_the_committee_announces_to_approved_streamers(core: Core, festival: None) -> None:
    chat = Chat(core)
    assert said(chat.say("admin", "/announce"), "announce.ask_audience")
    assert said(chat.press("admin", label("announce.audience.approved")), "announce.ask_text")
    assert said(chat.say("admin", "明晚八点启动仪式，请准时开播。"), "announce.ask_picture")
    preview = chat.press("admin", label("btn.skip"))
    assert said(preview, "announce.preview", people=3, chats=0)
    assert "明晚八点启动仪式" in preview
    assert said(chat.press("admin", label("announce.send")), "announce.queued", people=3)
    [ann] = announcements(core)
    assert (ann.audience, ann.people, ann.text) == ("approved", 3, "明晚八点启动仪式，请准时开播。")
    delivered = chat.deliver()
    for who in ("ming", "hong", "nanda"):
        assert delivered.count(f"→ {who} ") == 1
    assert "→ wait " not in delivered and "→ c1 " not in delivered
    assert chat.deliver() == ""  # once each
    status = chat.say("admin", "/announce status")
    assert said(status, "announce.status_line", id=ann.id, delivered=3, pending=0, undeliverable=0)
    with core.sessions() as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "announce")).one()
        assert audit.entity_id == ann.id and audit.after and audit.after["people"] == 3


def test_one_unit_with_a_picture_and_the_groups(core: Core, festival: None) -> None:
    chat = Chat(core)
    chat.say("admin", "/announce")
    assert said(chat.press("admin", label("announce.audience.unit")), "announce.ask_unit_code")
    assert said(chat.say("admin", "999999"), "announce.bad_unit")
    chat.say("admin", "360300")  # the city: its counties' people too
    chat.say("admin", "请各县区抓紧推荐。")
    preview = chat.say("admin", "/photo poster")
    # 安源区: 3 streamers (one still in review), the enterprise, its contact; the city's contact
    assert said(preview, "announce.preview", people=6, chats=0)
    assert chat.last[0].image_path == "console:poster"
    chat.press("admin", label("announce.send"))
    delivered = chat.deliver()
    assert "→ nanda " not in delivered and delivered.count("[图片: console:poster]") == 6
    chat.say("admin", "/announce")
    chat.press("admin", label("announce.audience.groups"))
    chat.say("admin", "龙虎榜周一发布。")
    assert said(chat.press("admin", label("btn.skip")), "announce.preview", people=0, chats=1)
    chat.press("admin", label("announce.send"))
    assert "→ g-board " in chat.deliver()


def test_a_unit_contact_announces_only_to_its_own_unit(core: Core, festival: None) -> None:
    chat = Chat(core)
    # one unit: no audience question, straight to the text
    assert said(chat.say("c1", "/announce"), "announce.ask_text")
    chat.say("c1", "本周五前请提交战报。")
    assert said(chat.press("c1", label("btn.skip")), "announce.preview", people=5, chats=0)
    chat.press("c1", label("announce.send"))
    delivered = chat.deliver()
    assert "→ nanda " not in delivered and "→ ming " in delivered
    assert "→ c1 " in delivered  # its own contact is one of the unit's people
    # a text where a picture is asked: asked again
    chat.say("c1", "/announce")
    chat.say("c1", "第二条")
    assert said(chat.say("c1", "再说一句"), "announce.use_buttons")
    chat.say("c1", "/cancel")
    # status: its own announcements only; the committee sees them too
    [ann] = announcements(core)
    assert said(chat.say("c1", "/announce status"), "announce.status_line", id=ann.id)
    assert said(chat.say("c1", f"/announce status {ann.id}"), "announce.status_line")
    with core.sessions() as s, s.begin():
        data.contact(s, "other", "U001")
    assert said(chat.say("other", f"/announce status {ann.id}"), "announce.not_found")
    assert said(chat.say("ming", "/announce"), "err.reviewers_only")


def test_cancel_sends_nothing(core: Core, festival: None) -> None:
    chat = Chat(core)
    chat.say("admin", "/announce")
    chat.press("admin", label("announce.audience.streamers"))
    chat.say("admin", "测试")
    chat.press("admin", label("btn.skip"))
    assert said(chat.press("admin", label("btn.cancel")), "announce.cancelled")
    assert announcements(core) == [] and chat.deliver() == ""


# ----- 10,000 people, a restart in the middle -----------------------------------------------
def many_streamers(core: Core, n: int) -> None:
    """n approved streamers on the console, inserted in bulk (the test is about the outbox)."""
    with core.sessions() as s, s.begin():
        unit = unit_by_code(s, "360302")
        assert unit is not None
        ids = s.scalars(
            insert(Person).returning(Person.id, sort_by_parameter_order=True),
            [{"display_name": f"many{k}", "privacy_accepted_at": NOW,
              "last_channel": "console", "created_at": NOW} for k in range(n)],
        ).all()  # fmt: skip
        s.execute(
            insert(Identity),
            [{"person_id": i, "channel": "console", "user_id": f"u{i}", "chat_id": f"u{i}",
              "created_at": NOW} for i in ids],
        )  # fmt: skip
        common = {
            "unit_id": unit.id, "recommendation": "self", "phone": "13800000000",
            "followers": 5000, "likes_received": 0, "tips_income": 0, "monthly_live_days": 20,
            "monthly_live_hours": 40, "cumulative_viewers": 0, "peak_concurrent": 0,
            "cumulative_orders": 0, "cumulative_sales_fen": 0, "categories": [],
            "declarations": [], "status": "approved", "created_at": NOW, "updated_at": NOW,
        }  # fmt: skip
        s.execute(insert(Streamer), [{"person_id": i, **common} for i in ids])


def deliver(sessions: sessionmaker[Session], clock: FixedClock, sender: Recorder, limit: int = 0):
    """A dispatcher (a process) delivering until nothing is due, or `limit` rows attempted."""
    dispatcher = OutboxDispatcher(sessions, clock, {"console": sender}, concurrency=64)

    async def drain() -> int:
        done = 0
        while n := await dispatcher.run_once(limit=500):
            done += n
            if limit and done >= limit:
                break
        return done

    return asyncio.run(drain())


def test_ten_thousand_people_each_get_it_once_across_a_restart(
    core: Core, clock: FixedClock
) -> None:
    many = 10_000
    many_streamers(core, many)
    chat = Chat(core)
    chat.say("admin", "/announce")
    chat.press("admin", label("announce.audience.approved"))
    chat.say("admin", "直播节明天启动！")
    assert said(chat.press("admin", label("btn.skip")), "announce.preview", people=many)
    started = time.monotonic()
    assert said(chat.press("admin", label("announce.send")), "announce.queued", people=many)
    enqueue_seconds = time.monotonic() - started
    print(f"enqueued {many} in {enqueue_seconds:.2f} s")
    assert enqueue_seconds < 30, enqueue_seconds  # one step: rows in statements of 500
    [ann] = announcements(core)
    first = Recorder()
    assert deliver(core.sessions, clock, first, limit=4000) == 4000  # ...the process dies
    with core.sessions() as s:
        half = delivery(s, ann.id)
    assert (half.delivered, half.pending, half.undeliverable) == (4000, many - 4000, 0)
    clock.advance(minutes=1)
    second = Recorder()  # a new process, a new dispatcher
    deliver(core.sessions, clock, second)
    chats = [m.chat_id for m in first.sent + second.sent]
    assert len(chats) == many and len(set(chats)) == many
    assert deliver(core.sessions, clock, Recorder()) == 0  # nothing left, nothing again
    with core.sessions() as s:
        rows = s.execute(
            select(OutboxMessage.status, OutboxMessage.attempts, func.count())
            .where(OutboxMessage.idempotency_key.startswith(f"announce:{ann.id}:"))
            .group_by(OutboxMessage.status, OutboxMessage.attempts)
        ).all()
        assert [tuple(r) for r in rows] == [("sent", 1, many)]
        assert delivery(s, ann.id).delivered == many
    status = chat.say("admin", "/announce status")
    assert said(status, "announce.status_line", delivered=many, pending=0, undeliverable=0)


# ----- WeChat: inside the window, outside it, linked, neither -------------------------------
SUBSCRIBE = WeChatSubscribe(
    template_id="SUB-1", fields={"thing1": "first_line", "thing2": "rest", "time3": "date"}
)


@pytest.mark.fake("wechat")
def test_on_wechat_window_subscribe_message_linked_channel_or_undeliverable(
    db: Engine, config: FestivalConfig, clock: FixedClock, fake: FakeWeChat
) -> None:
    """a writes inside the window; b is outside it and accepted the subscribe message; c is
    outside, refused it, and linked a console chat; d is outside, refused it, linked nothing."""
    limits = config.wechat.model_copy(update={"subscribe": SUBSCRIBE, "template": None})
    core = Core(config.model_copy(update={"wechat": limits}), db, clock, ROUTES)
    chat = Chat(core)
    hours = limits.session_hours + 1

    async def scenario() -> None:
        async with wechat_bot(core, fake, True) as bot:
            for who in ("b", "c", "d"):
                await bot.follower(f"o_{who}").say("你好")
            code = re.search(r"[A-Z2-9]{8}", chat.say("c_console", "/link"))
            assert code is not None
            assert said(await bot.follower("o_c").say(f"/link {code[0]}"), "link.done")
            fake.subscribe_refused.update({"o_c", "o_d"})
            clock.advance(hours=hours)
            fake.offset = hours * 3600
            await bot.follower("o_a").say("你好")
            with core.sessions() as s, s.begin():
                for openid in ("o_a", "o_b", "o_c", "o_d"):
                    person = s.scalars(
                        select(Identity.person_id).where(Identity.user_id == openid)
                    ).one()
                    unit = unit_by_code(s, "360302")
                    assert unit is not None
                    s.add(Role(person_id=person, role="unit_contact", unit_id=unit.id,
                               created_at=clock.now()))  # fmt: skip
            chat.say("admin", "/announce")
            chat.press("admin", label("announce.audience.contacts"))
            chat.say("admin", "联系人会议\n周三下午三点线上召开。")
            assert said(chat.press("admin", label("btn.skip")), "announce.preview", people=4)
            chat.press("admin", label("announce.send"))
            await bot.deliver()

    try:
        asyncio.run(scenario())
        assert any("联系人会议" in t for t in fake.service_texts("o_a"))
        assert [m["touser"] for m in fake.subscribe_messages()] == ["o_b"]
        [ann] = announcements(core)
        with core.sessions() as s:
            counts = delivery(s, ann.id)
        # c's copy waits for the console's dispatcher; d cannot be reached
        assert (counts.delivered, counts.pending, counts.undeliverable) == (2, 1, 1)
        assert "联系人会议" in chat.deliver()  # the console process delivers c's copy
        with core.sessions() as s:
            counts = delivery(s, ann.id)
            failed = s.scalars(
                select(OutboxMessage.last_error).where(OutboxMessage.chat_id == "o_d")
            ).one()
        assert (counts.delivered, counts.pending, counts.undeliverable) == (3, 0, 1)
        assert failed and "43101" in failed
        status = chat.say("admin", "/announce status")
        assert said(status, "announce.status_line", delivered=3, pending=0, undeliverable=1)
    finally:
        core.executor.shutdown()


def test_dialog_states_are_left_clean(core: Core, festival: None) -> None:
    chat = Chat(core)
    chat.say("admin", "/announce")
    chat.press("admin", label("announce.audience.enterprises"))
    chat.say("admin", "企业请补充产品图片。")
    chat.press("admin", label("btn.skip"))
    chat.press("admin", label("announce.send"))
    with core.sessions() as s:
        flows = s.scalars(select(DialogState.flow)).all()
    assert "announce" not in flows
    assert "→ tea " in chat.deliver()
