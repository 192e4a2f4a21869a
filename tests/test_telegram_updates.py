"""telegram_updates does not grow for ever: handled updates older than
telegram.keep_updates_days are pruned (at start, then hourly); unhandled ones never are."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.channels.telegram.updates import UpdateStore
from bot.config import FestivalConfig
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from handlers.routes import ROUTES
from models import TelegramUpdate
from tests.fake_telegram import BotThread, FakeTelegram, config_for_tests

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBUserWarning")


def update(uid: int) -> dict[str, object]:
    return {"update_id": uid, "message": {"message_id": uid, "text": "hi"}}


def stored(db: Engine) -> list[tuple[int, bool]]:
    with Session(db) as s:
        rows = s.execute(
            select(TelegramUpdate.update_id, TelegramUpdate.processed_at).order_by(
                TelegramUpdate.update_id
            )
        )
        return [(uid, processed is not None) for uid, processed in rows]


def test_prune_deletes_only_old_handled_updates(db: Engine, clock: FixedClock) -> None:
    from sqlalchemy.orm import sessionmaker

    store = UpdateStore(sessionmaker(db), db)
    t0 = clock.now()
    store.save([update(1), update(2), update(3)], t0)
    store.mark_alone(1, t0)  # handled long ago
    store.mark_alone(3, t0 + dt.timedelta(days=6))  # handled recently
    # 2 was never handled (a crash): it must survive any prune
    assert store.prune(t0 + dt.timedelta(days=1), chunk=1) == 1
    assert stored(db) == [(2, False), (3, True)]
    assert store.prune(t0 + dt.timedelta(days=30)) == 1
    assert stored(db) == [(2, False)]
    # a pruned update_id arriving again (it cannot after days, but) is simply new
    assert store.save([update(1)], t0) == [update(1)]


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


def test_the_running_bot_prunes_at_start(
    db: Engine, config: FestivalConfig, clock: FixedClock, fake: FakeTelegram
) -> None:
    core = Core(config_for_tests(config), db, clock, ROUTES)
    try:
        with BotThread(core, fake):
            fake.wait(lambda: fake.stats.calls.get("getUpdates", 0) > 0)
            user = fake.user(1301, "pat")
            user.say("/start")
            fake.wait(lambda: stored(db) != [] and all(done for _, done in stored(db)))
        handled = stored(db)
        assert handled and all(done for _, done in handled)
        clock.advance(days=config.telegram.keep_updates_days + 1)
        with BotThread(core, fake):
            fake.wait(lambda: stored(db) == [], timeout=10)
    finally:
        core.executor.shutdown()
