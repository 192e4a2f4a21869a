"""The weekly 龙虎榜 over Telegram, end to end: the job enqueues, our running bot delivers
through the real PTB client to the fake Bot API server: the group gets the picture with a
short caption, each streamer their rank, and nobody gets a phone number."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from scheduler import JobRunner
from tests import festival_data as data
from tests.catalog import begins, label
from tests.fake_telegram import BotThread, FakeTelegram

# The channel calls do_api_request on purpose (raw answers); PTB suggests its typed methods.
pytestmark = [
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBUserWarning"),
    pytest.mark.fake("telegram"),
]

GROUP = -100777


def test_the_weekly_board_reaches_a_telegram_group_as_a_picture(
    tg_core: Core, fake: FakeTelegram, clock: FixedClock, tmp_path: Path
) -> None:
    config = tg_core.config
    with tg_core.sessions() as s, s.begin():
        for n, account in enumerate(["赣南脐橙哥", "萍乡小花"], start=1):
            st = data.streamer(s, account, user=str(5000 + n), channel="telegram")
            data.report(s, config, st, dt.date(2020, 11, 1), gmv_yuan=1000 * n)
        data.group(s, str(GROUP), channel="telegram")
    clock.set(dt.datetime(2020, 11, 2, 10, 5))  # Monday, the first weekly board
    runner = JobRunner(tg_core.sessions, config, clock, tmp_path / "boards")
    [outcome] = runner.run_due()
    assert (outcome.job, outcome.enqueued) == ("weekly_board", 3)
    with BotThread(tg_core, fake):
        fake.wait(lambda: bool(fake.messages_to(GROUP)) and bool(fake.messages_to(5001)))
        fake.wait(lambda: bool(fake.messages_to(5002)))
    [picture] = fake.messages_to(GROUP)
    assert picture.kind == "photo"
    new, unit = label("board.new"), "萍乡市 安源区"
    assert picture.text.splitlines()[:3] == [
        label(
            "board.title",
            festival="点亮原产地·江西青年直播节",
            scope=label("board.scope_all"),
            date="2020-11-02",
        ),
        label(
            "board.line",
            rank=1,
            account="萍乡小花",
            unit=unit,
            gmv="2,000",
            days=1,
            score="70.0",
            change=new,
        ),
        label(
            "board.line",
            rank=2,
            account="赣南脐橙哥",
            unit=unit,
            gmv="1,000",
            days=1,
            score="30.0",
            change=new,
        ),
    ]
    assert "1380000" not in picture.text
    [private] = fake.messages_to(5002)
    assert begins(private.text, "board.private", rank=1, n=2, change=new, score="70.0")
    assert list(tmp_path.glob("boards/board-all-2020-11-02.png"))
