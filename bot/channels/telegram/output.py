"""A step's replies onto Telegram, and what they showed: sent in order (each one as Bot API
calls by replies.py), a press's callback answered and its keyboard edited away; the message id
from which the question they ask may have been seen handed to the answer binding
(bot/core/answers.py); what Telegram will not take after every retry left to the outbox instead
of being dropped."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from telegram.error import BadRequest, Forbidden

from bot.channels.file_links import FileLinks
from bot.channels.telegram import adapter
from bot.channels.telegram.adapter import CHANNEL
from bot.channels.telegram.replies import Replies
from bot.channels.telegram.sender import Sender
from bot.core.answers import question_of
from bot.core.dispatcher import Core
from bot.core.messages import Incoming, Outgoing, Reply
from bot.core.outbox import Outbox

log = logging.getLogger(__name__)

RECENT_IDS = 256  # message ids remembered per chat (see first_unknown)


class Output:
    def __init__(self, core: Core, bot: Any, sender: Sender) -> None:
        self.core = core
        self.sender = sender
        self.replies = Replies(bot, sender, core.config.telegram.max_upload_mb, self.saw)
        self.api = self.replies.api  # a Bot API call (answerCallbackQuery, the keyboard edit)
        self.wake: Callable[[], None] = lambda: None  # the outbox dispatcher, told of deferrals
        # The highest message id known in each private chat (its updates and our messages):
        # message ids are one sequence per chat for both sides, so they order an answer
        # against the question it may answer (bot/core/answers.py).
        self._highest: dict[str, int] = {}
        # the chat's message ids seen lately (the person's, ours that returned): what is left
        # between them may be an attempt of a send that was executed but never answered
        self._ids: dict[str, set[int]] = {}

    def saw(self, chat_id: str, message_id: int) -> None:
        ids = self._ids.setdefault(chat_id, set())
        ids.add(message_id)
        if len(ids) > 2 * RECENT_IDS:
            keep = sorted(ids)[-RECENT_IDS:]
            ids.clear()
            ids.update(keep)
        if message_id > self._highest.get(chat_id, 0):
            self._highest.pop(chat_id, None)  # re-inserted last: oldest chats first
            self._highest[chat_id] = message_id
            if len(self._highest) > 50_000:
                for old in list(self._highest)[:5_000]:
                    del self._highest[old]
                    self._ids.pop(old, None)

    def recent_ids(self, chat_id: str) -> list[int]:
        """The chat's message ids seen lately (shared by several workers with the question
        shown: channel.py `_recall`)."""
        return sorted(self._ids.get(chat_id) or ())[-RECENT_IDS:]

    def first_unknown(self, chat_id: str, low: int, high: int) -> int:
        """The first message id from `low` (up to `high`) that is not a message the chat is
        known to hold: the earliest an unanswered attempt of a send begun after `low` - 1 can
        have."""
        ids = self._ids.get(chat_id) or set()
        if high - low > 4 * RECENT_IDS:
            return low
        return next((n for n in range(low, high) if n not in ids), high)

    @property
    def username(self) -> str:
        return self.replies.username

    @property
    def links(self) -> FileLinks | None:
        """Signed download links to the exports' folder (a public address is set), else None:
        a document above the upload limit is then named by a link instead."""
        return self.replies.links

    @links.setter
    def links(self, links: FileLinks | None) -> None:
        self.replies.links = links

    async def answer(
        self, payload: dict[str, Any], inc: Incoming, replies: list[Reply], update_id: int
    ) -> None:
        """A step's replies. The reply first (it is what the person waits for), then the
        press's bookkeeping: the callback answered and the pressed keyboard edited away."""
        jobs = [self._send_step(inc, replies, update_id)]
        press = adapter.pressed(payload)
        if press is not None:
            query_id, message = press
            after = [
                self._ignore_bad(
                    lambda: self.api("answer_callback_query", callback_query_id=query_id)
                )
            ]
            if message.get("reply_markup") and "message_id" in message:
                chat_id, message_id = message["chat"]["id"], message["message_id"]
                after.append(
                    self._ignore_bad(
                        lambda: self.api(
                            "edit_message_reply_markup", chat_id=chat_id, message_id=message_id
                        )
                    )
                )
            jobs.append(_after(jobs.pop(), after))
        for result in await asyncio.gather(*jobs, return_exceptions=True):
            if isinstance(result, Forbidden):
                pass  # recorded on the person by the sender
            elif isinstance(result, Exception):
                log.warning("reply to %s not delivered: %r", inc.chat_id, result)

    async def _send_step(self, inc: Incoming, replies: list[Reply], update_id: int) -> None:
        """The step's replies, and from which message id on the question they ask counts as
        shown (kept by the core: an answer older than that answers the question before)."""
        shown = await self.send_all(inc.chat_id, inc.chat_kind, replies, inc.language, update_id)
        if shown is not None and inc.chat_kind == "private":
            question, (shown_from, doubled, until) = question_of(replies), shown
            self.core.shown.handed_over(
                (CHANNEL, inc.chat_id), question, shown_from, doubled, until
            )

    async def _ignore_bad(self, fn: Any) -> None:
        """answerCallbackQuery and the keyboard edit: a BadRequest means it is done already
        (answered, not modified: e.g. a retry of a call Telegram had executed)."""
        try:
            await self.sender.call("", lambda _chat: fn(), low=True)
        except BadRequest:
            pass

    async def send_all(
        self,
        chat_id: str,
        chat_kind: str,
        replies: list[Reply],
        language: str | None,
        update_id: int | None = None,
    ) -> tuple[int, bool, int | None] | None:
        """Sends the replies in order; returns the message id from which the person may have
        seen the question they ask (the last reply asking one, else the last reply), and
        whether it may have been shown twice; None if none was sent. A message whose send was
        retried may have been shown by an earlier, executed attempt whose id was never
        returned: then it counts from the first id after everything known in the chat when
        its sending began, and the id it returned is given too (from which it was certainly
        shown; None when it was not retried)."""
        shown: tuple[int, bool, int | None] | None = None
        asking = max((n for n, r in enumerate(replies) if r.question), default=len(replies) - 1)
        for n, reply in enumerate(replies):
            before = self._highest.get(chat_id, 0)
            try:
                sent = await self.replies.send_reply(chat_id, chat_kind, reply, language)
            except (Forbidden, BadRequest):
                raise  # blocked (recorded by the sender) or a message Telegram will never take
            except Exception as exc:
                if update_id is None:
                    raise
                # Telegram stayed unreachable through every retry: the person must still get
                # their next question, so what is left goes to the outbox (durable, retried
                # with backoff) instead of being dropped.
                log.warning("reply to %s failed (%r); left to the outbox", chat_id, exc)
                if n <= asking:  # the question is among what is left: until it is delivered
                    # (the same question asked again stays shown from its first showing)
                    self.core.shown.withheld((CHANNEL, chat_id), question_of(replies[n:]))
                await self.core.offload(self._defer, chat_id, update_id, replies[n:], n)
                self.wake()
                return shown  # the question, when it was sent before the failure
            if n == asking and sent.first is not None:
                if sent.retried:
                    shown = (before + 1, True, sent.first)
                else:
                    shown = (sent.first, False, None)
        return shown

    def _defer(self, chat_id: str, update_id: int, replies: list[Reply], first: int) -> None:
        with self.core.sessions() as session, session.begin():
            outbox = Outbox(session, self.core.clock)
            for n, reply in enumerate(replies, start=first):
                outbox.to_chat(CHANNEL, chat_id, f"tg-reply:{update_id}:{n}", reply, urgent=True)

    async def deliver(self, message: Outgoing) -> None:
        """An outbox message (paced by the sender before it gets here)."""
        kind = "group" if message.chat_id.startswith("-") else "private"
        before = self._highest.get(message.chat_id, 0)
        sent = await self.replies.send_reply(message.chat_id, kind, message.reply)
        if sent.first is not None:  # a reply left here was withheld: shown now
            shown_from = before + 1 if sent.retried else sent.first
            self.core.shown.handed_if_withheld((CHANNEL, message.chat_id), shown_from)


async def _after(first: Any, then: list[Any]) -> None:
    try:
        await first
    finally:
        await asyncio.gather(*then, return_exceptions=True)
