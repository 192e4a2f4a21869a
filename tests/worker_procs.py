"""Bot workers as real processes (`python -m bot`), for the tests and the benchmark of several
workers on one PostgreSQL: each serves Telegram's webhook on a port of its own, against the fake
Bot API, with BOT_WORKERS=shared."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO, Any

from tests.fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# when the workers' rehearsal clock showed BOT_CLOCK (this run's start): a lease or a
# processed_at written by one worker means the same time to another
REHEARSAL_AT = dt.datetime.now(dt.UTC).isoformat()


class Worker:
    """One `python -m bot` process; `url` is its webhook."""

    def __init__(
        self,
        database_url: str,
        fake: FakeTelegram,
        log: Path,
        shared: bool = True,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/telegram"
        self.log = log
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "TELEGRAM_WEBHOOK_URL": self.url,
            "WEB_PORT": str(self.port),
            "BOT_WORKERS": "shared" if shared else "single",
            # the registration is open on the shipped calendar
            "BOT_CLOCK": "2020-10-15T20:00",
            "BOT_CLOCK_AT": REHEARSAL_AT,  # every worker of the run keeps one time
            "PYTHONPATH": str(ROOT),
            **(extra_env or {}),
        }
        env.pop("TEST_DATABASE_URL", None)
        self._out: IO[Any] = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot"], cwd=ROOT, env=env, stdout=self._out, stderr=self._out
        )

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited {self.proc.returncode}: {self.tail()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise TimeoutError(f"worker on {self.port} not ready: {self.tail()}")

    def kill(self) -> None:
        """kill -9: no clean-up of any kind."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        self._out.close()

    def tail(self, lines: int = 30) -> str:
        self._out.flush()
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def typed_ahead(fake: FakeTelegram, user_id: int, lines: list[str], first_id: int) -> list[int]:
    """A person's messages, all at once, as updates; their message ids come after any the bot
    sends (so the answer binding reads each as an answer to the question open when it is
    handled: this is about the order the workers apply them in, not about typed-ahead text)."""
    who = {"id": user_id, "is_bot": False, "first_name": f"u{user_id}", "language_code": "zh-hans"}
    chat = {"id": user_id, "type": "private", "first_name": f"u{user_id}"}
    ids = []
    for n, line in enumerate(lines):
        message: dict[str, Any] = {
            "message_id": first_id + n,
            "date": int(time.time()),
            "chat": chat,
            "from": who,
            "text": line,
        }
        if line.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(line)}]
        ids.append(fake.push("message", message))
    return ids
