"""WeChat has no "share my phone number" button: its phone question asks for the number
only. Telegram shows the button and its own hint beside the same question."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.dispatcher import Core
from bot.core.i18n import translate
from tests import flows
from tests.catalog import said
from tests.fake_wechat import FakeWeChat, wechat_bot

pytestmark = pytest.mark.fake("wechat")

PHONE_AT = flows.streamer_lines("acct").index("138 0013 8000")


def test_the_phone_question_mentions_no_button(core: Core, fake: FakeWeChat) -> None:
    async def scenario() -> None:
        async with wechat_bot(core, fake, safe=False) as bot:
            follower = bot.follower("o_phone")
            shown = await follower.run(flows.streamer_lines("acct")[:PHONE_AT])
            question = shown[-1]
            assert said(question, "ask.phone")
            for key in ("tg.share_contact", "tg.share_contact_hint"):
                assert translate("zh_CN", key) not in question
            assert "分享" not in question  # nor any other wording of a share button

    asyncio.run(scenario())
