"""/link: one person on two channels. A code from one channel, typed on the other, merges the
identities; reminders then follow the channel used last."""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlalchemy import Engine, func, select

from bot.channels.console import render
from bot.config import FestivalConfig
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from bot.core.i18n import translate
from bot.core.messages import Incoming, Reply
from bot.core.outbox import Outbox
from handlers.codes import ALPHABET
from handlers.routes import ROUTES
from models import Identity, JoinAttempt, OutboxMessage
from tests import flows
from tests.catalog import said
from tests.chat import Chat
from tests.fake_wechat import FakeWeChat, wechat_bot

pytestmark = pytest.mark.fake("wechat")


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
    assert said(wechat(core, "o_li", f"/link {code.lower()}"), "link.done")  # typed in lower case
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
    assert said(wechat(core, "o_other", f"/link {code}"), "link.bad_code")


def test_link_refusals(core: Core, chat: Chat, clock: FixedClock) -> None:
    code = code_in(chat.say("wu", "/link"))
    assert said(chat.say("wu", f"/link {code}"), "link.same_person")
    assert said(chat.say("zhao", f"/link {code}"), "link.same_channel")  # console to console
    assert said(wechat(core, "o_wu", "/link ZZZZZZZZ"), "link.bad_code")
    clock.advance(minutes=31)  # wechat.link_code_minutes: 30
    assert said(wechat(core, "o_wu", f"/link {code}"), "link.bad_code")
    # two people who both registered are not merged automatically
    chat.run("qian", [*flows.streamer_lines("qian_shop"), "确认提交"])
    for line in flows.streamer_lines("o_qian_shop"):
        wechat(core, "o_qian", line)
    wechat(core, "o_qian", "确认提交")
    code = code_in(chat.say("qian", "/link"))
    assert said(wechat(core, "o_qian", f"/link {code}"), "link.conflict")
    ids = people(core)
    assert ids[("wechat", "o_qian")] != ids[("console", "qian")]


def wrong_codes(real: str, n: int) -> list[str]:
    """n well-formed codes that are not `real` (a guesser's tries)."""
    return [c for c in (f"{ch}{ALPHABET[-7:]}" for ch in ALPHABET) if c != real][:n]


def test_wrong_link_codes_are_limited_and_the_limit_survives_a_restart(
    db: Engine, config: FestivalConfig, clock: FixedClock, fake: FakeWeChat
) -> None:
    """Over HTTP from WeChat: after wechat.link_max_failed wrong codes even the right code is
    refused until the window has passed, and a restarted bot (new core, new web app) still
    knows it: the attempts are in the database."""
    tries, window = config.wechat.link_max_failed, config.wechat.link_failed_window_minutes
    assert window > config.wechat.link_code_minutes  # the first code expires while we wait
    bad = translate("zh_CN", "link.bad_code")

    def blocked(minutes: int) -> str:
        return translate("zh_CN", "link.too_many", minutes=minutes)

    first = Core(config, db, clock, ROUTES)
    code = code_in(Chat(first).say("mei", "/link"))

    async def guessing() -> None:
        async with wechat_bot(first, fake, True) as bot:
            guesser = bot.follower("o_guess")
            for typed in wrong_codes(code, tries):
                assert await guesser.say(f"/link {typed}") == bad
            # the limit is checked before the code: the right one is refused too
            assert await guesser.say(f"/link {code}") == blocked(window)

    try:
        asyncio.run(guessing())
    finally:
        first.executor.shutdown()
    clock.advance(minutes=20)
    second = Core(config, db, clock, ROUTES)  # the bot restarted

    async def after_restart() -> None:
        async with wechat_bot(second, fake, False) as bot:
            guesser = bot.follower("o_guess")
            assert await guesser.say(f"/link {code}") == blocked(window - 20)
            clock.advance(minutes=window - 20)  # the oldest wrong code leaves the window
            fresh = code_in(Chat(second).say("mei", "/link"))  # the first one expired
            assert said(await guesser.say(f"/link {fresh.lower()}"), "link.done")

    try:
        asyncio.run(after_restart())
        ids = people(second)
        assert ids[("wechat", "o_guess")] == ids[("console", "mei")]
        with second.sessions() as session:  # refusals while blocked were not counted
            assert session.scalar(select(func.count()).select_from(JoinAttempt)) == tries
    finally:
        second.executor.shutdown()


def test_only_codes_that_do_not_open_count_and_join_shares_the_budget(
    core: Core, chat: Chat, config: FestivalConfig
) -> None:
    tries, window = config.wechat.link_max_failed, config.wechat.link_failed_window_minutes
    code = code_in(chat.say("wu", "/link"))
    # a valid code on the wrong side is not a guess: never counted
    for _ in range(tries + 1):
        assert said(chat.say("wu", f"/link {code}"), "link.same_person")
    assert said(chat.say("wu", "/link ZZZZZZZZ"), "link.bad_code")
    # one budget for guessing one-time codes: a wrong /join counts for /link too
    assert said(chat.say("zhao", "/join ZZZZZZZZ"), "join.wrong")
    for typed in wrong_codes(code, tries - 1):
        assert said(chat.say("zhao", f"/link {typed}"), "link.bad_code")
    refused = chat.say("zhao", f"/link {code}")
    assert refused.strip() == translate("zh_CN", "link.too_many", minutes=window)
    assert "Too many wrong link codes" in translate("en", "link.too_many", minutes=window)


def test_help_shows_link_in_both_languages(chat: Chat) -> None:
    assert said(chat.say("u", "/help"), "help.text")
    chat.say("u", "/lang en")
    assert "/link link your WeChat and Telegram" in chat.say("u", "/help")
