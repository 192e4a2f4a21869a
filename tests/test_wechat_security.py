"""Hostile and broken callbacks: refused with 403 (not from WeChat) or 400 (broken), 413 when
too large; never a 500, and nothing is stored or processed."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from collections.abc import Awaitable, Callable

import httpx
import pytest
import xmltodict
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from wechatpy.crypto import PrpCrypto

from bot.core.dispatcher import Core
from models import Identity
from models.wechat import WeChatInbound
from tests import flows
from tests.fake_wechat import (
    AES_KEY,
    APP_ID,
    TOKEN,
    FakeWeChat,
    Harness,
    WeChatServer,
    message_xml,
    wechat_bot,
)

pytestmark = pytest.mark.fake("wechat")


def _sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def run(
    core: Core, fake: FakeWeChat, safe: bool, body: Callable[[Harness], Awaitable[None]]
) -> None:
    async def scenario() -> None:
        async with wechat_bot(core, fake, safe) as bot:
            await body(bot)

    asyncio.run(scenario())


def nothing_stored(db: Engine) -> None:
    with Session(db) as session:
        assert session.scalar(select(func.count()).select_from(Identity)) == 0
        assert session.scalar(select(func.count()).select_from(WeChatInbound)) == 0


TEXT = message_xml("o_mallory", "text", 1_700_000_000, Content="/start", MsgId="1")


async def post_raw(bot: Harness, params: dict[str, str], body: bytes) -> httpx.Response:
    return await bot.server.http.post("/wechat", params=params, content=body)


def test_url_verification_echoes_only_when_signed(core: Core, fake: FakeWeChat) -> None:
    async def body(bot: Harness) -> None:
        ts, nonce = str(int(time.time())), "123456"
        good = {"signature": _sign(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce}
        ok = await bot.server.http.get("/wechat", params={**good, "echostr": "e-1234"})
        assert (ok.status_code, ok.text) == (200, "e-1234")
        bad = {**good, "signature": "0" * 40, "echostr": "e-1234"}
        assert (await bot.server.http.get("/wechat", params=bad)).status_code == 403

    run(core, fake, True, body)


@pytest.mark.parametrize("safe", [False, True], ids=["plaintext", "safe"])
def test_wrong_signature_and_stale_or_future_timestamps_are_403(
    core: Core, fake: FakeWeChat, db: Engine, safe: bool
) -> None:
    async def body(bot: Harness) -> None:
        params, data = bot.server.signed(TEXT)
        for name in ("signature", *(["msg_signature"] if safe else [])):
            wrong = {**params, name: _sign("not-the-token", params["timestamp"], "1")}
            assert (await post_raw(bot, wrong, data)).status_code == 403
            missing = {k: v for k, v in params.items() if k != name}
            assert (await post_raw(bot, missing, data)).status_code == 403
        for skew in (-3600, 3600):  # an hour old, an hour ahead: replayed or forged
            r = await bot.server.post(TEXT, timestamp=int(time.time()) + skew)
            assert r.status_code == 403
        r = await post_raw(bot, {**params, "timestamp": "soon"}, data)
        assert r.status_code == 403

    run(core, fake, safe, body)
    nothing_stored(db)


def test_wrong_appid_is_403_and_bad_ciphertext_400(
    core: Core, fake: FakeWeChat, db: Engine
) -> None:
    async def body(bot: Harness) -> None:
        other_app = WeChatServer(bot.server.http, True, app_id="wx_someone_else")
        assert (await other_app.post(TEXT)).status_code == 403
        # a different EncodingAESKey: the plaintext is garbage, not a foreign AppID
        other_key = WeChatServer(bot.server.http, True, aes_key="Z" * 43)
        assert (await other_key.post(TEXT)).status_code == 400
        for encrypt in ("not base64 !!", base64.b64encode(b"short").decode(), ""):
            ts, nonce = str(int(time.time())), "42"
            params = {
                "signature": _sign(TOKEN, ts, nonce),
                "timestamp": ts,
                "nonce": nonce,
                "encrypt_type": "aes",
                "msg_signature": _sign(TOKEN, ts, nonce, encrypt),
            }
            xml = f"<xml><ToUserName>gh</ToUserName><Encrypt>{encrypt}</Encrypt></xml>"
            assert (await post_raw(bot, params, xml.encode())).status_code == 400

    run(core, fake, True, body)
    nothing_stored(db)


def test_plaintext_is_refused_when_safe_mode_is_configured(
    core: Core, fake: FakeWeChat, db: Engine
) -> None:
    async def body(bot: Harness) -> None:
        plain = WeChatServer(bot.server.http, False)  # signed correctly, but not encrypted
        assert (await plain.post(TEXT)).status_code == 403

    run(core, fake, True, body)
    nothing_stored(db)


@pytest.mark.parametrize("safe", [False, True], ids=["plaintext", "safe"])
def test_malformed_xml_missing_fields_and_entities_are_400(
    core: Core, fake: FakeWeChat, db: Engine, safe: bool
) -> None:
    bodies = [
        "<xml><ToUserName>",  # cut off
        "not xml at all",
        "<xml><a><b>nested</b></a></xml>",
        "<other/>",
        message_xml("o_m", "text", 1_700_000_000, MsgId="3"),  # no Content
        "<xml><MsgType>text</MsgType><Content>hi</Content></xml>",  # no sender
        message_xml("o_m", "text", 0, Content="x", MsgId="4").replace(
            "<CreateTime>0", "<CreateTime>x"
        ),
        # billion laughs and an external entity
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
        "<xml><ToUserName>a</ToUserName><FromUserName>&lol2;</FromUserName>"
        "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>",
        '<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><Content>&x;</Content></xml>',
    ]

    async def body(bot: Harness) -> None:
        for xml in bodies:
            r = await bot.server.post(xml)
            assert r.status_code == 400, xml
        params, _ = bot.server.signed(TEXT)
        if not safe:  # bytes that are not UTF-8
            assert (await post_raw(bot, params, b"<xml>\xff\xfe</xml>")).status_code == 400

    run(core, fake, safe, body)
    nothing_stored(db)


def test_a_body_over_the_limit_is_refused(core: Core, fake: FakeWeChat, db: Engine) -> None:
    async def body(bot: Harness) -> None:
        huge = message_xml("o_m", "text", 1_700_000_000, Content="字" * 30_000, MsgId="5")
        r = await bot.server.post(huge)
        assert r.status_code == 413

    run(core, fake, False, body)
    nothing_stored(db)


@pytest.mark.parametrize("safe", [False, True], ids=["plaintext", "safe"])
def test_user_text_cannot_break_the_passive_reply(core: Core, fake: FakeWeChat, safe: bool) -> None:
    account = "a]]><MsgType>news</MsgType>&amp;<!--"

    async def body(bot: Harness) -> None:
        eve = bot.follower("o_eve")
        replies = await eve.run([*flows.STREAMER_HEAD, account])
        # the next question came back as one well-formed text reply; the summary later
        # echoes the account name verbatim
        assert replies[-1]
        lines = flows.streamer_lines("x")[8:]
        summary = (await eve.run(lines))[-1]
        assert account in summary
        # a 10,000-character message and emoji: a polite answer, never a 500
        long = await eve.say("😀" * 10_000)
        assert long

    run(core, fake, safe, body)


def test_the_reply_is_encrypted_and_signed_in_safe_mode(core: Core, fake: FakeWeChat) -> None:
    async def body(bot: Harness) -> None:
        r = await bot.server.post(TEXT)
        outer = xmltodict.parse(r.text)["xml"]
        assert set(outer) == {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}
        assert outer["MsgSignature"] == _sign(
            TOKEN, outer["TimeStamp"], outer["Nonce"], outer["Encrypt"]
        )
        inner = PrpCrypto(base64.b64decode(AES_KEY + "=")).decrypt(outer["Encrypt"], APP_ID)
        assert "<MsgType><![CDATA[text]]></MsgType>" in inner

    run(core, fake, True, body)
