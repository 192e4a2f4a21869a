"""Delivers the outbox: due rows claimed under a lease, handed to the recipient channel's
sender, the outcome recorded.

A claim is a lease (FOR UPDATE SKIP LOCKED on PostgreSQL, and a re-checked update on
SQLite), so several workers never take the same row; a worker that dies mid-batch leaves its
rows to whoever comes after the lease. A message that cannot reach a person on one channel
goes once to their other linked channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time

from sqlalchemy.orm import Session, sessionmaker

from bot.core.clock import Clock
from bot.core.messages import Outgoing, Reply
from bot.core.outbox import Outbox, PermanentFailure, Sender, TemporaryFailure
from models import OutboxMessage, OutboxStatus, Person
from models import outbox as rows

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = dt.timedelta(seconds=120)
VIA = "|via:"  # marks a copy rerouted to the person's other channel


class OutboxDispatcher:
    """Delivers due outbox rows through the senders of the channels this process runs."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        senders: dict[str, Sender],
        lease: dt.timedelta = LEASE,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.senders = senders
        self.lease = lease  # real time a claim lasts; renewed every quarter of it
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = asyncio.Lock()
        self._due = asyncio.Event()

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

    def _finish(self, outbox_id: int, error: Exception | None, lease: dt.datetime) -> None:
        now = self.clock.now()
        with self.sessions() as session, session.begin():
            row = session.get(OutboxMessage, outbox_id)
            if row is None or row.claimed_until != lease:
                return  # not ours any more: our lease ran out and another worker took it
            row.claimed_until = None
            if error is None:
                row.status, row.sent_at, row.last_error = OutboxStatus.SENT.value, now, None
            elif isinstance(error, PermanentFailure) or row.attempts >= MAX_ATTEMPTS:
                row.status, row.last_error = OutboxStatus.FAILED.value, str(error)[:1000]
                if isinstance(error, PermanentFailure) and row.person_id:
                    person = session.get(Person, row.person_id)
                    if person is not None and error.unreachable:
                        person.unreachable_at = now
                    self._reroute(session, row)
            else:
                retry = getattr(error, "retry_after", None) or min(2**row.attempts, 600)
                # real seconds (Telegram's retry_after, our backoff), in the clock's time
                row.next_attempt_at = now + dt.timedelta(seconds=float(retry) * self.clock.speed)
                row.last_error = str(error)[:1000]

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
        loop = asyncio.get_running_loop()
        lease, claimed = await loop.run_in_executor(None, self._claim, limit)
        renew_every = self.lease.total_seconds() / 4
        renew_at = time.monotonic() + renew_every
        pending = [row[0] for row in claimed]
        ours = set(pending)
        sending: int | None = None
        try:
            for outbox_id, channel, chat_id, payload, name in claimed:
                if time.monotonic() > renew_at:  # a slow batch (pacing, 429 waits) keeps it
                    lease, ours = await loop.run_in_executor(None, self._renew, pending, lease)
                    renew_at = time.monotonic() + renew_every
                if outbox_id not in ours:
                    pending.remove(outbox_id)
                    continue
                message = Outgoing(outbox_id, channel, chat_id, Reply.from_payload(payload), name)
                error: Exception | None = None
                sending = outbox_id
                try:
                    await self.senders[channel].send(message)
                except (PermanentFailure, TemporaryFailure) as exc:
                    error = exc
                except Exception as exc:  # a sender bug must not stop the other deliveries
                    log.exception("sender %s failed on outbox %s", channel, outbox_id)
                    error = TemporaryFailure(f"{type(exc).__name__}: {exc}")
                pending.remove(outbox_id)
                sending = None
                await loop.run_in_executor(None, self._finish, outbox_id, error, lease)
        except asyncio.CancelledError:
            # Stopping: the rows not yet attempted are due again at once (the one being sent
            # keeps its lease: it may have reached the platform, it is retried after the lease)
            self._release([i for i in pending if i != sending], lease)
            raise
        return len(claimed)

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
