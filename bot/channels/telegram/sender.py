"""The one way anything is sent to Telegram: direct replies and outbox deliveries.

Direct replies to the person who just wrote go at once; they slow down only when Telegram
answers 429 (RetryAfter pauses that chat for the time asked). Outbox deliveries (reminders,
broadcasts, notices) are paced to Telegram's limits: ~30/s overall, ~1/s per private chat with
short bursts, 20/min per group (config.yaml `telegram:`).

Why not PTB's AIORateLimiter: it throttles every request of the bot through one overall limiter
(and a per-group one), so direct replies would queue behind broadcasts and the bot would be
capped at ~30 steps/s in total; it has no per-private-chat pacing either. Our replies need no
pacing at all (one reply per message a person sent), only the outbox does, so pacing lives
here, on the outbox path only, and 429 handling on both.

Retries: network errors, timeouts and 5xx with exponential backoff up to max_attempts;
RetryAfter honoured; BadRequest never retried; Forbidden (blocked) is final. A call that
Telegram executed but whose answer was lost may show a message twice after a retry: the Bot API
has no idempotency key. The conversation state was stored before, so it is never applied twice.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
import warnings
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.config import TelegramConfig
from bot.core.messages import Outgoing
from bot.core.outbox import PermanentFailure, TemporaryFailure

log = logging.getLogger(__name__)
T = TypeVar("T")


class ChatPaused(Exception):
    """The chat is held by a 429's wait longer than a call may wait (max_retry_after_seconds)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"chat paused for {seconds:.0f} s more after a 429")
        self.seconds = math.ceil(seconds)


class Pace:
    """A rate with bursts (GCRA): `take()` waits until one more call fits."""

    def __init__(self, per_second: float, burst: int) -> None:
        self.interval = 1.0 / per_second
        self.tolerance = (burst - 1) * self.interval
        self.tat = 0.0  # the theoretical arrival time of the next call

    def reserve(self) -> float:
        """Books the next slot; returns how long to wait for it."""
        now = time.monotonic()
        tat = max(self.tat, now)
        wait = max(0.0, tat - self.tolerance - now)
        self.tat = tat + self.interval
        return wait


