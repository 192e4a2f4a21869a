"""WeChat's callback protocol: signatures, safe mode (AES), parsing and building the XML.

Written against WeChat's documentation rather than wechatpy's helpers where those fall short of
what a public endpoint needs: wechatpy compares signatures with `!=` (not constant time), lets
a wrong key pass as a "wrong AppID", and puts user text into CDATA without escaping `]]>`.
The cipher is WeChat's (AES-256-CBC, IV = key[:16], PKCS#7 to 32 bytes), on `cryptography`
directly, set up once per key rather than per message.

Every message passes here twice (its callback, its passive reply), so the XML is read by expat
directly into the flat dict we need (xmltodict's general tree cost several times more), with
the same refusals: any DTD or entity declaration, anything not UTF-8.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import struct
import time
from xml.parsers import expat

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


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
    outright (billion laughs, external entities), so is anything not UTF-8; an element with
    attributes, children or a repeated name is left out (we use none: e.g. ScanCodeInfo)."""
    head = body[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in body.lower():
        raise Malformed("DTD or entity declaration")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Malformed(f"XML: {exc}") from None
    return _Flat().read(text)


def _refuse(*args: object) -> None:
    raise Malformed("DTD or entity declaration")


class _Flat:
    """One document's <xml> root and its simple children: text (whitespace around it
    stripped, CDATA included) by name."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}
        self.left_out: set[str] = set()
        self.depth = 0
        self.name = ""
        self.simple = True
        self.text: list[str] = []

    def read(self, text: str) -> dict[str, str]:
        parser = expat.ParserCreate()
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = _refuse
        parser.EntityDeclHandler = _refuse
        parser.UnparsedEntityDeclHandler = _refuse
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.data
        parser.buffer_text = True
        try:
            parser.Parse(text, True)
        except expat.ExpatError as exc:
            raise Malformed(f"XML: {exc}") from None
        if not self.fields and not self.left_out:
            raise Malformed("no <xml> root")
        return self.fields

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        if self.depth == 1 and name != "xml":
            raise Malformed("no <xml> root")
        if self.depth == 2:
            self.name, self.simple, self.text = name, not attrs, []
        elif self.depth > 2:
            self.simple = False

    def end(self, name: str) -> None:
        if self.depth == 2:
            if not self.simple or name in self.left_out:
                self.left_out.add(name)
            elif name in self.fields:  # a repeated name: a list, not a field
                del self.fields[name]
                self.left_out.add(name)
            else:
                self.fields[name] = "".join(self.text).strip()
        self.depth -= 1

    def data(self, text: str) -> None:
        if self.depth == 2:
            self.text.append(text)


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
        self._from = app_id.encode()
        self._cipher = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def decrypt(self, encrypt: str) -> bytes:
        """The inner XML. A ciphertext that does not decrypt to WeChat's layout is Malformed;
        one that does but names another AppID is Refused."""
        try:
            raw = base64.b64decode(encrypt, validate=True)
            if not raw or len(raw) % 16:
                raise ValueError("length")
            decryptor = self._cipher.decryptor()
            plain = decryptor.update(raw) + decryptor.finalize()
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
        if not hmac.compare_digest(from_id, self._from):
            raise Refused("AppID")
        return xml

    def encrypt(self, xml: str, nonce: str, timestamp: str) -> str:
        body = xml.encode()
        plain = os.urandom(8).hex().encode() + struct.pack(">I", len(body)) + body + self._from
        pad = 32 - len(plain) % 32  # PKCS#7 to WeChat's 32-byte blocks
        plain += bytes([pad]) * pad
        encryptor = self._cipher.encryptor()
        encrypt = base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()
        sig = signature(self.token, timestamp, nonce, encrypt)
        return (
            f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt>"
            f"<MsgSignature><![CDATA[{sig}]]></MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
        )


# characters XML 1.0 forbids: controls other than tab and line ends, lone surrogates, U+FFFE/F
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def cdata(text: str) -> str:
    """Text in CDATA that stays one text node whatever it contains: each `]]>` is split
    across two sections, and characters XML 1.0 forbids are dropped."""
    clean = _NOT_XML.sub("", text)
    return "<![CDATA[" + clean.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(to_user: str, from_user: str, content: str, now: float | None = None) -> str:
    created = int(now if now is not None else time.time())
    return (
        f"<xml><ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{cdata(content)}</Content></xml>"
    )
