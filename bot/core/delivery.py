"""Delivers the outbox: due rows claimed under a lease, handed to the recipient channel's
sender, the outcome recorded.

A claim is a lease (FOR UPDATE SKIP LOCKED on PostgreSQL, and a re-checked update on
SQLite), so several workers never take the same row; a worker that dies mid-batch leaves its
rows to whoever comes after the lease. A message that cannot reach a person on one channel
goes once to their other linked channel. A message asking a question that a later message
queued to the same chat asks too is not sent (superseded: late replies to a person's message
and to its retype, only the later shown); a sender may refuse one likewise (its question is
no longer the open one), and it is recorded, not retried.

Longer than 300 lines on purpose: one loop (claim, send, record) whose parts share the batch's
lease, the chats held back by a failure and each chat's order across batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from bot.core.clock import Clock
from bot.core.messages import Outgoing, Reply
from bot.core.outbox import Outbox, PermanentFailure, Sender, Superseded, TemporaryFailure
from models import OutboxMessage, OutboxStatus, Person
from models import outbox as rows

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = dt.timedelta(seconds=120)
VIA = "|via:"  # marks a copy rerouted to the person's other channel
# Chats delivered to at once in a batch: enough that one slow API call or back-off does not
# hold up everybody else; each channel's sender still paces per chat and overall.
CONCURRENCY = 16
# A failed send is tried again after 0.5 s, 1 s, 2 s...: a late reply to someone waiting in a
# conversation must not wait seconds behind one 502.
RETRY_BASE_SECONDS = 0.5


@dataclass
class _Batch:
    """A claimed batch being delivered: its lease (renewed while slow), the rows not yet
    attempted and those being sent, and which are still ours (None: all)."""

    lease: dt.datetime
    pending: list[int]
    claimed_at: dt.datetime  # what was due then was claimed
    sending: set[int] = field(default_factory=set)
    ours: set[int] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # lease changes vs. outcomes


class OutboxDispatcher:
    """Delivers due outbox rows through the senders of the channels this process runs."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        senders: dict[str, Sender],
        lease: dt.timedelta = LEASE,
        concurrency: int = CONCURRENCY,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.senders = senders
        self.lease = lease  # real time a claim lasts; renewed every quarter of it
        self.concurrency = concurrency  # chats delivered to at once
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = asyncio.Lock()
        self._due = asyncio.Event()
        # chats whose message failed for now: (that row, when it is tried again); a message
        # to the chat queued after the failure, claimed in a later batch, waits for it too
        self._held: dict[tuple[str, str], tuple[int, dt.datetime]] = {}

    def _state(self) -> tuple[asyncio.Lock, asyncio.Event]:
        """The lock and the wake-up event of the running loop (tests run several loops one
        after another over one dispatcher; asyncio primitives belong to one loop)."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop, self._lock, self._due = loop, asyncio.Lock(), asyncio.Event()
        return self._lock, self._due

    def wake(self) -> None:
        """Something was enqueued for now (a late WeChat reply, a notice): deliver it without
        waiting for the next poll. Call from the dispatcher's event loop."""
        if self._loop is not None:
            self._due.set()

    def _lease(self) -> dt.timedelta:
        """LEASE in the clock's time: a rehearsal clock running 60 times faster must not
        shorten the real time a worker has to send what it claimed."""
        return self.lease * self.clock.speed

    def _claim(
        self, limit: int
    ) -> tuple[dt.datetime, list[tuple[int, str, str, dict[str, object], str]]]:
        now = self.clock.now()
        lease = now + self._lease()
        with self.sessions() as session, session.begin():
            return lease, rows.claim(session, list(self.senders), now, lease, limit)

    def _renew(self, ids: list[int], lease: dt.datetime) -> tuple[dt.datetime, set[int]]:
        """Extends the lease of the rows still to send; returns the new lease and the rows
        that are still ours (a row whose lease ran out may have gone to another worker)."""
        renewed = self.clock.now() + self._lease()
        with self.sessions() as session, session.begin():
            return renewed, rows.renew(session, ids, lease, renewed)

    def _release(self, ids: list[int], lease: dt.datetime) -> None:
        """Claimed but not attempted (the worker is stopping): due again at once."""
        if not ids:
            return
        with self.sessions() as session, session.begin():
            rows.release(session, ids, lease)

    def _finish(
        self, outbox_id: int, error: Exception | None, lease: dt.datetime
    ) -> dt.datetime | None:
        """Records the outcome; returns when a temporary failure is tried again."""
        now = self.clock.now()
        with self.sessions() as session, session.begin():
            row = session.get(OutboxMessage, outbox_id)
            if row is None or row.claimed_until != lease:
                return None  # not ours any more: our lease ran out and another worker took it
            row.claimed_until = None
            if error is None:
                row.status, row.sent_at, row.last_error = OutboxStatus.SENT.value, now, None
            elif isinstance(error, Superseded):
                row.status, row.last_error = OutboxStatus.SUPERSEDED.value, str(error)[:1000]
            elif isinstance(error, PermanentFailure) or row.attempts >= MAX_ATTEMPTS:
                row.status, row.last_error = OutboxStatus.FAILED.value, str(error)[:1000]
                if isinstance(error, PermanentFailure) and row.person_id:
                    person = session.get(Person, row.person_id)
                    if person is not None and error.unreachable:
                        person.unreachable_at = now
                    self._reroute(session, row)
            else:
                retry = getattr(error, "retry_after", None) or min(
                    RETRY_BASE_SECONDS * 2 ** (row.attempts - 1), 600
                )
                # real seconds (Telegram's retry_after, our backoff), in the clock's time
                row.next_attempt_at = now + dt.timedelta(seconds=float(retry) * self.clock.speed)
                row.last_error = str(error)[:1000]
                return row.next_attempt_at
        return None

    def _postpone(self, ids: list[int], lease: dt.datetime, until: dt.datetime) -> None:
        """Claimed, not attempted: due again when the message before them is retried."""
        with self.sessions() as session, session.begin():
            rows.postpone(session, ids, lease, until)

    def _reroute(self, session: Session, row: OutboxMessage) -> None:
        """Undeliverable on one channel (e.g. outside WeChat's 48-hour window): the person's
        other channel (linked with /link) gets it, once, preferring the one used last."""
        if VIA in row.idempotency_key:
            return  # already a rerouted copy: no ping-pong between channels
        assert row.person_id is not None  # the caller checked: a notice to a person
        others = rows.other_identities(session, row.person_id, row.channel)
        if not others:
            return
        person = session.get(Person, row.person_id)
        chosen = next((i for i in others if person and i.channel == person.last_channel), others[0])
        key = f"{row.idempotency_key}{VIA}{chosen.channel}"
        reply = Reply.from_payload(row.payload)
        outbox = Outbox(session, self.clock)
        outbox.write([outbox.row(key, row.person_id, chosen.channel, chosen.chat_id, reply)])

    async def run_once(self, limit: int = 50) -> int:
        """Deliver what is due now; returns how many rows were attempted.

        One pass at a time per process: SQLite has no FOR UPDATE, so two concurrent claims
        (the poll loop and a wake-up, or the console's own drain) could take the same rows
        and send them twice. Between processes the lease and SKIP LOCKED keep them apart."""
        lock, _ = self._state()
        async with lock:
            return await self._run_once(limit)

    async def drain(self, limit: int = 50) -> int:
        """Deliver until nothing is due now; returns how many rows were attempted."""
        total = 0
        while n := await self.run_once(limit):
            total += n
        return total

    async def _run_once(self, limit: int) -> int:
        """One claimed batch, delivered to different chats concurrently (at most
        `concurrency` at once: one slow call or back-off does not hold up everybody else),
        each chat's messages in order. The lease is renewed while a batch is slow (pacing,
        429 waits); a row whose lease ran out may have gone to another worker and is left."""
        loop = asyncio.get_running_loop()
        lease, claimed = await loop.run_in_executor(None, self._claim, limit)
        if not claimed:
            return 0
        if len(self._held) > 10_000:  # holds whose retry is past and whose chat went quiet
            now = self.clock.now()
            self._held = {chat: held for chat, held in self._held.items() if held[1] > now}
        batch = _Batch(lease, [row[0] for row in claimed], lease - self._lease())
        chats: dict[tuple[str, str], list[tuple[int, str, str, dict[str, object], str]]] = {}
        for row in claimed:
            chats.setdefault((row[1], row[2]), []).append(row)
        slots = asyncio.Semaphore(self.concurrency)
        renewing = asyncio.ensure_future(self._keep_lease(batch))
        try:
            await asyncio.gather(
                *(self._deliver_chat(rows, batch, slots) for rows in chats.values())
            )
        except asyncio.CancelledError:
            # Stopping: the rows not yet attempted are due again at once (those being sent
            # keep their lease: they may have reached the platform; retried after the lease)
            self._release([i for i in batch.pending if i not in batch.sending], batch.lease)
            raise
        finally:
            renewing.cancel()
        return len(claimed)

    async def _keep_lease(self, batch: _Batch) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 4)
            async with batch.lock:
                batch.lease, batch.ours = await loop.run_in_executor(
                    None, self._renew, list(batch.pending), batch.lease
                )

    async def _deliver_chat(
        self,
        rows: list[tuple[int, str, str, dict[str, object], str]],
        batch: _Batch,
        slots: asyncio.Semaphore,
    ) -> None:
        loop = asyncio.get_running_loop()
        async with slots:
            rows = await self._behind_failed(rows, batch)
            for n, (outbox_id, channel, chat_id, payload, name) in enumerate(rows):
                if batch.ours is not None and outbox_id not in batch.ours:
                    batch.pending.remove(outbox_id)
                    continue
                message = Outgoing(outbox_id, channel, chat_id, Reply.from_payload(payload), name)
                error: Exception | None = None
                batch.sending.add(outbox_id)
                try:
                    if _asked_again(payload, rows[n + 1 :]):
                        raise Superseded("a later reply to the chat asks the same question")
                    await self.senders[channel].send(message)
                except Superseded as exc:
                    error = await self._aside(message, exc)
                except (PermanentFailure, TemporaryFailure) as exc:
                    error = exc
                except Exception as exc:  # a sender bug must not stop the other deliveries
                    log.exception("sender %s failed on outbox %s", channel, outbox_id)
                    error = TemporaryFailure(f"{type(exc).__name__}: {exc}")
                batch.pending.remove(outbox_id)
                batch.sending.discard(outbox_id)
                async with batch.lock:
                    retry_at = await loop.run_in_executor(
                        None, self._finish, outbox_id, error, batch.lease
                    )
                if retry_at is not None:
                    self._held[(channel, chat_id)] = (outbox_id, retry_at)
                elif self._held.get((channel, chat_id), (None,))[0] == outbox_id:
                    del self._held[(channel, chat_id)]
                if retry_at is not None and n + 1 < len(rows):
                    # the chat's later messages wait for this one: never overtake it
                    later = [row[0] for row in rows[n + 1 :]]
                    async with batch.lock:
                        await loop.run_in_executor(
                            None, self._postpone, later, batch.lease, retry_at
                        )
                    for later_id in later:
                        batch.pending.remove(later_id)
                    return

    async def _aside(self, message: Outgoing, superseded: Superseded) -> Exception:
        """A superseded message's news (what its step stored: a correction, a submission)
        still goes, alone: only its question is no longer the one to answer. Its failure is
        the message's (tried again, superseded again: the news again)."""
        aside = message.reply.aside
        if not aside:
            return superseded
        alone = dataclasses.replace(message, reply=Reply(aside))
        try:
            await self.senders[message.channel].send(alone)
        except (PermanentFailure, TemporaryFailure) as exc:
            return exc
        except Exception as exc:
            log.exception("sender %s failed on outbox %s", message.channel, message.outbox_id)
            return TemporaryFailure(f"{type(exc).__name__}: {exc}")
        return Superseded(f"{superseded} (its news sent alone)")

    async def _behind_failed(
        self, rows: list[tuple[int, str, str, dict[str, object], str]], batch: _Batch
    ) -> list[tuple[int, str, str, dict[str, object], str]]:
        """A chat's rows queued after its message that failed for now, which is not in this
        batch (its retry is not due yet), are postponed until that retry; the others."""
        chat = (rows[0][1], rows[0][2])
        held = self._held.get(chat)
        if held is None:
            return rows
        failed, until = held
        if until <= batch.claimed_at or any(row[0] == failed for row in rows):
            del self._held[chat]  # it was due: claimed with these (first: older), or done
            return rows
        later = [row[0] for row in rows if row[0] > failed]
        if later:
            async with batch.lock:
                await asyncio.get_running_loop().run_in_executor(
                    None, self._postpone, later, batch.lease, until
                )
            for later_id in later:
                batch.pending.remove(later_id)
        return [row for row in rows if row[0] < failed]

    async def run_forever(self, interval: float = 1.0) -> None:
        """Poll every `interval` seconds (rows enqueued by other processes, retries coming
        due) and at once when woken."""
        _, due = self._state()
        while True:
            try:
                await self.drain()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox dispatch failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(due.wait(), interval)
            due.clear()


def _asked_again(
    payload: dict[str, object], later: list[tuple[int, str, str, dict[str, object], str]]
) -> bool:
    """Whether a message asking a question is followed, in its chat's queue, by another that
    asks the same one (late replies to two messages of a person, the second a retype): only
    the later is sent, which was made from the later state (a correction, the question
    again). Showing both, the person would answer the first and see the question again."""
    question = payload.get("question")
    return question is not None and any(row[3].get("question") == question for row in later)
