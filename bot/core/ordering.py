"""Per-person order: one FIFO lock per key, dropped when nobody holds or awaits it.

The core and every channel take their turn here, so one person's messages are handled one after
another (and, where a channel holds the turn across it, their replies sent in that order) while
different people run concurrently. asyncio.Lock wakes its waiters first-in first-out, so tasks
started in arrival order run in arrival order.

This is per process. Several processes on one database keep the order through the stored
updates themselves (the scale-out issue); the state's version check already makes two of them
unable to both advance one step.

Every step takes a turn, so a turn is a plain async context manager (`_Hold`): one written as
an async generator (contextlib.asynccontextmanager) cost about three times as much on the event
loop (an async generator registered with the loop, and a StopAsyncIteration raised and caught
at every exit), a few percent of the engine benchmark's steps/s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from types import TracebackType


class _Turn:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0  # holder and waiters: the entry goes when the last one leaves


class PersonOrder:
    def __init__(self) -> None:
        # dropped when unused, so this does not grow with every person who ever wrote
        self._turns: dict[Hashable, _Turn] = {}

    def turn(self, key: Hashable) -> _Hold:
        """`async with order.turn(key)`: waits for `key`'s earlier holders, then holds it for
        the block."""
        return _Hold(self._turns, key)

    def __len__(self) -> int:
        """Keys held or awaited now (tests: nothing is left behind)."""
        return len(self._turns)


class _Hold:
    """One turn: taken on entering the block (after the key's earlier holders), given back on
    leaving it, however it is left (an exception, a cancelled wait)."""

    __slots__ = ("_entry", "_key", "_turns")
    _entry: _Turn  # set on entering

    def __init__(self, turns: dict[Hashable, _Turn], key: Hashable) -> None:
        self._turns = turns
        self._key = key

    async def __aenter__(self) -> None:
        entry = self._turns.get(self._key)
        if entry is None:
            entry = self._turns[self._key] = _Turn()
        entry.users += 1
        try:
            await entry.lock.acquire()
        except BaseException:  # cancelled while waiting: not a holder, no longer a waiter
            self._leave(entry)
            raise
        self._entry = entry

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        entry = self._entry
        entry.lock.release()
        self._leave(entry)

    def _leave(self, entry: _Turn) -> None:
        entry.users -= 1
        if entry.users == 0 and self._turns.get(self._key) is entry:
            del self._turns[self._key]
