"""A fake WeChat / WeCom API server on 127.0.0.1 (a random port) and a fake WeChat server side
that posts callbacks to our app exactly as WeChat builds them (signed; encrypted in safe mode).

The API server enforces what the real one does and what our code must cope with: access tokens
(each one issued retires the previous ones; tokens can be invalidated, 40001, or expired, 42001),
the customer-service window (48 hours after the follower last interacted, 45015) and its
per-interaction quota (45047), WeCom group robots' 20 messages a minute (45009), subscribe
messages only to followers who accepted them (43101) with keywords that fit their type (47003),
parametric QR codes (qrcode/create: temporary ones of at most 30 days, permanent ones only for a
verified account, 48001 otherwise) whose pictures showqrcode serves as real QR codes of their URL.
It records every call. Faults: a slow API (`delay`, or `delay_range`: a random time per call, half
before it is executed and half after), 502s for a share of the customer-service sends
(`error_rate`, before or after executing them), "system busy" (-1) for some followers (`busy`).
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import hashlib
import itertools
import json
import random
import string
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from wechatpy.crypto import PrpCrypto, WeChatCrypto

APP_ID = "wx1234567890abcdef"
APP_SECRET = "fake-app-secret"
TOKEN = "festivaltoken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat shows it
ACCOUNT = "gh_festival0001"  # the Official Account's original id
CORP_ID = "ww0000000000fake"
CORP_SECRET = "fake-corp-secret"
ROBOT_KEY = "robot-key-0001"
APPCHAT_ID = "wrchat0001"


@dataclass
class Call:
    api: str  # "mp" or "wecom"
    path: str
    params: dict[str, str]
    body: Any
    result: dict[str, Any]
    answer_lost: bool = False  # executed, but answered 502: the sender retries it


@dataclass
class _Tokens:
    seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    valid: set[str] = field(default_factory=set)
    retired: dict[str, int] = field(default_factory=dict)  # token -> errcode it now gets
    issued: int = 0


class FakeWeChat:
    def __init__(self, quota: int = 20, window_hours: float = 48, robot_per_minute: int = 20):
        self.quota = quota
        self.window = window_hours * 3600
        self.robot_per_minute = robot_per_minute
        self.lock = threading.Lock()
        self.calls: list[Call] = []
        self.tokens = {"mp": _Tokens(), "wecom": _Tokens()}
        self.interactions: dict[str, float] = {}  # openid -> when they last wrote
        self.used: dict[str, int] = {}  # openid -> service messages since
        self.robot_posts: dict[str, collections.deque[float]] = {}
        self.robot_keys = {ROBOT_KEY}
        self.appchats = {APPCHAT_ID}
        self.offset = 0.0  # seconds added to the fake's clock (the 48-hour window)
        self.delay = 0.0  # seconds every API answer is held back (timeouts)
        # the share of customer-service sends answered 502 (before or after executing them,
        # alternately), from a seeded generator: a flaky gateway in front of the API
        self.error_rate = 0.0
        self.errors = 0
        self._errors_random = random.Random(13)
        # (low, high): every API call takes a random time in this range (seeded), half of it
        # before the call is executed, half on the way back
        self.delay_range: tuple[float, float] | None = None
        self._delays = random.Random(17)
        # followers whose customer-service messages WeChat answers "system busy" (-1): refused
        # for certain, not executed; the outbox tries again later
        self.busy: set[str] = set()
        # told (openid, text, answer lost) of every customer-service text WeChat shows, from the
        # server's thread: the simulated followers read their messages as they come
        self.on_service: Callable[[str, str, bool], None] | None = None
        self.media = itertools.count(1)
        # followers who did not accept the subscribe message (bizsend answers 43101)
        self.subscribe_refused: set[str] = set()
        self.unfollowed: set[str] = set()  # customer service answers 43004 (not a follower)
        self.expired_media: set[str] = set()  # media/get answers 40007 (WeChat deleted it)
        self.media_delay = 0.0  # seconds media/get takes (a slow picture download)
        self.downloads_started = 0  # media/get requests received (answered or not yet)
        self.verified = False  # a verified service account may make permanent QR codes
        self.qr_codes: dict[str, dict[str, Any]] = {}  # ticket -> scene, url, expire_seconds
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # ----- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> FakeWeChat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/"

    @property
    def wecom_base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/wecom/cgi-bin/"

    # ----- controls -------------------------------------------------------------------------
    def now(self) -> float:
        return time.time() + self.offset

    def interact(self, openid: str) -> None:
        """The follower wrote to the Official Account (WeChat's server saw it)."""
        with self.lock:
            self.interactions[openid] = self.now()
            self.used[openid] = 0

    def invalidate_tokens(self, api: str = "mp", errcode: int = 40001) -> None:
        """Every issued token is refused from now on (40001 invalid, 42001 expired)."""
        with self.lock:
            tokens = self.tokens[api]
            for token in tokens.valid:
                tokens.retired[token] = errcode
            tokens.valid.clear()

    def issued(self, api: str = "mp") -> int:
        return self.tokens[api].issued

    # ----- what was sent ---------------------------------------------------------------------
    def recorded(self, path: str, ok: bool = True) -> list[Call]:
        with self.lock:
            return [
                c
                for c in self.calls
                if c.path == path and (not ok or c.result.get("errcode", 0) == 0)
            ]

    def service_messages(self, openid: str | None = None) -> list[dict[str, Any]]:
        return [
            c.body
            for c in self.recorded("message/custom/send")
            if openid is None or c.body.get("touser") == openid
        ]

    def subscribe_messages(self, openid: str | None = None) -> list[dict[str, Any]]:
        return [
            c.body
            for c in self.recorded("message/subscribe/bizsend")
            if openid is None or c.body.get("touser") == openid
        ]

    def service_texts(self, openid: str) -> list[str]:
        return [
            m["text"]["content"] for m in self.service_messages(openid) if m["msgtype"] == "text"
        ]

    # ----- the server ----------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self, method: str) -> None:
                url = urlsplit(self.path)
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                if fake.delay:
                    time.sleep(fake.delay)
                slow = 0.0
                if fake.delay_range is not None:
                    with fake.lock:
                        slow = fake._delays.uniform(*fake.delay_range)
                    time.sleep(slow / 2)
                path = url.path
                if path.startswith("/wecom/cgi-bin/"):
                    api, endpoint = "wecom", path[len("/wecom/cgi-bin/") :]
                elif path.startswith("/cgi-bin/"):
                    api, endpoint = "mp", path[len("/cgi-bin/") :]
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                ctype = self.headers.get("content-type", "")
                body: Any = raw
                if "json" in ctype or (raw[:1] == b"{"):
                    try:
                        body = json.loads(raw or b"{}")
                    except ValueError:
                        body = raw
                fail = None
                if fake.error_rate and endpoint == "message/custom/send":
                    with fake.lock:
                        if fake._errors_random.random() < fake.error_rate:
                            fake.errors += 1
                            fail = "after" if fake.errors % 2 else "before"
                if fail == "before":
                    time.sleep(slow / 2)
                    self.send_response(502)
                    self.end_headers()
                    return
                result = fake.handle(api, method, endpoint, params, body)
                with fake.lock:
                    fake.calls.append(Call(api, endpoint, params, body, result, fail == "after"))
                shown = endpoint == "message/custom/send" and result.get("errcode", 0) == 0
                if shown and fake.on_service is not None and body.get("msgtype") == "text":
                    text = body["text"]["content"]
                    fake.on_service(body.get("touser", ""), text, fail == "after")
                time.sleep(slow / 2)
                if fail == "after":  # executed: the follower sees it, we get a 502
                    self.send_response(502)
                    self.end_headers()
                    return
                if isinstance(result, bytes):  # a file (media/get, showqrcode)
                    self.send_response(200)
                    png = result.startswith(b"\x89PNG")
                    self.send_header("content-type", "image/png" if png else "image/jpeg")
                    self.send_header("content-length", str(len(result)))
                    self.end_headers()
                    self.wfile.write(result)
                    return
                data = json.dumps(result).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

        return Handler

    def _token(self, api: str) -> dict[str, Any]:
        tokens = self.tokens[api]
        with self.lock:
            for token in tokens.valid:  # a new token retires the previous ones at once
                tokens.retired[token] = 40001
            tokens.valid.clear()
            token = f"{api}-token-{next(tokens.seq)}"
            tokens.valid.add(token)
            tokens.issued += 1
        return {"access_token": token, "expires_in": 7200}

    def _check_token(self, api: str, params: dict[str, str]) -> dict[str, Any] | None:
        token = params.get("access_token", "")
        tokens = self.tokens[api]
        with self.lock:
            if token in tokens.valid:
                return None
            code = tokens.retired.get(token, 40001)
        return {"errcode": code, "errmsg": "invalid credential" if code == 40001 else "expired"}

    def handle(
        self, api: str, method: str, endpoint: str, params: dict[str, str], body: Any
    ) -> Any:
        if api == "mp" and endpoint == "token":
            if params.get("appid") != APP_ID or params.get("secret") != APP_SECRET:
                return {"errcode": 40013, "errmsg": "invalid appid"}
            return self._token(api)
        if api == "wecom" and endpoint == "gettoken":
            if params.get("corpid") != CORP_ID or params.get("corpsecret") != CORP_SECRET:
                return {"errcode": 40013, "errmsg": "invalid corpid"}
            return self._token(api)
        if api == "wecom" and endpoint == "webhook/send":
            return self._robot(params.get("key", ""), body)
        if api == "mp" and endpoint == "showqrcode":  # on mp.weixin.qq.com: no token
            return self._show_qr(params.get("ticket", ""))
        refused = self._check_token(api, params)
        if refused:
            return refused
        if api == "mp" and endpoint == "qrcode/create":
            return self._create_qr(body)
        if api == "mp" and endpoint == "media/get":
            media = params.get("media_id", "")
            if not media.startswith("media-") or media in self.expired_media:
                return {"errcode": 40007, "errmsg": "invalid media_id"}
            with self.lock:
                self.downloads_started += 1
            time.sleep(self.media_delay)  # this request's own server thread
            return media_bytes(media)
        if endpoint == "media/upload":
            if not isinstance(body, bytes) or b"\x89PNG" not in body:
                return {"errcode": 40004, "errmsg": "invalid media type"}
            return {"type": "image", "media_id": f"{api}-media-{next(self.media)}"}
        if api == "mp" and endpoint == "message/custom/send":
            return self._service(body)
        if api == "mp" and endpoint == "message/subscribe/bizsend":
            return self._subscribe(body)
        if api == "mp" and endpoint == "message/template/send":
            return {"errcode": 0, "errmsg": "ok", "msgid": next(self.media)}
        if api == "wecom" and endpoint == "appchat/send":
            if body.get("chatid") not in self.appchats:
                return {"errcode": 86003, "errmsg": "chat not found"}
            return {"errcode": 0, "errmsg": "ok"}
        return {"errcode": 40000, "errmsg": f"unknown endpoint {endpoint}"}

    def _service(self, body: dict[str, Any]) -> dict[str, Any]:
        openid = body.get("touser", "")
        with self.lock:
            if openid in self.busy:
                return {"errcode": -1, "errmsg": "system error"}
            if openid in self.unfollowed:
                return {"errcode": 43004, "errmsg": "require subscribe"}
            last = self.interactions.get(openid)
            if last is None or self.now() - last > self.window:
                return {"errcode": 45015, "errmsg": "response out of time limit"}
            if self.used.get(openid, 0) >= self.quota:
                return {"errcode": 45047, "errmsg": "out of response count limit"}
            self.used[openid] = self.used.get(openid, 0) + 1
        return {"errcode": 0, "errmsg": "ok"}

    def _subscribe(self, body: dict[str, Any]) -> dict[str, Any]:
        """A subscribe message: the follower must have accepted it; a keyword's value must fit
        its type (thing: 20 characters) and hold no line break."""
        if body.get("touser") in self.subscribe_refused:
            return {"errcode": 43101, "errmsg": "user refuse to accept the msg"}
        if not body.get("template_id") or not isinstance(body.get("data"), dict):
            return {"errcode": 47003, "errmsg": "argument invalid!"}
        for name, field_ in body["data"].items():
            value = str(field_.get("value", ""))
            too_long = name.startswith("thing") and len(value) > 20
            if too_long or any(not ch.isprintable() for ch in value):
                return {"errcode": 47003, "errmsg": f"argument invalid! data.{name}.value invalid"}
        return {"errcode": 0, "errmsg": "ok", "msgid": next(self.media)}

    def _create_qr(self, body: Any) -> dict[str, Any]:
        """A parametric QR code with a string scene, as WeChat checks it."""
        action = body.get("action_name") if isinstance(body, dict) else None
        scene = (body.get("action_info") or {}).get("scene", {}).get("scene_str", "")
        if action not in ("QR_STR_SCENE", "QR_LIMIT_STR_SCENE") or not 1 <= len(scene) <= 64:
            return {"errcode": 40097, "errmsg": "invalid args"}
        if action == "QR_LIMIT_STR_SCENE" and not self.verified:
            return {"errcode": 48001, "errmsg": "api unauthorized"}
        seconds = body.get("expire_seconds", 30) if action == "QR_STR_SCENE" else None
        if seconds is not None and not 60 <= int(seconds) <= 2592000:
            return {"errcode": 40097, "errmsg": "invalid expire_seconds"}
        with self.lock:
            n = len(self.qr_codes) + 1
            ticket = f"gQ{n:06d}" + "".join(random.choices(string.ascii_letters, k=20))
            url = f"http://weixin.qq.com/q/fake{n:06d}"
            self.qr_codes[ticket] = {"scene": scene, "url": url, "expire_seconds": seconds}
        result: dict[str, Any] = {"ticket": ticket, "url": url}
        if seconds is not None:
            result["expire_seconds"] = int(seconds)
        return result

    def _show_qr(self, ticket: str) -> Any:
        """The code's picture: a real QR code of its URL (a scan would open it)."""
        import io

        import segno

        found = self.qr_codes.get(ticket)
        if found is None:
            return {"errcode": 40001, "errmsg": "invalid ticket"}
        buf = io.BytesIO()
        segno.make(found["url"], error="m").save(buf, kind="png", scale=8, border=4)
        return buf.getvalue()

    def scene_of(self, url: str) -> str | None:
        """The scene of the code that encodes `url` (what WeChat hands the bot on a scan)."""
        with self.lock:
            return next((c["scene"] for c in self.qr_codes.values() if c["url"] == url), None)

    def _robot(self, key: str, body: Any) -> dict[str, Any]:
        if key not in self.robot_keys:
            return {"errcode": 93000, "errmsg": "invalid webhook url"}
        msgtype = body.get("msgtype") if isinstance(body, dict) else None
        if msgtype == "markdown" and len(body["markdown"]["content"].encode()) > 4096:
            return {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}
        if msgtype == "image":
            data = base64.b64decode(body["image"]["base64"])
            if hashlib.md5(data).hexdigest() != body["image"]["md5"]:
                return {"errcode": 301019, "errmsg": "media md5 not match"}
        with self.lock:
            posts = self.robot_posts.setdefault(key, collections.deque())
            now = time.monotonic()
            while posts and now - posts[0] >= 60:
                posts.popleft()
            if len(posts) >= self.robot_per_minute:
                return {"errcode": 45009, "errmsg": "api freq out of limit"}
            posts.append(now)
        return {"errcode": 0, "errmsg": "ok"}


# ----- WeChat's side of the callback --------------------------------------------------------------
def media_bytes(media_id: str) -> bytes:
    """The picture a follower sent as `media_id` (what media/get serves)."""
    return b"\xff\xd8\xff fake wechat jpeg " + media_id.encode()


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def message_xml(openid: str, msg_type: str, created: int, **fields: str) -> str:
    """A callback body as WeChat's server writes it (plaintext form)."""
    parts = [
        f"<ToUserName>{_cdata(ACCOUNT)}</ToUserName>",
        f"<FromUserName>{_cdata(openid)}</FromUserName>",
        f"<CreateTime>{created}</CreateTime>",
        f"<MsgType>{_cdata(msg_type)}</MsgType>",
    ]
    for name, value in fields.items():
        parts.append(f"<{name}>{value if name == 'MsgId' else _cdata(value)}</{name}>")
    return "<xml>" + "".join(parts) + "</xml>"


# WeChat's MsgIds are unique: one sequence for every simulated server of the test run (a bot
# "restarted" in a test meets a new server, whose messages must not look like resends).
_MSG_IDS = itertools.count(int(time.time()) * 1000)


def _sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


class WeChatServer:
    """Posts callbacks to our app as WeChat does, and reads the passive replies back."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        safe: bool,
        fake: FakeWeChat | None = None,
        token: str = TOKEN,
        app_id: str = APP_ID,
        aes_key: str = AES_KEY,
        path: str = "/wechat",
    ) -> None:
        self.http = http
        self.safe = safe
        self.fake = fake
        self.token, self.app_id, self.aes_key, self.path = token, app_id, aes_key, path
        self.msg_ids = _MSG_IDS

    def signed(
        self, body: str, timestamp: int | None = None, nonce: str | None = None
    ) -> tuple[dict[str, str], bytes]:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        nonce = nonce or "".join(random.choices(string.digits, k=10))
        params = {"signature": _sign(self.token, ts, nonce), "timestamp": ts, "nonce": nonce}
        if not self.safe:
            return params, body.encode()
        encrypt = (
            PrpCrypto(base64.b64decode(self.aes_key + "=")).encrypt(body, self.app_id).decode()
        )
        params |= {"encrypt_type": "aes", "msg_signature": _sign(self.token, ts, nonce, encrypt)}
        outer = (
            f"<xml><ToUserName>{_cdata(ACCOUNT)}</ToUserName>"
            f"<Encrypt>{_cdata(encrypt)}</Encrypt></xml>"
        )
        return params, outer.encode()

    async def post(self, body: str, **kw: Any) -> httpx.Response:
        params, data = self.signed(body, **kw)
        return await self.http.post(self.path, params=params, content=data)

    def reply_text(self, response: httpx.Response) -> str | None:
        """The passive reply's Content (decrypted and its signature checked in safe mode)."""
        text = response.text
        if response.status_code != 200 or text in ("", "success"):
            return None
        if self.safe:
            import xmltodict

            outer = xmltodict.parse(text)["xml"]
            crypto = WeChatCrypto(self.token, self.aes_key, self.app_id)
            text = crypto.decrypt_message(
                text, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"]
            )
        import xmltodict

        content = xmltodict.parse(text)["xml"].get("Content")
        return str(content or "")


class Follower:
    """One WeChat user talking to the Official Account."""

    def __init__(self, server: WeChatServer, openid: str) -> None:
        self.server = server
        self.openid = openid
        self.seen: list[str] = []  # every text shown to the follower, in order
        self.passive = 0
        self.late = 0

    def _created(self) -> int:
        return int(time.time())

    async def send(self, msg_type: str, wait: float = 15.0, **fields: str) -> str:
        fake = self.server.fake
        before = len(fake.service_texts(self.openid)) if fake else 0
        if fake:
            fake.interact(self.openid)
        if msg_type != "event":
            fields.setdefault("MsgId", str(next(self.server.msg_ids)))
        body = message_xml(self.openid, msg_type, self._created(), **fields)
        response = await self.server.post(body)
        assert response.status_code == 200, response.text
        text = self.server.reply_text(response)
        if text is not None:
            self.passive += 1
        elif fake is not None:  # answered later as a customer-service message
            deadline = time.monotonic() + wait
            while len(fake.service_texts(self.openid)) <= before and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            late = fake.service_texts(self.openid)[before:]
            text = "\n".join(late) if late else ""
            self.late += bool(late)
        self.seen.append(text or "")
        return text or ""

    async def say(self, line: str) -> str:
        if line.startswith("/photo"):
            return await self.send(
                "image", PicUrl="http://mmbiz.example/pic", MediaId=f"media-{line[6:].strip()}"
            )
        return await self.send("text", Content=line)

    async def run(self, lines: list[str]) -> list[str]:
        return [await self.say(line) for line in lines]

    async def follow(self, scene: str = "") -> str:
        return await self.send(
            "event", Event="subscribe", EventKey=f"qrscene_{scene}" if scene else ""
        )

    async def scan(self, scene: str) -> str:
        """A follower scans a parametric QR code (WeChat sends SCAN, the scene as it is)."""
        return await self.send("event", Event="SCAN", EventKey=scene, Ticket="t")


# ----- our bot on the fake, in the test's event loop ---------------------------------------------
@dataclass
class Harness:
    runtime: Any  # bot.channels.wechat.run.WeChatRuntime
    server: WeChatServer
    fake: FakeWeChat

    def follower(self, openid: str) -> Follower:
        return Follower(self.server, openid)

    async def deliver(self) -> int:
        """Runs the outbox until nothing is due (the background loop does it too)."""
        return int(await self.runtime.deliver())


def settings_for(fake: FakeWeChat, safe: bool, wecom: bool = True) -> Any:
    from pydantic import SecretStr

    from bot.settings import Settings

    return Settings(
        wechat_token=SecretStr(TOKEN),
        wechat_app_id=APP_ID,
        wechat_app_secret=SecretStr(APP_SECRET),
        wechat_aes_key=SecretStr(AES_KEY) if safe else None,
        wechat_api_base_url=fake.base_url,
        wecom_corp_id=CORP_ID if wecom else None,
        wecom_secret=SecretStr(CORP_SECRET) if wecom else None,
        wecom_agent_id="1000002",
        wecom_api_base_url=fake.wecom_base_url,
    )


@contextlib.asynccontextmanager
async def wechat_bot(
    core: Any, fake: FakeWeChat, safe: bool, interval: float | None = 0.05, **settings: Any
) -> AsyncIterator[Harness]:
    """The bot's WeChat runtime and web app, reached through httpx's ASGI transport; the
    outbox is polled every `interval` seconds (and at once when a late reply wakes it), or
    (None) only when the test calls `deliver`; `settings` change the bot's settings (e.g.
    public_base_url)."""
    from bot.channels.wechat.run import build
    from bot.web import create_app

    runtime = build(core, settings_for(fake, safe).model_copy(update=settings))
    app = create_app(runtime.channel.routes())
    transport = httpx.ASGITransport(app=app)
    idle = asyncio.Event()  # never set: a loop that delivers nothing
    loop = asyncio.ensure_future(
        idle.wait() if interval is None else runtime.deliver_forever(interval)
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://bot.test") as http:
        try:
            yield Harness(runtime, WeChatServer(http, safe, fake), fake)
        finally:
            await runtime.channel.idle()
            await runtime.deliver()
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop
            await runtime.close()
