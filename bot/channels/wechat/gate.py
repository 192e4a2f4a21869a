"""The callback's gate: what a request must pass before anything is stored or processed, and
the passive reply's envelope.

Order of checks: body size (413) → timestamp window and `signature` (403) → in safe mode:
plaintext refused, outer XML (400), `msg_signature` (403), ciphertext (400) and AppID (403) →
inner XML and fields (400, in inbound.py).
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.channels.wechat import protocol
from bot.channels.wechat.inbound import Callback
from bot.config import WeChatConfig


class TooLarge(Exception):
    pass


class Gate:
    def __init__(self, token: str, app_id: str, aes_key: str | None, limits: WeChatConfig) -> None:
        self.token = token
        self.safe = protocol.SafeMode(token, aes_key, app_id) if aes_key else None
        self.limits = limits

    async def read(self, request: Request) -> bytes:
        """The body, refused (TooLarge) past max_body_bytes before it is all read."""
        limit = self.limits.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise TooLarge()
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise TooLarge()
        return bytes(body)

    def signed(self, request: Request) -> tuple[str, str]:
        q = request.query_params
        timestamp, nonce = q.get("timestamp", ""), q.get("nonce", "")
        protocol.check_time(timestamp, time.time(), self.limits.timestamp_window_seconds)
        protocol.check(protocol.signature(self.token, timestamp, nonce), q.get("signature"))
        return timestamp, nonce

    def verify(self, request: Request) -> Response:
        """WeChat's URL check when the server address is saved: echo echostr if signed."""
        try:
            self.signed(request)
        except protocol.Refused:
            return PlainTextResponse("forbidden", status_code=403)
        return PlainTextResponse(request.query_params.get("echostr", "")[:200])

    def open(self, request: Request, body: bytes) -> dict[str, str]:
        timestamp, nonce = self.signed(request)
        if self.safe is None:
            return protocol.parse_xml(body)
        q = request.query_params
        if q.get("encrypt_type", "").lower() != "aes":
            raise protocol.Refused("plaintext message while safe mode is configured")
        outer = protocol.parse_xml(body)
        protocol.require(outer, "Encrypt")
        expected = protocol.signature(self.token, timestamp, nonce, outer["Encrypt"])
        protocol.check(expected, q.get("msg_signature"))
        return protocol.parse_xml(self.safe.decrypt(outer["Encrypt"]))

    def passive(self, request: Request, cb: Callback, text: str) -> Response:
        xml = protocol.text_reply(cb.openid, cb.account, text)
        if self.safe is not None:
            q = request.query_params
            xml = self.safe.encrypt(xml, q.get("nonce", ""), q.get("timestamp", ""))
        return Response(xml, media_type="application/xml")
