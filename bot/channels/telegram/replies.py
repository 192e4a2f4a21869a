"""One reply as Bot API calls: its text split at Telegram's limits, its picture or document
uploaded (a document above telegram.max_upload_mb replaced by a signed download link, or a note
saying why it is not sent), its keyboard; which message ids the calls returned and whether one
had to be retried. What a step's replies showed, and what happens when they cannot be sent, is
output.py's."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram import InputFile
from telegram.warnings import PTBUserWarning

from bot.channels import files
from bot.channels.file_links import FileLinks
from bot.channels.telegram import adapter
from bot.channels.telegram.sender import Sender
from bot.core.i18n import translate
from bot.core.messages import Reply

# The raw calls of Replies.api are deliberate; PTB suggests its typed methods instead.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.", category=PTBUserWarning)

TEXT_LIMIT, CAPTION_LIMIT = 4096, 1024


@dataclass
class Sent:
    """What sending one reply took: its first message's id, and whether that message's
    call was retried (an earlier, executed attempt may then have been shown, its id never
    returned)."""

    first: int | None = None
    retried: bool = False
    attempts: int = 0  # API call attempts so far, every message of the reply


class Replies:
    def __init__(
        self, bot: Any, sender: Sender, max_upload_mb: float, saw: Callable[[str, int], None]
    ) -> None:
        self.bot = bot
        self.sender = sender
        # the largest document uploaded; a larger one goes as a link (or a note) instead
        self.max_upload_mb = max_upload_mb
        self.max_upload_bytes = int(max_upload_mb * 1024 * 1024)
        # signed download links to the exports' folder (a public address is set), else None
        self.links: FileLinks | None = None
        self.saw = saw  # told every message id a call returned (output.py's bookkeeping)

    @property
    def username(self) -> str:
        return str(self.bot.username)

    async def send_reply(
        self, chat_id: str, chat_kind: str, reply: Reply, language: str | None = None
    ) -> Sent:
        """One reply (one message or more: long texts are split, a contact button is a
        message of its own); which message ids it got and whether a call had to be retried."""
        sent = Sent()
        locale = "en" if (language or "").lower().startswith("en") else None
        if chat_kind == "private":
            markup: Any = adapter.inline_keyboard(reply, self.username)
        else:  # in a group only a link to the private chat, never a form's buttons
            markup = adapter.link_keyboard(
                translate(locale, "tg.private_chat"), f"https://t.me/{self.username}"
            )
        text = reply.text or " "
        media = reply.image_path or reply.document_path
        if media and not files.is_stored(media) and (":" in media or "/" in media):
            # another channel's id of a picture we never copied (wechat:MEDIA_ID), or a file
            # that is gone: it cannot be shown here (Telegram's own file ids have neither)
            text = f"{text}\n[{translate(locale, 'tg.picture_elsewhere')}]"
            media = None
        if media and reply.document_path and files.is_stored(media):
            size = Path(media).stat().st_size
            if size > self.max_upload_bytes:  # Telegram would refuse it after the upload
                text = f"{text}\n{self._too_big(Path(media), size, locale)}".strip()
                media = None
        if media:
            kind = "photo" if reply.image_path else "document"
            await self._media(chat_id, text, media, kind, markup, sent)
        else:
            await self._text(chat_id, text, markup, sent)
        if reply.request_contact and chat_kind == "private":
            keyboard = adapter.contact_keyboard(translate(locale, "tg.share_contact"))
            await self._text(chat_id, translate(locale, "tg.share_contact_hint"), keyboard, sent)
        return sent

    def _too_big(self, path: Path, size: int, locale: str | None) -> str:
        """What is said instead of a document above the upload limit: a signed download link
        where the bot has a public address and the file is an export, else why it is not
        sent and what to do."""
        params = {
            "name": path.name,
            "size": f"{size / 2**20:,.1f}",
            "limit": f"{self.max_upload_mb:g}",
        }
        url = self.links.link(path) if self.links is not None else None
        if url is None:
            return translate(locale, "tg.document_too_big", **params)
        assert self.links is not None
        return translate(
            locale, "tg.document_link", url=url, hours=f"{self.links.hours:g}", **params
        )

    async def _media(
        self, chat_id: str, text: str, media: str, kind: str, markup: Any, sent: Sent
    ) -> None:
        if len(text) > CAPTION_LIMIT:
            await self._text(chat_id, text, None, sent)
            text = ""
        # our own copy (streamed from the disk, never read whole: an export is up to
        # max_upload_mb), else a picture someone sent us, which Telegram re-sends by its id
        stored = Path(media) if files.is_stored(media) else None

        tries = sent.attempts

        async def send_file(c: str) -> Any:
            sent.attempts += 1
            with contextlib.ExitStack() as opened:
                upload: Any = media
                if stored is not None:  # opened for each attempt: a retry starts over
                    handle = opened.enter_context(stored.open("rb"))
                    upload = InputFile(handle, filename=stored.name, read_file_handle=False)
                return await self.api(
                    f"send_{kind}",
                    chat_id=c,
                    caption=text or None,
                    reply_markup=markup,
                    **{kind: upload},
                )

        result = await self.sender.call(chat_id, send_file)
        self._sent(chat_id, sent, result, sent.attempts - tries)

    async def api(self, endpoint: str, **params: Any) -> Any:
        """A Bot API call whose answer we do not need as PTB objects. PTB's methods parse
        every answer (a whole Message per sendMessage) and build objects for every keyboard:
        together a large share of the bot's CPU. Errors are PTB's own all the same (RetryAfter,
        Forbidden, BadRequest, NetworkError), so the sender's rules apply unchanged."""
        kwargs = {k: v for k, v in params.items() if v is not None}
        return await self.bot.do_api_request(endpoint, api_kwargs=kwargs)

    async def _text(self, chat_id: str, text: str, markup: Any, sent: Sent) -> None:
        chunks = [text[i : i + TEXT_LIMIT] for i in range(0, len(text), TEXT_LIMIT)] or [" "]
        for n, chunk in enumerate(chunks):
            last = n == len(chunks) - 1
            keyboard = markup if last else None

            tries = sent.attempts

            async def send(c: str, chunk: str = chunk, keyboard: Any = keyboard) -> Any:
                sent.attempts += 1
                return await self.api("send_message", chat_id=c, text=chunk, reply_markup=keyboard)

            result = await self.sender.call(chat_id, send)
            self._sent(chat_id, sent, result, sent.attempts - tries)

    def _sent(self, chat_id: str, sent: Sent, result: Any, attempts: int) -> None:
        message_id = result.get("message_id") if isinstance(result, dict) else None
        if isinstance(message_id, int):
            if sent.first is None:
                sent.first, sent.retried = message_id, attempts > 1
            self.saw(chat_id, message_id)
