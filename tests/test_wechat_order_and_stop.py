"""WeChat: one follower's messages are handled in order even while a picture downloads, and a
stop lets the callbacks in flight finish (their replies are not lost)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.core.dispatcher import Core
from models import Enterprise, Product
from tests import flows
from tests.catalog import said
from tests.conftest import until
from tests.fake_wechat import FakeWeChat, Follower, WeChatServer, settings_for, wechat_bot
from tests.test_runner import wait_http
from tests.test_web import free_port

pytestmark = pytest.mark.fake("wechat")


def test_a_text_sent_while_a_picture_downloads_waits_for_it(
    files_core: Core, fake: FakeWeChat, db: Engine
) -> None:
    fake.media_delay = 0.5
    lines = flows.enterprise_lines()
    product = flows.product_lines("莲花血鸭")[:-1]  # up to the attachment question

    async def scenario() -> None:
        async with wechat_bot(files_core, fake, False) as bot:
            ent = bot.follower("o_order")
            await ent.run([*lines, *product])

            downloads = fake.downloads_started

            async def text_right_after() -> str:
                await until(lambda: fake.downloads_started > downloads)  # downloading (0.5 s)
                return await ent.say("完成")

            _, early = await asyncio.gather(ent.say("/photo p1"), text_right_after())
            # handled after the picture, not before it; and typed before the question it
            # would answer ("add another product?") was shown, so not taken as its answer
            assert said(early, "form.early_not_taken")
            assert said(await ent.say("完成"), "ask.money_rules")  # now it is: the next one
            assert said(await ent.say(flows.AGREE), "btn.confirm")  # the summary
            assert said(await ent.say("确认提交"), "enterprise.submitted")

    asyncio.run(scenario())
    with Session(db) as session:
        assert session.scalars(select(Enterprise.name)).one()
        [attachment] = session.scalars(select(Product.attachment_file_id)).all()
    assert attachment is not None and Path(attachment).is_file()  # the picture, in its field


def test_a_stop_lets_a_callback_in_flight_answer(
    files_core: Core, fake: FakeWeChat, db: Engine
) -> None:
    """SIGTERM while a follower's picture is still downloading: the web server finishes that
    request (a passive reply) before the process ends, instead of cutting it off."""
    from bot.runner import run

    fake.media_delay = 1.0
    port = free_port()
    settings = settings_for(fake, safe=False, wecom=False).model_copy(update={"web_port": port})
    loop_box: dict[str, asyncio.AbstractEventLoop] = {}
    stop_box: dict[str, asyncio.Event] = {}
    errors: list[BaseException] = []

    def serve() -> None:
        async def main() -> None:
            loop_box["loop"] = asyncio.get_running_loop()
            stop_box["stop"] = asyncio.Event()
            await run(files_core, settings, stop_box["stop"])

        try:
            asyncio.run(main())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    wait_http(port)

    async def follower_sends_a_picture() -> str:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=20) as http:
            follower = Follower(WeChatServer(http, safe=False, fake=fake), "o_stop")
            await follower.say("/start")
            downloads = fake.downloads_started
            sending = asyncio.ensure_future(follower.say("/photo p9"))
            await until(lambda: fake.downloads_started > downloads)  # under way: now the stop comes
            loop_box["loop"].call_soon_threadsafe(stop_box["stop"].set)
            return await sending

    answer = asyncio.run(follower_sends_a_picture())
    thread.join(30)
    assert not thread.is_alive() and not errors
    assert answer  # a reply (here: "please type"), not a cut-off request
