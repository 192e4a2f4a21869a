"""Running the bot on Telegram: long polling by default, a webhook when
TELEGRAM_WEBHOOK_URL is set; the outbox is delivered through the same sender either way."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import urlsplit

from telegram import Bot

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.polling import ALLOWED_UPDATES, poll
from bot.channels.telegram.transport import AiohttpRequest
from bot.channels.telegram.webhook import PATH, webhook_route
from bot.config import TelegramConfig
from bot.core.dispatcher import Core
from bot.core.outbox import OutboxDispatcher
from bot.settings import Settings

log = logging.getLogger(__name__)


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


async def run(core: Core, settings: Settings, stop: asyncio.Event | None = None) -> None:
    limits = core.config.telegram
    bot = make_bot(settings, limits)
    async with bot:  # getMe: fails here on a wrong token or address
        channel = TelegramChannel(core, bot, limits)
        outbox = OutboxDispatcher(core.sessions, core.clock, {"telegram": channel.sender})
        background = [asyncio.create_task(outbox.run_forever(limits.outbox_interval_seconds))]
        try:
            await channel.set_commands()
            resumed = await channel.resume()
            if resumed:
                log.warning("resuming %d stored updates", resumed)
            if settings.telegram_webhook_url:
                await serve_webhook(channel, settings, stop)
            else:
                await bot.delete_webhook()
                await poll(channel, stop)
            await channel.idle()
        finally:
            for task in background:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            channel.close()


async def serve_webhook(
    channel: TelegramChannel, settings: Settings, stop: asyncio.Event | None
) -> None:
    from bot.web import create_app, serve

    assert settings.telegram_webhook_url is not None
    secret = (
        settings.telegram_webhook_secret.get_secret_value()
        if settings.telegram_webhook_secret
        else None
    )
    path = urlsplit(settings.telegram_webhook_url).path or PATH
    app = create_app([webhook_route(channel, secret, path)])
    await channel.bot.set_webhook(
        settings.telegram_webhook_url, secret_token=secret, allowed_updates=ALLOWED_UPDATES
    )
    server = asyncio.create_task(serve(app, settings.web_host, settings.web_port))
    if stop is None:
        await server
        return
    await stop.wait()
    server.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await server
