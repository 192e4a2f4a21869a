"""A WeChat callback's fields as the core's neutral Incoming.

Pictures arrive as WeChat's MediaId (`wechat:<MediaId>`); the channel copies the picture to
our storage before the step (bot/channels/files.py: WeChat keeps temporary media for 3 days)
and keeps the MediaId only if that copy fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.channels.wechat.protocol import Malformed, require
from bot.core.messages import Incoming

CHANNEL = "wechat"
NOT_TEXT = {"voice", "video", "shortvideo", "location", "link", "file", "music", "miniprogrampage"}


@dataclass(frozen=True)
class Callback:
    """What one callback asks of us: who, the dedupe key, and the Incoming (None: an event
    that needs no answer, like unsubscribe or a template delivery report)."""

    openid: str
    account: str  # our Official Account's original id (gh_...): the reply's FromUserName
    key: str
    incoming: Incoming | None
    interaction: bool  # opens the customer-service window (everything but unsubscribe)


def callback(fields: dict[str, str]) -> Callback:
    require(fields, "ToUserName", "FromUserName", "CreateTime", "MsgType")
    openid, account = fields["FromUserName"][:100], fields["ToUserName"][:100]
    kind = fields["MsgType"].lower()
    if not fields["CreateTime"].isdigit():
        raise Malformed("CreateTime")
    # WeChat's own retry key: MsgId for messages, sender + CreateTime for events
    key = f"msg:{fields['MsgId']}" if fields.get("MsgId") else f"ev:{openid}:{fields['CreateTime']}"
    common: dict[str, Any] = {"chat_id": openid, "message_id": fields.get("MsgId")}
    if kind == "text":
        if "Content" not in fields:
            raise Malformed("missing Content")
        inc = Incoming.from_text(CHANNEL, openid, fields["Content"], **common)
        return Callback(openid, account, key, inc, True)
    if kind == "image":
        require(fields, "MediaId")
        inc = Incoming(CHANNEL, openid, photo=f"wechat:{fields['MediaId'][:200]}", **common)
        return Callback(openid, account, key, inc, True)
    if kind == "event":
        require(fields, "Event")
        return _event(fields, openid, account, key)
    return Callback(
        openid,
        account,
        key,
        Incoming(CHANNEL, openid, unsupported=kind if kind in NOT_TEXT else "other", **common),
        True,
    )


def _event(fields: dict[str, str], openid: str, account: str, key: str) -> Callback:
    event = fields["Event"].lower()
    key = f"{key}:{event}"
    scene = fields.get("EventKey", "")[:100]
    if event in ("subscribe", "scan"):
        # a unit's recommendation QR code: qrscene_rec_TOKEN when following, rec_TOKEN when
        # already following; the core's /start attaches the streamer to the unit
        scene = scene.removeprefix("qrscene_")
        inc = Incoming(CHANNEL, openid, openid, command="start", args=scene)
        return Callback(openid, account, key, inc, True)
    if event == "click" and scene.startswith("/"):  # a custom menu item that types a command
        return Callback(openid, account, key, Incoming.from_text(CHANNEL, openid, scene), True)
    return Callback(openid, account, key, None, event != "unsubscribe")