class Sender:
    def __init__(
        self,
        limits: TelegramConfig,
        on_blocked: Callable[[str], Awaitable[None]] | None = None,
        on_migrated: Callable[[str, str], Awaitable[None]] | None = None,
    ) -> None:
        self.limits = limits
        self.on_blocked = on_blocked
        self.on_migrated = on_migrated
        self._paused_until: dict[str, float] = {}  # chat id -> monotonic time (after a 429)
        self._global = Pace(limits.global_per_second, limits.global_burst)
        self._chats: dict[str, Pace] = {}
        self.deliver: Callable[[Outgoing], Awaitable[None]] | None = None  # set by the channel
        # Told of every wait a 429 asked for (chat, seconds): with several workers, the shared
        # pauses (pauses.py) make every worker hold that chat too.
        self.on_retry_after: Callable[[str, float], Awaitable[None]] | None = None
        self.counts: dict[str, int] = {}
        # At most as many calls in flight as the HTTP pool has connections: httpcore rescans
        # its whole queue of waiting requests on every release, which costs more CPU than
        # the calls themselves once hundreds wait; an asyncio.Semaphore queue costs nothing.
        self._slots = asyncio.Semaphore(limits.connection_pool_size)
        # Bookkeeping calls (a press's answerCallbackQuery and keyboard edit) queue apart,
        # a quarter of the pool at most: behind them in one queue, the next question of
        # everybody who just answered would wait (~2 of every 3 calls are bookkeeping).
        self._low_slots = asyncio.Semaphore(max(1, limits.connection_pool_size // 4))

    def _count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    async def call(
        self,
        chat_id: str,
        fn: Callable[[str], Awaitable[T]],
        attempts: int | None = None,
        low: bool = False,
    ) -> T:
        """fn(chat_id) with Telegram's retry rules; raises Forbidden / BadRequest / the last
        error once the attempts are used up."""
        attempts = attempts or self.limits.max_attempts
        for attempt in range(1, attempts + 1):
            await self._wait_pause(chat_id)
            try:
                async with self._low_slots if low else self._slots:
                    return await fn(chat_id)
            except RetryAfter as exc:
                self._count("retry_after")
                wait = retry_after(exc)
                # held (and shared) even when not waited here: a wait too long for a call is
                # the one every other send to the chat must not run into either
                self.hold(chat_id, wait)
                if self.on_retry_after is not None:
                    await self.on_retry_after(chat_id, wait)
                if wait > self.limits.max_retry_after_seconds or attempt == attempts:
                    raise
            except ChatMigrated as exc:
                new_id = str(exc.new_chat_id)
                if self.on_migrated is not None:
                    await self.on_migrated(chat_id, new_id)
                chat_id = new_id
            except Forbidden:
                self._count("forbidden")
                if self.on_blocked is not None:
                    await self.on_blocked(chat_id)
                raise
            except BadRequest:  # a subclass of NetworkError: must come before it
                self._count("bad_request")
                raise
            except NetworkError as exc:  # timeouts, dropped connections, 5xx
                self._count("network")
                if attempt == attempts:
                    raise
                backoff = min(
                    self.limits.backoff_seconds * 2 ** (attempt - 1),
                    self.limits.max_backoff_seconds,
                )
                log.info("telegram call for %s failed (%s); retry in %.2fs", chat_id, exc, backoff)
                await asyncio.sleep(backoff * (0.5 + random.random() / 2))
        raise AssertionError("unreachable")

    def hold(self, chat_id: str, seconds: float) -> bool:
        """Nothing goes to this chat for `seconds` (a 429's wait, this worker's or, through
        the shared pauses, another's); a shorter wait never shortens a longer one (False)."""
        until = time.monotonic() + seconds
        if until <= self._paused_until.get(chat_id, 0.0) + 0.5:  # known (read again)
            return False
        self._paused_until[chat_id] = until
        return True

    async def _wait_pause(self, chat_id: str) -> None:
        """Waits out the chat's pause; one longer than a call may wait raises RetryAfter
        (a reply then goes to the outbox, an outbox message is retried after it)."""
        while chat_id in self._paused_until:
            paused = self._paused_until[chat_id] - time.monotonic()
            if paused <= 0:
                del self._paused_until[chat_id]
                return
            if paused > self.limits.max_retry_after_seconds:
                raise ChatPaused(paused)
            await asyncio.sleep(paused)  # a longer wait set meanwhile is waited out too

    # ----- the outbox path ------------------------------------------------------------------
    def _chat_pace(self, chat_id: str) -> Pace:
        pace = self._chats.get(chat_id)
        if pace is None:
            if len(self._chats) > 10_000:  # forget idle chats
                now = time.monotonic()
                self._chats = {k: p for k, p in self._chats.items() if p.tat > now}
            if chat_id.startswith("-"):
                pace = Pace(self.limits.group_per_minute / 60, self.limits.group_burst)
            else:
                pace = Pace(self.limits.private_per_second, self.limits.private_burst)
            self._chats[chat_id] = pace
        return pace

    async def send(self, message: Outgoing) -> None:
        """OutboxDispatcher's sender: paced, and failures in the outbox's terms."""
        try:
            await self._wait_pause(message.chat_id)  # before taking a pacing slot
        except ChatPaused as exc:
            raise TemporaryFailure(str(exc), exc.seconds) from exc
        wait = max(self._chat_pace(message.chat_id).reserve(), self._global.reserve())
        if wait > 0:
            await asyncio.sleep(wait)
        assert self.deliver is not None
        try:
            await self.deliver(message)
        except Forbidden as exc:
            raise PermanentFailure(f"blocked: {exc}", unreachable=True) from exc
        except BadRequest as exc:
            raise PermanentFailure(f"bad request: {exc}") from exc
        except RetryAfter as exc:
            raise TemporaryFailure(str(exc), retry_after(exc)) from exc
        except ChatPaused as exc:
            raise TemporaryFailure(str(exc), exc.seconds) from exc
        except TelegramError as exc:
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from exc


def seconds(value: Any) -> float:
    """RetryAfter.retry_after: int seconds in PTB 22, a timedelta in later majors."""
    return float(value.total_seconds()) if hasattr(value, "total_seconds") else float(value)


def retry_after(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the type will change: we take both
        warnings.simplefilter("ignore")
        return seconds(exc.retry_after)
