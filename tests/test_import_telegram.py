"""A filled-in sheet sent to the bot as a Telegram document, through the fake Bot API: the
channel fetches the file (getFile), the committee's import answers, the stamped scan follows."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from bot.config import FestivalConfig
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from handlers.routes import ROUTES
from models import SheetImport, Streamer
from tests.catalog import said
from tests.fake_telegram import TELEGRAM_ADMIN, BotThread, FakeTelegram, config_for_tests
from tests.test_import import notice_sheet, streamer_row

pytestmark = [
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBUserWarning"),
    pytest.mark.fake("telegram"),
]


def test_a_sheet_sent_as_a_document_is_imported(
    db: Engine, config: FestivalConfig, clock: FixedClock, fake: FakeTelegram, tmp_path: Path
) -> None:
    core = Core(config_for_tests(config), db, clock, ROUTES, tmp_path / "data")
    try:
        with BotThread(core, fake):
            fake.wait(lambda: fake.stats.calls.get("getUpdates", 0) > 0)
            admin = fake.user(TELEGRAM_ADMIN, "admin")
            sheet = notice_sheet(tmp_path / "sheet.xlsx", [streamer_row(1, "tg_account")])
            before = len(admin.inbox)
            admin.document("附件2-安源区.xlsx", sheet.read_bytes())
            fake.settle(TELEGRAM_ADMIN, before)
            out = admin.inbox[before:]
            assert said([m.text for m in out], "import.done", created=1), [m.text for m in out]
            [returned] = [m for m in out if m.kind == "document"]
            assert returned.file_name and returned.file_name.endswith(".xlsx")
            copies = list((tmp_path / "data" / "uploads").glob("telegram-*.xlsx"))
            assert len(copies) == 1 and copies[0].read_bytes() == sheet.read_bytes()
            assert said([m.text for m in admin.say("/photo stamp")], "import.scan_saved")
            outsider = fake.user(4242, "someone")
            before = len(outsider.inbox)
            outsider.document("附件2.xlsx", sheet.read_bytes())
            fake.settle(4242, before)
            assert said([m.text for m in outsider.inbox[before:]], "err.need_text")
        with core.sessions() as s:
            record = s.scalars(select(SheetImport)).one()
            assert record.file_path == str(copies[0]) and record.channel == "telegram"
            assert record.scan_path and Path(record.scan_path).is_file()
            assert s.scalars(select(Streamer.recommendation)).one() == "org"
    finally:
        core.executor.shutdown()
