"""One Telegram bot on the core: stored updates in, replies out, in order per person.

Every update is handled the same way whether it came by long polling, by webhook or from the
table after a restart: the core runs the step (state stored, replies returned after commit),
and the update is marked processed inside that same transaction, so a killed process neither
loses an update nor applies one twice. Then the replies are sent; a press also gets its
callback answered and the pressed keyboard edited away.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import threading
import warnings
from pathlib import Path
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session
from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    InputFile,
)
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.warnings import PTBUserWarning

from bot.channels import files
from bot.channels.telegram import adapter
from bot.channels.telegram.adapter import CHANNEL
from bot.channels.telegram.sender import Sender
from bot.channels.telegram.updates import UpdateStore
from bot.config import TelegramConfig
from bot.core.dispatcher import Core
from bot.core.i18n import translate
from bot.core.messages import Incoming, Outgoing, Reply
from bot.core.outbox import Outbox
from handlers import groups
from models import Identity, Person

log = logging.getLogger(__name__)
# The raw calls of TelegramChannel._api are deliberate; PTB suggests its typed methods instead.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.", category=PTBUserWarning)

PRIVATE_COMMANDS = (
    "start",
    "register",
    "enterprise",
    "report",
    "me",
    "reports",
    "help",
    "link",  # one person on Telegram and WeChat (/link CODE is typed with the code)
    "lang",
    "cancel",
)
GROUP_COMMANDS = ("top", "help", "subscribe", "unsubscribe")
TEXT_LIMIT, CAPTION_LIMIT = 4096, 1024


class TelegramChannel:
    def __init__(self, core: Core, bot: Any, limits: TelegramConfig) -> None:
        self.core = core
        self.bot = bot
        self.limits = limits
        self.store = UpdateStore(core.sessions, core.db)
        self.sender = Sender(limits, on_blocked=self._blocked, on_migrated=self._migrated)
        self.sender.deliver = self.deliver
        self._keys: dict[str, list[Any]] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self._local = threading.local()
        self.handled = 0
        self.unreachable: set[str] = set()  # chats that blocked the bot (cleared on a message)
        self._answered: list[int] = []  # updates whose replies went out, not yet recorded
        self.wake: Any = lambda: None  # the process's outbox dispatcher, told of deferred replies
        event.listen(core.sessions, "before_commit", self._before_commit)
        event.listen(core.sessions, "after_commit", self._after_commit)

    def close(self) -> None:
        event.remove(self.core.sessions, "before_commit", self._before_commit)
        event.remove(self.core.sessions, "after_commit", self._after_commit)

    @property
    def username(self) -> str:
        return str(self.bot.username)

    # ----- the step's transaction marks the update -----------------------------------------
    def _before_commit(self, session: Session) -> None:
        update_id = getattr(self._local, "update_id", None)
        if update_id is not None:
            replies = session.info.get("replies") or []
            payloads = [r.to_payload() for r in replies] or None
            self.store.mark(session, update_id, self.core.clock.now(), payloads)

    def _after_commit(self, session: Session) -> None:
        if getattr(self._local, "update_id", None) is not None:
            self._local.marked = True

    def _step(self, inc: Incoming, update_id: int) -> list[Reply]:
        """In the core's worker thread: the step, with this update marked in its commit."""
        self._local.update_id, self._local.marked = update_id, False
        try:
            replies = self.core.process_sync(inc)
        finally:
            self._local.update_id = None
        if not self._local.marked:  # the core stored nothing (too busy): mark it anyway
            self.store.mark_alone(update_id, self.core.clock.now())
        return replies

    async def _db(self, fn: Any, *args: Any) -> Any:
        # SQLite has one writer: every write of this channel goes through the core's thread(s).
        return await asyncio.get_running_loop().run_in_executor(self.core.executor, fn, *args)

    # ----- intake --------------------------------------------------------------------------
    async def accept(self, payloads: list[dict[str, Any]]) -> int:
        """Stores new updates (dropping ones seen before) and starts handling them; returns
        how many were new. Only after this may Telegram be told they arrived."""
        new = await self._db(self.store.save, payloads, self.core.clock.now())
        for payload in new:
            self.dispatch(payload)
        return len(new)

    async def resume(self) -> int:
        """Sends the replies a crash kept from being sent, then handles the updates stored
        but not processed before the last stop; returns how many of those there were."""
        self.unreachable = set(await self._db(self._unreachable_sync))
        now = self.core.clock.now()
        since = now - dt.timedelta(hours=self.limits.resend_within_hours)
        for payload, replies in await self._db(self.store.unsent, since, now):
            # the chat's last answer from us may never have left: send it now
            self._start(self._ordered(adapter.order_key(payload), payload, replies))
        rows = await self._db(self.store.unprocessed)
        for payload in rows:
            self.dispatch(payload)
        return len(rows)

    def dispatch(self, payload: dict[str, Any]) -> None:
        self._start(self._ordered(adapter.order_key(payload), payload))

    def _start(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _ordered(
        self, key: str, payload: dict[str, Any], resend: list[dict[str, Any]] | None = None
    ) -> None:
        # Tasks are created in update order and asyncio.Lock is FIFO: one person's updates
        # run one after another (step and replies), different people concurrently.
        entry = self._keys.setdefault(key, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:
                if resend is None:
                    await self.handle(payload)
                else:
                    await self._resend(payload, resend)
        except Exception:
            log.exception(
                "telegram update %s failed; kept for the next start", payload.get("update_id")
            )
        finally:
            entry[1] -= 1
            if entry[1] == 0 and self._keys.get(key) is entry:
                del self._keys[key]

    async def idle(self) -> None:
        """Waits until every dispatched update is handled (tests, shutdown)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def handle(self, payload: dict[str, Any]) -> None:
        update_id = int(payload["update_id"])
        moved = adapter.migration(payload)
        if moved is not None:
            await self._db(self._migrate_sync, moved[0], moved[1], update_id)
            return
        inc = adapter.to_incoming(payload, self.username)
        if inc is None:
            await self._db(self.store.mark_alone, update_id, self.core.clock.now())
            return
        # Pictures are copied only from private chats: in a group the bot asks for nothing,
        # and members' pictures are none of its business.
        if inc.photo and inc.chat_kind == "private" and self.core.files_dir is not None:
            inc = dataclasses.replace(inc, photo=await self._download(inc.chat_id, inc.photo))
        replies = await self._db(self._step, inc, update_id)
        self.handled += 1
        if inc.chat_kind == "private" and inc.chat_id in self.unreachable:
            await self._db(self._reachable_sync, inc.chat_id)  # they wrote: not blocked now
        await self._answer(payload, inc, replies, update_id)
        if replies:
            self._answered.append(update_id)

    async def _download(self, chat_id: str, file_id: str) -> str:
        """The picture copied into our storage (its path); Telegram's file id if the copy
        fails (Telegram can still show it by id, other channels cannot)."""
        try:
            file = await self.sender.call(chat_id, lambda _c: self.bot.get_file(file_id))
            data = bytes(await file.download_as_bytearray())
            suffix = Path(file.file_path or "").suffix or ".jpg"
            assert self.core.files_dir is not None
            floor = self.core.config.uploads.min_free_mb * 1024 * 1024
            path = await asyncio.get_running_loop().run_in_executor(
                None, files.store, self.core.files_dir, CHANNEL, data, suffix[:8], floor
            )
            return str(path)
        except Exception as exc:
            log.warning("picture %s not copied (%r); keeping Telegram's file id", file_id, exc)
            return file_id

    async def _resend(self, payload: dict[str, Any], stored: list[dict[str, Any]]) -> None:
        """The replies of a step whose commit survived a crash but whose send may not have
        (the person may see them twice; better than no next question at all)."""
        update_id = int(payload["update_id"])
        inc = adapter.to_incoming(payload, self.username)
        if inc is not None:
            replies = [Reply.from_payload(r) for r in stored]
            log.warning("sending again the replies to update %s (a crash kept them)", update_id)
            try:
                await self._send_all(inc.chat_id, inc.chat_kind, replies, inc.language, update_id)
            except (Forbidden, BadRequest) as exc:  # refused for good: not again at each start
                log.warning("replies to update %s refused: %r", update_id, exc)
        self._answered.append(update_id)

    async def flush_answered(self) -> None:
        """Records which updates' replies went out, in one statement for all of them (not a
        write per step: a crash forgets at most this last interval, whose replies are then
        sent once more)."""
        done, self._answered = self._answered, []
        if done:
            await self._db(self.store.answered, done, self.core.clock.now())

    async def record_answered_forever(self) -> None:
        while True:
            await asyncio.sleep(self.limits.answered_flush_seconds)
            try:
                await self.flush_answered()
            except Exception:  # retried with the next batch; at worst a reply is sent twice
                log.exception("recording sent replies failed")

    # ----- output --------------------------------------------------------------------------
    async def _answer(
        self, payload: dict[str, Any], inc: Incoming, replies: list[Reply], update_id: int
    ) -> None:
        # The reply first (it is what the person waits for), then the press's bookkeeping:
        # the callback answered and the pressed keyboard edited away.
        jobs = [self._send_all(inc.chat_id, inc.chat_kind, replies, inc.language, update_id)]
        press = adapter.pressed(payload)
        if press is not None:
            query_id, message = press
            after = [
                self._ignore_bad(
                    lambda: self._api("answer_callback_query", callback_query_id=query_id)
                )
            ]
            if message.get("reply_markup") and "message_id" in message:
                chat_id, message_id = message["chat"]["id"], message["message_id"]
                after.append(
                    self._ignore_bad(
                        lambda: self._api(
                            "edit_message_reply_markup", chat_id=chat_id, message_id=message_id
                        )
                    )
                )
            jobs.append(self._after(jobs.pop(), after))
        for result in await asyncio.gather(*jobs, return_exceptions=True):
            if isinstance(result, Forbidden):
                pass  # recorded on the person by the sender
            elif isinstance(result, Exception):
                log.warning("reply to %s not delivered: %r", inc.chat_id, result)

    @staticmethod
    async def _after(first: Any, then: list[Any]) -> None:
        try:
            await first
        finally:
            await asyncio.gather(*then, return_exceptions=True)

    async def _ignore_bad(self, fn: Any) -> None:
        """answerCallbackQuery and the keyboard edit: a BadRequest means it is done already
        (answered, not modified: e.g. a retry of a call Telegram had executed)."""
        try:
            await self.sender.call("", lambda _chat: fn(), low=True)
        except BadRequest:
            pass

    async def _send_all(
        self,
        chat_id: str,
        chat_kind: str,
        replies: list[Reply],
        language: str | None,
        update_id: int | None = None,
    ) -> None:
        for n, reply in enumerate(replies):
            try:
                await self.send_reply(chat_id, chat_kind, reply, language)
            except (Forbidden, BadRequest):
                raise  # blocked (recorded by the sender) or a message Telegram will never take
            except Exception as exc:
                if update_id is None:
                    raise
                # Telegram stayed unreachable through every retry: the person must still get
                # their next question, so what is left goes to the outbox (durable, retried
                # with backoff) instead of being dropped.
                log.warning("reply to %s failed (%r); left to the outbox", chat_id, exc)
                await self._db(self._defer_sync, chat_id, update_id, replies[n:], n)
                self.wake()
                return

    def _defer_sync(self, chat_id: str, update_id: int, replies: list[Reply], first: int) -> None:
        with self.core.sessions() as session, session.begin():
            outbox = Outbox(session, self.core.clock)
            for n, reply in enumerate(replies, start=first):
                outbox.to_chat(CHANNEL, chat_id, f"tg-reply:{update_id}:{n}", reply)

    async def send_reply(
        self, chat_id: str, chat_kind: str, reply: Reply, language: str | None = None
    ) -> None:
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
        if media:
            if len(text) > CAPTION_LIMIT:
                await self._text(chat_id, text, None)
                text = ""
            # our own copy; else a picture someone sent us, which Telegram re-sends by its id
            data: Any = Path(media).read_bytes() if files.is_stored(media) else media
            caption = text or None

            kind = "photo" if reply.image_path else "document"
            upload = InputFile(data, filename=Path(media).name) if isinstance(data, bytes) else data

            async def send_file(c: str) -> Any:
                return await self._api(
                    f"send_{kind}",
                    chat_id=c,
                    caption=caption,
                    reply_markup=markup,
                    **{kind: upload},
                )

            await self.sender.call(chat_id, send_file)
        else:
            await self._text(chat_id, text, markup)
        if reply.request_contact and chat_kind == "private":
            keyboard = adapter.contact_keyboard(translate(locale, "tg.share_contact"))
            await self._text(chat_id, translate(locale, "tg.share_contact_hint"), keyboard)

    async def _api(self, endpoint: str, **params: Any) -> Any:
        """A Bot API call whose answer we do not need as PTB objects. PTB's methods parse
        every answer (a whole Message per sendMessage) and build objects for every keyboard:
        together a large share of the bot's CPU. Errors are PTB's own all the same (RetryAfter,
        Forbidden, BadRequest, NetworkError), so the sender's rules apply unchanged."""
        kwargs = {k: v for k, v in params.items() if v is not None}
        return await self.bot.do_api_request(endpoint, api_kwargs=kwargs)

    async def _text(self, chat_id: str, text: str, markup: Any) -> None:
        chunks = [text[i : i + TEXT_LIMIT] for i in range(0, len(text), TEXT_LIMIT)] or [" "]
        for n, chunk in enumerate(chunks):
            last = n == len(chunks) - 1
            keyboard = markup if last else None

            async def send(c: str, chunk: str = chunk, keyboard: Any = keyboard) -> Any:
                return await self._api("send_message", chat_id=c, text=chunk, reply_markup=keyboard)

            await self.sender.call(chat_id, send)

    async def deliver(self, message: Outgoing) -> None:
        """An outbox message (paced by the sender before it gets here)."""
        kind = "group" if message.chat_id.startswith("-") else "private"
        await self.send_reply(message.chat_id, kind, message.reply)

    # ----- side effects of Telegram's answers -----------------------------------------------
    async def _blocked(self, chat_id: str) -> None:
        """The person blocked the bot: recorded, so that nobody keeps sending to them."""
        await self._db(self._blocked_sync, chat_id)

    def _blocked_sync(self, chat_id: str) -> None:
        if chat_id:
            self._set_unreachable(chat_id, self.core.clock.now())
            self.unreachable.add(chat_id)

    def _reachable_sync(self, chat_id: str) -> None:
        self._set_unreachable(chat_id, None)
        self.unreachable.discard(chat_id)

    def _set_unreachable(self, chat_id: str, when: dt.datetime | None) -> None:
        with self.core.sessions() as session, session.begin():
            people = select(Identity.person_id).where(
                Identity.channel == CHANNEL, Identity.chat_id == chat_id
            )
            session.execute(update(Person).where(Person.id.in_(people)).values(unreachable_at=when))

    def _unreachable_sync(self) -> list[str]:
        with self.core.sessions() as session:
            return list(
                session.scalars(
                    select(Identity.chat_id)
                    .join(Person, Person.id == Identity.person_id)
                    .where(Identity.channel == CHANNEL, Person.unreachable_at.is_not(None))
                )
            )

    async def _migrated(self, old_id: str, new_id: str) -> None:
        await self._db(self._migrate_sync, old_id, new_id, None)

    def _migrate_sync(self, old_id: str, new_id: str, update_id: int | None) -> None:
        with self.core.sessions() as session, session.begin():
            groups.migrate(session, CHANNEL, old_id, new_id, self.core.clock.now())
            if update_id is not None:
                self.store.mark(session, update_id, self.core.clock.now())

    async def set_commands(self) -> None:
        """The command menus: Chinese by default, English for `en` clients; private chats
        and groups get their own lists (only commands the routing table has)."""
        known = self.core.routes.commands
        for language in ("zh_CN", "en"):
            code = None if language == "zh_CN" else "en"
            for scope, names in (
                (BotCommandScopeAllPrivateChats(), PRIVATE_COMMANDS),
                (BotCommandScopeAllGroupChats(), GROUP_COMMANDS),
            ):
                commands = [
                    BotCommand(name, translate(language, f"tg.cmd.{name}"))
                    for name in names
                    if name in known
                ]
                try:

                    async def set_menu(
                        _c: str, commands: Any = commands, scope: Any = scope, code: Any = code
                    ) -> Any:
                        return await self.bot.set_my_commands(
                            commands, scope=scope, language_code=code
                        )

                    await self.sender.call("", set_menu)
                except TelegramError as exc:  # a menu is a convenience: never stop the bot
                    log.warning("setMyCommands failed: %s", exc)
