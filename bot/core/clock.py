"""The one clock. Everything that asks "what time is it" asks this, so tests and the
rehearsal mode can move time."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from zoneinfo import ZoneInfo


class Clock:
    """Real time, optionally shifted so that 'now' started at a chosen instant, and optionally
    running faster than real time (the rehearsal mode: BOT_CLOCK, BOT_CLOCK_SPEED)."""

    def __init__(
        self,
        tz: ZoneInfo,
        start_at: dt.datetime | None = None,
        speed: float = 1.0,
        wall: Callable[[], dt.datetime] | None = None,
        started: dt.datetime | None = None,
    ) -> None:
        """`started`: the real instant at which the clock showed `start_at` (default: now).
        Several processes given the same pair keep one time (BOT_CLOCK_AT)."""
        if speed <= 0:
            raise ValueError("the clock's speed must be positive")
        self.tz = tz
        self.speed = speed
        self._wall = wall or (lambda: dt.datetime.now(dt.UTC))
        self._wall_start = started.astimezone(dt.UTC) if started is not None else self._wall()
        self._start = start_at.astimezone(dt.UTC) if start_at is not None else self._wall_start

    def now(self) -> dt.datetime:
        """Aware UTC."""
        elapsed = self._wall() - self._wall_start
        return self._start + (elapsed * self.speed if self.speed != 1 else elapsed)

    def local_now(self) -> dt.datetime:
        return self.now().astimezone(self.tz)

    def today(self) -> dt.date:
        """Today in the festival's time zone (Asia/Shanghai), not the server's."""
        return self.local_now().date()

    def monotonic(self) -> float:
        """Real seconds (rate limits and timeouts follow the real world, not the rehearsal)."""
        return time.monotonic()


class FixedClock(Clock):
    """A clock that only moves when told to (tests)."""

    def __init__(self, tz: ZoneInfo, at: dt.datetime) -> None:
        super().__init__(tz)
        if at.tzinfo is None:
            at = at.replace(tzinfo=tz)
        self._now = at.astimezone(dt.UTC)

    def now(self) -> dt.datetime:
        return self._now

    def set(self, at: dt.datetime) -> None:
        if at.tzinfo is None:
            at = at.replace(tzinfo=self.tz)
        self._now = at.astimezone(dt.UTC)

    def advance(self, **delta: float) -> None:
        self._now += dt.timedelta(**delta)


def parse_start(value: str, tz: ZoneInfo) -> dt.datetime:
    """BOT_CLOCK=2020-11-02T20:00 (local time unless an offset is given)."""
    at = dt.datetime.fromisoformat(value)
    return at if at.tzinfo else at.replace(tzinfo=tz)
