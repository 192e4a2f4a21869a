"""kill -9 of a real `python -m bot` serving WeChat while a step is slow (a picture whose
download outlasts the passive budget): the message was answered empty, so WeChat will not send
it again; it was stored before that answer, and the bot restarted under the same worker name
finishes it at start. The fake WeChat server sees the reply as a customer-service message, and
the database ends with the picture stored once."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from models import Enterprise, Product, WeChatInbound
from tests import flows
from tests.catalog import said
from tests.fake_wechat import (
    AES_KEY,
    APP_ID,
    APP_SECRET,
    TOKEN,
    FakeWeChat,
    Follower,
    WeChatServer,
    message_xml,
)

pytestmark = pytest.mark.fake("wechat")

ROOT = Path(__file__).resolve().parent.parent
OPENID = "o_killed"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BotProcess:
    def __init__(self, fake: FakeWeChat, database_url: str, log: Path) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WECHAT_"))}
        self.env = env | {
            "DATABASE_URL": database_url,
            "BOT_CLOCK": "2020-10-15T20:00",  # signing up: before the registration deadline
            "BOT_SCHEDULER": "off",
            "WECHAT_TOKEN": TOKEN,
            "WECHAT_APP_ID": APP_ID,
            "WECHAT_APP_SECRET": APP_SECRET,
            "WECHAT_AES_KEY": AES_KEY,
            "WECHAT_API_BASE_URL": fake.base_url,
            "WEB_HOST": "127.0.0.1",
            "WEB_PORT": str(self.port),  # the worker's name (host:port) survives the restart
        }
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot"], cwd=ROOT, env=self.env, stderr=log, stdout=log
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise TimeoutError(self.log.read_text()[-2000:])

    def stop(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        self.proc.wait(30)


def held(db: Engine) -> list[str | None]:
    with Session(db) as session:
        return list(
            session.scalars(select(WeChatInbound.owner).where(WeChatInbound.pending.is_not(None)))
        )


async def talk(bot: BotProcess, fake: FakeWeChat, lines: list[str]) -> list[str]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{bot.port}", timeout=30) as http:
        follower = Follower(WeChatServer(http, True, fake), OPENID)
        return await follower.run(lines)


async def picture(bot: BotProcess, fake: FakeWeChat) -> str:
    """The product's picture, posted as WeChat does: the raw answer."""
    fake.interact(OPENID)
    body = message_xml(
        OPENID, "image", int(time.time()), PicUrl="http://p", MediaId="media-p1", MsgId="770001"
    )
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{bot.port}", timeout=30) as http:
        response = await WeChatServer(http, True, fake).post(body)
        assert response.status_code == 200
        return response.text


def test_kill_9_while_a_late_step_runs_then_restart(
    fake: FakeWeChat, db: Engine, tmp_path: Path
) -> None:
    if db.dialect.name != "sqlite":
        # the picture's copy goes beside a SQLite database; with PostgreSQL it would go to
        # the repository's data/ folder (the takeover on PostgreSQL: test_wechat_takeover.py)
        pytest.skip("pictures are kept beside the database on SQLite only")
    url = db.url.render_as_string(hide_password=False)
    bot = BotProcess(fake, url, tmp_path / "bot.log")
    lines = [*flows.enterprise_lines(), *flows.product_lines("莲花血鸭")[:-1]]
    bot.start()
    try:
        asyncio.run(talk(bot, fake, lines))
        fake.media_delay = 8  # the download outlasts the passive budget (4 s)
        assert asyncio.run(picture(bot, fake)) == "success"
        assert fake.downloads_started == 1
        bot.stop(signal.SIGKILL)  # in the middle of the download: the step never ran
        assert len(held(db)) == 1  # stored before the empty answer
        fake.media_delay = 0
        before = len(fake.service_texts(OPENID))
        bot.start()  # the same worker: its first sweep takes the message at once
        deadline = time.monotonic() + 30
        while len(fake.service_texts(OPENID)) == before and time.monotonic() < deadline:
            time.sleep(0.1)
        late = fake.service_texts(OPENID)[before:]
        assert len(late) == 1 and said(late[0], "form.more"), bot.log.read_text()[-3000:]
        assert held(db) == []
        answers = asyncio.run(talk(bot, fake, ["完成", flows.AGREE, "确认提交"]))
        assert said(answers[-1], "enterprise.submitted")
    finally:
        if bot.proc is not None and bot.proc.poll() is None:
            bot.stop(signal.SIGTERM)
    with Session(db) as session:
        assert session.scalar(select(func.count()).select_from(Enterprise)) == 1
        products = session.scalars(select(Product)).all()
        assert [p.name for p in products] == ["莲花血鸭"]
        copy = Path(str(products[0].attachment_file_id))
        assert copy.parent.name == "uploads" and copy.exists()
        assert fake.downloads_started == 2  # downloaded again by the restarted bot
