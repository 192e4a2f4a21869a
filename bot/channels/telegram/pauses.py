"""Telegram's 429 waits across several workers (BOT_WORKERS=shared).

Alone, a process keeps the waits Telegram asked for in its sender's memory. With several
workers, the chats are the bot's: a worker told "retry after 30 s" for a group must not be the
only one that waits while another worker's reply (two people typing /top in that group, on two
workers) or the leader's outbox sends into the pause and earns a longer one. So the worker
told writes the wait (`models/send_pauses.py`), and every worker reads the chats still held
every `workers.pause_poll_seconds` into its sender: within that interval, no worker sends into
a pause. One query a second per worker, on a table that holds only chats Telegram paused.

Why not read the table before every send: that is a statement per Bot API call (three per
step) for waits that come seldom; a second of lag costs at most one more 429 per worker.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from sqlalchemy.orm import Session, sessionmaker

from bot.channels.telegram.adapter import CHANNEL
from bot.channels.telegram.sender import Sender
from models.send_pauses import PauseStore

log = logging.getLogger(__name__)

PRUNE_EVERY = 60  # reads: pauses over for a minute are deleted about once a minute


def wall_now() -> dt.datetime:
    """Real time, not the rehearsal clock: Telegram's waits are seconds of real time."""
    return dt.datetime.now(dt.UTC)


class SharedPauses:
    def __init__(
        self, sessions: sessionmaker[Session], store: PauseStore, sender: Sender, every: float
    ) -> None:
        self.sessions = sessions
        self.store = store
        self.sender = sender
        self.every = every

    async def note(self, chat_id: str, seconds: float) -> None:
        """The sender was told to wait `seconds` for this chat: every worker will."""
        until = wall_now() + dt.timedelta(seconds=seconds)
        try:
            await asyncio.to_thread(self._hold, chat_id, until)
        except Exception:  # this worker still waits; the others may earn a 429 of their own
            log.exception("sharing the 429 wait of chat %s failed", chat_id)

    def _hold(self, chat_id: str, until: dt.datetime) -> None:
        with self.sessions() as session, session.begin():
            self.store.hold(session, CHANNEL, chat_id, until)

    def _read(self, prune: bool) -> dict[str, dt.datetime]:
        now = wall_now()
        with self.sessions() as session, session.begin():
            if prune:
                self.store.prune(session, now - dt.timedelta(minutes=1))
            return self.store.held(session, CHANNEL, now)

    async def follow(self, prune: bool = False) -> int:
        """Reads the chats held now into the sender; returns how many."""
        held = await asyncio.to_thread(self._read, prune)
        now = wall_now()
        for chat_id, until in held.items():
            seconds = (until - now).total_seconds()
            if self.sender.hold(chat_id, seconds):
                log.info("chat %s held for %.1f s (a 429's wait)", chat_id, seconds)
        return len(held)

    async def follow_forever(self) -> None:
        reads = 0
        while True:
            try:
                await self.follow(prune=reads % PRUNE_EVERY == 0)
            except Exception:  # the database away for a moment: the next read catches up
                log.exception("reading the shared 429 waits failed")
            reads += 1
            await asyncio.sleep(self.every)
