"""Outgoing over the fake WeChat/WeCom API: customer service inside the 48-hour window and its
quota, template messages or an undeliverable record outside it (then the person's other
channel), pictures uploaded as media, the shared access token, WeCom group broadcasts."""

from __future__ import annotations

import asyncio
import io
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.channels.console import ConsoleSender
from bot.channels.wechat.api import Api, OfficialAccountClient
from bot.config import FestivalConfig, GroupChat, WeChatTemplate
from bot.core.clock import FixedClock
from bot.core.delivery import OutboxDispatcher
from bot.core.dispatcher import Core
from bot.core.messages import Reply
from bot.core.outbox import Outbox
from bot.core.routing import Routes
from handlers.routes import ROUTES
from models import Identity, OutboxMessage
from models.wechat import token_generation
from tests.catalog import said
from tests.chat import Chat
from tests.fake_wechat import (
    APP_ID,
    APP_SECRET,
    APPCHAT_ID,
    ROBOT_KEY,
    FakeWeChat,
    Harness,
    wechat_bot,
)

pytestmark = pytest.mark.fake("wechat")


@pytest.fixture
def png(tmp_path: Path) -> str:
    path = tmp_path / "board.png"
    Image.new("RGB", (64, 32), (200, 30, 30)).save(path)
    return str(path)


def make_core(db: Engine, config: FestivalConfig, clock: FixedClock, **wechat: Any) -> Core:
    groups = [
        GroupChat(channel="wecom", chat_id="board-robot", kind="robot", key_env="T_ROBOT"),
        GroupChat(channel="wecom", chat_id="board-app", kind="appchat", key_env="T_APPCHAT"),
    ]
    limits = config.wechat.model_copy(update=wechat)
    return Core(
        config.model_copy(update={"wechat": limits, "group_chats": groups}), db, clock, ROUTES
    )


