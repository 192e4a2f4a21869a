"""Per-person order: one FIFO lock per key, dropped when nobody holds or awaits it.

The core and every channel take their turn here, so one person's messages are handled one after
another (and, where a channel holds the turn across it, their replies sent in that order) while
different people run concurrently. asyncio.Lock wakes its waiters first-in first-out, so tasks
started in arrival order run in arrival order.

This is per process. Several processes on one database keep the order through the stored
updates themselves (the scale-out issue); the state's version check already makes two of them
unable to both advance one step.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Hashable
from dataclasses import dataclass, field


@dataclass
class _Turn:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # holder and waiters: the entry goes when the last one leaves


class PersonOrder:
    def __init__(self) -> None:
        # dropped when unused, so this does not grow with every person who ever wrote
        self._turns: dict[Hashable, _Turn] = {}

    @contextlib.asynccontextmanager
    async def turn(self, key: Hashable) -> AsyncIterator[None]:
        """Waits for `key`'s earlier holders, then holds it for the block."""
        entry = self._turns.setdefault(key, _Turn())
        entry.users += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.users -= 1
            if entry.users == 0 and self._turns.get(key) is entry:
                del self._turns[key]

    def __len__(self) -> int:
        """Keys held or awaited now (tests: nothing is left behind)."""
        return len(self._turns)
