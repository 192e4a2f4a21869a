"""The bot's web app in webhook mode: /healthz, Telegram's secret header checked, the update
stored before the 200, and an update delivered twice handled once."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from handlers.routes import ROUTES
from models import Identity, TelegramUpdate
from tests.catalog import said
from tests.fake_telegram import BotThread, FakeTelegram, config_for_tests

SECRET = "s3cret-token_1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# PTB suggests Bot.get_updates over do_api_request("get_updates"); we take the raw JSON on
# purpose (bot/channels/telegram/polling.py), and pytest resets the module's warning filter.
pytestmark = [
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBUserWarning"),
    pytest.mark.fake("telegram"),
]


@pytest.fixture
def web(db: Engine, config: FestivalConfig, clock: FixedClock, fake: FakeTelegram) -> Iterator[str]:
    core = Core(config_for_tests(config), db, clock, ROUTES)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with BotThread(
        core,
        fake,
        telegram_webhook_url=f"{base}/telegram/hook",
        telegram_webhook_secret=SECRET,
        web_host="127.0.0.1",
        web_port=port,
    ):
        fake.wait(lambda: _up(base), timeout=15)
        yield base
    core.executor.shutdown()


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz").status_code == 200
    except httpx.TransportError:
        return False


def update(update_id: int, text: str, user_id: int = 5005) -> dict[str, object]:
    user = {"id": user_id, "is_bot": False, "first_name": "dan", "language_code": "zh-hans"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1604318400,
            "chat": {"id": user_id, "type": "private", "first_name": "dan"},
            "from": user,
            "text": text,
            **(
                {"entities": [{"type": "bot_command", "offset": 0, "length": len(text)}]}
                if text.startswith("/")
                else {}
            ),
        },
    }


def test_webhook_secret_duplicates_and_health(web: str, fake: FakeTelegram, db: Engine) -> None:
    assert fake.webhook == {"url": f"{web}/telegram/hook", "secret_token": SECRET}
    assert httpx.get(f"{web}/healthz").json() == {"ok": True}
    hook = f"{web}/telegram/hook"
    header = "X-Telegram-Bot-Api-Secret-Token"

    wrong = httpx.post(hook, json=update(1, "/start"), headers={header: "guess"})
    assert wrong.status_code == 403
    assert httpx.post(hook, json=update(1, "/start")).status_code == 403  # no header at all
    assert httpx.post(hook, content=b"garbage", headers={header: SECRET}).status_code == 400
    with Session(db) as session:
        assert session.scalar(select(func.count()).select_from(TelegramUpdate)) == 0

    for _ in range(2):  # Telegram retries when it did not get our answer
        ok = httpx.post(hook, json=update(2, "/start"), headers={header: SECRET})
        assert ok.status_code == 200
    fake.wait(lambda: len(fake.messages_to(5005)) >= 1)
    httpx.post(hook, json=update(3, "/help"), headers={header: SECRET})
    fake.settle(5005, 1, quiet=0.2)
    texts = [m.text for m in fake.messages_to(5005)]
    assert len(texts) == 2  # the menu once (the repeated /start did nothing), then the help
    assert said(texts[0], "menu.title") and "/register" in texts[1]
    with Session(db) as session:
        assert session.scalar(select(func.count()).select_from(TelegramUpdate)) == 2
        assert session.scalar(select(func.count()).select_from(Identity)) == 1
