"""Fixtures: a migrated database (SQLite file, or PostgreSQL when TEST_DATABASE_URL is set:
a database of its own, dropped at the end), the shipped config, a fixed clock, a chat; the fake
Telegram and WeChat servers and a core and running bot for them."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text, update
from sqlalchemy.engine import make_url

from bot.app import prepare_database
from bot.config import FestivalConfig, load_config
from bot.core.clock import Clock, FixedClock
from bot.core.dispatcher import Core
from handlers.routes import ROUTES
from models import Base, Unit
from models.db import make_engine
from tests.chat import Chat
from tests.fake_telegram import BotThread, FakeTelegram, config_for_tests
from tests.fake_wechat import FakeWeChat

ROOT = Path(__file__).resolve().parent.parent
# A Monday evening inside the 2020 live period, Asia/Shanghai.
LIVE_NOW = dt.datetime(2020, 11, 2, 20, 0)


async def until(condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Wait (on the event loop) until `condition()` holds: for what another thread or task is
    doing, instead of sleeping for as long as it usually takes."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"still not true after {timeout} s: {condition}")
        await asyncio.sleep(0.005)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fake(kind): the server the `fake` fixture starts: 'telegram' or 'wechat'"
    )
    config.addinivalue_line(
        "markers",
        "telegram_limits(**limits): Telegram settings of `tg_core` (e.g. shorter backoffs)",
    )


def pytest_report_header(config: pytest.Config) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    return f"database: {'PostgreSQL ' + url if url else 'SQLite (TEST_DATABASE_URL not set)'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    name = f"festival_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def config() -> FestivalConfig:
    shipped = load_config(ROOT / "config.yaml")
    # Tests copy pictures whatever the host's free disk (CI machines have run with a few
    # hundred MB); the free-disk floor has tests of its own.
    uploads = shipped.uploads.model_copy(update={"min_free_mb": 0})
    # Most tests register people on the live month's clock (LIVE_NOW), after the
    # registration deadline, as a unit's late entry would be: self-registration stays open
    # here; tests/test_registration_window.py checks it closing with the shipped setting.
    calendar = shipped.calendar.model_copy(update={"registration_closes": False})
    return shipped.model_copy(update={"uploads": uploads, "calendar": calendar})


@pytest.fixture(scope="session")
def migrated(database_url: str, config: FestivalConfig) -> Iterator[Engine]:
    engine = make_engine(database_url)
    prepare_database(engine, config, FixedClock(config.calendar.tz, LIVE_NOW))
    yield engine
    engine.dispose()


@pytest.fixture
def db(migrated: Engine) -> Iterator[Engine]:
    """The migrated database, emptied of everything but the units after each test."""
    yield migrated
    with migrated.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name != "units":
                conn.execute(table.delete())
        # units stay (loaded once), but what tests gave them goes
        conn.execute(update(Unit).values(rec_token=None, contact_name=None, contact_phone=None))


@pytest.fixture
def clock(config: FestivalConfig) -> FixedClock:
    return FixedClock(config.calendar.tz, LIVE_NOW)


@pytest.fixture
def core(db: Engine, config: FestivalConfig, clock: FixedClock) -> Iterator[Core]:
    core = Core(config, db, clock, ROUTES)
    yield core
    core.executor.shutdown()


@pytest.fixture
def running_core(db: Engine, config: FestivalConfig) -> Iterator[Core]:
    """A core whose clock runs in real time from LIVE_NOW: the outbox's retries come due
    after their back-off (with the fixed clock a failed send is never tried again)."""
    start = LIVE_NOW.replace(tzinfo=config.calendar.tz)
    core = Core(config, db, Clock(config.calendar.tz, start), ROUTES)
    yield core
    core.executor.shutdown()


@pytest.fixture
def files_core(
    db: Engine, config: FestivalConfig, clock: FixedClock, tmp_path: Path
) -> Iterator[Core]:
    """A core with a data directory (tmp_path): pictures are copied and drawn there."""
    core = Core(config, db, clock, ROUTES, tmp_path)
    yield core
    core.executor.shutdown()


@pytest.fixture
def chat(core: Core) -> Chat:
    return Chat(core)


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@pytest.fixture
def fake_wechat() -> Iterator[FakeWeChat]:
    with FakeWeChat() as server:
        yield server


@pytest.fixture
def fake(request: pytest.FixtureRequest) -> Any:
    """The fake server a module is about: `pytestmark = pytest.mark.fake("telegram")` (or
    "wechat")."""
    marker = request.node.get_closest_marker("fake")
    if marker is None or marker.args[0] not in ("telegram", "wechat"):
        raise pytest.UsageError("mark the module pytest.mark.fake('telegram' or 'wechat')")
    return request.getfixturevalue(f"fake_{marker.args[0]}")


@pytest.fixture
def tg_core(
    request: pytest.FixtureRequest, db: Engine, config: FestivalConfig, clock: FixedClock
) -> Iterator[Core]:
    """A core with a Telegram committee admin; `pytest.mark.telegram_limits(**limits)` changes
    the Telegram settings (fault runs: shorter backoffs)."""
    marker = request.node.get_closest_marker("telegram_limits")
    core = Core(config_for_tests(config, **(marker.kwargs if marker else {})), db, clock, ROUTES)
    yield core
    core.executor.shutdown()


@pytest.fixture
def bot(tg_core: Core, fake_telegram: FakeTelegram) -> Iterator[BotThread]:
    """Our bot running against the fake Telegram, once it has started polling."""
    with BotThread(tg_core, fake_telegram) as running:
        fake_telegram.wait(lambda: fake_telegram.stats.calls.get("getUpdates", 0) > 0)
        yield running
