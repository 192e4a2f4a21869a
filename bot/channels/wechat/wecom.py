"""Outbox deliveries to WeCom (企业微信) group chats ("wecom"): an Official Account cannot post
to ordinary WeChat groups, so the 龙虎榜 and announcements go to WeCom groups.

Each group is a config.yaml `group_chats` entry {channel: wecom, chat_id, kind, key_env}:
* kind robot: a group robot's webhook; the env var holds its key. Text as markdown (≤ 4096
  bytes), pictures as base64 images (≤ 2 MB). A robot takes 20 messages a minute: we pace to
  that per robot and treat WeCom's 45009 as "try again in a minute".
* kind appchat: a WeCom app's group chat (wechatpy.enterprise appchat); the env var holds the
  chat id. Pictures are uploaded as media first.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import functools
import hashlib
import logging
import os
import time
from pathlib import Path
from typing import Any

import httpx

from bot.channels.wechat.api import Api
from bot.channels.wechat.render import as_text, chunks
from bot.channels.wechat.sender import MediaCache, classify
from bot.config import GroupChat, WeChatConfig
from bot.core.messages import Outgoing
from bot.core.outbox import PermanentFailure, TemporaryFailure

log = logging.getLogger(__name__)

IMAGE_MAX_BYTES = 2 * 1024 * 1024
ROBOT_BUSY = 45009
WAIT_AT_MOST = 5.0  # longer waits for a robot's slot go back to the outbox


class RobotPace:
    """At most `per_minute` posts in any 60 seconds per robot (a sliding window)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._sent: dict[str, collections.deque[float]] = {}

    def wait(self, robot: str) -> float:
        sent = self._sent.setdefault(robot, collections.deque())
        now = time.monotonic()
        while sent and now - sent[0] >= 60:
            sent.popleft()
        return 0.0 if len(sent) < self.per_minute else 60 - (now - sent[0])

    def take(self, robot: str) -> None:
        self._sent.setdefault(robot, collections.deque()).append(time.monotonic())


class WeComSender:
    def __init__(
        self,
        groups: list[GroupChat],
        limits: WeChatConfig,
        base_url: str,
        app: Api | None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.groups = {g.chat_id: g for g in groups if g.channel == "wecom"}
        self.limits = limits
        self.base_url = base_url
        self.app = app
        self.env = env if env is not None else dict(os.environ)
        self.pace = RobotPace(limits.robot_per_minute)
        self.media = MediaCache()
        self.http = httpx.AsyncClient(timeout=limits.http_timeout_seconds)
        self.counts: dict[str, int] = {}

    async def send(self, message: Outgoing) -> None:
        group = self.groups.get(message.chat_id)
        if group is None:
            raise PermanentFailure(f"no wecom group {message.chat_id!r} in config.yaml")
        key = self.env.get(group.key_env or "", "")
        if not key:
            raise PermanentFailure(f"environment variable {group.key_env} is not set")
        text = as_text([message.reply])
        image = message.reply.image_path
        if group.kind == "robot":
            for piece in chunks(text, self.limits.robot_markdown_max_bytes) if text else []:
                await self._robot(key, {"msgtype": "markdown", "markdown": {"content": piece}})
            if image:
                await self._robot(key, {"msgtype": "image", "image": _image(image)})
        else:
            await self._appchat(key, text, image)

    async def _robot(self, key: str, body: dict[str, Any]) -> None:
        robot = hashlib.sha256(key.encode()).hexdigest()[:12]  # keys are secrets: not logged
        wait = self.pace.wait(robot)
        if wait > WAIT_AT_MOST:
            raise TemporaryFailure("robot at 20 messages a minute", retry_after=wait)
        if wait:
            await asyncio.sleep(wait)
        self.pace.take(robot)
        try:
            res = await self.http.post(
                f"{self.base_url}webhook/send", params={"key": key}, json=body
            )
        except httpx.HTTPError as exc:
            raise TemporaryFailure(f"robot network: {type(exc).__name__}") from exc
        if res.status_code >= 500:
            raise TemporaryFailure(f"robot HTTP {res.status_code}")
        try:
            data = res.json()
        except ValueError:
            raise TemporaryFailure(f"robot answered HTTP {res.status_code} without JSON") from None
        code = data.get("errcode", 0)
        if code == ROBOT_BUSY:
            raise TemporaryFailure("robot rate limit (45009)", retry_after=60)
        if code:
            raise PermanentFailure(f"robot refused ({code}): {data.get('errmsg', '')}")
        self.counts["robot"] = self.counts.get("robot", 0) + 1

    async def _appchat(self, chat_id: str, text: str, image: str | None) -> None:
        if self.app is None:
            raise PermanentFailure("WECOM_CORP_ID / WECOM_SECRET not set: no appchat")
        app = self.app
        try:
            for piece in chunks(text, self.limits.robot_text_max_bytes) if text else []:
                await app.call(functools.partial(_send_text, chat_id=chat_id, text=piece))
            if image:
                media = await self.media.media_id(app, image)
                await app.call(lambda c: c.appchat.send(chat_id, "image", media_id=media))
        except (PermanentFailure, TemporaryFailure):
            raise
        except Exception as exc:
            raise classify(exc) from exc
        self.counts["appchat"] = self.counts.get("appchat", 0) + 1

    async def close(self) -> None:
        await self.http.aclose()


def _send_text(client: Any, chat_id: str, text: str) -> Any:
    return client.appchat.send_text(chat_id, text)


def _image(path: str) -> dict[str, str]:
    file = Path(path)
    if not file.is_file():
        raise PermanentFailure(f"picture {path} does not exist")
    data = file.read_bytes()
    if len(data) > IMAGE_MAX_BYTES:
        raise PermanentFailure(f"picture {path} is over 2 MB (a robot's limit)")
    return {"base64": base64.b64encode(data).decode(), "md5": hashlib.md5(data).hexdigest()}
