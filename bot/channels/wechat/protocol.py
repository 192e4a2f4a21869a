"""WeChat's callback protocol: signatures, safe mode (AES), parsing and building the XML.

Written against WeChat's documentation rather than wechatpy's helpers where those fall short of
what a public endpoint needs: wechatpy compares signatures with `!=` (not constant time), lets
a wrong key pass as a "wrong AppID", and puts user text into CDATA without escaping `]]>`.
Its cipher (AES-256-CBC, IV = key[:16], PKCS#7 to 32 bytes) is used as is.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import socket
import struct
import time
from xml.parsers.expat import ExpatError

import xmltodict
from wechatpy.crypto.base import WeChatCipher
from wechatpy.crypto.pkcs7 import PKCS7Encoder


class Refused(Exception):
    """The request is not from WeChat (signature, AppID, time window, plaintext in safe
    mode): 403, nothing processed."""


class Malformed(Exception):
    """The request is broken (XML, fields, ciphertext): 400, nothing processed."""


def signature(*parts: str) -> str:
    """WeChat's SHA-1 over the sorted, concatenated parts (token, timestamp, nonce[, encrypt])."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def check(expected: str, given: str | None) -> None:
    if not given or not hmac.compare_digest(expected.encode(), given.encode()):
        raise Refused("signature")


def check_time(timestamp: str | None, now: float, window: int) -> None:
    try:
        sent = int(timestamp or "")
    except ValueError:
        raise Refused("timestamp") from None
    if abs(now - sent) > window:
        raise Refused("timestamp outside the window")


def parse_xml(body: bytes) -> dict[str, str]:
    """The flat <xml> element as a dict of strings. Any DTD or entity declaration is refused
    outright (billion laughs, external entities), so is anything nested or not UTF-8."""
    head = body[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in body.lower():
        raise Malformed("DTD or entity declaration")
    try:
        doc = xmltodict.parse(body.decode("utf-8"), disable_entities=True)
    except (ExpatError, ValueError, UnicodeDecodeError) as exc:
        raise Malformed(f"XML: {exc}") from None
    root = doc.get("xml") if isinstance(doc, dict) else None
    if not isinstance(root, dict):
        raise Malformed("no <xml> root")
    fields: dict[str, str] = {}
    for key, value in root.items():
        if value is None:
            fields[key] = ""
        elif isinstance(value, str):
            fields[key] = value
        elif isinstance(value, dict) and set(value) <= {"#text"}:
            fields[key] = str(value.get("#text", ""))
        # nested elements (e.g. ScanCodeInfo) are not used by us: skipped
    return fields


def require(fields: dict[str, str], *names: str) -> None:
    missing = [n for n in names if not fields.get(n)]
    if missing:
        raise Malformed(f"missing {', '.join(missing)}")


class SafeMode:
    """Encryption of messages with the EncodingAESKey (安全模式)."""

    def __init__(self, token: str, aes_key: str, app_id: str) -> None:
        try:
            self.key = base64.b64decode(aes_key + "=")
        except binascii.Error:
            raise ValueError("WECHAT_AES_KEY is not a 43-character EncodingAESKey") from None
        if len(self.key) != 32:
            raise ValueError("WECHAT_AES_KEY is not a 43-character EncodingAESKey")
        self.token = token
        self.app_id = app_id

    def decrypt(self, encrypt: str) -> bytes:
        """The inner XML. A ciphertext that does not decrypt to WeChat's layout is Malformed;
        one that does but names another AppID is Refused."""
        try:
            raw = base64.b64decode(encrypt, validate=True)
            if not raw or len(raw) % 16:
                raise ValueError("length")
            plain = WeChatCipher(self.key).decrypt(raw)
        except (binascii.Error, ValueError) as exc:
            raise Malformed(f"ciphertext: {exc}") from None
        pad = plain[-1]
        if not 1 <= pad <= 32 or len(plain) < 20 + pad:
            raise Malformed("ciphertext padding")
        content = plain[16:-pad]
        (length,) = struct.unpack(">I", content[:4])
        if length > len(content) - 4:
            raise Malformed("ciphertext length")
        xml, from_id = content[4 : 4 + length], content[4 + length :]
        if not hmac.compare_digest(from_id, self.app_id.encode()):
            raise Refused("AppID")
        return xml

    def encrypt(self, xml: str, nonce: str, timestamp: str) -> str:
        body = xml.encode()
        plain = os.urandom(8).hex().encode() + struct.pack(b"I", socket.htonl(len(body)))
        plain += body + self.app_id.encode()
        cipher = WeChatCipher(self.key).encrypt(PKCS7Encoder.encode(plain))
        encrypt = base64.b64encode(cipher).decode()
        sig = signature(self.token, timestamp, nonce, encrypt)
        return (
            f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt>"
            f"<MsgSignature><![CDATA[{sig}]]></MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
        )


def cdata(text: str) -> str:
    """Text in CDATA that stays one text node whatever it contains: each `]]>` is split
    across two sections, and characters XML 1.0 forbids are dropped."""
    clean = "".join(c for c in text if c in "\t\n\r" or ord(c) >= 0x20)
    clean = "".join(c for c in clean if not 0xD800 <= ord(c) <= 0xDFFF and c not in "\ufffe\uffff")
    return "<![CDATA[" + clean.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(to_user: str, from_user: str, content: str, now: float | None = None) -> str:
    created = int(now if now is not None else time.time())
    return (
        f"<xml><ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{cdata(content)}</Content></xml>"
    )
