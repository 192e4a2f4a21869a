"""Telegram's webhook: the update is stored before Telegram gets its 200, and a redelivered
update (Telegram retries when an answer is late or lost) is recognised and ignored."""

from __future__ import annotations

import hmac
import json
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.channels.telegram.channel import TelegramChannel

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
PATH = "/telegram"


def webhook_route(channel: TelegramChannel, secret: str | None, path: str = PATH) -> Route:
    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if secret and not hmac.compare_digest(given.encode(), secret.encode()):
            return JSONResponse({"ok": False}, status_code=403)
        try:
            payload = json.loads(await request.body())
            int(payload["update_id"])
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"ok": False}, status_code=400)
        await channel.accept([payload])  # stored (or known) before the 200
        return JSONResponse({"ok": True})

    return Route(path, receive, methods=["POST"])
