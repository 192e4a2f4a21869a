"""Outbox pacing: Telegram's limits as configured (1/s per private chat with short bursts,
20/min per group, 30/s overall); direct replies are not paced at all."""

from __future__ import annotations

from bot.channels.telegram.sender import Pace, Sender
from bot.config import FestivalConfig


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
