"""One process runs every channel that is configured (Telegram, WeChat, or both), with one
web app for every HTTP endpoint (Telegram's webhook, WeChat's callback, /healthz) and one
outbox dispatcher over all the channels' senders.

One dispatcher matters beyond tidiness: a message that cannot reach a person on WeChat (outside
the 48-hour window) is rerouted to their Telegram chat, and only a process that holds the
Telegram sender can deliver it. Each channel contributes its parts through an async context
manager (`start` in bot/channels/<name>/run.py) that also owns its clean-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.routing import BaseRoute

from bot.core.dispatcher import Core
from bot.core.outbox import OutboxDispatcher, Sender
from bot.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class ChannelParts:
    """What one channel adds to the process."""

    senders: dict[str, Sender]
    interval: float  # how often the outbox is polled for this channel's rows
    routes: list[BaseRoute] = field(default_factory=list)
    # Long-running loops (Telegram's long polling); the process ends when one ends.
    loops: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Told the process's dispatcher, so the channel can wake it (a late WeChat reply).
    bind: Callable[[OutboxDispatcher], None] | None = None


def telegram_configured(settings: Settings) -> bool:
    return settings.telegram_bot_token is not None


def wechat_configured(settings: Settings) -> bool:
    """The callback is served when the Official Account's token and AppID are set."""
    return bool(settings.wechat_token and settings.wechat_app_id)


def any_channel(settings: Settings) -> bool:
    return telegram_configured(settings) or wechat_configured(settings)


async def run(core: Core, settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Runs until `stop` is set (SIGTERM), the task is cancelled, or a loop ends (a failure
    such as a wrong token is raised). A stop lets the steps in flight finish first."""
    stop = stop or asyncio.Event()
    async with contextlib.AsyncExitStack() as stack:
        parts: list[ChannelParts] = []
        if telegram_configured(settings):
            from bot.channels.telegram.run import start as start_telegram

            parts.append(await stack.enter_async_context(start_telegram(core, settings)))
        if wechat_configured(settings):
            from bot.channels.wechat.run import start as start_wechat

            parts.append(await stack.enter_async_context(start_wechat(core, settings)))
        if not parts:
            raise ValueError("no channel configured (TELEGRAM_BOT_TOKEN or WECHAT_TOKEN)")
        senders: dict[str, Sender] = {}
        for part in parts:
            senders.update(part.senders)
        dispatcher = OutboxDispatcher(core.sessions, core.clock, senders)
        for part in parts:
            if part.bind is not None:
                part.bind(dispatcher)
        interval = min(part.interval for part in parts)
        tasks = [asyncio.ensure_future(dispatcher.run_forever(interval))]
        tasks += [asyncio.ensure_future(loop()) for part in parts for loop in part.loops]
        routes = [route for part in parts for route in part.routes]
        if routes:
            from bot.web import create_app, serve

            tasks.append(
                asyncio.ensure_future(
                    serve(create_app(routes), settings.web_host, settings.web_port)
                )
            )
        log.info("running %s", ", ".join(sorted(senders)))
        stopped = asyncio.ensure_future(stop.wait())
        try:
            done, _ = await asyncio.wait([stopped, *tasks], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stopped and not task.cancelled() and task.exception():
                    raise task.exception()  # type: ignore[misc]
        finally:
            for task in [stopped, *tasks]:
                task.cancel()
            await asyncio.gather(stopped, *tasks, return_exceptions=True)
        # A normal stop: the channels' exits wait for the steps in flight (exit stack).
