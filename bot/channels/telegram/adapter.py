"""Telegram updates to the core's neutral Incoming, and neutral Replies to Bot API markup."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from telegram import (
    Update,
)

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
    "document",
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


def migration(update: Update) -> tuple[str, str] | None:
    """(old chat id, new chat id) when a group became a supergroup."""
    message = update.message
    if message is not None and message.migrate_to_chat_id:
        return str(message.chat.id), str(message.migrate_to_chat_id)
    return None


def to_incoming(update: Update, bot_username: str) -> Incoming | None:
    """The neutral input, or None for updates the core has nothing to do with (edits,
    service messages, commands addressed to another bot in a group)."""
    query = update.callback_query
    if query is not None:
        if query.message is None or query.data is None:
            return None
        chat = query.message.chat
        return Incoming(
            CHANNEL,
            str(query.from_user.id),
            chat_id=str(chat.id),
            chat_kind="private" if chat.type == "private" else "group",
            button=query.data,
            message_id=str(query.message.message_id),
            display_name=query.from_user.full_name[:100],
            language=query.from_user.language_code,
        )
    message = update.message
    if message is None or message.from_user is None:
        return None
    user = message.from_user
    common: dict[str, Any] = {
        "chat_id": str(message.chat.id),
        "chat_kind": "private" if message.chat.type == "private" else "group",
        "message_id": str(message.message_id),
        "display_name": user.full_name[:100],
        "language": user.language_code,
    }
    if message.text is not None:
        text = message.text
        first = text.split(maxsplit=1)[0] if text.strip() else ""
        if first.startswith("/") and "@" in first:
            addressed = first.partition("@")[2]
            if addressed.lower() != bot_username.lower():
                return None  # a command for another bot in the same group
        return Incoming.from_text(CHANNEL, str(user.id), text, **common)
    if message.photo:
        largest = max(message.photo, key=lambda p: p.width * p.height)
        return Incoming(CHANNEL, str(user.id), photo=largest.file_id, **common)
    if message.contact is not None:
        return Incoming(CHANNEL, str(user.id), contact=message.contact.phone_number, **common)
    for kind in _UNSUPPORTED:
        if getattr(message, kind, None):
            return Incoming(CHANNEL, str(user.id), unsupported=kind, **common)
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
