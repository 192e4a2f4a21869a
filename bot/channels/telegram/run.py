"""Telegram's part of the running bot (bot/runner.py): long polling by default, a webhook when
TELEGRAM_WEBHOOK_URL is set; the outbox is delivered through the same sender either way."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from starlette.routing import Route
from telegram import Bot

from bot.channels.file_links import FileLinks
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.pauses import SharedPauses
from bot.channels.telegram.polling import ALLOWED_UPDATES, poll
from bot.channels.telegram.transport import AiohttpRequest
from bot.channels.telegram.webhook import PATH, webhook_route
from bot.config import TelegramConfig
from bot.core.dispatcher import Core
from bot.runner import ChannelParts
from bot.settings import Settings
from models.send_pauses import PauseStore

log = logging.getLogger(__name__)

EXPORTS = "exports"  # the exports' folder in the data directory (handlers/export.py export_dir)


def file_base_url(api_base_url: str) -> str:
    """PTB's file address from its API address: http://h:p/bot -> http://h:p/file/bot."""
    base = api_base_url.rstrip("/")
    head, _, last = base.rpartition("/")
    return f"{head}/file/{last}" if head else f"{base}/file/bot"


def make_bot(settings: Settings, limits: TelegramConfig) -> Bot:
    assert settings.telegram_bot_token is not None
    api = settings.telegram_api_base_url or "https://api.telegram.org/bot"
    files = settings.telegram_file_base_url or file_base_url(api)
    return Bot(
        settings.telegram_bot_token.get_secret_value(),
        base_url=api,
        base_file_url=files,
        request=AiohttpRequest(connections=limits.connection_pool_size),
        get_updates_request=AiohttpRequest(
            connections=1, read_timeout=limits.poll_timeout_seconds + 10
        ),
    )


@contextlib.asynccontextmanager
async def start(core: Core, settings: Settings) -> AsyncIterator[ChannelParts]:
    """Telegram's parts of the process: its sender, and either the long-polling loop or the
    webhook route (the webhook is registered with Telegram here)."""
    limits = core.config.telegram
    bot = make_bot(settings, limits)
    async with bot:  # getMe: fails here on a wrong token or address
        # the t.me links of the QR posters (handlers/posters.py), unless configured
        core.services.setdefault("telegram_username", bot.username)
        channel = TelegramChannel(core, bot, limits)
        await channel.set_commands()
        resumed = await channel.resume()
        if resumed:
            log.warning("resuming %d stored updates", resumed)
        links = export_links(core, settings)
        if links is not None:  # exports above the upload limit go as links the web app serves
            channel.output.links = links
        parts = ChannelParts({"telegram": channel.sender}, limits.outbox_interval_seconds)
        if links is not None:
            parts.routes.append(links.route())
        parts.bind = lambda dispatcher: setattr(channel, "wake", dispatcher.wake)
        if settings.telegram_webhook_url:
            parts.routes.append(await register_webhook(channel, settings))
        else:
            await bot.delete_webhook()
            parts.leader_loops.append(lambda: poll(channel))  # one getUpdates per bot
        parts.leader_loops.append(lambda: prune_updates(channel))
        if core.shared:  # a dead worker's updates and unsent replies
            parts.leader_loops.append(channel.sweep_orphans_forever)
            parts.loops.append(share_pauses(core, channel).follow_forever)
        parts.loops.append(channel.record_answered_forever)
        yield parts
        await channel.idle()  # a normal stop: let the steps in flight finish
        await channel.flush_answered()


def share_pauses(core: Core, channel: TelegramChannel) -> SharedPauses:
    """Several workers: a 429's wait one of them is told holds for all (pauses.py)."""
    pauses = SharedPauses(
        core.sessions,
        PauseStore(core.db),
        channel.sender,
        core.config.workers.pause_poll_seconds,
    )
    channel.sender.on_retry_after = pauses.note
    return pauses


def export_links(core: Core, settings: Settings) -> FileLinks | None:
    """Signed links to the exports' folder, when the bot has a public address: a document
    above the upload limit (a full /export of a big festival) is linked instead of sent. They
    last as long as the exports are kept (excel.keep_exports_hours)."""
    if not settings.public_base_url or core.files_dir is None:
        return None
    secret = settings.file_link_secret or settings.telegram_bot_token
    assert secret is not None
    return FileLinks(
        settings.public_base_url,
        secret.get_secret_value().encode(),
        core.files_dir / EXPORTS,
        core.config.excel.keep_exports_hours,
        prefix=EXPORTS,
    )


async def register_webhook(channel: TelegramChannel, settings: Settings) -> Route:
    assert settings.telegram_webhook_url is not None
    secret = (
        settings.telegram_webhook_secret.get_secret_value()
        if settings.telegram_webhook_secret
        else None
    )
    path = urlsplit(settings.telegram_webhook_url).path or PATH
    await channel.bot.set_webhook(
        settings.telegram_webhook_url, secret_token=secret, allowed_updates=ALLOWED_UPDATES
    )
    return webhook_route(channel, secret, path)


async def prune_updates(channel: TelegramChannel, every_seconds: float = 3600) -> None:
    """Handled updates older than telegram.keep_updates_days are deleted, at start and then
    hourly (a webhook retry, the only reason to keep them, comes within minutes)."""
    keep = dt.timedelta(days=channel.limits.keep_updates_days)
    while True:
        try:
            before = channel.core.clock.now() - keep
            pruned = await asyncio.to_thread(channel.store.prune, before)
            if pruned:
                log.info("pruned %d handled updates older than %s", pruned, before)
        except Exception:  # a failed prune only delays the next one
            log.exception("pruning telegram_updates failed")
        await asyncio.sleep(every_seconds)
