"""Long polling that never confirms an update before it is stored.

PTB's Updater moves the getUpdates offset as soon as an update is queued in memory, so a crash
loses what was queued. Here the offset passed to the next getUpdates (which is what confirms
updates to Telegram) only moves past updates that are committed to telegram_updates.
"""

from __future__ import annotations

import asyncio
import logging
import warnings

from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.warnings import PTBUserWarning

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.sender import retry_after

log = logging.getLogger(__name__)
# do_api_request("get_updates") is deliberate (raw JSON); PTB suggests Bot.get_updates instead.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.get_updates'", category=PTBUserWarning)

ALLOWED_UPDATES = ["message", "callback_query"]


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
            delay = min(
                channel.limits.backoff_seconds * 2 ** min(failures, 6),
                channel.limits.max_backoff_seconds,
            )
            log.warning("getUpdates failed (%s); again in %.1fs", exc, delay)
            await asyncio.sleep(delay)
            continue
        failures = 0
        if not updates:
            continue
        await channel.accept(updates)  # committed before confirming
        offset = int(updates[-1]["update_id"]) + 1
