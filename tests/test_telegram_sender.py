"""Outbox pacing: Telegram's limits as configured (1/s per private chat with short bursts,
20/min per group, 30/s overall); direct replies are not paced at all. A 429's wait holds the
chat for every send."""

from __future__ import annotations

import asyncio
import datetime as dt
import warnings

import pytest
from telegram.error import RetryAfter

from bot.channels.telegram.sender import ChatPaused, Pace, Sender
from bot.config import FestivalConfig
from bot.core.messages import Outgoing, Reply
from bot.core.outbox import TemporaryFailure


def test_a_private_chat_gets_a_short_burst_then_one_a_second(config: FestivalConfig) -> None:
    limits = config.telegram
    sender = Sender(limits)
    pace = sender._chat_pace("1001")
    waits = [pace.reserve() for _ in range(limits.private_burst + 2)]
    assert waits[: limits.private_burst] == [0.0] * limits.private_burst
    step = 1 / limits.private_per_second
    assert 0.9 * step < waits[-2] <= step
    assert 1.9 * step < waits[-1] <= 2 * step


def test_a_group_gets_twenty_a_minute(config: FestivalConfig) -> None:
    limits = config.telegram
    pace = Sender(limits)._chat_pace("-100123")
    waits = [pace.reserve() for _ in range(limits.group_burst + 1)]
    assert waits[-1] > 0.9 * 60 / limits.group_per_minute


def test_chats_are_paced_apart_and_overall() -> None:
    overall = Pace(30, 30)
    assert [overall.reserve() for _ in range(30)] == [0.0] * 30
    assert overall.reserve() > 0  # the 31st within the same second waits


def test_a_pause_is_never_shortened_and_a_long_one_is_not_waited_in_a_call(
    config: FestivalConfig,
) -> None:
    """A 429's wait holds the chat; a shorter wait told later (another worker's) does not
    shorten it; a wait longer than a call may take is not slept in the call: the send fails
    at once with how long is left, and the outbox takes it up after that."""
    limits = config.telegram
    sender = Sender(limits)
    long = limits.max_retry_after_seconds + 30
    sender.hold("-100123", long)
    sender.hold("-100123", 1)  # shorter: ignored
    calls: list[str] = []

    async def fn(chat: str) -> str:
        calls.append(chat)
        return "sent"

    async def outbox_send() -> None:
        sender.deliver = lambda message: fn(message.chat_id)  # type: ignore[assignment,return-value]
        await sender.send(Outgoing(1, "telegram", "-100123", Reply("x")))

    with pytest.raises(ChatPaused) as paused:
        asyncio.run(sender.call("-100123", fn))
    assert long - 2 <= paused.value.seconds <= long + 1
    with pytest.raises(TemporaryFailure) as failure:
        asyncio.run(outbox_send())
    assert failure.value.retry_after is not None and failure.value.retry_after > long - 2
    assert calls == []  # nothing was sent into the pause
    assert asyncio.run(sender.call("1001", fn)) == "sent"  # other chats are not held


def test_a_429_is_told_to_the_shared_pauses_and_waited_out(config: FestivalConfig) -> None:
    limits = config.telegram
    sender = Sender(limits)
    told: list[tuple[str, float]] = []
    with warnings.catch_warnings():  # PTB 22 warns that retry_after's type will change
        warnings.simplefilter("ignore")
        answers: list[Exception | str] = [RetryAfter(dt.timedelta(seconds=1)), "sent"]

    async def note(chat: str, seconds: float) -> None:
        told.append((chat, seconds))

    async def fn(chat: str) -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    sender.on_retry_after = note
    assert asyncio.run(sender.call("1001", fn)) == "sent"
    assert told == [("1001", 1.0)]
    assert "1001" not in sender._paused_until  # waited out, then forgotten


def test_a_429_too_long_to_wait_in_a_call_still_holds_the_chat(config: FestivalConfig) -> None:
    """Telegram asks for longer than a call may wait: the call gives up (the reply goes to the
    outbox), but the chat stays held here and is told to the other workers, so nothing else
    is sent into that wait."""
    limits = config.telegram
    sender = Sender(limits)
    told: list[tuple[str, float]] = []
    long = limits.max_retry_after_seconds + 60
    with warnings.catch_warnings():  # PTB 22 warns that retry_after's type will change
        warnings.simplefilter("ignore")
        flood = RetryAfter(dt.timedelta(seconds=long))

    async def note(chat: str, seconds: float) -> None:
        told.append((chat, seconds))

    async def fn(chat: str) -> str:
        raise flood

    sender.on_retry_after = note
    with pytest.raises(RetryAfter):
        asyncio.run(sender.call("-100123", fn))
    assert told == [("-100123", float(long))]
    with pytest.raises(ChatPaused):  # the next send to that chat does not call Telegram
        asyncio.run(sender.call("-100123", fn))
