"""kill -9 in the middle of a registration, then a restart: a real `python -m bot` process
against the fake Bot API. Nothing the user answered is lost or applied twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from models import TelegramUpdate
from tests.fake_telegram import FakeTelegram
from tests.test_telegram_faults import stored, varied_streamer

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


class BotProcess:
    def __init__(self, fake: FakeTelegram, database_url: str, log: Path) -> None:
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "BOT_CLOCK": "2020-11-02T20:00",
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
        }
        self.env.pop("TELEGRAM_WEBHOOK_URL", None)
        self.fake = fake
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        polls = self.fake.stats.calls.get("getUpdates", 0)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot"], cwd=ROOT, env=self.env, stderr=log, stdout=log
            )
        self.fake.wait(lambda: self.fake.stats.calls.get("getUpdates", 0) > polls, timeout=30)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)


def test_kill_9_mid_registration_then_restart(
    fake: FakeTelegram, db: Engine, tmp_path: Path
) -> None:
    bot = BotProcess(fake, db.url.render_as_string(hide_password=False), tmp_path / "bot.log")
    lines, expected = varied_streamer(7)
    user = fake.user(7007, "carol")
    sent = 0
    try:
        bot.start()
        user.run(lines[:10])
        sent += 10
        # four typed answers at once, killed before the bot could even store them all
        for line in lines[10:14]:
            user.text(line)
        sent += 4
        bot.kill()
        bot.start()
        fake.wait(lambda: fake.confirmed_all(), timeout=20)
        # three more, killed as soon as they are stored (some handled, some not yet)
        for line in lines[14:17]:
            user.text(line)
        sent += 3
        fake.wait(lambda: fake.confirmed_all(), timeout=20)
        bot.kill()
        before = len(user.inbox)
        bot.start()
        fake.settle(user.id, before, quiet=0.3, timeout=20)
        user.run(lines[17:], quiet=0.15)
        sent += len(lines) - 17
        assert "报名已提交" in "".join(m.text for m in user.inbox[-2:])
    finally:
        if bot.proc is not None and bot.proc.poll() is None:
            bot.proc.terminate()
            bot.proc.wait(10)
    assert stored(db, user.id) == expected, (tmp_path / "bot.log").read_text()
    with Session(db) as session:
        assert session.scalar(select(func.count()).select_from(TelegramUpdate)) == sent
        unprocessed = select(func.count()).where(TelegramUpdate.processed_at.is_(None))
        assert session.scalar(unprocessed) == 0
