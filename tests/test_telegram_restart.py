"""kill -9 in the middle of a registration, then a restart: a real `python -m bot` process
against the fake Bot API. Nothing the user answered is lost or applied twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from models import Streamer, TelegramUpdate
from tests.catalog import label, said
from tests.fake_telegram import FakeTelegram, Fault
from tests.test_telegram_faults import stored, varied_streamer

pytestmark = pytest.mark.fake("telegram")

ROOT = Path(__file__).resolve().parent.parent


class BotProcess:
    def __init__(self, fake: FakeTelegram, database_url: str, log: Path) -> None:
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "BOT_CLOCK": "2020-10-15T20:00",  # signing up: before the registration deadline
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
        # an answer, killed before the bot could reply to it (or even store it)
        before = len(user.inbox)
        user.text(lines[10])
        sent += 1
        bot.kill()
        bot.start()
        fake.wait(lambda: fake.confirmed_all(), timeout=20)
        fake.settle(user.id, before, quiet=0.3, timeout=20)  # its reply: the next question
        user.run(lines[11:16], quiet=0.15)
        sent += 5
        # one more, killed as soon as it is stored (handled or not yet)
        before = len(user.inbox)
        user.text(lines[16])
        sent += 1
        fake.wait(lambda: fake.confirmed_all(), timeout=20)
        bot.kill()
        bot.start()
        fake.settle(user.id, before, quiet=0.3, timeout=20)
        user.run(lines[17:], quiet=0.15)
        sent += len(lines) - 17
        assert said("".join(m.text for m in user.inbox[-2:]), "streamer.submitted")
    finally:
        if bot.proc is not None and bot.proc.poll() is None:
            bot.proc.terminate()
            bot.proc.wait(10)
    assert stored(db, user.id) == expected, (tmp_path / "bot.log").read_text()
    with Session(db) as session:
        assert session.scalar(select(func.count()).select_from(TelegramUpdate)) == sent
        unprocessed = select(func.count()).where(TelegramUpdate.processed_at.is_(None))
        assert session.scalar(unprocessed) == 0


def test_kill_9_between_a_step_and_its_reply(
    fake: FakeTelegram, db: Engine, tmp_path: Path
) -> None:
    """The step is committed but its reply never leaves (Telegram hangs, then the process is
    killed): at the next start the stored reply is sent, and the person carries on with it."""
    bot = BotProcess(fake, db.url.render_as_string(hide_password=False), tmp_path / "bot.log")
    user = fake.user(7008, "dan")

    def last_update() -> tuple[bool, bool]:
        with Session(db) as session:
            row = session.scalars(
                select(TelegramUpdate).order_by(TelegramUpdate.update_id.desc()).limit(1)
            ).one()
            return row.processed_at is not None, row.replies is not None

    try:
        bot.start()
        assert label("menu.streamer") in str(user.say("/start")[-1].buttons())
        fake.faults.append(Fault("hang", "sendMessage", times=1))
        before = len(user.inbox)
        user.text(label("menu.streamer"))  # the step commits; its reply hangs in Telegram
        fake.wait(lambda: fake.stats.faults.get("hang", 0) == 1)
        fake.wait(lambda: last_update() == (True, True))  # handled, reply not yet recorded sent
        bot.kill()
        assert len(user.inbox) == before  # the person got nothing
        bot.start()
        fake.settle(user.id, before, quiet=0.3, timeout=20)
        resent = user.inbox[before:]
        assert len(resent) == 1 and label("btn.accept") in str(resent[0].buttons())
        # the resent question works: its button leads on to the next one
        user.press(label("btn.accept"))
        assert said(user.last_text(), "ask.unit_group")
        fake.wait(lambda: last_update() == (True, False), timeout=10)  # recorded as sent
    finally:
        if bot.proc is not None and bot.proc.poll() is None:
            bot.proc.terminate()
            bot.proc.wait(10)
    with Session(db) as session:
        assert session.scalar(select(func.count()).select_from(Streamer)) == 0
        unsent = select(func.count()).where(TelegramUpdate.replies.is_not(None))
        assert session.scalar(unsent) == 0, (tmp_path / "bot.log").read_text()
