"""A reminder to a WeChat follower, over HTTP to the fake WeChat API, in each case of the
48-hour customer-service window: inside it a customer-service message; outside it the
template message if one is configured, else the subscribe message (订阅通知, bizsend), else
(or when the follower refused the subscription) undeliverable on WeChat with the reason and
rerouted to the person's other channel, linked with /link."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.config import FestivalConfig, WeChatSubscribe, WeChatTemplate
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from bot.core.messages import Reply
from bot.core.outbox import Outbox
from handlers.routes import ROUTES
from models import Identity, OutboxMessage
from tests.catalog import said
from tests.chat import Chat
from tests.fake_wechat import FakeWeChat, Harness, wechat_bot

pytestmark = pytest.mark.fake("wechat")

TEMPLATE = WeChatTemplate(
    template_id="TPL-1", fields={"first": "first_line", "keyword1": "rest", "keyword2": "date"}
)
SUBSCRIBE = WeChatSubscribe(
    template_id="SUB-1",
    page="https://festival.example.org/report",
    fields={"thing1": "first_line", "thing2": "rest", "time3": "date"},
)
FIRST = "战报提醒"
REST = "请在今晚24点前提交昨天的直播数据。\n逾期将无法补报，如有疑问请联系单位联系人。"
REMINDER = f"{FIRST}\n{REST}"


def rows(db: Engine) -> list[OutboxMessage]:
    with Session(db) as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def remind(db: Engine, config: FestivalConfig, clock: FixedClock, fake: FakeWeChat,
           hours_later: int, refused: bool = False, **wechat: Any) -> None:  # fmt: skip
    """Mei registered on the console and linked WeChat; she writes on WeChat, and
    `hours_later` a reminder to her goes into the outbox and is delivered."""
    limits = config.wechat.model_copy(update=wechat)
    core = Core(config.model_copy(update={"wechat": limits}), db, clock, ROUTES)

    async def scenario(bot: Harness) -> None:
        code = re.search(r"[A-Z2-9]{8}", Chat(core).say("mei", "/link"))
        assert code is not None
        mei = bot.follower("o_mei")
        assert said(await mei.say(f"/link {code[0]}"), "link.done")
        if refused:
            fake.subscribe_refused.add("o_mei")
        clock.advance(hours=hours_later)
        fake.offset = hours_later * 3600
        with core.sessions() as session, session.begin():
            person = session.scalars(
                select(Identity.person_id).where(Identity.user_id == "o_mei")
            ).one()
            Outbox(session, core.clock).to_person(person, "reminder:1", Reply(REMINDER))
        await bot.deliver()

    async def main() -> None:
        async with wechat_bot(core, fake, True) as bot:
            await scenario(bot)

    try:
        asyncio.run(main())
    finally:
        core.executor.shutdown()


def outside(config: FestivalConfig) -> int:
    return config.wechat.session_hours + 1


def test_inside_the_window_a_customer_service_message(
    db: Engine, config: FestivalConfig, clock: FixedClock, fake: FakeWeChat
) -> None:
    remind(db, config, clock, fake, 1, template=TEMPLATE, subscribe=SUBSCRIBE)
    assert REMINDER in fake.service_texts("o_mei")
    assert not fake.recorded("message/template/send") and not fake.subscribe_messages()
    assert rows(db)[-1].status == "sent"


def test_outside_the_window_the_template_message_comes_first(
    db: Engine, config: FestivalConfig, clock: FixedClock, fake: FakeWeChat
) -> None:
    remind(db, config, clock, fake, outside(config), template=TEMPLATE, subscribe=SUBSCRIBE)
    [sent] = [c.body for c in fake.recorded("message/template/send")]
    assert (sent["touser"], sent["template_id"]) == ("o_mei", "TPL-1")
    assert sent["data"]["first"]["value"] == FIRST and sent["data"]["keyword1"]["value"] == REST
    assert not fake.subscribe_messages()
    assert not any(REMINDER in t for t in fake.service_texts("o_mei"))
    assert rows(db)[-1].status == "sent"


def test_outside_the_window_a_subscribe_message_when_no_template(
    db: Engine, config: FestivalConfig, clock: FixedClock, fake: FakeWeChat
) -> None:
    remind(db, config, clock, fake, outside(config), template=None, subscribe=SUBSCRIBE)
    [sent] = fake.subscribe_messages("o_mei")
    assert (sent["template_id"], sent["page"]) == ("SUB-1", "https://festival.example.org/report")
    values = {name: field["value"] for name, field in sent["data"].items()}
    assert values["thing1"] == FIRST
    # a "thing" takes 20 characters on one line: cut, and the cut shown
    assert len(values["thing2"]) <= 20 and values["thing2"].endswith("…")
    assert values["thing2"] == "请在今晚24点前提交昨天的直播数据。…"  # one line, cut
    assert values["time3"] == clock.today().isoformat()
    assert not fake.recorded("message/template/send")
    calls = fake.recorded("message/subscribe/bizsend", ok=False)  # every call, refused too
    assert [c.result["errcode"] for c in calls] == [0]  # WeChat accepted the one call
    assert [r.status for r in rows(db)] == ["sent"]


@pytest.mark.parametrize(
    ("subscribe", "refused", "reason"),
    [
        (None, False, "no template message or subscribe message configured"),
        (SUBSCRIBE, True, "has not accepted the subscribe message (43101)"),
    ],
    ids=["neither", "subscription-refused"],
)
def test_outside_the_window_otherwise_undeliverable_and_rerouted(
    db: Engine,
    config: FestivalConfig,
    clock: FixedClock,
    fake: FakeWeChat,
    subscribe: WeChatSubscribe | None,
    refused: bool,
    reason: str,
) -> None:
    remind(db, config, clock, fake, outside(config), refused, template=None, subscribe=subscribe)
    failed, rerouted = rows(db)[-2:]
    assert (failed.channel, failed.status) == ("wechat", "failed")
    hours = f"outside the {config.wechat.session_hours}-hour customer-service window"
    assert hours in (failed.last_error or "") and reason in (failed.last_error or "")
    assert (rerouted.channel, rerouted.chat_id, rerouted.status) == ("console", "mei", "pending")
    assert Reply.from_payload(rerouted.payload).text == REMINDER
    assert not fake.recorded("message/template/send")
    assert not any(REMINDER in t for t in fake.service_texts("o_mei"))
