"""One Telegram bot on the core: stored updates in, replies out, in order per person.

Every update is handled the same way whether it came by long polling, by webhook or from the
table after a restart: in its person's turn (the core's `order`), the core runs the step, and
the channel's `record` hook marks the update processed, with the replies still to send, inside
that same transaction, so a killed process neither loses an update nor applies one twice, and
replies a crash kept from leaving are sent at the next start. Then the replies are sent
(`output.py`), still in the person's turn, so one person's replies leave in order.

Longer than 300 lines on purpose: one update's life (stored, taken in the person's turn in this
process or across workers, stepped, answered, resent after a crash), whose parts share the turn
and the store; sending is output.py (one reply's calls replies.py), chats chats.py, menus menus.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session
from telegram.error import BadRequest, Forbidden

from bot.channels import files
from bot.channels.telegram import adapter
from bot.channels.telegram.adapter import CHANNEL
from bot.channels.telegram.chats import Chats
from bot.channels.telegram.menus import set_commands
from bot.channels.telegram.output import Output
from bot.channels.telegram.sender import Sender
from bot.config import TelegramConfig
from bot.core.dispatcher import Core
from bot.core.i18n import translate
from bot.core.messages import Incoming, Reply
from models.telegram import UpdateStore
from models.telegram_shown import keep_shown, shown_of

log = logging.getLogger(__name__)


SHARED_IDS = 32  # a chat's latest message ids kept for the next worker (`_keep_shown`)


class HandledElsewhere(Exception):
    """The update was marked handled by another step first (another worker drained it): this
    step is rolled back whole, so no update is ever applied twice."""


class TelegramChannel:
    def __init__(self, core: Core, bot: Any, limits: TelegramConfig) -> None:
        self.core = core
        self.bot = bot
        self.limits = limits
        self.store = UpdateStore(core.sessions, core.db)
        self.chats = Chats(core, self.store)
        self.sender = Sender(limits, on_blocked=self.chats.blocked, on_migrated=self.chats.migrated)
        self.output = Output(core, bot, self.sender)
        self.sender.deliver = self.output.deliver
        self.tasks: set[asyncio.Task[None]] = set()
        self.handled = 0
        self._answered: list[int] = []  # updates whose replies went out, not yet recorded

    @property
    def wake(self) -> Callable[[], None]:
        return self.output.wake

    @wake.setter
    def wake(self, fn: Callable[[], None]) -> None:
        """The process's outbox dispatcher, told when replies were left to the outbox."""
        self.output.wake = fn

    async def set_commands(self) -> None:
        await set_commands(self.bot, self.sender, self.core.routes)

    # ----- intake --------------------------------------------------------------------------
    async def accept(self, payloads: list[dict[str, Any]]) -> int:
        """Stores new updates (dropping ones seen before) and starts handling them; returns
        how many were new. Only after this may Telegram be told they arrived."""
        now = self.core.clock.now()
        new = await self.core.offload(
            self.store.save, payloads, now, adapter.chat_key, adapter.order_key
        )
        for payload in new:
            seen = adapter.private_message_id(payload)
            if seen is not None:
                self.output.saw(*seen)
            self.dispatch(payload)
        return len(new)

    async def resume(self) -> int:
        """Sends the replies a crash kept from being sent, then handles the updates stored
        but not processed before the last stop; returns how many of those there were."""
        await self.chats.load()
        await self._resend_unsent()
        rows = await self.core.offload(self.store.unprocessed)
        if self.core.shared:  # each person's queue is drained in order by whoever holds it
            for person in dict.fromkeys(adapter.order_key(payload) for payload, _ in rows):
                self._start(self._drain(person))
            return len(rows)
        for payload, starts in rows:
            if starts > self.limits.replay_starts:
                # its step ended the process at every start (or never got to run): answer
                # it with the apology instead of trying it once more
                log.error(
                    "telegram update %s unhandled after %d starts; apologised",
                    payload.get("update_id"),
                    starts - 1,
                )
                self._start(self._in_turn(payload, self.handle(payload, give_up=True)))
            else:
                self.dispatch(payload)
        return len(rows)

    def dispatch(self, payload: dict[str, Any]) -> None:
        if self.core.shared:
            self._start(self._drain(adapter.order_key(payload)))
        else:
            self._start(self._in_turn(payload, self.handle(payload)))

    async def _resend_unsent(self) -> None:
        """The replies a crash kept from leaving, each chat's latest (see `_resend`). With
        several workers only those older than `workers.orphan_after_seconds`: a newer one may
        be a live worker's, being sent right now."""
        now = self.core.clock.now()
        since = now - dt.timedelta(hours=self.limits.resend_within_hours)
        until = None
        if self.core.shared:
            until = now - dt.timedelta(seconds=self.core.config.workers.orphan_after_seconds)
        for payload, replies in await self.core.offload(self.store.unsent, since, now, until):
            # the chat's last answer from us may never have left: send it now
            self._start(self._in_turn(payload, self._resend(payload, replies)))

    async def _drain(self, person: str) -> None:
        """Several workers (BOT_WORKERS=shared): in the person's turn (held across processes),
        their stored updates not handled yet, oldest first, whichever worker received them;
        nothing left when another worker got there first. An update that fails for now stops
        the drain (a later one must not overtake it); the orphan sweep comes back for it."""
        try:
            async with self.core.order.turn((CHANNEL, person)):
                for payload, starts in await self.core.offload(self.store.pending_of, person):
                    await self.handle(payload, give_up=starts > self.limits.replay_starts)
        except Exception:
            log.exception("telegram updates of %s failed; kept for the orphan sweep", person)

    async def sweep_orphans_forever(self) -> None:
        """Several workers, on the leader: updates nobody handled within
        `workers.orphan_after_seconds` (their worker died mid-step, or before it began) are
        drained here; so are the replies a dead worker committed but never sent."""
        every = self.core.config.workers.orphan_after_seconds
        while True:
            await asyncio.sleep(every / 2)
            try:
                # the replies first: in each person's turn they go before the answers to
                # that person's updates left unhandled (taken in the same order below)
                await self._resend_unsent()
                before = self.core.clock.now() - dt.timedelta(seconds=every * self.core.clock.speed)
                for person in await self.core.offload(self.store.orphaned, before):
                    self._start(self._drain(person))
            except Exception:  # the next sweep tries again
                log.exception("sweeping orphaned telegram updates failed")

    def _start(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _in_turn(self, payload: dict[str, Any], work: Any) -> None:
        # Tasks are created in update order and the turns are first-in first-out: one
        # person's updates run one after another (step and replies), others concurrently.
        try:
            async with self.core.order.turn((CHANNEL, adapter.order_key(payload))):
                await work
        except Exception:
            log.exception(
                "telegram update %s failed; kept for the next start", payload.get("update_id")
            )

    async def idle(self) -> None:
        """Waits until every dispatched update is handled (tests, shutdown)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def handle(self, payload: dict[str, Any], give_up: bool = False) -> None:
        update_id = int(payload["update_id"])
        moved = adapter.migration(payload)
        if moved is not None:
            await self.chats.migrated(moved[0], moved[1], update_id)
            return
        inc = adapter.to_incoming(payload, self.output.username)
        if inc is None:
            await self.core.offload(self.store.mark_alone, update_id, self.core.clock.now())
            return
        # Pictures are copied only from private chats: in a group the bot asks for nothing,
        # and members' pictures are none of its business.
        if give_up:
            replies = await self._apologise(inc, update_id)
            await self.output.answer(payload, inc, replies, update_id)
            return
        shared = self.core.shared and inc.chat_kind == "private"
        if shared:
            await self._recall(payload, inc.chat_id)
        if inc.photo and inc.chat_kind == "private" and self.core.files_dir is not None:
            inc = dataclasses.replace(inc, photo=await self._download(inc.chat_id, inc.photo))
        if inc.document and inc.chat_kind == "private" and self.core.files_dir is not None:
            suffix = Path(inc.document_name or "").suffix or ".bin"
            copied = await self._download(inc.chat_id, inc.document, suffix)
            inc = dataclasses.replace(inc, document=copied)
        if inc.chat_kind == "private" and inc.text and inc.message_id:
            # sent before the question now open was shown (one message id sequence per chat)
            chat, message_id = (CHANNEL, inc.chat_id), int(inc.message_id)
            window = self.core.shown.uncertain(chat)
            if window is not None and window[0] <= message_id < window[1]:
                # the open question's send was retried: an attempt Telegram executed without
                # answering holds one of the ids before the one returned. When every id up
                # to this message's is known to be another message (the person's arrive in
                # order), no attempt came before it: it was typed before the question showed
                low, high = int(window[0]), int(window[1])
                self.core.shown.narrow(chat, self.output.first_unknown(inc.chat_id, low, high))
            if self.core.shown.early(chat, message_id):
                inc = dataclasses.replace(inc, early=True)
            elif self.core.shown.after_doubled(chat):
                inc = dataclasses.replace(inc, after_double=True)
        stepped = await self._step(inc, update_id)
        if stepped is None:
            return  # another worker handled it first: its replies are its own to send
        replies = stepped
        self.handled += 1
        if inc.chat_kind == "private":
            await self.chats.wrote(inc.chat_id)
        await self.output.answer(payload, inc, replies, update_id)
        if replies:
            self._answered.append(update_id)
        if shared:
            await self._keep_shown(inc.chat_id)

    async def _recall(self, payload: dict[str, Any], chat_id: str) -> None:
        """Several workers: what the worker that last answered this chat knew of the question
        it showed (maybe another one; it wrote it in the person's turn, which this worker
        now holds), and this update's own message id (stored by whichever worker got it)."""
        found = await self.core.offload(shown_of, self.core.sessions, chat_id)
        if found is not None:
            if found.get("shown"):
                self.core.shown.restore((CHANNEL, chat_id), found["shown"])
            else:  # nothing known (see _keep_shown): not this worker's older memory either
                self.core.shown.forget((CHANNEL, chat_id))
            for message_id in found.get("ids") or ():
                self.output.saw(chat_id, int(message_id))
        seen = adapter.private_message_id(payload)
        if seen is not None:
            self.output.saw(*seen)

    async def _keep_shown(self, chat_id: str) -> None:
        """Several workers: what this one now knows of the chat's question, for the next. A
        question withheld (its reply deferred to the outbox, Telegram unreachable) is stored
        as nothing known: the leader's outbox sends it later, outside the person's turn, and
        a next worker reading "withheld" would take the answer to it as one typed before it
        (a correction of the question before); nothing known, it counts for the open one."""
        shown = self.core.shown.snapshot((CHANNEL, chat_id))
        if shown is not None and shown["mark"] is None:
            shown = None
        # the ids a retried send's window can hold are the latest few (a row per chat)
        data = {"shown": shown, "ids": self.output.recent_ids(chat_id)[-SHARED_IDS:]}
        try:
            now = self.core.clock.now()
            await self.core.offload(keep_shown, self.core.sessions, chat_id, data, now)
        except Exception:  # the answer went out: only the next worker's binding degrades
            log.exception("telegram: what chat %s was shown could not be stored", chat_id)

    async def _step(self, inc: Incoming, update_id: int) -> list[Reply] | None:
        """The core's step, tried again a few times when it fails (each failed try was rolled
        back whole). A database that is busy or unreachable keeps the update for the next
        start, as it was stored; a step that keeps failing (a bug, a disk that refuses a
        write) is answered with an apology and marked handled, so it is neither silence nor
        tried again at every start."""
        tries = self.limits.step_attempts
        for attempt in range(1, tries + 1):
            try:
                return await self.core.step(inc, self._record(update_id))
            except HandledElsewhere:
                return None
            except (OperationalError, InterfaceError):
                raise  # transient: kept unprocessed for the next start
            except Exception:
                if attempt == tries:
                    log.exception(
                        "telegram update %s failed %d times; apologised", update_id, tries
                    )
                    break
                log.warning("telegram update %s failed (try %d); again", update_id, attempt)
                await asyncio.sleep(self.limits.step_retry_seconds * attempt)
        return await self._apologise(inc, update_id)

    async def _apologise(self, inc: Incoming, update_id: int) -> list[Reply]:
        """The update is marked handled with a short apology as its reply."""
        locale = "en" if (inc.language or "").lower().startswith("en") else None
        apology = [Reply(translate(locale, "err.step_failed"))]
        await self.core.offload(self._give_up, update_id, apology)
        return apology

    def _give_up(self, update_id: int, apology: list[Reply]) -> None:
        with self.core.sessions() as session, session.begin():
            self._record(update_id)(session, apology)

    def _record(self, update_id: int) -> Callable[[Session, list[Reply]], None]:
        """In the step's commit: the update is handled, and these replies are still to send
        (sent again after a crash until `flush_answered` records them as sent)."""

        def record(session: Session, replies: list[Reply]) -> None:
            payloads = [r.to_payload() for r in replies] or None
            if not self.store.mark(session, update_id, self.core.clock.now(), payloads):
                raise HandledElsewhere(update_id)  # the whole step is rolled back

        return record

    async def _download(self, chat_id: str, file_id: str, suffix: str | None = None) -> str:
        """The picture (or a document, with its own suffix) copied into our storage (its
        path); Telegram's file id if the copy fails (Telegram can still show it by id, other
        channels cannot)."""
        folder = self.core.files_dir
        assert folder is not None
        try:
            file = await self.sender.call(chat_id, lambda _c: self.bot.get_file(file_id))
            data = bytes(await file.download_as_bytearray())
            suffix = suffix or Path(file.file_path or "").suffix or ".jpg"
            floor = self.core.config.uploads.min_free_mb * 1024 * 1024
            path = await asyncio.get_running_loop().run_in_executor(
                None, files.store, folder, CHANNEL, data, suffix[:8], floor
            )
            return str(path)
        except Exception as exc:
            log.warning("picture %s not copied (%r); keeping Telegram's file id", file_id, exc)
            if isinstance(exc, OSError):  # our disk refused it, not Telegram
                await self.core.offload(self.core.folder_refused, "uploads", folder / files.UPLOADS)
            return file_id

    # ----- replies a crash may have kept from leaving ----------------------------------------
    async def _resend(self, payload: dict[str, Any], stored: list[dict[str, Any]]) -> None:
        """The replies of a step whose commit survived a crash but whose send may not have
        (the person may see them twice; better than no next question at all)."""
        update_id = int(payload["update_id"])
        inc = adapter.to_incoming(payload, self.output.username)
        if inc is not None:
            replies = [Reply.from_payload(r) for r in stored]
            log.warning("sending again the replies to update %s (a crash kept them)", update_id)
            try:
                await self.output.send_all(
                    inc.chat_id, inc.chat_kind, replies, inc.language, update_id
                )
            except (Forbidden, BadRequest) as exc:  # refused for good: not again at each start
                log.warning("replies to update %s refused: %r", update_id, exc)
        self._answered.append(update_id)

    async def flush_answered(self) -> None:
        """Records which updates' replies went out, in one statement for all of them (not a
        write per step: a crash forgets at most this last interval, whose replies are then
        sent once more)."""
        done, self._answered = self._answered, []
        if done:
            await self.core.offload(self.store.answered, done, self.core.clock.now())

    async def record_answered_forever(self) -> None:
        while True:
            await asyncio.sleep(self.limits.answered_flush_seconds)
            try:
                await self.flush_answered()
            except Exception:  # retried with the next batch; at worst a reply is sent twice
                log.exception("recording sent replies failed")
