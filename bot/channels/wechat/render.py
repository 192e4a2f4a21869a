"""Replies as a WeChat text: numbered choices exactly like the console (an Official Account
chat has no inline buttons; the core accepts the number or the label), pictures apart."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from bot.channels.console import render as console_render
from bot.channels.file_links import FileLinks
from bot.core.i18n import translate
from bot.core.messages import Reply


def as_text(
    replies: Iterable[Reply], locale: str | None = None, links: FileLinks | None = None
) -> str:
    """The words of one step; a picture goes as its own message (see pictures), a document
    cannot be sent by an Official Account: it becomes a signed download link where the bot
    has a public address and the file may be linked (a certificate), else a note."""
    shown: list[Reply] = []
    for reply in replies:
        if reply.document_path:
            url = links.link(reply.document_path) if links is not None else None
            if url is not None:
                assert links is not None
                note = translate(locale, "wechat.document_link", url=url, hours=f"{links.hours:g}")
            else:
                note = translate(locale, "wechat.no_documents")
            reply = dataclasses.replace(reply, text=f"{reply.text}\n{note}".strip())
        if reply.text or reply.buttons:
            # no contact button on WeChat: the phone number is typed
            shown.append(
                dataclasses.replace(
                    reply, image_path=None, document_path=None, request_contact=False
                )
            )
    if not shown:
        return ""
    return console_render(shown).rstrip()


def pictures(replies: Iterable[Reply]) -> list[str]:
    return [r.image_path for r in replies if r.image_path]


def fit_bytes(text: str, limit: int, tail: str = "…") -> str:
    """Cuts text to at most `limit` UTF-8 bytes without splitting a character."""
    data = text.encode()
    if len(data) <= limit:
        return text
    cut = data[: limit - len(tail.encode())].decode("utf-8", "ignore")
    return cut + tail


def chunks(text: str, limit: int) -> list[str]:
    """Text in pieces of at most `limit` UTF-8 bytes, cut between lines where possible
    (WeChat takes about 2048 bytes per text message)."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate.encode()) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        while len(line.encode()) > limit:  # one line longer than a message
            head = fit_bytes(line, limit, tail="")
            pieces.append(head)
            line = line[len(head) :]
        current = line
    if current or not pieces:
        pieces.append(current)
    return pieces
