"""Outbox deliveries to Official Account followers ("wechat").

Inside the 48-hour window after the follower last wrote, and within the per-interaction quota,
a customer-service message (text; a picture is uploaded as media first). Outside it, the
configured template message (config.yaml wechat.template); without one, the configured
subscribe message (wechat.subscribe, message/subscribe/bizsend: the follower must have
accepted it, else WeChat answers 43101); with neither, or when WeChat refuses, the message is
recorded as undeliverable on WeChat with the reason (PermanentFailure): the outbox then hands
it to the person's other channel, if they linked one (/link).

The window and quota are counted in our database (one conditional update per message, shared
by all processes); WeChat's own refusal (45015 out of time, 45047 over quota) wins when the two
disagree.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import requests
from sqlalchemy.orm import Session, sessionmaker
from wechatpy.exceptions import APILimitedException, WeChatClientException

from bot.channels.file_links import FileLinks
from bot.channels.wechat.api import Api
from bot.channels.wechat.render import as_text, chunks, fit_bytes
from bot.config import WeChatConfig
from bot.core.clock import Clock
from bot.core.messages import Outgoing
from bot.core.outbox import PermanentFailure, Superseded, TemporaryFailure
from models.wechat import close_window, reserve_service_message

log = logging.getLogger(__name__)

WINDOW_CLOSED = {45015, 45047}  # out of the 48 h window / over the per-interaction quota
SUBSCRIBE_REFUSED = 43101  # the follower has not accepted (or has used up) the subscription
# What WeChat accepts in a subscribe message's keyword, by the keyword's type (its name
# without the number: thing1 is a "thing"), in characters; other types (time, date, amount...)
# are formats, passed as they are. No keyword may hold a line break or another control
# character.
SUBSCRIBE_CHARS = {
    "thing": 20,
    "number": 32,
    "letter": 32,
    "symbol": 5,
    "character_string": 32,
    "phone_number": 17,
    "car_number": 8,
    "name": 10,
    "phrase": 5,
}
GONE = {40003, 43004, 43019}  # not our follower / unsubscribed / blacklisted us
TEXT_MAX_BYTES = 2000  # customer-service text: WeChat accepts about 2048 bytes
MEDIA_KEEP = 2 * 24 * 3600.0  # temporary media lives 3 days: reuse an upload for 2


async def _never(_openid: str, _question: str, _step: str | None) -> bool:
    return False


def classify(exc: Exception) -> Exception:
    """A failed API call as the outbox's retry decision."""
    if isinstance(exc, APILimitedException):
        return TemporaryFailure(f"WeChat rate limit: {exc}", retry_after=60)
    if isinstance(exc, WeChatClientException):
        if exc.errcode is None or exc.errcode == -1:  # HTTP error, or WeChat "system busy"
            return TemporaryFailure(f"WeChat unavailable: {exc}")
        if exc.errcode in (40001, 40014, 42001):
            return TemporaryFailure(f"access token refused twice: {exc}")
        return PermanentFailure(f"WeChat refused ({exc.errcode}): {exc.errmsg}")
    if isinstance(exc, requests.RequestException):
        return TemporaryFailure(f"network: {type(exc).__name__}")
    return exc


