"""What a worker loads is what its deployment uses: a Telegram-only bot on SQLite does not
import wechatpy (and what it pulls in: about 14 MB) nor psycopg (shared workers only), and
Alembic (about 9 MB) only when the database needs migrating. Checked in a fresh interpreter,
where nothing else of the suite has imported them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, sys
from bot.app import build
from bot.settings import Settings
app = build(Settings())
names = ("wechatpy", "psycopg", "bot.channels.wechat.api", "alembic")
print(json.dumps({m: m in sys.modules for m in names}))
"""


def loaded(tmp_path: Path, **env: str) -> dict[str, bool]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("WECHAT_", "TELEGRAM_"))}
    environ.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'lean.db'}",
        PYTHONPATH=str(ROOT),
        **env,
    )
    environ.pop("TEST_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=environ, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_telegram_bot_on_sqlite_loads_neither_wechatpy_nor_psycopg(tmp_path: Path) -> None:
    found = loaded(tmp_path, TELEGRAM_BOT_TOKEN="123:fake", TELEGRAM_BOT_USERNAME="festival_bot")
    assert not found["wechatpy"] and not found["psycopg"] and not found["bot.channels.wechat.api"]


def test_alembic_is_loaded_only_to_migrate(tmp_path: Path) -> None:
    """A new database is migrated; a restart on an up-to-date one does not load Alembic."""
    assert loaded(tmp_path)["alembic"]
    assert not loaded(tmp_path)["alembic"]


def test_a_wechat_bot_has_its_qr_code_maker(tmp_path: Path) -> None:
    found = loaded(tmp_path, WECHAT_TOKEN="tok", WECHAT_APP_ID="wx0000000000000000")
    assert found["wechatpy"] and found["bot.channels.wechat.api"]
