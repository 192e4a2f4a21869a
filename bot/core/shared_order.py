"""Per-person order across processes: several bot workers on one PostgreSQL (BOT_WORKERS=shared).

A turn here is the in-process FIFO turn (ordering.py) and then a PostgreSQL session-level
advisory lock on the person's key, held on a connection of a small pool of this worker's own
for as long as the turn lasts (the step, and on Telegram the sending of its replies). Two
workers that receive one person's messages therefore handle them one after another; which one
goes first is decided by the channel (Telegram: the stored updates are the queue, and whoever
holds the turn handles the person's oldest unhandled update first).

Why a session-level lock on a connection of its own rather than a lock inside the step's
transaction: Telegram holds the turn across the step *and* the send of its replies (so one
person's replies leave in order), and a transaction must not stay open across an HTTP call.
When a worker dies (kill -9), PostgreSQL closes its connections and drops its locks at once:
its persons' turns pass to whoever waits, nobody has to notice the death.

The lock is tried, not waited for (`pg_try_advisory_lock`, then a short sleep and again): a
wait inside PostgreSQL would tie up a connection and a thread per waiter; contention is rare
(it needs two workers with messages of one person at the same moment). The pool's connections
are psycopg's own asyncio connections (no thread hop for the two statements a turn costs);
a connection handed back to the pool is reset with `pg_advisory_unlock_all()`, so a lock can
never outlive its turn, even when the unlock itself failed.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Hashable
from types import TracebackType
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.engine import URL

from bot.core.ordering import PersonOrder

log = logging.getLogger(__name__)

# the first waits are short (the holder is usually one step, a few ms, from done), then capped
RETRY_SECONDS = (0.002, 0.005, 0.01, 0.02, 0.05)


def lock_key(key: Hashable) -> int:
    """A stable signed 64-bit key for `pg_advisory_lock(bigint)`: the same in every process
    (Python's own hash() is salted per process). The leader's lock uses the two-int4 form,
    whose key space PostgreSQL keeps apart from this one."""
    digest = hashlib.blake2b(repr(key).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def conninfo(url: URL) -> str:
    """libpq's form of a SQLAlchemy URL (postgresql+psycopg://... -> postgresql://...)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def _reset(conn: AsyncConnection[Any]) -> None:
    await conn.execute("SELECT pg_advisory_unlock_all()")


class SharedOrder(PersonOrder):
    """PersonOrder whose turns also hold the person's lock in PostgreSQL. `start()` opens the
    pool (in the running event loop), `close()` closes it."""

    def __init__(self, url: URL, connections: int) -> None:
        super().__init__()
        self.pool = AsyncConnectionPool(
            conninfo(url),
            min_size=1,
            max_size=connections,
            kwargs={"autocommit": True},
            reset=_reset,
            open=False,
            name="turns",
        )
        self.waits = 0  # turns that found the lock held by another worker (benchmarks)

    async def start(self) -> None:
        await self.pool.open(wait=True)

    async def close(self) -> None:
        await self.pool.close()

    def turn(self, key: Hashable) -> _SharedHold:  # type: ignore[override]
        return _SharedHold(self, key)

    async def lock(self, key: Hashable) -> tuple[Any, AsyncConnection[Any]]:
        """Takes the person's lock on a pooled connection; returns (the pool's context, the
        connection) for `unlock`."""
        number = lock_key(key)
        tries = 0
        while True:
            ctx = self.pool.connection()
            conn = await ctx.__aenter__()
            try:
                cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", (number,))
                row = await cur.fetchone()
            except BaseException:
                await ctx.__aexit__(None, None, None)
                raise
            if row is not None and row[0]:
                return ctx, conn
            # held by another worker: give the connection back while waiting
            await ctx.__aexit__(None, None, None)
            self.waits += tries == 0
            await asyncio.sleep(RETRY_SECONDS[min(tries, len(RETRY_SECONDS) - 1)])
            tries += 1

    async def notify(self, channel: str) -> None:
        """NOTIFY `channel` (the leader LISTENs: leader.OUTBOX_CHANNEL); best effort, the
        leader's next poll finds what was left anyway."""
        try:
            async with self.pool.connection() as conn:
                await conn.execute(f"NOTIFY {channel}")
        except Exception as exc:
            log.warning("notifying the leader failed: %r", exc)

    @staticmethod
    async def unlock(key: Hashable, held: tuple[Any, AsyncConnection[Any]]) -> None:
        ctx, conn = held
        try:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key(key),))
        except Exception:  # the pool's reset (unlock_all) or the closed connection frees it
            log.warning("unlocking a person's turn failed; the connection's reset frees it")
        finally:
            await ctx.__aexit__(None, None, None)


class _SharedHold:
    """The in-process turn first (so a worker's own messages of one person queue in memory,
    not on PostgreSQL), then the person's lock in PostgreSQL."""

    __slots__ = ("_held", "_key", "_local", "_order")

    def __init__(self, order: SharedOrder, key: Hashable) -> None:
        self._order = order
        self._key = key
        self._local = PersonOrder.turn(order, key)
        self._held: tuple[Any, AsyncConnection[Any]] | None = None

    async def __aenter__(self) -> None:
        await self._local.__aenter__()
        try:
            self._held = await self._order.lock(self._key)
        except BaseException as exc:
            await self._local.__aexit__(type(exc), exc, exc.__traceback__)
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._held is not None:
                await self._order.unlock(self._key, self._held)
        finally:
            await self._local.__aexit__(exc_type, exc, tb)
