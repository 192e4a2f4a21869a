"""What every scheduled job shares: `JobCtx` (the run's session, config, clock and where its
messages go), `Sink` and `DryRun`, the page size of the jobs that reach every streamer, and
the group chats a job posts to. Jobs only compute and enqueue to the outbox, each message keyed
(job, period, recipient), so running a job again adds nothing.

The jobs themselves, by what they are about: handlers/reminders.py (reminders and nudges),
handlers/digests.py (the committee's and the units' digests), handlers/board_jobs.py (the
龙虎榜, weekly and final), handlers/export.py `exports_cleanup` (housekeeping of the exports'
folder), handlers/forget.py `retention` and handlers/qr.py (the WeChat QR code). When each job
runs is handlers/calendar.py; who the recipients are, models/recipients.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.clock import Clock
from bot.core.i18n import translate
from bot.core.messages import Reply
from models import Person, recipients


class Sink(Protocol):
    """Where a job's messages go: the outbox, or a dry run's list."""

    def to_person(self, person_id: int, key: str, reply: Reply) -> None: ...
    def to_chat(self, channel: str, chat_id: str, key: str, reply: Reply) -> None: ...


@dataclass
class DryRun:
    """Collects who would get what (`jobs run NAME --dry-run`): nothing is sent."""

    sent: list[tuple[str, str, Reply]] = field(default_factory=list)

    def to_person(self, person_id: int, key: str, reply: Reply) -> None:
        self.sent.append((f"person {person_id}", key, reply))

    def to_chat(self, channel: str, chat_id: str, key: str, reply: Reply) -> None:
        self.sent.append((f"{channel} chat {chat_id}", key, reply))


@dataclass
class JobCtx:
    session: Session
    config: FestivalConfig
    clock: Clock
    sink: Sink
    job: str
    scheduled_for: dt.datetime  # the fire time this run stands for (aware)
    image_dir: Path
    count: int = 0
    # what the process offers beyond the database (the WeChat QR code maker): Core.services
    services: dict[str, Any] = field(default_factory=dict)
    # Work that may only run once the run is committed, outside any transaction (SQLite's
    # VACUUM after the retention job erased someone); not run by a dry run.
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    # Commits what the run has enqueued so far (the runner's; None: a dry run, which stores
    # nothing). A job with 100,000 recipients commits them in pieces (see checkpoint).
    commit: Callable[[], None] | None = None
    _people: list[Person] = field(default_factory=list)

    @property
    def period(self) -> str:
        return self.scheduled_for.astimezone(self.config.calendar.tz).date().isoformat()

    def preload(self, person_ids: list[int]) -> list[int]:
        """Load the recipients in a few queries instead of one each (a broadcast reaches
        thousands); held here, as the session only keeps weak references."""
        self._people += recipients.people(self.session, person_ids)
        return person_ids

    def checkpoint(self) -> None:
        """Commits the messages enqueued so far, so that a run's memory and its transaction
        stay the size of a piece, not of all its recipients. Safe because every message is
        keyed (job, period, recipient): a run killed after some pieces and run again enqueues
        the rest and nothing twice; the run counts as done only when it finished."""
        if self.commit is not None:
            self.commit()

    def locale_of(self, person_id: int) -> str:
        person = self.session.get(Person, person_id)
        return (person.locale if person else None) or self.config.locale.default

    def person(self, person_id: int, key_suffix: str, text_key: str, **params: object) -> None:
        text = translate(self.locale_of(person_id), text_key, **params)
        self.send_person(person_id, key_suffix, Reply(text))

    def to_person_in(
        self, person_id: int, locale: str | None, text_key: str, **params: object
    ) -> None:
        """`person` for a recipient read with their language (a page of plain rows): the
        festival's name in that language is given as `festival`."""
        locale = locale or self.config.locale.default
        festival = self.config.festival.name_in(locale)
        text = translate(locale, text_key, **{"festival": festival, **params})
        self.send_person(person_id, "", Reply(text))

    def send_person(self, person_id: int, key_suffix: str, reply: Reply) -> None:
        self.sink.to_person(person_id, f"{self.job}:{self.period}:p{person_id}{key_suffix}", reply)
        self.count += 1

    def send_chat(self, channel: str, chat_id: str, reply: Reply) -> None:
        self.sink.to_chat(channel, chat_id, f"{self.job}:{self.period}:{channel}:{chat_id}", reply)
        self.count += 1


JobFn = Callable[[JobCtx], None]

# Recipients read (as plain rows), and their messages enqueued and committed, at a time by
# the jobs that reach every streamer (a festival has 100,000): JobCtx.checkpoint. Those jobs
# read it at run time as `jobs.PAGE`, so a test may set it smaller.
PAGE = 2_000


def group_chats(session: Session, config: FestivalConfig) -> list[tuple[str, str]]:
    """The group chats of config.yaml, then the subscribed ones, each once."""
    chats: list[tuple[str, str]] = [(g.channel, g.chat_id) for g in config.group_chats]
    chats += recipients.subscribed_chats(session)
    return list(dict.fromkeys(chats))
