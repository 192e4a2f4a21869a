"""The Official Account's callback `/wechat`: checks, resends, the 5-second rule.

Each request first passes the gate (gate.py: size, signature, safe mode; each refusal before
anything is stored or processed). A message then goes straight to its step, whose own commit
records it by its dedupe key with the reply it gave and opens the follower's 48-hour window (no
transaction before the step: one message, one transaction, one thread hop); a resend finds that
record (looked up first when this worker committed the message lately, otherwise by the step,
which then rolls back whole). An event with no step is recorded before its empty answer.

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

A message answered empty is never lost: before the empty answer it is stored, held by this
worker under a lease (`wechat_inbound.pending`, the Incoming as JSON), and its step's own commit
clears it with the dedupe record. The worker renews its leases at each sweep; every worker's
sweep takes over held messages whose lease ran out (a worker killed mid-step), claiming each with
a conditional update, and runs the step in the follower's turn, its reply by the outbox; a
takeover racing a live step loses with AlreadyHandled and rolls back whole. A follower's new
message first finishes their held message whose lease ran out (arrival order).

A step that raises has had its transaction rolled back (the core commits whole steps only),
so nothing of it is stored; it is logged and answered, passively or late like any reply, with
a short apology from the catalog (wechat.step_failed) rather than WeChat's empty answer, which
would leave the follower waiting for a reply that never comes.

Longer than 300 lines on purpose: one callback's life (first delivery, resends while it runs
and after, the late reply, the message held for it) is one state machine, read best in one
place.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

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
    claim,
    finished,
    first_delivery,
    forget_deliveries,
    held,
    hold,
    release,
    renew,
    resent,
    touch_follower,
    went_late,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

PATH = "/wechat"
EMPTY = "success"  # WeChat's "no passive reply" answer
PASSIVE_MAX_BYTES = 2000  # WeChat takes about 2048 bytes of text per message
# Messages whose step this worker committed are remembered this long: WeChat's resends of
# one come within about 15 s (three tries, 5 s apart), and one of these is looked up first.
RECENT_SECONDS = 120.0
PURGE_SECONDS = 3600.0  # how often old dedupe records are deleted


class AlreadyHandled(Exception):
    """WeChat resent a message whose step has been committed meanwhile."""


@dataclass
class _Flight:
    """A message's first delivery being handled: resends of it wait for its answer."""

    future: asyncio.Future[str | None]  # the passive text it was answered; None: empty/late
    late: bool = False
    resends: int = 0
    held: asyncio.Future[None] | None = None  # storing it before the empty answer


def default_worker(port: int) -> str:
    """A worker's name that survives its restart: the host and the port it serves."""
    return f"{socket.gethostname()}:{port}"


