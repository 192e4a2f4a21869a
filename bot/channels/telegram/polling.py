"""Long polling that never confirms an update before it is stored.

PTB's Updater moves the getUpdates offset as soon as an update is queued in memory, so a crash
loses what was queued. Here the offset passed to the next getUpdates (which is what confirms
updates to Telegram) only moves past updates that are committed to telegram_updates.
"""

from __future__ import annotations

import asyncio
import logging
import random
import warnings

from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.warnings import PTBUserWarning

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.sender import retry_after
from bot.config import TelegramConfig

log = logging.getLogger(__name__)
# do_api_request("get_updates") is deliberate (raw JSON); PTB suggests Bot.get_updates instead.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.get_updates'", category=PTBUserWarning)

ALLOWED_UPDATES = ["message", "callback_query"]


def retry_delay(failures: int, limits: TelegramConfig) -> float:
    """How long to wait after the n-th getUpdates failure in a row. Everybody's next update
    waits behind this, so a single failure (a dropped connection, one 502) is retried at
    once; a failing API is then tried again after a short, growing, jittered delay (the
    jitter keeps several bots behind one proxy from retrying in step)."""
    if failures <= 1:
        return 0.0
    base = min(limits.poll_retry_seconds * 2 ** min(failures - 2, 16), limits.max_backoff_seconds)
    return base * (0.5 + random.random() / 2)


async def poll(channel: TelegramChannel, stop: asyncio.Event | None = None) -> None:
    timeout = channel.limits.poll_timeout_seconds
    offset: int | None = None
    failures = 0
    while stop is None or not stop.is_set():
        try:
            # The JSON exactly as Telegram sent it (fields this PTB does not know are kept),
            # stored and parsed once, instead of get_updates' objects turned back into JSON.
            updates = await channel.bot.do_api_request(
                "get_updates",
                api_kwargs={
                    "offset": offset,
                    "timeout": timeout,
                    "allowed_updates": ALLOWED_UPDATES,
                },
                read_timeout=timeout + 10,
            )
        except InvalidToken:
            raise
        except RetryAfter as exc:
            await asyncio.sleep(retry_after(exc))
            continue
        except (TimedOut, NetworkError, Conflict) as exc:
            failures += 1
            delay = retry_delay(failures, channel.limits)
            log.warning("getUpdates failed (%s); again in %.2fs", exc, delay)
            await asyncio.sleep(delay)
            continue
        failures = 0
        if not updates:
            continue
        await channel.accept(updates)  # committed before confirming
        offset = int(updates[-1]["update_id"]) + 1
