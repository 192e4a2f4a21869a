"""No step, job or command ends the process or goes silent. Folders that cannot be written
(board pictures, uploads, exports) degrade to text-only answers with a note to the committee;
a step that keeps failing is answered with an apology and marked handled.

The tests run as root, for whom a read-only folder is still writable; a folder that cannot be
written is made here by putting a file where the folder should be (every write under it then
fails with an OSError, as on a read-only or full disk)."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.console import ConsoleChannel
from bot.config import FestivalConfig
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from bot.core.i18n import translate
from handlers.routes import ROUTES
from models import OutboxMessage, TelegramUpdate
from models import board as boards
from models.telegram import UpdateStore
from scheduler import JobRunner
from tests import festival_data as data
from tests import flows
from tests.catalog import said
from tests.fake_telegram import BotThread, FakeTelegram
from tests.test_board import DAY, MONDAY_1, publish
from tests.test_wechat_failures import failing


def blocked(folder: Path) -> Path:
    """A folder nothing can be written under: a file stands where it should be."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_bytes(b"not a folder")
    return folder


def _published(db: Engine, config: FestivalConfig) -> None:
    """A board with one streamer, and a committee admin to be told of failures."""
    with Session(db, expire_on_commit=False) as s, s.begin():
        a = data.streamer(s, "萍乡小花", "360302")
        data.report(s, config, a, DAY, gmv_yuan=300)
        publish(s, config, "2020-11-02", MONDAY_1)
        data.admin(s, "boss")


def _notes(db: Engine) -> list[str]:
    with Session(db) as s:
        keys = s.scalars(select(OutboxMessage.idempotency_key)).all()
    return [k for k in keys if k.startswith("board-picture-failed")]


def test_the_console_keeps_serving_when_board_pictures_cannot_be_written(
    files_core: Core, db: Engine, config: FestivalConfig, tmp_path: Path
) -> None:
    _published(db, config)
    blocked(tmp_path / "boards")
    out = io.StringIO()
    console = ConsoleChannel(files_core, "viewer", out)

    async def chat() -> None:
        await console.handle_line("/top 萍乡市")
        await console.handle_line("/help")

    asyncio.run(chat())
    printed = out.getvalue()
    assert "萍乡小花" in printed  # the board, as text
    assert said(printed, "help.text")  # and the next message is answered
    assert _notes(db)  # the committee is told
    with Session(db) as s:
        cities = s.scalars(select(boards.Board).where(boards.Board.scope.startswith("city:")))
        assert [c.image_path for c in cities if c.image_path is not None] == []


def test_a_failing_console_step_is_answered_and_the_chat_goes_on(
    files_core: Core, db: Engine
) -> None:
    out = io.StringIO()
    console = ConsoleChannel(files_core, "cy", out)

    async def chat() -> None:
        for line in flows.streamer_lines("cy_farm"):
            await console.handle_line(line)
        with failing(db, "audit_log", "INSERT"):
            await console.handle_line("确认提交")
        await console.handle_line("确认提交")

    asyncio.run(chat())
    printed = out.getvalue()
    assert translate(None, "err.step_failed") in printed
    assert said(printed, "streamer.submitted")  # the same answer works once the disk does


def test_the_weekly_board_job_runs_without_its_picture(
    db: Engine, config: FestivalConfig, tmp_path: Path
) -> None:
    _published(db, config)
    clock = FixedClock(config.calendar.tz, MONDAY_1.replace(tzinfo=None))
    runner = JobRunner(sessionmaker(db), config, clock, blocked(tmp_path / "boards"))
    outcome = runner.run("weekly_board", MONDAY_1)
    assert outcome.ran
    assert _notes(db)
    with Session(db) as s:
        main = s.scalars(
            select(boards.Board).where(boards.Board.scope == "all").order_by(boards.Board.id)
        ).all()[-1]
        assert main.image_path is None


@pytest.mark.fake("telegram")
@pytest.mark.telegram_limits(step_retry_seconds=0.01)
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBUserWarning")
def test_a_telegram_step_that_keeps_failing_is_answered_once_and_not_retried(
    bot: BotThread, fake: FakeTelegram, db: Engine
) -> None:
    user = fake.user(9101, "fay")
    user.run(flows.streamer_lines("fay_farm"))
    with failing(db, "audit_log", "INSERT"):
        shown = user.say("确认提交", quiet=0.3)
    assert said([m.text for m in shown], "err.step_failed")
    with Session(db) as s:  # marked handled: not tried again at the next start
        pending = s.scalars(select(TelegramUpdate.id).where(TelegramUpdate.processed_at.is_(None)))
        assert pending.all() == []
    assert said([m.text for m in user.say("确认提交", quiet=0.3)], "streamer.submitted")


