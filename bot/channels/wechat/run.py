"""WeChat's part of the running bot (bot/runner.py): the callback in the web app, the outbox
delivered to followers ("wechat") and to WeCom groups ("wecom")."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from bot.channels.file_links import FileLinks
from bot.channels.wechat.api import Api, OfficialAccountClient, WeComAppClient
from bot.channels.wechat.channel import WeChatChannel, default_worker
from bot.channels.wechat.sender import WeChatSender
from bot.channels.wechat.wecom import WeComSender
from bot.core.delivery import OutboxDispatcher
from bot.core.dispatcher import Core
from bot.core.outbox import Sender
from bot.runner import ChannelParts, Waker
from bot.settings import Settings
from models.wechat import asked_by

log = logging.getLogger(__name__)


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
    return Api(client, core.sessions, account, limits.token_margin_seconds)


@dataclass
class WeChatRuntime:
    """The WeChat channel on its own: the callback, the senders and a dispatcher over them
    (the tests' harness and benchmarks; the bot's process uses `start`, whose dispatcher
    covers every channel)."""

    channel: WeChatChannel
    dispatcher: OutboxDispatcher
    senders: dict[str, Sender]

    def wake(self) -> None:
        """A late reply was enqueued: deliver now rather than at the next poll."""
        self.dispatcher.wake()

    async def deliver(self) -> int:
        """Delivers until nothing is due; returns how many rows were attempted."""
        return await self.dispatcher.drain()

    async def deliver_forever(self, interval: float) -> None:
        await self.dispatcher.run_forever(interval)

    async def close(self) -> None:
        await self.channel.idle()
        self.channel.close()
        for sender in self.senders.values():
            closer = getattr(sender, "close", None)
            if closer is not None:
                await closer()


async def superseded(core: Core, openid: str, question: str, step: str | None) -> bool:
    """Whether a late reply to `step` asking `question` is no longer the one to send: a
    later step of the follower asked a question. The conversation's committed state says
    which step asked the open one: a follower's messages may reach any worker, and each
    worker's memory (ShownQuestions) knows only its own steps. Not known there (no step
    of theirs since the database kept it asked one): this worker's memory."""

    def read() -> tuple[bool, str | None]:
        with core.sessions() as session:
            return asked_by(session, openid)

    if step is not None:
        known, asked = await asyncio.get_running_loop().run_in_executor(None, read)
        if known:
            return asked != step
    return core.shown.superseded(("wechat", openid), question, step)


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
        f"mp:{settings.wechat_app_id}",
        limits.token_margin_seconds,
        threads=limits.api_threads,
    )
    follower_sender = WeChatSender(api, core.sessions, core.clock, limits)
    # a late reply may be read from the moment its sending begins; what the follower types
    # meanwhile is bound to a question once the send's outcome is known
    follower_sender.sending = lambda openid, at, question: core.shown.sending(
        ("wechat", openid), at, question
    )
    follower_sender.sending_ended = lambda openid, at, outcome: core.shown.sending_ended(
        ("wechat", openid), at, outcome
    )
    # a late reply asking a question goes in the follower's turn (the channel's steps take
    # it: bot/channels/wechat/channel.py), and not at all once that question is not open
    follower_sender.turn = lambda openid: core.order.turn(("wechat", openid))
    follower_sender.superseded = functools.partial(superseded, core)
    senders: dict[str, Sender] = {
        "wechat": follower_sender,
        "wecom": WeComSender(
            core.config.group_chats, limits, settings.wecom_api_base_url, wecom_app(core, settings)
        ),
    }
    dispatcher = OutboxDispatcher(core.sessions, core.clock, senders)
    aes = settings.wechat_aes_key.get_secret_value() if settings.wechat_aes_key else None
    channel = WeChatChannel(
        core,
        settings.wechat_token.get_secret_value(),
        settings.wechat_app_id,
        aes,
        limits,
        worker=settings.wechat_worker_id or default_worker(settings.web_port),
    )
    channel.links = follower_sender.links = file_links(core, settings)
    runtime = WeChatRuntime(channel, dispatcher, senders)
    channel.wake = runtime.wake
    channel.fetch_media = lambda media_id: api.call(lambda c: media_bytes(c, media_id))
    return runtime


def file_links(core: Core, settings: Settings) -> FileLinks | None:
    """Signed links to certificates' PDFs, when the bot has a public address."""
    if not settings.public_base_url or core.files_dir is None:
        return None
    secret = settings.file_link_secret or settings.wechat_token
    assert secret is not None
    return FileLinks(
        settings.public_base_url,
        secret.get_secret_value().encode(),
        core.files_dir / core.config.certificates.folder,
        core.config.certificates.link_hours,
    )


def media_bytes(client: Any, media_id: str) -> bytes:
    """A temporary media's bytes (wechatpy returns the HTTP response for a file, a dict for
    JSON: a video's URL, or an error it has already raised)."""
    got = client.media.download(media_id)
    content = getattr(got, "content", None)
    if not isinstance(content, bytes) or not content:
        raise ValueError(f"media {media_id} is not a file: {str(got)[:100]}")
    return content


@contextlib.asynccontextmanager
async def start(core: Core, settings: Settings) -> AsyncIterator[ChannelParts]:
    """WeChat's parts of the process: the /wechat route, the follower and WeCom senders, the
    sweep of messages held for a late step (at start, then every pending_sweep_seconds); a
    late reply wakes the process's dispatcher."""
    runtime = build(core, settings)

    def bind(waker: Waker) -> None:
        runtime.channel.wake = waker.wake

    try:
        yield ChannelParts(
            runtime.senders,
            core.config.wechat.outbox_interval_seconds,
            routes=list(runtime.channel.routes()),
            loops=[runtime.channel.keep_held],
            bind=bind,
        )
    finally:
        await runtime.close()
