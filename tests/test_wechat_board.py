"""The scheduler's weekly 龙虎榜 to WeCom groups, end to end: JobRunner at the job's fire time
(a FixedClock) → the outbox → the WeCom sender → the fake WeCom API over HTTP, to a group
robot and an app group chat configured in group_chats, picture and text as the job drew them,
exactly once however often the job runs."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.config import FestivalConfig, GroupChat
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from handlers.calendar import fire_times, job_specs
from handlers.routes import ROUTES
from models import Board, OutboxMessage
from scheduler import JobRunner
from tests import festival_data as data
from tests.catalog import label, said
from tests.fake_wechat import APPCHAT_ID, ROBOT_KEY, FakeWeChat, Harness, wechat_bot

pytestmark = pytest.mark.fake("wechat")


def first_fire_time(config: FestivalConfig, job: str) -> dt.datetime:
    """The job's first fire time of the festival year, from its trigger (config.yaml)."""
    spec = next(s for s in job_specs(config) if s.name == job)
    start = dt.datetime(config.festival.year, 1, 1, tzinfo=config.calendar.tz)
    return fire_times(spec.trigger, start, start.replace(year=start.year + 1))[0]


def test_the_weekly_board_reaches_a_robot_group_and_an_appchat_group_once(
    db: Engine,
    config: FestivalConfig,
    fake: FakeWeChat,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("T_BOARD_ROBOT", ROBOT_KEY)
    monkeypatch.setenv("T_BOARD_APPCHAT", APPCHAT_ID)
    groups = [
        GroupChat(channel="wecom", chat_id="board-robot", kind="robot", key_env="T_BOARD_ROBOT"),
        GroupChat(channel="wecom", chat_id="board-app", kind="appchat", key_env="T_BOARD_APPCHAT"),
    ]
    festival = config.model_copy(update={"group_chats": groups})
    monday = first_fire_time(festival, "weekly_board")
    clock = FixedClock(festival.calendar.tz, monday)  # the job's fire time
    core = Core(festival, db, clock, ROUTES)
    with core.sessions() as s, s.begin():
        ming = data.streamer(s, "小明的果园", "360302", user="ming")
        data.streamer(s, "小红的茶园", "360302", user="o_hong", channel="wechat")
        data.report(s, festival, ming, clock.today() - dt.timedelta(days=1), gmv_yuan=500)
    boards_dir = tmp_path / "boards"
    runner = JobRunner(core.sessions, festival, clock, boards_dir)

    async def scenario(bot: Harness) -> None:
        await bot.follower("o_hong").say("/start")  # her window is open: customer service
        assert [(o.job, o.ran) for o in runner.run_due()] == [("weekly_board", True)]
        await bot.deliver()
        # the job again: the scheduler's next wake-up, a second process, an operator by hand
        # later that day (a new run, the same outbox keys)
        assert runner.run_due() == []
        assert not runner.run("weekly_board", monday).ran
        assert JobRunner(core.sessions, festival, clock, boards_dir).run_due() == []
        assert runner.run("weekly_board", monday + dt.timedelta(hours=2)).ran
        await bot.deliver()

    async def main() -> None:
        async with wechat_bot(core, fake, True) as bot:
            await scenario(bot)

    try:
        asyncio.run(main())
    finally:
        core.executor.shutdown()

    with Session(db) as session:
        picture = Path(
            session.scalars(select(Board.image_path).where(Board.scope == "all")).one() or ""
        )
        wecom = session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "wecom")).all()
    assert picture.is_file() and boards_dir in picture.parents
    assert sorted((r.chat_id, r.status) for r in wecom) == [
        ("board-app", "sent"),
        ("board-robot", "sent"),
    ]
    # the robot: the caption as markdown, then the picture itself (base64 + md5)
    posts = fake.recorded("webhook/send")
    assert [p.params["key"] for p in posts] == [ROBOT_KEY, ROBOT_KEY]
    assert [p.body["msgtype"] for p in posts] == ["markdown", "image"]
    caption = posts[0].body["markdown"]["content"]
    assert said(caption, "board.title", scope=label("board.scope_all"))
    assert said(caption, "board.line", rank=1, account="小明的果园") and "13800" not in caption
    assert base64.b64decode(posts[1].body["image"]["base64"]) == picture.read_bytes()
    # the app group chat: the same caption as text, the picture uploaded once as media
    sent = [c.body for c in fake.recorded("appchat/send")]
    assert [(b["chatid"], b["msgtype"]) for b in sent] == [
        (APPCHAT_ID, "text"),
        (APPCHAT_ID, "image"),
    ]
    assert sent[0]["text"]["content"] == caption
    uploads = [c for c in fake.recorded("media/upload") if c.api == "wecom"]
    assert len(uploads) == 1 and sent[1]["image"]["media_id"] == uploads[0].result["media_id"]
    # the streamer on WeChat got her own rank once, as a customer-service message
    ranks = [t for t in fake.service_texts("o_hong") if said(t, "board.private")]
    assert len(ranks) == 1 and said(ranks[0], "board.private", rank=2, n=2)
