"""The neutral vocabulary between channels and the core: what came in, what goes out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Any

_COMMAND = re.compile(r"^/([A-Za-z_][A-Za-z0-9_]{0,31})(?:@[A-Za-z0-9_]+)?(?:\s+(.*))?$", re.S)


@dataclass(frozen=True)
class Incoming:
    """One thing a person did: typed text, a command, a button press, a photo or a contact."""

    channel: str  # console | telegram | wechat
    user_id: str
    chat_id: str
    chat_kind: str = "private"  # private | group
    text: str | None = None
    command: str | None = None  # lower case, without the slash and any @botname
    args: str = ""
    button: str | None = None  # callback data of a pressed button
    photo: str | None = None  # channel file id of a picture (evidence, attachment)
    contact: str | None = None  # phone number shared through the channel's contact button
    # a file sent (a filled-in sheet, a scan): our stored copy's path, or the platform's id
    # when it could not be copied; with the name it was sent under
    document: str | None = None
    document_name: str | None = None
    unsupported: str | None = None  # sticker, voice, location...: we ask for text instead
    message_id: str | None = None
    display_name: str = ""
    language: str | None = None  # the client's language hint, if the channel has one
    # It arrived before the chat's latest question was handed to the platform (the channel
    # knows: bot/core/answers.py), so typed text answers the question before that one.
    early: bool = False
    # The question before the open one may have been shown twice (a retried send), and this
    # is the first answer since: it may be a second answer to that one.
    after_double: bool = False

    def to_payload(self) -> dict[str, Any]:
        """Every field as plain JSON values (a message stored for a later step)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Incoming:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def from_text(cls, channel: str, user_id: str, text: str, **kw: Any) -> Incoming:
        """Text as typed; '/cmd@bot args' becomes a command."""
        kw.setdefault("chat_id", user_id)
        match = _COMMAND.match(text.strip())
        if match:
            return cls(
                channel, user_id, command=match[1].lower(), args=(match[2] or "").strip(), **kw
            )
        return cls(channel, user_id, text=text, **kw)


@dataclass(frozen=True)
class Button:
    label: str
    data: str  # at most 64 bytes (Telegram's limit for callback data)


@dataclass(frozen=True)
class Reply:
    """One message to show. Channels render buttons natively or as a numbered list."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    numbered: bool = False  # the buttons are choices: a bare number picks one
    request_contact: bool = False  # offer the channel's "share my phone number" button
    image_path: str | None = None
    document_path: str | None = None
    # (label, payload): a link that starts the bot with this payload, to be passed on to
    # someone else (an invitation, a unit's recommendation link), for channels that have such
    # links (Telegram: a share button for t.me/<bot>?start=payload); the text itself always
    # says what to send (/start payload), so channels without them lose nothing.
    start_link: tuple[str, str] | None = None
    # Which question this message asks (a form's field, its summary), for channels that track
    # when each question was first shown (bot/core/answers.py); None: not a question.
    question: str | None = None
    # The message whose step gave this reply, when it is sent later by the outbox (a late
    # WeChat reply): a later step's reply supersedes it (bot/core/answers.py).
    step: str | None = None
    # It tells of something the step stored (a corrected answer, a submitted form), not only
    # of the question or an error: still worth telling if the question it came with is no
    # longer the one to answer. Not stored (the channel reads it from the step's replies).
    news: bool = False
    # A message sent by the outbox that asks a question: what else it says that is news, sent
    # alone if the question is superseded (bot/core/delivery.py).
    aside: str | None = None

    def flat_buttons(self) -> list[Button]:
        return [b for row in self.buttons for b in row]

    def to_payload(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "buttons": [[[b.label, b.data] for b in row] for row in self.buttons],
            "numbered": self.numbered,
            "request_contact": self.request_contact,
            "image_path": self.image_path,
            "document_path": self.document_path,
            "start_link": list(self.start_link) if self.start_link else None,
            "question": self.question,
            "step": self.step,
            "aside": self.aside,
        }

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Reply:
        rows = tuple(tuple(Button(label, d) for label, d in row) for row in data.get("buttons", []))
        return cls(
            text=data["text"],
            buttons=rows,
            numbered=bool(data.get("numbered")),
            request_contact=bool(data.get("request_contact")),
            image_path=data.get("image_path"),
            document_path=data.get("document_path"),
            start_link=(link[0], link[1]) if (link := data.get("start_link")) else None,
            question=data.get("question"),
            step=data.get("step"),
            aside=data.get("aside"),
        )


@dataclass
class Outgoing:
    """An outbox message handed to a channel's sender."""

    outbox_id: int
    channel: str
    chat_id: str
    reply: Reply
    recipient_name: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
