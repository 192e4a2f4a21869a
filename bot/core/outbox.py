"""Enqueue messages for other people, in the step's transaction; `delivery.py` sends them.

A row is enqueued once per idempotency key (a rerun job, a retried step enqueue nothing
twice). This module also names the outcomes a channel's sender reports to the delivery.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Protocol

from sqlalchemy.orm import Session

from bot.core.clock import Clock
from bot.core.messages import Outgoing, Reply
from models import OutboxStatus
from models.outbox import identities_of, insert_new

log = logging.getLogger(__name__)


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


class Superseded(Exception):
    """A reply to someone in a conversation that is not to be shown any more: the question it
    asks is no longer the one open (they answered on), or a later reply asks it too. Recorded,
    not sent, not retried: shown, it would be answered, and the answer stored under the
    question that is open."""


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

    def to_chat(
        self, channel: str, chat_id: str, key: str, reply: Reply, urgent: bool = False
    ) -> None:
        """To a chat; `urgent`: the reply to someone in a conversation, delivered before
        anything queued that is not."""
        self._rows.append(self.row(key, None, channel, chat_id, reply, priority=int(urgent)))
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
                self._rows.append(self.row(key, person_id, chosen[0], chosen[1], reply))
        rows, self._rows = self._rows, []
        for start in range(0, len(rows), self.BULK):
            self.write(rows[start : start + self.BULK])

    def _channels(self, person_ids: list[int]) -> dict[int, tuple[str, str]]:
        """(channel, chat id) of each person: the channel used last, else the first linked."""
        chosen: dict[int, tuple[str, str]] = {}
        for person_id, channel, chat_id, last in identities_of(self.session, person_ids):
            if person_id not in chosen or channel == last != chosen[person_id][0]:
                chosen[person_id] = (channel, chat_id)
        return chosen

    def row(
        self,
        key: str,
        person_id: int | None,
        channel: str,
        chat_id: str,
        reply: Reply,
        priority: int = 0,
    ) -> dict[str, object]:
        now = self.clock.now()
        return {
            "priority": priority,
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

    def write(self, rows: list[dict[str, object]]) -> None:
        """Rows made by `row`, in one statement; keys enqueued before are skipped."""
        if rows:
            insert_new(self.session, rows)


def _fit_key(key: str, limit: int = 200) -> str:
    """Keys longer than the column keep a readable head and a digest of the whole key, so two
    long keys that share their first 200 characters stay two messages."""
    if len(key) <= limit:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"{key[: limit - 33]}#{digest}"
