"""Running the bot on WeChat: the callback in the web app, the outbox delivered to followers
("wechat") and to WeCom groups ("wecom")."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from bot.channels.wechat.api import Api, OfficialAccountClient, WeComAppClient
from bot.channels.wechat.channel import WeChatChannel
from bot.channels.wechat.sender import WeChatSender
from bot.channels.wechat.wecom import WeComSender
from bot.core.dispatcher import Core
from bot.core.outbox import OutboxDispatcher, Sender
from bot.settings import Settings

log = logging.getLogger(__name__)


def configured(settings: Settings) -> bool:
    """The callback is served when the Official Account's token and AppID are set."""
    return bool(settings.wechat_token and settings.wechat_app_id)


def wecom_app(core: Core, settings: Settings) -> Api | None:
    if not (settings.wecom_corp_id and settings.wecom_secret):
        return None
    limits = core.config.wechat
    client = WeComAppClient(
        settings.wecom_corp_id,
        settings.wecom_secret.get_secret_value(),
        settings.wecom_api_base_url,
        limits.http_timeout_seconds,
    )
    account = f"wecom:{settings.wecom_corp_id}:{settings.wecom_agent_id or ''}"
    return Api(client, core.sessions, core.clock, account, limits.token_margin_seconds)


@dataclass
class WeChatRuntime:
    channel: WeChatChannel
    dispatcher: OutboxDispatcher
    senders: dict[str, Sender]
    # One delivery pass at a time in this process: on SQLite two concurrent claims could
    # take the same rows (no FOR UPDATE there).
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    due: asyncio.Event = field(default_factory=asyncio.Event)

    def wake(self) -> None:
        """A late reply was enqueued: deliver now rather than at the next poll."""
        self.due.set()

    async def deliver(self) -> int:
        """Delivers until nothing is due; returns how many rows were attempted."""
        total = 0
        async with self.lock:
            while n := await self.dispatcher.run_once():
                total += n
        return total

    async def deliver_forever(self, interval: float) -> None:
        while True:
            try:
                await self.deliver()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("wechat outbox delivery failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.due.wait(), interval)
            self.due.clear()

    async def close(self) -> None:
        await self.channel.idle()
        for sender in self.senders.values():
            closer = getattr(sender, "close", None)
            if closer is not None:
                await closer()


def build(core: Core, settings: Settings) -> WeChatRuntime:
    assert settings.wechat_token is not None and settings.wechat_app_id
    limits = core.config.wechat
    secret = settings.wechat_app_secret.get_secret_value() if settings.wechat_app_secret else ""
    client = OfficialAccountClient(
        settings.wechat_app_id, secret, settings.wechat_api_base_url, limits.http_timeout_seconds
    )
    api = Api(
        client,
        core.sessions,
        core.clock,
        f"mp:{settings.wechat_app_id}",
        limits.token_margin_seconds,
    )
    senders: dict[str, Sender] = {
        "wechat": WeChatSender(api, core.sessions, core.clock, limits),
        "wecom": WeComSender(
            core.config.group_chats, limits, settings.wecom_api_base_url, wecom_app(core, settings)
        ),
    }
    dispatcher = OutboxDispatcher(core.sessions, core.clock, senders)
    aes = settings.wechat_aes_key.get_secret_value() if settings.wechat_aes_key else None
    channel = WeChatChannel(
        core, settings.wechat_token.get_secret_value(), settings.wechat_app_id, aes, limits
    )
    runtime = WeChatRuntime(channel, dispatcher, senders)
    channel.wake = runtime.wake
    return runtime


async def run(core: Core, settings: Settings, stop: asyncio.Event | None = None) -> None:
    from bot.web import create_app, serve

    runtime = build(core, settings)
    app = create_app(runtime.channel.routes())
    tasks = [
        asyncio.ensure_future(runtime.deliver_forever(core.config.wechat.outbox_interval_seconds)),
        asyncio.ensure_future(serve(app, settings.web_host, settings.web_port)),
    ]
    try:
        if stop is None:
            await asyncio.gather(*tasks)
        else:
            await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await runtime.close()
