"""The Official Account's callback `/wechat`: checks, resends, the 5-second rule.

Each request first passes the gate (gate.py: size, signature, safe mode; each refusal before
anything is stored or processed). Then the callback is looked up by its dedupe key; a message
is recorded, with the reply its step gave, in that step's own commit.

Resends: WeChat resends a callback (same MsgId) when our answer did not reach it within 5 s,
up to `callback_tries` deliveries in all. A resend gets the answer its first delivery got (an
empty one would leave the follower waiting, then retyping, and every answer would land one
question late); one that arrives while the first is still being handled waits for it; on the
last try the reply goes by the outbox instead, so losing that answer too is not silence.

The 5-second rule: WeChat waits 5 s for the answer and then resends. The step gets
`reply_budget_seconds` (4 s) from the request's arrival; done in time, its replies are the
passive reply; otherwise the answer is empty ("success") at once and the replies, when ready,
go into the outbox as a customer-service message (durable, retried, and in the same queue as
every other message to that follower). Pictures always go that way: a passive reply is one
message, and the words come first.

A step that raises has had its transaction rolled back (the core commits whole steps only),
so nothing of it is stored; it is logged and answered, passively or late like any reply, with
a short apology from the catalog (wechat.step_failed) rather than WeChat's empty answer, which
would leave the follower waiting for a reply that never comes.

Longer than 300 lines on purpose: one callback's life (first delivery, resends while it runs
and after, the late reply) is one state machine, read best in one place.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.channels import files
from bot.channels.file_links import FileLinks
from bot.channels.wechat import protocol
from bot.channels.wechat.gate import Gate, TooLarge
from bot.channels.wechat.inbound import CHANNEL, Callback, callback
from bot.channels.wechat.render import as_text, chunks, pictures
from bot.config import WeChatConfig
from bot.core.answers import question_of
from bot.core.dispatcher import Core
from bot.core.i18n import translate
from bot.core.messages import Incoming, Reply
from bot.core.outbox import Outbox
from models.people import locale_of
from models.wechat import (
    Handled,
    first_delivery,
    forget_deliveries,
    resent,
    touch_follower,
    went_late,
)

log = logging.getLogger(__name__)

PATH = "/wechat"
EMPTY = "success"  # WeChat's "no passive reply" answer
PASSIVE_MAX_BYTES = 2000  # WeChat takes about 2048 bytes of text per message


class AlreadyHandled(Exception):
    """WeChat resent a message whose step has been committed meanwhile."""


@dataclass
class _Flight:
    """A message's first delivery being handled: resends of it wait for its answer."""

    future: asyncio.Future[str | None]  # the passive text it was answered; None: empty/late
    late: bool = False
    resends: int = 0


