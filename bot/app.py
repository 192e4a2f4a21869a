"""Wiring: settings + config -> database (migrated, units loaded) -> the core with the
festival's routes -> the channels this process runs."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Engine

from bot.config import FestivalConfig, load_config
from bot.core.clock import Clock, parse_start
from bot.core.dispatcher import Core
from bot.settings import Settings, data_dir_for
from handlers.routes import ROUTES
from models.db import make_engine, migrate, session_factory
from models.unit_directory import UnitRow, read_divisions, sync_units

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    config: FestivalConfig
    engine: Engine
    clock: Clock
    core: Core


def prepare_database(engine: Engine, config: FestivalConfig, clock: Clock) -> None:
    """Migrate to the newest schema and load the recommending units (both idempotent)."""
    migrate(engine)
    rows = read_divisions() + [UnitRow(u.code, u.name, u.kind) for u in config.units.extra]
    with session_factory(engine)() as session, session.begin():
        added = sync_units(session, rows, clock.now())
    if added:
        log.info("loaded %d recommending units", added)


def build(settings: Settings | None = None, clock: Clock | None = None) -> App:
    settings = settings or Settings()
    config = load_config(settings.bot_config)
    if clock is None:
        start = parse_start(settings.bot_clock, config.calendar.tz) if settings.bot_clock else None
        clock = Clock(config.calendar.tz, start, settings.bot_clock_speed)
    engine = make_engine(settings.database_url)
    prepare_database(engine, config, clock)
    core = Core(config, engine, clock, ROUTES, data_dir_for(settings.database_url))
    offer_services(core, settings)
    return App(settings, config, engine, clock, core)


def offer_services(core: Core, settings: Settings) -> None:
    """What handlers may use beyond the database (ctx.services, the jobs' services): the
    bot's Telegram username for t.me links (else learnt from getMe when Telegram starts) and
    the WeChat Official Account's QR code maker, when those channels are configured."""
    from bot.channels.wechat.qrcodes import qr_codes
    from handlers.posters import TELEGRAM_USERNAME, WECHAT_QR

    if settings.telegram_bot_username:
        core.services[TELEGRAM_USERNAME] = settings.telegram_bot_username.lstrip("@")
    maker = qr_codes(settings, core.sessions, core.config.wechat)
    if maker is not None:
        core.services[WECHAT_QR] = maker