class WeChatChannel:
    def __init__(
        self,
        core: Core,
        token: str,
        app_id: str,
        aes_key: str | None,
        limits: WeChatConfig,
        wake: Callable[[], None] = lambda: None,
        worker: str = "wechat",
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
        self.worker = worker[:100]  # holds the messages it answered empty (see hold)
        self._late: set[asyncio.Task[None]] = set()
        self._inflight: dict[str, _Flight] = {}  # dedupe key -> its first delivery
        self._recent: dict[str, float] = {}  # dedupe key -> when its step committed here
        self._held: set[str] = set()  # messages held by this worker whose step is running
        self._taking: set[str] = set()  # followers whose held messages are being taken over
        # follower -> when the lease of a message another worker holds runs out (last sweep)
        self._leases: dict[str, dt.datetime] = {}
        # Storing a held message must not queue behind the late step itself (SQLite's one
        # step thread): a thread of its own, also for the sweeps.
        self._side = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wechat-held")
        self._last_purge = -PURGE_SECONDS
        self.stats = {
            "passive": 0,
            "late": 0,
            "resent": 0,
            "refused": 0,
            "malformed": 0,
            "taken_over": 0,
        }

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
    def _event(self, cb: Callback) -> Handled | None:
        """An event with no step is recorded before it is answered (a resend of it is
        answered empty); it opens the follower's window unless it is an unsubscribe."""
        now = self.core.clock.now()
        with self.sessions() as session, session.begin():
            if not first_delivery(session, cb.key, now):
                return Handled(None, True, 1)
            if cb.interaction:
                touch_follower(session, cb.openid, now)
        return None

    def _resent(self, key: str) -> Handled | None:
        with self.sessions() as session, session.begin():
            return resent(session, key)

    async def _answer(self, request: Request, cb: Callback, arrived: float) -> Response:
        flight = self._inflight.get(cb.key)
        if flight is not None:  # a resend while its first delivery is still being handled
            self.stats["resent"] += 1
            return await self._resent_in_flight(request, cb, flight, arrived)
        # registered before the first await: a resend racing this one finds it
        flight = self._inflight[cb.key] = _Flight(asyncio.get_running_loop().create_future())
        try:
            if cb.incoming is None:
                handled = await self.core.offload(self._event, cb)
                if handled is not None:
                    self.stats["resent"] += 1
                    return await self._replay(request, cb, handled, flight)
                return PlainTextResponse(EMPTY)
            if cb.key in self._recent:  # handled here lately: WeChat resent it
                handled = await self.core.offload(self._resent, cb.key)
                if handled is not None:
                    self.stats["resent"] += 1
                    return await self._replay(request, cb, handled, flight)
            # A new message goes straight to its step, which records it (and the follower's
            # window) in its own commit; a resend this worker did not see finds the record
            # there, rolls back whole and is answered as one (AlreadyHandled in _first).
            return await self._first(request, cb, arrived, flight)
        finally:
            if not flight.late:
                self._land(cb.key, flight, None)

    async def _first(
        self, request: Request, cb: Callback, arrived: float, flight: _Flight
    ) -> Response:
        """The first delivery of a message: the step, answered passively if it is done within
        the budget, else empty now (once the message is stored for its step) and by the
        outbox when it is done."""
        assert cb.incoming is not None
        step = asyncio.ensure_future(self._process(cb.incoming, cb.key, arrived, flight))
        remaining = self.limits.reply_budget_seconds - (time.monotonic() - arrived)
        try:
            done, _ = await asyncio.wait({step}, timeout=max(remaining, 0.0))
        except asyncio.CancelledError:
            # The request is cut off (a stop past its grace): the step goes on and its reply
            # is queued as a late one, which the channel's exit waits for.
            self._hand_off(step, cb.openid, cb.key, flight)
            raise
        if not done:
            self.stats["late"] += 1
            # stored before the empty answer: WeChat will not send this message again
            flight.held = asyncio.ensure_future(self._hold(cb))
            self._hand_off(step, cb.openid, cb.key, flight)
            try:
                await asyncio.shield(flight.held)
            except Exception:
                # Not stored: no empty answer, so WeChat resends it (the resend waits for
                # this step and is answered with it).
                log.exception("wechat message %s not stored for its late step", cb.key)
                return PlainTextResponse("not stored", status_code=503)
            return PlainTextResponse(EMPTY)
        try:
            replies = step.result()
        except AlreadyHandled:  # a resend this worker had not seen: handled before
            handled = await self.core.offload(self._resent, cb.key)
            self.stats["resent"] += 1
            if handled is None:
                return PlainTextResponse(EMPTY)
            return await self._replay(request, cb, handled, flight)
        except Exception:
            # The step's transaction was rolled back (the core commits only a whole step):
            # nothing of it is stored, and the follower is told so instead of getting silence.
            log.exception("wechat step failed for %s", cb.key)
            replies = [Reply(await self._apology(cb.openid))]
        images = pictures(replies)
        if images:
            await self._enqueue(cb.openid, cb.key, [Reply("", image_path=p) for p in images], "pic")
        text = as_text(replies, links=self.links)
        if not text:
            return PlainTextResponse(EMPTY)
        first, *rest = chunks(text, PASSIVE_MAX_BYTES)
        if rest:  # a passive reply is one message: the rest follows as customer service
            await self._enqueue(cb.openid, cb.key, [Reply("\n".join(rest))], "more")
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
            await self._enqueue(cb.openid, cb.key, [reply], "lost")  # no more tries
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
            await self._enqueue(cb.openid, cb.key, [reply], "lost", late=True)
            return PlainTextResponse(EMPTY)
        self.core.shown.handed_if_withheld((CHANNEL, cb.openid))
        self._land(cb.key, flight, first)
        return self.gate.passive(request, cb, first)

    def _hand_off(
        self, step: asyncio.Future[list[Reply]], openid: str, key: str, flight: _Flight | None
    ) -> None:
        if flight is not None:
            flight.late = True
        task = asyncio.ensure_future(self._deliver_late(step, openid, key, flight))
        self._late.add(task)
        task.add_done_callback(self._late.discard)

    def _recorded_in(self, key: str, openid: str) -> Callable[[Session, list[Reply]], None]:
        """Records the callback with the step's reply (and the follower's new window) in the
        step's transaction, clearing the message held for it if it was answered empty; a
        concurrent resend or takeover of it (another worker, or this one, the step already
        committed) finds it handled and rolls back whole."""

        def record(session: Session, replies: list[Reply]) -> None:
            reply = as_text(replies, links=self.links) or None
            asked = question_of(replies) is not None
            if not finished(session, key, openid, self.core.clock.now(), reply, asked):
                raise AlreadyHandled(key)

        return record

    async def _process(
        self, inc: Incoming, key: str, arrived: float | None = None, flight: _Flight | None = None
    ) -> list[Reply]:
        """The step, after the picture (if any) is copied: both count against the passive
        reply's budget, and a slow download simply makes the reply a late one. One follower's
        messages go through this strictly in order (a text sent just after a picture must
        not overtake the picture while it downloads): the turn spans the copy and the step.
        A message of theirs that another worker held and left (its lease ran out) goes
        first."""
        async with self.core.order.turn((CHANNEL, inc.user_id)):
            lease = self._leases.get(inc.user_id)
            if lease is not None and lease <= self.core.clock.now():
                await self._finish_held(inc.user_id)
            return await self._step(inc, key, arrived)

    async def _step(self, inc: Incoming, key: str, arrived: float | None) -> list[Reply]:
        """The step of one message, in its follower's turn (the caller holds it)."""
        chat = (CHANNEL, inc.user_id)
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
        replies = await self.core.step(inc, self._recorded_in(key, inc.user_id))
        self._remember(key)
        if replies:
            # not shown until the answer is returned (or sent by the outbox): a message
            # the follower sends meanwhile answers the question before
            self.core.shown.withheld(chat, question_of(replies), step=key)
        return replies

    def _remember(self, key: str) -> None:
        """The step of `key` committed here: a resend of it is looked up, not stepped."""
        now = time.monotonic()
        self._recent[key] = now
        for _ in range(2):  # oldest first (insertion order): up to two out per one in
            oldest = next(iter(self._recent))
            if now - self._recent[oldest] <= RECENT_SECONDS:
                break
            del self._recent[oldest]

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
        self,
        step: asyncio.Future[list[Reply]],
        openid: str,
        key: str,
        flight: _Flight | None,
    ) -> None:
        try:
            failed = False
            try:
                replies = await step
            except AlreadyHandled:  # a resend or a takeover finished it first
                self.stats["resent"] += 1
                return
            except Exception:
                log.exception("wechat step failed for %s", key)
                replies = [Reply(await self._apology(openid))]
                failed = True
            if flight is not None and flight.held is not None:
                await asyncio.gather(flight.held, return_exceptions=True)  # stored by now
            text = as_text(replies, links=self.links)
            # the question it asks goes with it: a send of it shows that question, a send of
            # an earlier reply (tried again) does not (see ShownQuestions.sending); what it
            # tells besides (a correction, a submission) still goes if the question is
            # superseded by the time it is sent
            question = question_of(replies)
            news = [r for r in replies if r.news and r.question is None] if question else []
            aside = as_text(news, links=self.links) or None
            late = [Reply(text, question=question, step=key, aside=aside)] if text else []
            late += [Reply("", image_path=p) for p in pictures(replies)]
            await self._enqueue(openid, key, late, "late", late=True, failed=failed)
        finally:
            self._held.discard(key)
            if flight is not None:
                self._land(key, flight, None)

    async def _apology(self, openid: str) -> str:
        """ "Something went wrong" in the follower's language (the default one if even that
        cannot be read: the database may be what failed)."""

        def locale() -> str | None:
            with self.sessions() as session:
                return locale_of(session, CHANNEL, openid)

        try:
            found = await self.core.offload(locale)
        except Exception:
            log.warning("locale of %s unreadable; apologising in the default", openid)
            found = None
        return translate(found or self.core.config.locale.default, "wechat.step_failed")

    async def _enqueue(
        self,
        openid: str,
        key: str,
        replies: list[Reply],
        tag: str,
        late: bool = False,
        failed: bool = False,
    ) -> None:
        """Customer-service messages by the outbox; `late`: the callback's reply itself goes
        this way (recorded with the callback, so a resend is answered empty); `failed`: the
        step failed, the message held for it is let go (as any failed step, it is not
        handled: a resend of it is) and the apology opens the follower's window."""

        def write() -> None:
            with self.sessions() as session, session.begin():
                outbox = Outbox(session, self.core.clock)
                for i, reply in enumerate(replies):
                    outbox.to_chat(CHANNEL, openid, f"wechat:{tag}:{key}:{i}", reply, urgent=True)
                if failed:
                    release(session.connection(), key)
                    touch_follower(session, openid, self.core.clock.now())
                if late:
                    went_late(session, key)

        if replies or late:
            await self.core.offload(write)
            self.wake()

    # ----- messages held for a late step -------------------------------------------------------
    async def _on_side(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._side, fn)

    async def _hold(self, cb: Callback) -> None:
        """Stores a message about to be answered empty, held by this worker, for its step
        (which clears it) or whoever takes it over once the lease runs out."""
        assert cb.incoming is not None
        now = self.core.clock.now()
        until = now + dt.timedelta(seconds=self.limits.pending_lease_seconds)
        payload = json.dumps(cb.incoming.to_payload(), ensure_ascii=False)

        def write() -> None:
            with self.core.db.begin() as conn:
                hold(conn, cb.key, cb.openid, payload, self.worker, now, until)

        self._held.add(cb.key)
        await self._on_side(write)

    async def sweep(self) -> None:
        """One round (every pending_sweep_seconds, and at start): renews the leases of what
        this worker holds; takes over held messages whose lease ran out (a dead worker's),
        and this worker's own that no step here is running (its previous life's, after a
        restart); forgets old dedupe records hourly."""
        now = self.core.clock.now()
        until = now + dt.timedelta(seconds=self.limits.pending_lease_seconds)
        purge = time.monotonic() - self._last_purge > PURGE_SECONDS
        keep = dt.timedelta(hours=self.limits.dedupe_keep_hours)

        def read() -> list[tuple[str, str, str, dt.datetime]]:
            with self.sessions() as session, session.begin():
                conn = session.connection()
                if self._held:
                    renew(conn, self.worker, until)
                if purge:
                    forget_deliveries(session, now - keep)
                return [(h.key, h.openid, h.owner, h.lease_until) for h in held(conn)]

        rows = await self._on_side(read)
        if purge:
            self._last_purge = time.monotonic()
        leases: dict[str, dt.datetime] = {}
        due: set[str] = set()
        for key, openid, owner, lease_until in rows:
            if key in self._held:
                continue  # a step here is running it
            if owner == self.worker or lease_until <= now:
                due.add(openid)
            elif openid not in leases:
                leases[openid] = lease_until
        self._leases = leases
        for openid in due - self._taking:
            self._taking.add(openid)
            task = asyncio.ensure_future(self._take_over(openid))
            self._late.add(task)
            task.add_done_callback(self._late.discard)

    async def keep_held(self) -> None:
        """The sweep, forever (a failed round is logged and the next one comes)."""
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("wechat: the sweep of held messages failed")
            await asyncio.sleep(self.limits.pending_sweep_seconds)

    async def _take_over(self, openid: str) -> None:
        try:
            async with self.core.order.turn((CHANNEL, openid)):
                await self._finish_held(openid)
        finally:
            self._taking.discard(openid)

    async def _finish_held(self, openid: str) -> None:
        """Runs the steps of the follower's held messages that are free to take (the lease
        ran out, or this worker's own from before), oldest first, each claimed before its
        step; the replies go by the outbox. The caller holds the follower's turn."""
        self._leases.pop(openid, None)
        now = self.core.clock.now()
        until = now + dt.timedelta(seconds=self.limits.pending_lease_seconds)

        def take() -> list[tuple[str, str]]:
            taken = []
            with self.sessions() as session, session.begin():
                conn = session.connection()
                for h in held(conn):
                    if h.openid != openid or h.key in self._held:
                        continue
                    pending = claim(conn, h.key, self.worker, now, until)
                    if pending is not None:
                        taken.append((h.key, pending))
            return taken

        for key, pending in await self._on_side(take):
            self._held.add(key)
            self.stats["taken_over"] += 1
            log.info("wechat: finishing %s, answered empty by a worker that left it", key)
            inc = Incoming.from_payload(json.loads(pending))
            step = asyncio.ensure_future(self._step(inc, key, None))
            await asyncio.gather(step, return_exceptions=True)
            await self._deliver_late(step, openid, key, None)

    async def idle(self) -> None:
        """Waits for the steps that missed their passive reply (tests, shutdown)."""
        while self._late:
            await asyncio.gather(*list(self._late), return_exceptions=True)

    def close(self) -> None:
        self._side.shutdown(wait=False)
