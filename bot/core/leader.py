"""One leader among several bot workers: the scheduler, the outbox sender and Telegram's long
polling run in exactly one process (BOT_WORKERS=shared; alone, a process is its own leader).

Leadership is a PostgreSQL session-level advisory lock held on a connection of its own. The
leader runs its work for as long as it holds the lock; every other worker tries again every
`workers.leader_retry_seconds`. A leader that dies (kill -9, a lost network) loses the lock
with its connection, and the next try of another worker takes over: the scheduler's runs are
claimed per (job, fire time) and the outbox's rows under a lease, so a takeover neither repeats
a job nor sends a message twice, whatever the leader was doing.

Why one sending process: Telegram's limits (30 messages/s overall, 1/s per chat, 20/min per
group) and WeChat's are the bot's, not a worker's; one process pacing the outbox keeps them
without a shared rate limiter, and keeps each chat's outbox messages in order. Direct replies
(one per message a person sent) are sent by the worker that handled the message, as before:
their rate is the people's, not the workers'. What one worker learns of a chat's limit (a 429's
wait) every worker holds (bot/channels/telegram/pauses.py).

The leader's connection also LISTENs on OUTBOX_CHANNEL: a worker that leaves something urgent
in the outbox (a late WeChat reply) NOTIFYs it, so the leader sends it at once instead of at
its next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import URL

if TYPE_CHECKING:  # psycopg is loaded only by a worker among several (memory: ~10 MB)
    from psycopg import AsyncConnection

log = logging.getLogger(__name__)

LOCK = (7_204_2020, 1)  # (class, id) of the two-int4 form: apart from the persons' locks
OUTBOX_CHANNEL = "festival_outbox"
HEALTH_SECONDS = 2.0  # how often the leader checks that its connection (and lock) still holds


class Leadership:
    """`await lead(work)`: runs `work` whenever this process is the leader, forever."""

    def __init__(self, url: URL | None, retry_seconds: float) -> None:
        self.url = url  # None: no other worker (SQLite, or a single one): always the leader
        self.retry_seconds = retry_seconds
        self.is_leader = False
        self.terms = 0  # how often this process became the leader (tests, logs)
        self.on_notify: Callable[[], None] = lambda: None

    async def lead(self, work: Callable[[], Awaitable[None]]) -> None:
        """Runs `work()` while leading; when the lock is lost, `work` is cancelled and the
        process goes back to trying. Returns only if `work` returns; raises what it raises."""
        if self.url is None:
            self.is_leader, self.terms = True, 1
            await work()
            return
        while True:
            conn = await self._acquire()
            self.is_leader, self.terms = True, self.terms + 1
            log.warning("this worker leads (scheduler, outbox, polling)")
            job = asyncio.ensure_future(work())
            watch = asyncio.ensure_future(self._hold(conn))
            try:
                done, _ = await asyncio.wait({job, watch}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                self.is_leader = False
                for task in (job, watch):
                    task.cancel()
                await asyncio.gather(job, watch, return_exceptions=True)
                await self._drop(conn)
            if job in done:
                job.result()  # raises what work raised
                return
            log.warning("leadership lost; trying to lead again")

    async def _acquire(self) -> AsyncConnection[Any]:
        from psycopg import AsyncConnection

        from bot.core.shared_order import conninfo

        assert self.url is not None
        while True:
            conn = None
            try:
                conn = await AsyncConnection.connect(conninfo(self.url), autocommit=True)
                cur = await conn.execute("SELECT pg_try_advisory_lock(%s, %s)", LOCK)
                row = await cur.fetchone()
                if row is not None and row[0]:
                    await conn.execute(f"LISTEN {OUTBOX_CHANNEL}")
                    return conn
            except Exception as exc:  # the database is away: try again later
                log.warning("trying to lead failed: %r", exc)
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()
            await asyncio.sleep(self.retry_seconds)

    async def _hold(self, conn: AsyncConnection[Any]) -> None:
        """Returns when the connection (and with it the lock) is gone. Notifications arriving
        meanwhile wake the outbox."""
        while True:
            try:
                async for _note in conn.notifies(timeout=HEALTH_SECONDS):
                    self.on_notify()
            except Exception as exc:
                log.warning("the leader's connection failed: %r", exc)
                return
            try:
                await asyncio.wait_for(conn.execute("SELECT 1"), HEALTH_SECONDS)
            except Exception as exc:
                log.warning("the leader's connection failed: %r", exc)
                return

    async def _drop(self, conn: AsyncConnection[Any]) -> None:
        with contextlib.suppress(Exception):
            await conn.close()  # closing the session frees the lock
