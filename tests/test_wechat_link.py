"""/link: one person on two channels. A code from one channel, typed on the other, merges the
identities; reminders then follow the channel used last."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.channels.console import render
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from bot.core.messages import Incoming, Reply
from bot.core.outbox import Outbox
from models import Identity, OutboxMessage
from tests import flows
from tests.chat import Chat


def wechat(core: Core, openid: str, text: str) -> str:
    return render(core.process_sync(Incoming.from_text("wechat", openid, text)))


def code_in(text: str) -> str:
    found = re.search(r"[A-HJ-NP-Z2-9]{8}", text)
    assert found is not None, text
    return found[0]


def people(core: Core) -> dict[tuple[str, str], int]:
    with core.sessions() as session:
        rows = session.execute(select(Identity.channel, Identity.user_id, Identity.person_id))
        return {(c, u): p for c, u, p in rows}


def test_link_merges_and_reminders_follow_the_last_channel(core: Core, chat: Chat) -> None:
    # a registered streamer on the console links an empty WeChat identity: she keeps hers
    chat.run("li", [*flows.streamer_lines("li_shop"), "确认提交"])
    code = code_in(chat.say("li", "/link"))
    assert "已绑定" in wechat(core, "o_li", f"/link {code.lower()}")  # typed in lower case
    ids = people(core)
    assert ids[("wechat", "o_li")] == ids[("console", "li")]
    # the registration is hers on WeChat too
    assert "li_shop" in wechat(core, "o_li", "/me")
    # she wrote last on WeChat: a reminder goes there; after a console message, there
    person = ids[("console", "li")]
    with core.sessions() as session, session.begin():
        Outbox(session, core.clock).to_person(person, "r:1", Reply("提醒 1"))
    chat.say("li", "/help")
    with core.sessions() as session, session.begin():
        Outbox(session, core.clock).to_person(person, "r:2", Reply("提醒 2"))
    with core.sessions() as session:
        channels = session.scalars(select(OutboxMessage.channel).order_by(OutboxMessage.id))
        assert list(channels)[-2:] == ["wechat", "console"]
    # the code is used up
    assert "无效" in wechat(core, "o_other", f"/link {code}")


def test_link_refusals(core: Core, chat: Chat, clock: FixedClock) -> None:
    code = code_in(chat.say("wu", "/link"))
    assert "自己" in chat.say("wu", f"/link {code}")
    assert "另一个渠道" in chat.say("zhao", f"/link {code}")  # console to console
    assert "无效" in wechat(core, "o_wu", "/link ZZZZZZZZ")
    clock.advance(minutes=31)  # wechat.link_code_minutes: 30
    assert "无效" in wechat(core, "o_wu", f"/link {code}")
    # two people who both registered are not merged automatically
    chat.run("qian", [*flows.streamer_lines("qian_shop"), "确认提交"])
    for line in flows.streamer_lines("o_qian_shop"):
        wechat(core, "o_qian", line)
    wechat(core, "o_qian", "确认提交")
    code = code_in(chat.say("qian", "/link"))
    assert "无法自动合并" in wechat(core, "o_qian", f"/link {code}")
    ids = people(core)
    assert ids[("wechat", "o_qian")] != ids[("console", "qian")]
