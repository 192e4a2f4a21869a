"""Wiring: settings + config -> database (migrated, units loaded) -> the core with the
festival's routes -> the channels this process runs."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError

from bot.config import ConfigError, FestivalConfig, load_config
from bot.core.clock import Clock, parse_start
from bot.core.dispatcher import Core
from bot.settings import Settings, data_dir_for
from handlers import money
from handlers.routes import ROUTES
from models.db import advisory_lock, advisory_unlock_all, make_engine, migrate, session_factory
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
    """Migrate to the newest schema and load the recommending units (both idempotent). On
    PostgreSQL under an advisory lock: several workers starting at once on a new database
    would otherwise race to create the same tables and rows; the later ones find it done."""
    with contextlib.ExitStack() as stack:
        if engine.dialect.name == "postgresql":
            conn = stack.enter_context(engine.connect())
            advisory_lock(conn, 72_042_020, 2)
            stack.callback(advisory_unlock_all, conn)
        migrate(engine)
        rows = read_divisions() + [UnitRow(u.code, u.name, u.kind) for u in config.units.extra]
        with session_factory(engine)() as session, session.begin():
            added = sync_units(session, rows, clock.now())
    if added:
        log.info("loaded %d recommending units", added)


def open_database(url: str, config: FestivalConfig, clock: Clock) -> Engine:
    """The engine, migrated; a URL that is not one, a server that does not answer or a data
    folder that cannot be written is one line naming DATABASE_URL and the cause."""
    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        raise ConfigError(
            "DATABASE_URL: not a database URL (e.g. sqlite:///data/festival.db "
            "or postgresql://user@host/db)"
        ) from None
    try:
        engine = make_engine(url)
    except (ArgumentError, ImportError) as exc:
        raise ConfigError(f"DATABASE_URL {shown}: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"DATABASE_URL {shown}: cannot create its folder ({exc})") from None
    try:
        prepare_database(engine, config, clock)
    except (OperationalError, InterfaceError) as exc:
        cause = str(exc.orig or exc).strip().splitlines()[0]
        raise ConfigError(f"DATABASE_URL {shown}: cannot open or reach it ({cause})") from None
    except OSError as exc:
        raise ConfigError(f"DATABASE_URL {shown}: {exc}") from None
    return engine


def build(settings: Settings | None = None, clock: Clock | None = None) -> App:
    settings = settings or Settings()
    config = load_config(settings.bot_config)
    if clock is None:
        start = parse_start(settings.bot_clock, config.calendar.tz) if settings.bot_clock else None
        at = settings.bot_clock_at
        if at is not None and at.tzinfo is None:
            at = at.replace(tzinfo=dt.UTC)
        clock = Clock(config.calendar.tz, start, settings.bot_clock_speed, started=at)
    engine = open_database(settings.database_url, config, clock)
    core = Core(config, engine, clock, ROUTES, data_dir_for(settings.database_url))
    if settings.bot_workers == "shared":
        share_order(core, engine)
    offer_services(core, settings)
    return App(settings, config, engine, clock, core)


def share_order(core: Core, engine: Engine) -> None:
    """One of several workers: per-person turns through PostgreSQL (bot/core/shared_order.py).
    SQLite has no such locks, and one file has one writer anyway: one worker only."""
    if engine.dialect.name != "postgresql":
        raise ConfigError("BOT_WORKERS=shared needs PostgreSQL (DATABASE_URL=postgresql://...)")
    from bot.core.shared_order import SharedOrder

    core.order = SharedOrder(engine.url, core.config.workers.lock_connections)
    core.shared = True


def tell_unagreed(app: App) -> None:
    """When the bot starts serving (not for the operators' commands): enterprises registered
    before the money rules were shown are told once (keyed per enterprise: idempotent)."""
    with app.core.sessions() as session, session.begin():
        money.notify_unagreed(session, app.config, app.clock)


def offer_services(core: Core, settings: Settings) -> None:
    """What handlers may use beyond the database (ctx.services, the jobs' services): the
    bot's Telegram username for t.me links (else learnt from getMe when Telegram starts) and
    the WeChat Official Account's QR code maker, when those channels are configured."""
    from handlers.posters import TELEGRAM_USERNAME, WECHAT_QR

    if settings.telegram_bot_username:
        core.services[TELEGRAM_USERNAME] = settings.telegram_bot_username.lstrip("@")
    if not (settings.wechat_token and settings.wechat_app_id):
        return  # wechatpy and what it loads (about 14 MB) only where WeChat runs
    from bot.channels.wechat.qrcodes import qr_codes

    maker = qr_codes(settings, core.sessions, core.config.wechat)
    if maker is not None:
        core.services[WECHAT_QR] = maker
