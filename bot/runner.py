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
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

from bot.core.delivery import OutboxDispatcher
from bot.core.dispatcher import Core
from bot.core.leader import OUTBOX_CHANNEL, Leadership

if TYPE_CHECKING:  # loaded only by a worker among several (psycopg's pool)
    from bot.core.shared_order import SharedOrder
from bot.core.outbox import Sender
from bot.settings import Settings

log = logging.getLogger(__name__)

GRACE_SECONDS = 10  # how long a stop waits for the web requests in flight


@dataclass
class ChannelParts:
    """What one channel adds to the process."""

    senders: dict[str, Sender]
    interval: float  # how often the outbox is polled for this channel's rows
    routes: list[BaseRoute] = field(default_factory=list)
    # Long-running loops; the process ends when one ends.
    loops: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Loops only one of several workers runs, the leader (Telegram's long polling: one
    # getUpdates at a time per bot; pruning; the orphan sweep). Alone, a process leads.
    leader_loops: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Told how to wake the outbox's sender (a late WeChat reply): this process's dispatcher,
    # or, with several workers, the leader's.
    bind: Callable[[Waker], None] | None = None


class Waker:
    """What a channel calls when it left something urgent in the outbox."""

    def __init__(self, wake: Callable[[], None]) -> None:
        self.wake = wake


def shared_order(core: Core) -> SharedOrder | None:
    if not core.shared:
        return None
    from bot.core.shared_order import SharedOrder

    assert isinstance(core.order, SharedOrder)
    return core.order


def _wake_leader(
    leadership: Leadership, dispatcher: OutboxDispatcher, shared: SharedOrder
) -> Callable[[], None]:
    """The leader's own dispatcher when this worker leads, else a NOTIFY to the leader."""
    pending: set[asyncio.Task[None]] = set()

    def wake() -> None:
        if leadership.is_leader:
            dispatcher.wake()
            return
        task = asyncio.ensure_future(shared.notify(OUTBOX_CHANNEL))
        pending.add(task)
        task.add_done_callback(pending.discard)

    return wake


def telegram_configured(settings: Settings) -> bool:
    return settings.telegram_bot_token is not None


def wechat_configured(settings: Settings) -> bool:
    """The callback is served when the Official Account's token and AppID are set."""
    return bool(settings.wechat_token and settings.wechat_app_id)


def any_channel(settings: Settings) -> bool:
    return telegram_configured(settings) or wechat_configured(settings)


async def first_of(loops: list[Callable[[], Awaitable[None]]]) -> None:
    """Runs the loops until one ends (raising what it raised); the others are cancelled."""
    tasks = [asyncio.ensure_future(loop()) for loop in loops]
    if not tasks:
        await asyncio.Event().wait()
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def run(
    core: Core,
    settings: Settings,
    stop: asyncio.Event | None = None,
    leader_work: Sequence[Callable[[], Awaitable[None]]] = (),
) -> None:
    """Runs until `stop` is set (SIGTERM), the task is cancelled, or a loop ends (a failure
    such as a wrong token is raised). A stop lets the steps in flight finish first.
    `leader_work` (the embedded scheduler) runs beside the outbox dispatcher and the channels'
    leader loops in the one worker that leads (bot/core/leader.py); alone, this process."""
    stop = stop or asyncio.Event()
    async with contextlib.AsyncExitStack() as stack:
        shared = shared_order(core)
        if shared is not None:
            await shared.start()
            stack.push_async_callback(shared.close)
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
        leadership = Leadership(
            core.db.url if shared is not None else None, core.config.workers.leader_retry_seconds
        )
        leadership.on_notify = dispatcher.wake
        wake = dispatcher.wake if shared is None else _wake_leader(leadership, dispatcher, shared)
        for part in parts:
            if part.bind is not None:
                part.bind(Waker(wake))
        interval = min(part.interval for part in parts)
        leading = [
            lambda: dispatcher.run_forever(interval),
            *(loop for part in parts for loop in part.leader_loops),
            *leader_work,
        ]
        tasks = [asyncio.ensure_future(leadership.lead(lambda: first_of(leading)))]
        tasks += [asyncio.ensure_future(loop()) for part in parts for loop in part.loops]
        routes = [route for part in parts for route in part.routes]
        web, web_task = None, None
        if routes:
            from bot.web import create_app, server

            web = server(create_app(routes), settings.web_host, settings.web_port, GRACE_SECONDS)
            web_task = asyncio.ensure_future(web.serve())
        log.info("running %s", ", ".join(sorted(senders)))
        stopped = asyncio.ensure_future(stop.wait())
        watched = [stopped, *tasks, *([web_task] if web_task else [])]
        try:
            done, _ = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                error = None if task is stopped or task.cancelled() else task.exception()
                if error is not None:
                    raise error
        finally:
            # Intake stops first: the web server finishes the requests in flight (a WeChat
            # callback waiting for its step) instead of cutting them off; then the loops.
            if web is not None and web_task is not None:
                web.should_exit = True
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(web_task), GRACE_SECONDS + 5)
            for task in watched:
                task.cancel()
            await asyncio.gather(*watched, return_exceptions=True)
        # A normal stop: the channels' exits wait for the steps in flight (exit stack).
