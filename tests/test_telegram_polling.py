"""Polling recovers fast: one failed getUpdates is retried at once (every reply waits behind
the next getUpdates), then after a short, growing, jittered delay; the bot still answers."""

from __future__ import annotations

import pytest

from bot.channels.telegram.polling import retry_delay
from bot.config import FestivalConfig
from tests.catalog import said
from tests.fake_telegram import BotThread, FakeTelegram, Fault

pytestmark = [
    pytest.mark.fake("telegram"),
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBUserWarning"),
]


def test_retry_delays(config: FestivalConfig) -> None:
    limits = config.telegram
    assert retry_delay(1, limits) == 0.0  # a single failure: at once
    first = limits.poll_retry_seconds
    for failures in range(2, 30):
        base = min(first * 2 ** (failures - 2), limits.max_backoff_seconds)
        delays = {retry_delay(failures, limits) for _ in range(20)}
        assert all(base / 2 <= d <= base for d in delays), failures
        assert len(delays) > 1  # jittered: bots behind one proxy do not retry in step
    assert retry_delay(2, limits) < 1  # sub-second at first


def test_the_bot_answers_through_failed_polls(bot: BotThread, fake: FakeTelegram) -> None:
    fake.faults.append(Fault("502_before", "getUpdates", times=3))
    user = fake.user(8101)
    user.text("/start")  # ends the long poll in flight; the next three fail
    fake.wait(lambda: fake.stats.faults.get("502_before") == 3)
    assert said([m.text for m in user.say("/start")], "menu.title")
