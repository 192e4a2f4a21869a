"""The console channel: a real channel in the terminal (or driven by a pipe).

Buttons are shown numbered; answer with the number or the label. Extra console commands:
  /as NAME        type as another person (a streamer, a unit contact, an admin...)
  /photo NAME     send a picture (evidence, a product attachment)
  /contact PHONE  share a phone number as a contact
  /sticker        send a sticker (anything that is not text)
  /quit           leave
Messages for other people (notices, reminders) are printed with their recipient.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Iterable
from typing import TextIO

from bot.core.delivery import OutboxDispatcher
from bot.core.dispatcher import Core
from bot.core.i18n import translate
from bot.core.messages import Incoming, Outgoing, Reply

log = logging.getLogger(__name__)

CHANNEL = "console"


class ConsoleSender:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    async def send(self, message: Outgoing) -> None:
        who = message.recipient_name or message.chat_id
        self.out.write(f"📨 → {who} [{message.chat_id}]:\n")
        self.out.write(render([message.reply], indent="   "))


def render(replies: Iterable[Reply], indent: str = "") -> str:
    """Replies as the console shows them; buttons are numbered across one step, exactly as
    the core counts them when a number is typed."""
    lines: list[str] = []
    n = 0
    for reply in replies:
        if reply.text or not (reply.image_path or reply.document_path):
            lines += [indent + line for line in reply.text.splitlines()] or [indent]
        if reply.image_path:  # the terminal cannot show it: say which picture it is
            lines.append(f"{indent}[图片: {reply.image_path}]")
        if reply.document_path:
            lines.append(f"{indent}[文件: {reply.document_path}]")
        labels = []
        for button in reply.flat_buttons():
            n += 1
            labels.append(f"[{n}] {button.label}" if reply.numbered else f"[{button.label}]")
        if labels:
            lines.append(indent + "  " + "  ".join(labels))
        if reply.request_contact:
            lines.append(indent + "  (/contact 13800000000 shares a phone number)")
    return "\n".join(lines) + "\n"


def parse_line(line: str, user: str) -> Incoming | None:
    text = line.rstrip("\n")
    if text.startswith("/photo"):
        name = text[6:].strip() or "photo"
        return Incoming(CHANNEL, user, user, photo=f"console:{name}", display_name=user)
    if text.startswith("/contact"):
        return Incoming(CHANNEL, user, user, contact=text[8:].strip(), display_name=user)
    if text.startswith("/file "):  # send a file from this machine (a sheet to import, a scan)
        path = text[6:].strip()
        name = path.rsplit("/", 1)[-1]
        return Incoming(CHANNEL, user, user, document=path, document_name=name, display_name=user)
    if text.strip() == "/sticker":
        return Incoming(CHANNEL, user, user, unsupported="sticker", display_name=user)
    return Incoming.from_text(CHANNEL, user, text, display_name=user)


class ConsoleChannel:
    def __init__(self, core: Core, user: str, out: TextIO = sys.stdout) -> None:
        self.core = core
        self.user = user
        self.out = out
        self.outbox = OutboxDispatcher(core.sessions, core.clock, {CHANNEL: ConsoleSender(out)})

    async def handle_line(self, line: str) -> None:
        if line.startswith("/as "):
            self.user = line[4:].strip() or self.user
            self.out.write(f"(now typing as {self.user})\n")
            return
        inc = parse_line(line, self.user)
        if inc is None:
            return
        try:
            replies = await self.core.process(inc)
        except Exception:
            # The step was rolled back whole; one failing step (a bug, a disk that refuses a
            # write) must not end the chat for everybody: said, logged, and the next line read.
            # what was typed is not logged: it may be a phone number (logs hold no personal
            # data; the command alone says where it failed)
            log.exception("console step failed for %s (command %s)", self.user, inc.command)
            replies = [Reply(translate(None, "err.step_failed"))]
        self.out.write(render(replies))
        try:
            await self.outbox.drain()
        except Exception:
            log.exception("console outbox delivery failed; left for the next line")

    async def run(self, stream: TextIO = sys.stdin) -> None:
        interactive = stream.isatty()
        background = None
        if interactive:
            self.out.write("点亮原产地 console chat. /start to begin, /quit to leave.\n")
            # Reminders the scheduler enqueues appear while the terminal waits for a line (a
            # pipe's transcript stays in order instead: they print after the next line).
            background = asyncio.ensure_future(self.outbox.run_forever(1.0))
        try:
            await self._read_lines(stream, interactive)
        finally:
            if background is not None:
                background.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await background

    async def _read_lines(self, stream: TextIO, interactive: bool) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if interactive:
                self.out.write(f"{self.user}> ")
                self.out.flush()
            line = await loop.run_in_executor(None, stream.readline)
            if not line:
                break
            line = line.rstrip("\n")
            if not interactive:
                self.out.write(f"{self.user}> {line}\n")
            if line.strip() in ("/quit", "/exit"):
                break
            if line.strip():
                await self.handle_line(line)
            self.out.flush()
