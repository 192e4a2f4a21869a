"""The Official Account's parametric QR codes (带参数二维码), for the units' recommendation
posters: made through qrcode/create with a string scene (`rec_TOKEN`), permanent
(QR_LIMIT_STR_SCENE: verified service accounts only, 100,000 at most) or temporary
(QR_STR_SCENE, 30 days at most); the picture fetched from showqrcode?ticket=..., which lives
on another host than the API (wechatpy's `qrcode.show` hard-codes it and has no timeout).

Synchronous: a step (/unit qr) and a scheduled job (the renewal) call it from their worker
threads. A scan of the code reaches the bot as a subscribe event with EventKey
qrscene_rec_TOKEN, or SCAN with rec_TOKEN from a follower (bot/channels/wechat/inbound.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.channels.wechat.api import Api, OfficialAccountClient
from bot.config import WeChatConfig
from bot.settings import Settings


class WeChatQrCodes:
    def __init__(self, api: Api, show_url: str, timeout: float) -> None:
        self.api = api
        self.show_url = show_url
        self.timeout = timeout

    def prepare(self) -> None:
        """A valid shared access token, refreshed now if it must be (in a transaction of its
        own: call it before the caller's transaction writes, as SQLite has one writer)."""
        keeper = self.api.client.keeper
        assert keeper is not None
        keeper.get()

    def create(self, scene: str, expire_seconds: int | None) -> dict[str, Any]:
        """A new code for `scene`: {ticket, url, expire_seconds (None: permanent)}."""
        info = {"scene": {"scene_str": scene}}
        data: dict[str, Any]
        if expire_seconds is None:
            data = {"action_name": "QR_LIMIT_STR_SCENE", "action_info": info}
        else:
            data = {"expire_seconds": expire_seconds, "action_name": "QR_STR_SCENE"}
            data["action_info"] = info
        got = self.api.call_sync(lambda c: c.qrcode.create(data))
        seconds = got.get("expire_seconds")
        return {
            "ticket": str(got["ticket"]),
            "url": str(got["url"]),
            "expire_seconds": int(seconds) if seconds and expire_seconds is not None else None,
        }

    def image(self, ticket: str) -> bytes:
        """The code's picture as WeChat draws it (a JPEG or PNG)."""
        http = self.api.client._http
        res = http.get(self.show_url, params={"ticket": ticket}, timeout=self.timeout)
        res.raise_for_status()
        if not res.headers.get("content-type", "").startswith("image/"):
            raise ValueError(f"showqrcode answered {res.text[:200]!r}")
        return bytes(res.content)


def qr_codes(
    settings: Settings, sessions: sessionmaker[Session], limits: WeChatConfig
) -> WeChatQrCodes | None:
    """The QR code maker of the configured Official Account (None: WeChat not configured). Its
    access token is the one all processes share (models/wechat.py)."""
    if not (settings.wechat_token and settings.wechat_app_id):
        return None
    secret = settings.wechat_app_secret.get_secret_value() if settings.wechat_app_secret else ""
    client = OfficialAccountClient(
        settings.wechat_app_id, secret, settings.wechat_api_base_url, limits.http_timeout_seconds
    )
    api = Api(client, sessions, f"mp:{settings.wechat_app_id}", limits.token_margin_seconds, 2)
    show = settings.wechat_qrcode_base_url.rstrip("/") + "/showqrcode"
    return WeChatQrCodes(api, show, limits.http_timeout_seconds)