@pytest.mark.fake("telegram")
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBUserWarning")
def test_uploads_and_exports_that_cannot_be_written_still_get_answers(
    db: Engine, config: FestivalConfig, clock: FixedClock, fake: FakeTelegram, tmp_path: Path
) -> None:
    """The evidence picture stays Telegram's (the report is saved), the export says it could
    not be written, and the bot answers the next message."""
    from tests.fake_telegram import config_for_tests
    from tests.test_telegram_flows import ADMIN, _approved_then_report_with_photo

    blocked(tmp_path / "uploads")
    blocked(tmp_path / "exports")
    core = Core(config_for_tests(config), db, clock, ROUTES, tmp_path)
    try:
        with BotThread(core, fake):
            fake.wait(lambda: fake.stats.calls.get("getUpdates", 0) > 0)
            _, ref, out = _approved_then_report_with_photo(core, fake, db, 9201, "gao_farm")
            assert said([m.text for m in out], "report.saved")
            assert ref.startswith("shot-9201-")  # Telegram's id: the copy was refused
            with Session(db) as s:  # the committee is told the folder refused the picture
                keys = s.scalars(select(OutboxMessage.idempotency_key)).all()
            assert [k for k in keys if k.startswith("folder-refused:uploads:")]
            admin = fake.user(ADMIN, "admin")
            assert said([m.text for m in admin.say("/export streamers")], "export.failed")
            assert said([m.text for m in admin.say("/help")], "help.text")
    finally:
        core.executor.shutdown()


@pytest.mark.fake("telegram")
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBUserWarning")
def test_an_update_that_ended_the_process_at_every_start_gets_the_apology(
    tg_core: Core, fake: FakeTelegram, db: Engine
) -> None:
    """Stored, then the process died in its step at every start (`replay_starts` of them):
    the next start answers it with the apology and marks it handled; a fresh update stored
    beside it is handled as usual."""
    from bot.channels.telegram import adapter

    poisoned, fresh = fake.user(9201, "gus"), fake.user(9202, "hal")

    def start(user: Any, update_id: int) -> dict[str, Any]:
        command = {"type": "bot_command", "offset": 0, "length": 6}
        message = user._message(user._private(), text="/start", entities=[command])
        return {"update_id": update_id, "message": message}

    store = UpdateStore(sessionmaker(db), db)
    store.save([start(poisoned, 1), start(fresh, 2)], tg_core.clock.now(), adapter.chat_key)
    limit = tg_core.config.telegram.replay_starts
    with Session(db) as s, s.begin():
        s.execute(update(TelegramUpdate).where(TelegramUpdate.update_id == 1).values(starts=limit))
    with BotThread(tg_core, fake):
        fake.wait(lambda: len(poisoned.inbox) >= 1 and len(fresh.inbox) >= 1, timeout=20)
    assert said([m.text for m in poisoned.inbox], "err.step_failed")
    assert not said([m.text for m in fresh.inbox], "err.step_failed")
    with Session(db) as s:
        rows = {u.update_id: u for u in s.scalars(select(TelegramUpdate))}
        assert rows[1].processed_at is not None and rows[2].processed_at is not None
        assert (rows[1].starts, rows[2].starts) == (limit + 1, 1)


@pytest.mark.fake("wechat")
def test_wechat_pictures_that_cannot_be_written_stay_wechats_and_the_committee_is_told(
    db: Engine, config: FestivalConfig, clock: FixedClock, fake: Any, tmp_path: Path
) -> None:
    """The uploads folder refuses every write: each product keeps WeChat's MediaId, the
    registration goes on, and the committee admins get one note (not one per picture)."""
    from tests.test_wechat_flows import _product_pictures

    with Session(db) as s, s.begin():
        data.admin(s, "boss")
    blocked(tmp_path / "uploads")
    lines = flows.enterprise_two_products()
    second = lines.index("跳过", lines.index("/photo p1") + 1)
    lines[second] = "/photo p2"
    core = Core(config, db, clock, ROUTES, tmp_path)
    assert _product_pictures(core, fake, db, lines) == ["wechat:media-p1", "wechat:media-p2"]
    with Session(db) as s:
        keys = s.scalars(select(OutboxMessage.idempotency_key)).all()
    assert len([k for k in keys if k.startswith("folder-refused:uploads:")]) == 1
