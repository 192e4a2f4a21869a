"""Telegram updates to the core's neutral Incoming, and neutral Replies to Bot API markup."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from bot.core.messages import Incoming, Reply

CHANNEL = "telegram"
# Message kinds we cannot use as an answer: the core asks for text instead.
_UNSUPPORTED = (
    "sticker",
    "voice",
    "audio",
    "video",
    "video_note",
    "animation",
    "location",
    "venue",
    "poll",
    "dice",
)


def order_key(payload: dict[str, Any]) -> str:
    """Updates with the same key are handled strictly in order: one person's updates."""
    for kind in ("message", "callback_query", "edited_message"):
        body = payload.get(kind)
        if isinstance(body, dict):
            who = body.get("from") or body.get("chat") or {}
            if "id" in who:
                return f"u{who['id']}"
    return f"x{payload.get('update_id')}"


def chat_key(payload: dict[str, Any]) -> str | None:
    """The chat an update came from (its sender's id when it has none)."""
    for kind in ("message", "edited_message", "callback_query"):
        body = payload.get(kind)
        if not isinstance(body, dict):
            continue
        chat = body.get("chat") or (body.get("message") or {}).get("chat") or body.get("from")
        if isinstance(chat, dict) and "id" in chat:
            return str(chat["id"])[:40]
    return None


def private_message_id(payload: dict[str, Any]) -> tuple[str, int] | None:
    """(chat id, message id) of a message in a private chat, else None."""
    body = payload.get("message")
    if not isinstance(body, dict):
        return None
    chat, message_id = body.get("chat"), body.get("message_id")
    if (
        not isinstance(chat, dict)
        or chat.get("type") != "private"
        or not isinstance(message_id, int)
    ):
        return None
    return str(chat.get("id")), message_id


# Updates are read straight from the Bot API's JSON (https://core.telegram.org/bots/api#update):
# building PTB's Update objects cost about a fifth of the bot's CPU per update, for the ten
# fields the core needs.
Json = dict[str, Any]


def _dict(value: object) -> Json:
    return value if isinstance(value, dict) else {}


def full_name(user: Json) -> str:
    """As PTB's User.full_name: first name, then last name when there is one."""
    first, last = str(user.get("first_name") or ""), user.get("last_name")
    return f"{first} {last}" if last else first


def migration(payload: Json) -> tuple[str, str] | None:
    """(old chat id, new chat id) when a group became a supergroup."""
    message = _dict(payload.get("message"))
    if message.get("migrate_to_chat_id"):
        return str(_dict(message.get("chat")).get("id")), str(message["migrate_to_chat_id"])
    return None


def pressed(payload: Json) -> tuple[str, Json] | None:
    """A button press: its callback query id and the message the keyboard was on."""
    query = payload.get("callback_query")
    if not isinstance(query, dict) or "id" not in query:
        return None
    return str(query["id"]), _dict(query.get("message"))


def to_incoming(payload: Json, bot_username: str) -> Incoming | None:
    """The neutral input, or None for updates the core has nothing to do with (edits,
    service messages, commands addressed to another bot in a group)."""
    query = payload.get("callback_query")
    if isinstance(query, dict):
        message, user = _dict(query.get("message")), _dict(query.get("from"))
        chat = _dict(message.get("chat"))
        if not message or query.get("data") is None or "id" not in user or "id" not in chat:
            return None
        return Incoming(
            CHANNEL,
            str(user["id"]),
            chat_id=str(chat["id"]),
            chat_kind="private" if chat.get("type") == "private" else "group",
            button=str(query["data"]),
            message_id=str(message.get("message_id", "")),
            display_name=full_name(user)[:100],
            language=user.get("language_code"),
        )
    message = _dict(payload.get("message"))
    user, chat = _dict(message.get("from")), _dict(message.get("chat"))
    if "id" not in user or "id" not in chat:
        return None
    common: dict[str, Any] = {
        "chat_id": str(chat["id"]),
        "chat_kind": "private" if chat.get("type") == "private" else "group",
        "message_id": str(message.get("message_id", "")),
        "display_name": full_name(user)[:100],
        "language": user.get("language_code"),
    }
    text = message.get("text")
    if isinstance(text, str):
        first = text.split(maxsplit=1)[0] if text.strip() else ""
        if first.startswith("/") and "@" in first:
            addressed = first.partition("@")[2]
            if addressed.lower() != bot_username.lower():
                return None  # a command for another bot in the same group
        return Incoming.from_text(CHANNEL, str(user["id"]), text, **common)
    photos = [p for p in message.get("photo") or [] if isinstance(p, dict) and "file_id" in p]
    if photos:
        largest = max(photos, key=lambda p: int(p.get("width", 0)) * int(p.get("height", 0)))
        return Incoming(CHANNEL, str(user["id"]), photo=str(largest["file_id"]), **common)
    document = _dict(message.get("document"))
    if document.get("file_id"):  # a file: a sheet to import, a stamped scan
        name = str(document.get("file_name") or "")[:200]
        return Incoming(
            CHANNEL,
            str(user["id"]),
            document=str(document["file_id"]),
            document_name=name,
            **common,
        )
    contact = _dict(message.get("contact"))
    if contact.get("phone_number"):
        return Incoming(CHANNEL, str(user["id"]), contact=str(contact["phone_number"]), **common)
    for kind in _UNSUPPORTED:
        if message.get(kind):
            return Incoming(CHANNEL, str(user["id"]), unsupported=kind, **common)
    return None  # service messages: joins, pins, title changes...


# Keyboards as the Bot API's JSON: the channel sends with raw API calls (building PTB objects
# for every keyboard and turning them back into JSON cost a noticeable share of the CPU).
JsonMarkup = dict[str, Any]


def inline_keyboard(reply: Reply, username: str = "") -> JsonMarkup | None:
    rows: list[list[dict[str, str]]] = [
        [{"text": b.label, "callback_data": b.data} for b in row] for row in reply.buttons
    ]
    if reply.start_link and username:
        # Telegram's share dialog with the deep link: the link is for someone else, and
        # tapping the deep link itself would start the bot with it for oneself
        label, payload = reply.start_link
        link = f"https://t.me/{username}?start={payload}"
        rows.append([{"text": label, "url": "https://t.me/share/url?url=" + quote(link, safe="")}])
    return {"inline_keyboard": rows} if rows else None


def link_keyboard(label: str, url: str) -> JsonMarkup:
    return {"inline_keyboard": [[{"text": label, "url": url}]]}


def contact_keyboard(label: str) -> JsonMarkup:
    """Telegram's own "share my phone number" button (private chats only)."""
    return {
        "keyboard": [[{"text": label, "request_contact": True}]],
        "resize_keyboard": True,
        "one_time_keyboard": True,
    }