class WeChatChannel:
    def __init__(
        self,
        core: Core,
        token: str,
        app_id: str,
        aes_key: str | None,
        limits: WeChatConfig,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.core = core
        self.gate = Gate(token, app_id, aes_key, limits)
        self.limits = limits
        self.wake = wake  # nudges the outbox dispatcher after a late reply is enqueued
        # signed download links for documents (certificates' PDFs); None: a note instead
        self.links: FileLinks | None = None
        # Fetches a picture's bytes by its MediaId (the API client, when the bot has one):
        # pictures are copied to our storage before the step (WeChat deletes them in 3 days).
        self.fetch_media: Callable[[str], Awaitable[bytes]] | None = None
        self.sessions: sessionmaker[Session] = core.sessions
        self._late: set[asyncio.Task[None]] = set()
        self._inflight: dict[str, _Flight] = {}  # dedupe key -> its first delivery
        self._last_purge = 0.0
        self.stats = {"passive": 0, "late": 0, "resent": 0, "refused": 0, "malformed": 0}

    def routes(self, path: str = PATH) -> list[Route]:
        served = [Route(path, self.endpoint, methods=["GET", "POST"])]
        return [*served, self.links.route()] if self.links is not None else served

    async def endpoint(self, request: Request) -> Response:
        arrived = time.monotonic()
        try:
            if request.method == "GET":
                return self.gate.verify(request)
            fields = self.gate.open(request, await self.gate.read(request))
            cb = callback(fields)
        except TooLarge:
            return PlainTextResponse("too large", status_code=413)
        except protocol.Refused as exc:
            self.stats["refused"] += 1
            log.warning("wechat callback refused: %s", exc)
            return PlainTextResponse("forbidden", status_code=403)
        except protocol.Malformed as exc:
            self.stats["malformed"] += 1
            log.warning("wechat callback malformed: %s", exc)
            return PlainTextResponse("bad request", status_code=400)
        return await self._answer(request, cb, arrived)

    # ----- processing -------------------------------------------------------------------------
    def _seen(self, cb: Callback) -> Handled | None:
        """Before the step: a resend of a message handled before (what it was answered), or
        None. An event with no step is recorded here (a resend of it is answered empty); a
        message is recorded in its step's own commit, with the reply (`_recorded_in`), so a
        crash between the two cannot lose it: WeChat's resend of it is then handled."""
        now = self.core.clock.now()
        with self.sessions() as session, session.begin():
            if cb.incoming is None:
                handled = None if first_delivery(session, cb.key, now) else Handled(None, True, 1)
            else:
                handled = resent(session, cb.key)
            if handled is None and cb.interaction:
                touch_follower(session, cb.openid, now)
            if time.monotonic() - self._last_purge > 3600:
                self._last_purge = time.monotonic()
                forget_deliveries(session, now - dt.timedelta(hours=self.limits.dedupe_keep_hours))
        return handled

    async def _answer(self, request: Request, cb: Callback, arrived: float) -> Response:
        flight = self._inflight.get(cb.key)
        if flight is not None:  # a resend while its first delivery is still being handled
            self.stats["resent"] += 1
            return await self._resent_in_flight(request, cb, flight, arrived)
        # registered before the first await: a resend racing this one finds it
        flight = self._inflight[cb.key] = _Flight(asyncio.get_running_loop().create_future())
        try:
            handled = await self.core.offload(self._seen, cb)
            if handled is not None:
                self.stats["resent"] += 1
                return await self._replay(request, cb, handled, flight)
            if cb.incoming is None:
                return PlainTextResponse(EMPTY)
            return await self._first(request, cb, arrived, flight)
        finally:
            if not flight.late:
                self._land(cb.key, flight, None)

    async def _first(
        self, request: Request, cb: Callback, arrived: float, flight: _Flight
    ) -> Response:
        """The first delivery of a message: the step, answered passively if it is done within
        the budget, else empty now and by the outbox when it is done."""
        assert cb.incoming is not None
        step = asyncio.ensure_future(self._process(cb.incoming, cb.key, arrived, flight))
        remaining = self.limits.reply_budget_seconds - (time.monotonic() - arrived)
        try:
            done, _ = await asyncio.wait({step}, timeout=max(remaining, 0.0))
        except asyncio.CancelledError:
            # The request is cut off (a stop past its grace): the step goes on and its reply
            # is queued as a late one, which the channel's exit waits for.
            self._hand_off(step, cb, flight)
            raise
        if not done:
            self.stats["late"] += 1
            self._hand_off(step, cb, flight)
            return PlainTextResponse(EMPTY)
        try:
            replies = step.result()
        except AlreadyHandled:  # a resend (another worker's) was handled first
            self.stats["resent"] += 1
            return PlainTextResponse(EMPTY)
        except Exception:
            # The step's transaction was rolled back (the core commits only a whole step):
            # nothing of it is stored, and the follower is told so instead of getting silence.
            log.exception("wechat step failed for %s", cb.key)
            replies = [Reply(await self._apology(cb))]
        images = pictures(replies)
        if images:
            await self._enqueue(cb, [Reply("", image_path=p) for p in images], "pic")
        text = as_text(replies, links=self.links)
        if not text:
            return PlainTextResponse(EMPTY)
        first, *rest = chunks(text, PASSIVE_MAX_BYTES)
        if rest:  # a passive reply is one message: the rest follows as customer service
            await self._enqueue(cb, [Reply("\n".join(rest))], "more")
        self.stats["passive"] += 1
        self._land(cb.key, flight, first)
        self.core.shown.handed_over((CHANNEL, cb.openid), question_of(replies))
        return self.gate.passive(request, cb, first)

    def _land(self, key: str, flight: _Flight, passive: str | None) -> None:
        """The first delivery's answer is final: `passive` text, or None (empty, or late and
        enqueued); resends waiting for it get the same."""
        if not flight.future.done():
            flight.future.set_result(passive)
        if self._inflight.get(key) is flight:
            del self._inflight[key]

    async def _resent_in_flight(
        self, request: Request, cb: Callback, flight: _Flight, arrived: float
    ) -> Response:
        """WeChat resent a message whose first delivery is still being handled (a slow step):
        it waits for that answer, within its own budget, and gets the same one."""
        flight.resends += 1
        remaining = self.limits.reply_budget_seconds - (time.monotonic() - arrived)
        try:
            text = await asyncio.wait_for(asyncio.shield(flight.future), max(remaining, 0.0))
        except TimeoutError:
            return PlainTextResponse(EMPTY)  # still running: its reply will go late
        if text is None:
            return PlainTextResponse(EMPTY)
        self.core.shown.withheld((CHANNEL, cb.openid), unseen=True)  # its first answer: lost
        if flight.resends + 1 >= self.limits.callback_tries:
            asked = self.core.shown.asked_by((CHANNEL, cb.openid), cb.key)
            reply = Reply(text, question=asked, step=cb.key)
            await self._enqueue(cb, [reply], "lost")  # WeChat will not try again
            return PlainTextResponse(EMPTY)
        self.core.shown.handed_if_withheld((CHANNEL, cb.openid))
        return self.gate.passive(request, cb, text)

    async def _replay(
        self, request: Request, cb: Callback, handled: Handled, flight: _Flight
    ) -> Response:
        """A resend of a message handled before: its first answer did not reach WeChat, so it
        gets that answer again (never an empty one, which would leave the follower waiting
        and retyping). On WeChat's last try the answer goes by the outbox instead, so that
        losing this one too is not silence."""
        if handled.late or not handled.reply:
            return PlainTextResponse(EMPTY)  # the reply is on its way by the outbox
        self.core.shown.withheld((CHANNEL, cb.openid), unseen=True)
        first = chunks(handled.reply, PASSIVE_MAX_BYTES)[0]
        if handled.resends + 1 >= self.limits.callback_tries:
            asked = self.core.shown.asked_by((CHANNEL, cb.openid), cb.key)
            reply = Reply(handled.reply, question=asked, step=cb.key)
            await self._enqueue(cb, [reply], "lost", late=True)
            return PlainTextResponse(EMPTY)
        self.core.shown.handed_if_withheld((CHANNEL, cb.openid))
        self._land(cb.key, flight, first)
        return self.gate.passive(request, cb, first)

    def _hand_off(self, step: asyncio.Future[list[Reply]], cb: Callback, flight: _Flight) -> None:
        flight.late = True
        task = asyncio.ensure_future(self._deliver_late(step, cb, flight))
        self._late.add(task)
        task.add_done_callback(self._late.discard)

    def _recorded_in(self, key: str) -> Callable[[Session, list[Reply]], None]:
        """Records the callback with the step's reply in the step's transaction; a concurrent
        resend of it (another worker, or this one, the step already committed) finds it and
        rolls back whole."""

        def record(session: Session, replies: list[Reply]) -> None:
            if not first_delivery(
                session, key, self.core.clock.now(), as_text(replies, links=self.links) or None
            ):
                raise AlreadyHandled(key)

        return record

    async def _process(
        self, inc: Incoming, key: str, arrived: float | None = None, flight: _Flight | None = None
    ) -> list[Reply]:
        """The step, after the picture (if any) is copied: both count against the passive
        reply's budget, and a slow download simply makes the reply a late one. One follower's
        messages go through this strictly in order (a text sent just after a picture must
        not overtake the picture while it downloads): the turn spans the copy and the step."""
        chat = (CHANNEL, inc.user_id)
        async with self.core.order.turn(chat):
            media = inc.photo.removeprefix("wechat:") if inc.photo else None
            if media and self.fetch_media is not None and self.core.files_dir is not None:
                inc = await self._copied(inc, media)
            if inc.text:
                # a late reply being sent: whether it reached the follower decides what this
                # answers (a send WeChat refused leaves the question before open for it)
                await self.core.shown.settled(chat, self.limits.http_timeout_seconds)
            if self.core.shown.early(chat, arrived):
                inc = dataclasses.replace(inc, early=True)  # typed before the question showed
            elif inc.text and self.core.shown.after_doubled(chat):
                # the question may not have reached them (a send that failed uncertainly):
                # the answer before, typed again, is a repeat
                inc = dataclasses.replace(inc, after_double=True)
            replies = await self.core.step(inc, self._recorded_in(key))
            if replies:
                # not shown until the answer is returned (or sent by the outbox): a message
                # the follower sends meanwhile answers the question before
                self.core.shown.withheld(chat, question_of(replies), step=key)
            return replies

    async def _copied(self, inc: Incoming, media: str) -> Incoming:
        assert self.fetch_media is not None and self.core.files_dir is not None
        try:
            data = await self.fetch_media(media)
            floor = self.core.config.uploads.min_free_mb * 1024 * 1024
            path = await asyncio.get_running_loop().run_in_executor(
                None, files.store, self.core.files_dir, CHANNEL, data, ".jpg", floor
            )
            return dataclasses.replace(inc, photo=str(path))
        except Exception as exc:  # the step still learns that a picture came
            log.warning("picture %s not copied (%r); keeping its MediaId", media, exc)
            if isinstance(exc, OSError):  # our disk refused it, not WeChat
                await self.core.offload(
                    self.core.folder_refused, "uploads", self.core.files_dir / files.UPLOADS
                )
            return inc

    async def _deliver_late(
        self, step: asyncio.Future[list[Reply]], cb: Callback, flight: _Flight
    ) -> None:
        try:
            try:
                replies = await step
            except AlreadyHandled:
                self.stats["resent"] += 1
                return
            except Exception:
                log.exception("wechat step failed for %s", cb.key)
                replies = [Reply(await self._apology(cb))]
            text = as_text(replies, links=self.links)
            # the question it asks goes with it: a send of it shows that question, a send of
            # an earlier reply (tried again) does not (see ShownQuestions.sending)
            late = [Reply(text, question=question_of(replies), step=cb.key)] if text else []
            late += [Reply("", image_path=p) for p in pictures(replies)]
            await self._enqueue(cb, late, "late", late=True)
        finally:
            self._land(cb.key, flight, None)

    async def _apology(self, cb: Callback) -> str:
        """ "Something went wrong" in the follower's language (the default one if even that
        cannot be read: the database may be what failed)."""

        def locale() -> str | None:
            with self.sessions() as session:
                return locale_of(session, CHANNEL, cb.openid)

        try:
            found = await self.core.offload(locale)
        except Exception:
            log.warning("locale of %s unreadable; apologising in the default", cb.openid)
            found = None
        return translate(found or self.core.config.locale.default, "wechat.step_failed")

    async def _enqueue(
        self, cb: Callback, replies: list[Reply], tag: str, late: bool = False
    ) -> None:
        """Customer-service messages by the outbox; `late`: the callback's reply itself goes
        this way (recorded with the callback, so a resend is answered empty)."""

        def write() -> None:
            with self.sessions() as session, session.begin():
                outbox = Outbox(session, self.core.clock)
                for i, reply in enumerate(replies):
                    outbox.to_chat(
                        CHANNEL, cb.openid, f"wechat:{tag}:{cb.key}:{i}", reply, urgent=True
                    )
                if late:
                    went_late(session, cb.key)

        if replies or late:
            await self.core.offload(write)
            self.wake()

    async def idle(self) -> None:
        """Waits for the steps that missed their passive reply (tests, shutdown)."""
        while self._late:
            await asyncio.gather(*list(self._late), return_exceptions=True)