@pytest.fixture
def core_factory(
    db: Engine, config: FestivalConfig, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    monkeypatch.setenv("T_ROBOT", ROBOT_KEY)
    monkeypatch.setenv("T_APPCHAT", APPCHAT_ID)
    made: list[Core] = []

    def factory(**wechat: Any) -> Core:
        made.append(make_core(db, config, clock, **wechat))
        return made[-1]

    yield factory
    for core in made:
        core.executor.shutdown()


def enqueue(core: Core, to: int | tuple[str, str], key: str, reply: Reply) -> None:
    with core.sessions() as session, session.begin():
        outbox = Outbox(session, core.clock)
        if isinstance(to, int):
            outbox.to_person(to, key, reply)
        else:
            outbox.to_chat(to[0], to[1], key, reply)


def person_of(core: Core, channel: str, user_id: str) -> int:
    with core.sessions() as session:
        return session.scalars(
            select(Identity.person_id).where(
                Identity.channel == channel, Identity.user_id == user_id
            )
        ).one()


def rows(db: Engine) -> list[OutboxMessage]:
    with Session(db) as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_inside_the_window_customer_service_outside_it_the_linked_channel(
    core_factory: Any, fake: FakeWeChat, db: Engine, clock: FixedClock
) -> None:
    core = core_factory()
    chat = Chat(core)

    async def scenario(bot: Harness) -> None:
        # Mei registered on the console earlier; she links her WeChat to it
        code = re.search(r"[A-Z2-9]{8}", chat.say("mei", "/link"))
        assert code is not None
        mei = bot.follower("o_mei")
        assert said(await mei.say(f"/link {code[0]}"), "link.done")
        person = person_of(core, "console", "mei")
        assert person == person_of(core, "wechat", "o_mei")
        enqueue(core, person, "reminder:1", Reply("今晚8点开播提醒"))
        await bot.deliver()
        assert "今晚8点开播提醒" in fake.service_texts("o_mei")
        # two days later, no word from Mei: WeChat would refuse customer service
        clock.advance(hours=49)
        fake.offset = 49 * 3600
        enqueue(core, person, "reminder:2", Reply("明天截止提醒"))
        await bot.deliver()

    asyncio.run(_with_bot(core, fake, scenario))
    failed, rerouted = rows(db)[-2:]
    assert failed.status == "failed" and failed.channel == "wechat"
    assert "48-hour" in (failed.last_error or "") and "no template" in (failed.last_error or "")
    assert (rerouted.channel, rerouted.chat_id, rerouted.status) == ("console", "mei", "pending")
    assert fake.service_texts("o_mei") == ["今晚8点开播提醒", *fake.service_texts("o_mei")[1:]]
    assert not any("明天截止" in t for t in fake.service_texts("o_mei"))
    # the console channel's dispatcher delivers the copy
    out = io.StringIO()
    console = OutboxDispatcher(core.sessions, core.clock, {"console": ConsoleSender(out)})
    assert asyncio.run(console.run_once()) == 1
    assert "明天截止提醒" in out.getvalue()


def test_outside_the_window_a_template_message_when_configured(
    core_factory: Any, fake: FakeWeChat, clock: FixedClock
) -> None:
    template = WeChatTemplate(
        template_id="TPL-1", fields={"first": "first_line", "keyword1": "rest", "keyword2": "date"}
    )
    core = core_factory(template=template)

    async def scenario(bot: Harness) -> None:
        await bot.follower("o_tim").say("/start")
        clock.advance(hours=49)
        enqueue(core, person_of(core, "wechat", "o_tim"), "r:1", Reply("战报提醒\n请在今晚提交"))
        await bot.deliver()

    asyncio.run(_with_bot(core, fake, scenario))
    sent = fake.recorded("message/template/send")
    assert len(sent) == 1
    assert sent[0].body["template_id"] == "TPL-1" and sent[0].body["touser"] == "o_tim"
    assert sent[0].body["data"]["first"]["value"] == "战报提醒"
    assert sent[0].body["data"]["keyword1"]["value"] == "请在今晚提交"
    assert sent[0].body["data"]["keyword2"]["value"] == "2020-11-04"


def test_the_per_interaction_quota_and_wechats_own_refusal(
    core_factory: Any, fake: FakeWeChat, db: Engine
) -> None:
    core = core_factory(messages_per_interaction=3)

    async def scenario(bot: Harness) -> None:
        await bot.follower("o_qa").say("/start")
        person = person_of(core, "wechat", "o_qa")
        for i in range(5):
            enqueue(core, person, f"q:{i}", Reply(f"通知 {i}"))
        await bot.deliver()
        # our count says the window is open, WeChat's clock says no (45015): WeChat wins
        await bot.follower("o_qb").say("/start")
        fake.offset = 49 * 3600
        enqueue(core, person_of(core, "wechat", "o_qb"), "q:b", Reply("通知 b"))
        await bot.deliver()

    asyncio.run(_with_bot(core, fake, scenario))
    assert fake.service_texts("o_qa") == ["通知 0", "通知 1", "通知 2"]  # /start: passive
    statuses = [(r.chat_id, r.status) for r in rows(db)]
    assert statuses.count(("o_qa", "failed")) == 2
    assert ("o_qb", "failed") in statuses
    assert [c.result["errcode"] for c in fake.recorded("message/custom/send", ok=False)][
        -1
    ] == 45015


def test_a_token_invalidated_in_the_middle_of_a_broadcast(
    core_factory: Any, fake: FakeWeChat, db: Engine
) -> None:
    core = core_factory()
    followers = [f"o_b{i}" for i in range(6)]

    async def scenario(bot: Harness) -> None:
        for openid in followers:
            await bot.follower(openid).say("/start")
        await bot.deliver()
        # The background loop polls once an hour here: we deliver step by step.
        for openid in followers:
            enqueue(core, person_of(core, "wechat", openid), f"bc:{openid}", Reply("龙虎榜已更新"))
        assert await bot.runtime.dispatcher.run_once(limit=2) == 2
        fake.invalidate_tokens("mp", errcode=40001)  # e.g. someone refreshed it elsewhere
        assert await bot.runtime.dispatcher.run_once(limit=2) == 2
        fake.invalidate_tokens("mp", errcode=42001)  # and then it expired
        assert await bot.runtime.dispatcher.run_once() == 2

    asyncio.run(_with_bot(core, fake, scenario, interval=3600))
    assert all(fake.service_texts(o)[-1] == "龙虎榜已更新" for o in followers)
    assert all(r.status == "sent" for r in rows(db))
    assert fake.issued("mp") == 3  # the first token and one renewal per invalidation
    codes = [c.result.get("errcode", 0) for c in fake.recorded("message/custom/send", ok=False)]
    # each refusal seen by the calls in flight with the old token (delivered concurrently)
    assert sorted({c for c in codes if c}) == [40001, 42001]


def test_two_processes_renewing_at_once_fetch_one_token(
    db: Engine, core: Core, fake: FakeWeChat
) -> None:
    """Two API clients with their own sessions (as two processes have), both refused with the
    same token at the same moment: one fetches, the other finds the new token."""

    def api() -> Api:
        client = OfficialAccountClient(APP_ID, APP_SECRET, fake.base_url, 5.0)
        return Api(client, core.sessions, f"mp:{APP_ID}", 300)

    one, two = api(), api()
    first = one.client.keeper.get()  # type: ignore[union-attr]
    assert fake.issued("mp") == 1
    barrier = threading.Barrier(2)
    got: list[str] = []

    def renew(which: Api) -> None:
        barrier.wait()
        got.append(which.client.keeper.renew(first))  # type: ignore[union-attr]

    threads = [threading.Thread(target=renew, args=(a,)) for a in (one, two)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fake.issued("mp") == 2
    assert got[0] == got[1] != first
    with core.sessions() as session:
        assert token_generation(session, f"mp:{APP_ID}") == 2


def test_a_picture_is_uploaded_once_for_several_followers(
    core_factory: Any, fake: FakeWeChat, png: str
) -> None:
    core = core_factory()

    async def scenario(bot: Harness) -> None:
        for openid in ("o_p1", "o_p2", "o_p3"):
            await bot.follower(openid).say("/start")
            enqueue(
                core, person_of(core, "wechat", openid), f"pic:{openid}", Reply("", image_path=png)
            )
        await bot.deliver()

    asyncio.run(_with_bot(core, fake, scenario))
    assert len(fake.recorded("media/upload")) == 1
    images = [m for m in fake.service_messages() if m["msgtype"] == "image"]
    # each follower once (different followers are delivered to concurrently: in any order)
    assert sorted(m["touser"] for m in images) == ["o_p1", "o_p2", "o_p3"]
    assert images[0]["image"]["media_id"].startswith("mp-media-")


def test_a_board_picture_to_a_robot_group_and_an_appchat_group(
    core_factory: Any, fake: FakeWeChat, db: Engine, png: str
) -> None:
    core = core_factory()
    board = Reply("**龙虎榜** 第1周\n1. 小明的果园", image_path=png)

    async def scenario(bot: Harness) -> None:
        enqueue(core, ("wecom", "board-robot"), "board:w1:robot", board)
        enqueue(core, ("wecom", "board-app"), "board:w1:app", board)
        await bot.deliver()
        # the WeCom app's token is invalidated between two broadcasts
        fake.invalidate_tokens("wecom", errcode=42001)
        enqueue(core, ("wecom", "board-app"), "board:w2:app", Reply("第2周"))
        await bot.deliver()

    asyncio.run(_with_bot(core, fake, scenario))
    posts = [c.body for c in fake.recorded("webhook/send")]
    assert [p["msgtype"] for p in posts] == ["markdown", "image"]
    assert "小明的果园" in posts[0]["markdown"]["content"]
    assert fake.recorded("webhook/send")[0].params["key"] == ROBOT_KEY
    app = [c.body for c in fake.recorded("appchat/send") if c.api == "wecom"]
    assert [(b["chatid"], b["msgtype"]) for b in app] == [
        (APPCHAT_ID, "text"),
        (APPCHAT_ID, "image"),
        (APPCHAT_ID, "text"),
    ]
    assert app[1]["image"]["media_id"].startswith("wecom-media-")
    assert fake.issued("wecom") == 2
    assert all(r.status == "sent" for r in rows(db))


def test_a_robot_takes_twenty_messages_a_minute(
    core_factory: Any, fake: FakeWeChat, db: Engine
) -> None:
    core = core_factory()

    async def scenario(bot: Harness) -> None:
        for i in range(22):
            enqueue(core, ("wecom", "board-robot"), f"ann:{i}", Reply(f"公告 {i}"))
        await bot.deliver()

    asyncio.run(_with_bot(core, fake, scenario))
    assert len(fake.recorded("webhook/send")) == 20
    assert len(fake.recorded("webhook/send", ok=False)) == 20  # paced: WeCom never refused
    waiting = sorted((r for r in rows(db) if r.status == "pending"), key=lambda r: r.id)
    assert len(waiting) == 2 and "20 messages a minute" in (waiting[0].last_error or "")
    # the group's next message waits behind it, never overtaking it
    assert waiting[1].next_attempt_at == waiting[0].next_attempt_at


def test_an_unknown_group_or_missing_key_is_recorded_not_retried(
    core_factory: Any, fake: FakeWeChat, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("T_APPCHAT")
    core = core_factory()

    async def scenario(bot: Harness) -> None:
        enqueue(core, ("wecom", "nowhere"), "x:1", Reply("hi"))
        enqueue(core, ("wecom", "board-app"), "x:2", Reply("hi"))
        await bot.deliver()

    asyncio.run(_with_bot(core, fake, scenario))
    errors = [(r.status, r.last_error) for r in rows(db)]
    assert errors[0][0] == "failed" and "nowhere" in (errors[0][1] or "")
    assert errors[1][0] == "failed" and "T_APPCHAT" in (errors[1][1] or "")


async def _with_bot(core: Core, fake: FakeWeChat, scenario: Any, interval: float = 0.05) -> None:
    async with wechat_bot(core, fake, True, interval) as bot:
        await scenario(bot)


def test_a_slow_api_times_out_and_the_message_waits_for_a_retry(
    core_factory: Any, fake: FakeWeChat, db: Engine
) -> None:
    core = core_factory(http_timeout_seconds=0.3)

    async def scenario(bot: Harness) -> None:
        await bot.follower("o_slow").say("/start")
        fake.delay = 1.0  # the token request and the send: each bounded by the timeout
        enqueue(core, person_of(core, "wechat", "o_slow"), "s:1", Reply("稍后再试"))
        await bot.deliver()
        fake.delay = 0.0

    asyncio.run(_with_bot(core, fake, scenario))
    row = rows(db)[-1]
    assert row.status == "pending" and "Timeout" in (row.last_error or "")


def test_a_picture_in_a_reply_follows_the_passive_text_as_customer_service(
    db: Engine, config: FestivalConfig, clock: FixedClock, fake: FakeWeChat, png: str
) -> None:
    """A passive reply is one text message: the step's picture (e.g. /top's 龙虎榜) follows."""
    long_text = "\n".join(f"{i}. " + "榜" * 60 for i in range(20))  # over one message too

    def top(ctx: Any) -> list[Reply]:
        return [Reply(long_text, image_path=png)]

    routes = Routes(commands={"top": top}, flows={}, forms={}, fallback=top)
    core = Core(config, db, clock, routes)

    async def scenario(bot: Harness) -> None:
        first = await bot.follower("o_pic").say("/top")
        assert long_text.startswith(first) and first != long_text
        await bot.runtime.channel.idle()
        await bot.deliver()

    try:
        asyncio.run(_with_bot(core, fake, scenario))
    finally:
        core.executor.shutdown()
    sent = fake.service_messages("o_pic")
    assert sorted(m["msgtype"] for m in sent) == ["image", "text"]
    rest = next(m["text"]["content"] for m in sent if m["msgtype"] == "text")
    assert long_text.endswith(rest)


def test_an_unfollower_is_unreachable_a_closed_window_is_not(
    core_factory: Any, fake: FakeWeChat, db: Engine, clock: FixedClock
) -> None:
    """43004 (they unfollowed the account) marks the person unreachable; 45015 (the 48-hour
    window closed) only fails the message: it says nothing about the person."""
    from models import Person

    core = core_factory()

    async def scenario(bot: Harness) -> None:
        await bot.follower("o_quiet").say("/start")
        clock.advance(hours=49)  # o_quiet's window closes
        fake.offset = 49 * 3600
        await bot.follower("o_gone").say("/start")  # within their window, then they leave
        fake.unfollowed.add("o_gone")
        for openid in ("o_gone", "o_quiet"):
            enqueue(core, person_of(core, "wechat", openid), f"n:{openid}", Reply("通知"))
        await bot.deliver()

    asyncio.run(_with_bot(core, fake, scenario))
    with Session(db) as s:
        gone = s.get_one(Person, person_of(core, "wechat", "o_gone"))
        quiet = s.get_one(Person, person_of(core, "wechat", "o_quiet"))
        assert gone.unreachable_at is not None and quiet.unreachable_at is None
    errors = {r.chat_id: r.last_error or "" for r in rows(db) if r.status == "failed"}
    assert "43004" in errors["o_gone"] and "48-hour" in errors["o_quiet"]