class MediaCache:
    """Uploads a picture once per file version and reuses the media id (a broadcast of the
    龙虎榜 to many followers uploads it once)."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, float], tuple[str, float]] = {}
        # one upload per picture even when several followers get it at once (the outbox
        # delivers to different followers concurrently)
        self._uploading: dict[tuple[str, float], asyncio.Lock] = {}

    async def media_id(self, api: Api, path: str) -> str:
        if path.startswith("wechat:"):  # a follower's picture we could not copy: its own id
            return path.removeprefix("wechat:")
        file = Path(path)
        if not file.is_file():
            raise PermanentFailure(f"picture {path} does not exist")
        key = (str(file), file.stat().st_mtime)
        async with self._uploading.setdefault(key, asyncio.Lock()):
            found = self._ids.get(key)
            if found and time.monotonic() - found[1] < MEDIA_KEEP:
                return found[0]

            def upload(client: Any) -> str:
                with file.open("rb") as fh:
                    return str(client.media.upload("image", fh)["media_id"])

            media = await api.call(upload)
            self._ids[key] = (media, time.monotonic())
            return media


class WeChatSender:
    def __init__(
        self, api: Api, sessions: sessionmaker[Session], clock: Clock, limits: WeChatConfig
    ) -> None:
        self.api = api
        self.sessions = sessions
        self.clock = clock
        self.limits = limits
        self.media = MediaCache()
        self.counts: dict[str, int] = {}
        # told each follower a message reached, and when its sending began (a reply that
        # went late has now been shown: since then, at the earliest)
        self.delivered: Callable[[str, float], None] = lambda _openid, _at: None
        # signed download links for documents (certificates' PDFs); None: a note instead
        self.links: FileLinks | None = None
        # told when a message's first call to a follower begins (they may read it before
        # the call returns, or WeChat may execute it and answer 502) and how its sending
        # ended: "shown", "refused" (WeChat's error code or our own check: nothing of it was
        # shown) or "unknown" (an HTTP or network error: it may have been)
        self.sending: Callable[[str, float, str | None], None] = lambda _o, _at, _q: None
        self.sending_ended: Callable[[str, float, str], None] = lambda _o, _at, _outcome: None
        # A message asking a question (a late reply) is sent in the follower's turn, so no
        # step of theirs runs meanwhile, and not at all if `superseded` says the question is
        # no longer the one to answer (see bot/core/answers.py ShownQuestions.superseded)
        self.turn: Callable[[str], Any] = lambda _openid: contextlib.nullcontext()
        self.superseded: Callable[[str, str, str | None], Awaitable[bool]] = _never

    def _reserve(self, openid: str) -> bool:
        with self.sessions() as session, session.begin():
            return reserve_service_message(
                session,
                openid,
                self.clock.now(),
                dt.timedelta(hours=self.limits.session_hours),
                self.limits.messages_per_interaction,
            )

    def _close(self, openid: str) -> None:
        with self.sessions() as session, session.begin():
            close_window(session, openid)

    async def send(self, message: Outgoing) -> None:
        question = message.reply.question
        if question is None:
            return await self._send(message)
        async with self.turn(message.chat_id):
            if await self.superseded(message.chat_id, question, message.reply.step):
                raise Superseded(f"question {question} is no longer the one to answer")
            await self._send(message)

    async def _send(self, message: Outgoing) -> None:
        openid, reply = message.chat_id, message.reply
        started = time.monotonic()
        text = as_text([reply], links=self.links)
        loop = asyncio.get_running_loop()
        handed: float | None = None  # when its first call began
        calls, outcome = 0, "unknown"  # calls that went through; how it ended

        def hand() -> float:
            if handed is not None:
                return handed
            self.sending(openid, at := time.monotonic(), reply.question)
            return at

        try:
            for n, piece in enumerate(chunks(text, TEXT_MAX_BYTES) if text else []):
                if not await loop.run_in_executor(None, self._reserve, openid):
                    if n == 0:
                        return await self._outside_window(openid, text)
                    raise PermanentFailure("quota used up in the middle of a long message")
                handed = hand()
                await self._service(openid, lambda c, p=piece: c.message.send_text(openid, p))
                calls += 1
            if reply.image_path:
                if not await loop.run_in_executor(None, self._reserve, openid):
                    raise PermanentFailure("picture outside the 48-hour window (no template)")
                media = await self.media.media_id(self.api, reply.image_path)
                handed = hand()
                await self._service(openid, lambda c: c.message.send_image(openid, media))
            outcome = "shown"
            self.delivered(openid, started)
        except (PermanentFailure, TemporaryFailure):
            outcome = "unknown" if calls else "refused"
            raise
        except Exception as exc:
            # an error code is WeChat's answer that it did not take the call; an HTTP error
            # (502: WeChat may have executed it) or a network error may have shown it
            if not calls and isinstance(exc, WeChatClientException) and exc.errcode is not None:
                outcome = "refused"
            raise classify(exc) from exc
        finally:
            if handed is not None:
                self.sending_ended(openid, handed, outcome)

    async def _service(self, openid: str, call: Any) -> None:
        try:
            await self.api.call(call)
            self.counts["service"] = self.counts.get("service", 0) + 1
        except WeChatClientException as exc:
            if exc.errcode in WINDOW_CLOSED:
                await asyncio.get_running_loop().run_in_executor(None, self._close, openid)
                raise PermanentFailure(f"customer-service window closed ({exc.errcode})") from exc
            if exc.errcode in GONE:
                raise PermanentFailure(
                    f"follower unreachable ({exc.errcode})", unreachable=True
                ) from exc
            raise

    async def _outside_window(self, openid: str, text: str) -> None:
        template, subscribe = self.limits.template, self.limits.subscribe
        hours = self.limits.session_hours
        lines = text.splitlines() or [""]
        values = {
            "first_line": lines[0],
            "rest": "\n".join(lines[1:]).strip(),
            "text": text,
            "date": self.clock.today().isoformat(),
        }
        if template is not None:
            data = {
                name: {"value": fit_bytes(values[src], 600)}
                for name, src in template.fields.items()
            }
            await self.api.call(
                lambda c: c.message.send_template(
                    openid, template.template_id, data, url=template.url
                )
            )
            self.counts["template"] = self.counts.get("template", 0) + 1
            return
        if subscribe is not None:
            keywords = {
                name: {"value": keyword_value(name, values[src])}
                for name, src in subscribe.fields.items()
            }
            try:
                await self.api.call(
                    lambda c: c.message.send_subscribe_message(
                        openid, subscribe.template_id, keywords, page=subscribe.page
                    )
                )
            except WeChatClientException as exc:
                if exc.errcode == SUBSCRIBE_REFUSED:
                    raise PermanentFailure(
                        f"undeliverable on WeChat: outside the {hours}-hour customer-service "
                        "window and the follower has not accepted the subscribe message "
                        f"({exc.errcode})"
                    ) from exc
                raise
            self.counts["subscribe"] = self.counts.get("subscribe", 0) + 1
            return
        raise PermanentFailure(
            f"undeliverable on WeChat: outside the {hours}-hour customer-service window "
            "and no template message or subscribe message configured"
        )


def keyword_value(keyword: str, value: str) -> str:
    """A value as a subscribe message's keyword takes it: one line, no control characters,
    cut to the keyword type's length (a "thing" ends with … when cut, so the reader sees it)."""
    flat = " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())
    limit = SUBSCRIBE_CHARS.get(keyword.rstrip("0123456789"))
    if limit is None or len(flat) <= limit:
        return flat
    if keyword.startswith("thing"):
        return flat[: limit - 1].rstrip() + "…"
    return flat[:limit]
