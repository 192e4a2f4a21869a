"""One process runs Telegram and WeChat together (bot/runner.py): one web app, one outbox
dispatcher over both channels' senders, and a graceful stop (SIGTERM) that lets it finish.

Both channels are reached over HTTP: Telegram through the fake Bot API (long polling), WeChat
by posting signed callbacks to the bot's own web server on a local port."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from bot.core.messages import Reply
from bot.core.outbox import Outbox
from models import Identity, OutboxMessage
from tests.catalog import said
from tests.fake_telegram import BotThread, FakeTelegram
from tests.fake_wechat import FakeWeChat, Follower, WeChatServer, settings_for
from tests.test_web import free_port

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBUserWarning")

ROOT = Path(__file__).resolve().parent.parent


def both(core: Core, tg: FakeTelegram, wx: FakeWeChat, port: int) -> BotThread:
    """The bot with Telegram (long polling) and WeChat (plaintext callback) configured."""
    wechat = settings_for(wx, safe=False, wecom=False)
    fields = {
        name: getattr(wechat, name)
        for name in ("wechat_token", "wechat_app_id", "wechat_app_secret", "wechat_api_base_url")
    }
    return BotThread(core, tg, web_port=port, **fields)


def wechat_say(port: int, wx: FakeWeChat, openid: str, line: str) -> str:
    async def go() -> str:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=20) as http:
            return await Follower(WeChatServer(http, safe=False, fake=wx), openid).say(line)

    return asyncio.run(go())


def wait_http(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError("the web app did not come up")


def statuses(db: Engine) -> list[tuple[str, str]]:
    with Session(db) as session:
        rows = session.execute(
            select(OutboxMessage.channel, OutboxMessage.status).order_by(OutboxMessage.id)
        )
        return [(channel, status) for channel, status in rows]


def test_one_process_serves_both_channels_and_reroutes_between_them(
    tg_core: Core,
    fake_telegram: FakeTelegram,
    fake_wechat: FakeWeChat,
    clock: FixedClock,
    db: Engine,
) -> None:
    port = free_port()
    with both(tg_core, fake_telegram, fake_wechat, port):
        fake_telegram.wait(lambda: fake_telegram.stats.calls.get("getUpdates", 0) > 0)
        wait_http(port)
        # Lin starts on Telegram and links her WeChat to the same person
        lin = fake_telegram.user(1201, "lin")
        lin.say("/start")
        assert lin.inbox, "Telegram answered"
        lin.say("/link")
        code = re.search(r"[A-Z2-9]{8}", lin.last_text())
        assert code is not None
        assert said(wechat_say(port, fake_wechat, "o_lin", f"/link {code[0]}"), "link.done")
        with Session(db) as session:
            owners = set(
                session.scalars(
                    select(Identity.person_id).where(Identity.user_id.in_(["1201", "o_lin"]))
                )
            )
        assert len(owners) == 1
        person = owners.pop()
        # She last wrote on WeChat, so a reminder goes there first; two days later WeChat's
        # 48-hour window is closed and no template is configured: the same process delivers
        # the copy on Telegram.
        clock.advance(hours=49)
        fake_wechat.offset = 49 * 3600
        with tg_core.sessions() as session, session.begin():
            Outbox(session, tg_core.clock).to_person(
                person, "reminder:late", Reply("今晚记得填报战报")
            )
        fake_telegram.wait(lambda: any("今晚记得填报战报" in m.text for m in lin.inbox))
        fake_telegram.wait(lambda: statuses(db) == [("wechat", "failed"), ("telegram", "sent")])
    with Session(db) as session:
        sent = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(m.channel, m.status) for m in sent] == [("wechat", "failed"), ("telegram", "sent")]
    assert not fake_wechat.service_texts(
        "o_lin"
    ) or "今晚记得填报战报" not in fake_wechat.service_texts("o_lin")


def test_a_stop_lets_the_process_end_by_itself(
    tg_core: Core, fake_telegram: FakeTelegram, fake_wechat: FakeWeChat
) -> None:
    port = free_port()
    bot = both(tg_core, fake_telegram, fake_wechat, port).start()
    fake_telegram.wait(lambda: fake_telegram.stats.calls.get("getUpdates", 0) > 0)
    wait_http(port)
    mo = fake_telegram.user(1202, "mo")
    mo.say("/start")
    bot.finish()
    assert not bot.alive() and bot.returned  # run() returned: not killed, not cancelled
    with pytest.raises(httpx.TransportError):  # the web server is closed
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)


def test_sigterm_stops_python_m_bot_cleanly(fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    """The real command, as a service manager runs and stops it."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "TELEGRAM_BOT_TOKEN": fake_telegram.token,
        "TELEGRAM_API_BASE_URL": fake_telegram.base_url,
        "BOT_SCHEDULER": "off",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        fake_telegram.wait(lambda: fake_telegram.stats.calls.get("getUpdates", 0) > 0, timeout=60)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out.decode()
    assert b"Traceback" not in out, out.decode()
