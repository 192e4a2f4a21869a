"""Enqueue messages for other people (in the step's transaction) and deliver them later.

A row is enqueued once per idempotency key; the dispatcher claims due rows (FOR UPDATE SKIP
LOCKED on PostgreSQL, so several workers never take the same row), hands each to the
recipient channel's sender and records the outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
import time
from typing import Protocol

from sqlalchemy import Executable, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from bot.core.clock import Clock
from bot.core.messages import Outgoing, Reply
from models import Identity, OutboxMessage, OutboxStatus, Person

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = dt.timedelta(seconds=120)
VIA = "|via:"  # marks a copy rerouted to the person's other channel


class PermanentFailure(Exception):
    """The message can never be delivered (blocked bot, unknown chat, WeChat's window closed):
    recorded, not retried. `unreachable`: the person cannot be reached on this channel at all
    (they blocked the bot, unfollowed), recorded on them; a closed 48-hour window or a bad
    request says nothing about the person and leaves them alone."""

    def __init__(self, reason: str, unreachable: bool = False) -> None:
        super().__init__(reason)
        self.unreachable = unreachable


class TemporaryFailure(Exception):
    """Try again later; `retry_after` seconds if the platform said so."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class Sender(Protocol):
    async def send(self, message: Outgoing) -> None: ...


class Outbox:
    """Writes outbox rows inside the current step's transaction.

    With batch=True (the scheduler's broadcasts) rows are collected and written by flush()
    in a few multi-row statements, the recipients' channels looked up in bulk: 10,000 single
    inserts would hold SQLite's one write lock for seconds, stalling every conversation."""

    BULK = 500  # rows (and people looked up) per statement

    def __init__(self, session: Session, clock: Clock, batch: bool = False) -> None:
        self.session = session
        self.clock = clock
        self.batch = batch
        self._rows: list[dict[str, object]] = []
        self._people: list[tuple[int, str, Reply]] = []

    def to_person(self, person_id: int, key: str, reply: Reply) -> None:
        """To a person, on the channel they used last."""
        self.to_people([(person_id, key, reply)])

    def to_people(self, messages: list[tuple[int, str, Reply]]) -> None:
        """To several people (a registration's reviewers): their channels in one query, the
        rows in one statement. Each (person id, idempotency key, reply)."""
        self._people.extend(messages)
        if not self.batch:
            self.flush()

    def to_chat(self, channel: str, chat_id: str, key: str, reply: Reply) -> None:
        self._rows.append(self._row(key, None, channel, chat_id, reply))
        if not self.batch:
            self.flush()

    def flush(self) -> None:
        """Writes what was collected (at once outside batch mode; batch mode calls this)."""
        people, self._people = self._people, []
        for start in range(0, len(people), self.BULK):
            chunk = people[start : start + self.BULK]
            channels = self._channels(sorted({p for p, _, _ in chunk}))
            for person_id, key, reply in chunk:
                chosen = channels.get(person_id)
                if chosen is None:
                    log.warning("person %s has no channel identity; %s dropped", person_id, key)
                    continue
                self._rows.append(self._row(key, person_id, chosen[0], chosen[1], reply))
        rows, self._rows = self._rows, []
        for start in range(0, len(rows), self.BULK):
            self._write(rows[start : start + self.BULK])

    def _channels(self, person_ids: list[int]) -> dict[int, tuple[str, str]]:
        """(channel, chat id) of each person: the channel used last, else the first linked."""
        found = self.session.connection().execute(_CHANNELS, {"people": person_ids})
        chosen: dict[int, tuple[str, str]] = {}
        for person_id, channel, chat_id, last in found:
            if person_id not in chosen or channel == last != chosen[person_id][0]:
                chosen[person_id] = (channel, chat_id)
        return chosen

    def _row(
        self, key: str, person_id: int | None, channel: str, chat_id: str, reply: Reply
    ) -> dict[str, object]:
        now = self.clock.now()
        return {
            "idempotency_key": _fit_key(key),
            "person_id": person_id,
            "channel": channel,
            "chat_id": chat_id,
            "payload": reply.to_payload(),
            "status": OutboxStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }

    def _write(self, rows: list[dict[str, object]]) -> None:
        """One statement; a key already enqueued (a rerun, a retried step) is skipped."""
        if rows:
            dialect = self.session.get_bind().dialect.name
            self.session.connection().execute(_insert_skipping_known(dialect), rows)


# Built once: notices are enqueued in the steps that submit registrations (every registrant),
# and building a statement costs more than running it.
_CHANNELS = (
    select(Identity.person_id, Identity.channel, Identity.chat_id, Person.last_channel)
    .join(Person, Person.id == Identity.person_id)
    .where(Identity.person_id.in_(bindparam("people", expanding=True)))
    .order_by(Identity.id)
)
_INSERTS: dict[str, Executable] = {}


def _insert_skipping_known(dialect: str) -> Executable:
    if dialect not in _INSERTS:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        _INSERTS[dialect] = insert(OutboxMessage).on_conflict_do_nothing(
            index_elements=["idempotency_key"]
        )
    return _INSERTS[dialect]


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
            ids = session.scalars(
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.status == OutboxStatus.PENDING.value,
                    OutboxMessage.channel.in_(list(self.senders)),
                    OutboxMessage.next_attempt_at <= now,
                    (OutboxMessage.claimed_until.is_(None)) | (OutboxMessage.claimed_until < now),
                )
                .order_by(OutboxMessage.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            if not ids:
                return lease, []
            # The claim re-checks the lease: on SQLite (no FOR UPDATE) another process, or
            # another pass, may have claimed some of these rows since the SELECT; only the rows
            # this UPDATE actually took are ours.
            ids = session.scalars(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id.in_(ids),
                    OutboxMessage.status == OutboxStatus.PENDING.value,
                    (OutboxMessage.claimed_until.is_(None)) | (OutboxMessage.claimed_until < now),
                )
                .values(claimed_until=lease, attempts=OutboxMessage.attempts + 1)
                .returning(OutboxMessage.id)
            ).all()
            if not ids:
                return lease, []
            rows = session.execute(
                select(
                    OutboxMessage.id,
                    OutboxMessage.channel,
                    OutboxMessage.chat_id,
                    OutboxMessage.payload,
                    Person.display_name,
                )
                .outerjoin(Person, Person.id == OutboxMessage.person_id)
                .where(OutboxMessage.id.in_(ids))
                .order_by(OutboxMessage.id)
            ).all()
            return lease, [(r[0], r[1], r[2], r[3], r[4] or "") for r in rows]

    def _renew(self, ids: list[int], lease: dt.datetime) -> tuple[dt.datetime, set[int]]:
        """Extends the lease of the rows still to send; returns the new lease and the rows
        that are still ours (a row whose lease ran out may have gone to another worker)."""
        renewed = self.clock.now() + self._lease()
        with self.sessions() as session, session.begin():
            kept = session.scalars(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.claimed_until == lease)
                .values(claimed_until=renewed)
                .returning(OutboxMessage.id)
            ).all()
        return renewed, set(kept)

    def _release(self, ids: list[int], lease: dt.datetime) -> None:
        """Claimed but not attempted (the worker is stopping): due again at once."""
        if not ids:
            return
        with self.sessions() as session, session.begin():
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.claimed_until == lease)
                .values(claimed_until=None, attempts=OutboxMessage.attempts - 1)
            )

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
        others = session.scalars(
            select(Identity)
            .where(Identity.person_id == row.person_id, Identity.channel != row.channel)
            .order_by(Identity.id)
        ).all()
        if not others:
            return
        person = session.get(Person, row.person_id)
        chosen = next((i for i in others if person and i.channel == person.last_channel), others[0])
        key = f"{row.idempotency_key}{VIA}{chosen.channel}"
        reply = Reply.from_payload(row.payload)
        outbox = Outbox(session, self.clock)
        outbox._write([outbox._row(key, row.person_id, chosen.channel, chosen.chat_id, reply)])

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


def _fit_key(key: str, limit: int = 200) -> str:
    """Keys longer than the column keep a readable head and a digest of the whole key, so two
    long keys that share their first 200 characters stay two messages."""
    if len(key) <= limit:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"{key[: limit - 33]}#{digest}"
