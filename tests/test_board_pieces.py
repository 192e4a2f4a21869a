"""The 龙虎榜 job commits its messages a page at a time (a festival's 100,000 streamers would
otherwise be one transaction holding them all): a run killed (SIGKILL) between pages and run
again neither loses nor doubles a message, and stores the boards once."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.config import FestivalConfig
from bot.core.clock import FixedClock
from handlers import jobs
from models import JobRun, OutboxMessage, Person
from models.board import Board
from scheduler import JobRunner
from tests import festival_data as data
from tests.catalog import said
from tests.test_scheduler import Recorder, deliver

ROOT = Path(__file__).resolve().parent.parent
STREAMERS = 23
PAGE = 5

# The weekly board in a process of its own that kills itself (SIGKILL: no rollback, no
# cleanup, as an OOM kill or a pulled plug) just before its third page of messages is written.
KILLED_RUN = textwrap.dedent(
    """
    import datetime as dt, os, signal, sys
    from pathlib import Path
    from sqlalchemy import event
    from sqlalchemy.orm import sessionmaker
    from bot.config import load_config
    from bot.core.clock import FixedClock
    from handlers import jobs
    from models.db import make_engine
    from scheduler import JobRunner

    url, images, at = sys.argv[1], Path(sys.argv[2]), dt.datetime.fromisoformat(sys.argv[3])
    config = load_config(Path("config.yaml"))
    jobs.PAGE = int(sys.argv[4])
    engine = make_engine(url)
    pages = []

    @event.listens_for(engine, "before_cursor_execute")
    def die(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO OUTBOX"):
            pages.append(statement)
            if len(pages) == 3:
                os.kill(os.getpid(), signal.SIGKILL)

    runner = JobRunner(sessionmaker(engine, expire_on_commit=False), config,
                       FixedClock(config.calendar.tz, at), images)
    runner.run("weekly_board", at)
    print("not killed")
    """
)


def test_a_board_run_killed_between_pages_and_run_again_sends_each_message_once(
    db: Engine, database_url: str, config: FestivalConfig, tmp_path: Path
) -> None:
    sessions = sessionmaker(db, expire_on_commit=False)
    with sessions() as s, s.begin():
        for i in range(STREAMERS):
            data.streamer(s, f"主播{i:02d}", "360302", user=f"u{i:02d}")
    monday = dt.datetime(2020, 11, 2, 10, 0, tzinfo=config.calendar.tz)
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            KILLED_RUN,
            database_url,
            str(tmp_path),
            monday.isoformat(),
            f"{PAGE}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == -9, killed.stderr[-2000:]
    with sessions() as s:
        # the two pages written before the kill were committed; the run is not finished
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 2 * PAGE
        run = s.scalars(select(JobRun).where(JobRun.job == "weekly_board")).one()
        assert run.finished_at is None
    # the next look of the scheduler (another process) finds the run due and unfinished
    clock = FixedClock(config.calendar.tz, monday + dt.timedelta(minutes=2))
    runner = JobRunner(sessions, config, clock, tmp_path)
    outcomes = [o for o in runner.run_due() if o.job == "weekly_board"]
    assert [o.ran for o in outcomes] == [True]
    assert runner.run_due() == []
    with sessions() as s:
        per_person = Counter(s.scalars(select(OutboxMessage.person_id)))
        assert len(per_person) == STREAMERS and set(per_person.values()) == {1}
        assert s.scalar(select(func.count()).select_from(Board).where(Board.scope == "all")) == 1
        run = s.scalars(select(JobRun).where(JobRun.job == "weekly_board")).one()
        assert run.finished_at is not None
    sender = Recorder()
    deliver(sessions, clock, sender)
    assert sorted(m.chat_id for m in sender.sent) == [f"u{i:02d}" for i in range(STREAMERS)]
    ranks = sorted(
        next(r for r in range(1, STREAMERS + 1) if said(m.reply.text, "board.private", rank=r))
        for m in sender.sent
    )
    assert ranks == list(range(1, STREAMERS + 1))  # every place told once


def test_a_board_of_several_pages_in_one_run(
    db: Engine, config: FestivalConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages end exactly on the last streamer, or one short of it: nobody left out."""
    sessions = sessionmaker(db, expire_on_commit=False)
    with sessions() as s, s.begin():
        for i in range(2 * PAGE):
            data.streamer(s, f"主播{i:02d}", "360302", user=f"u{i:02d}")
    for page, week in ((PAGE, 2), (PAGE + 1, 9), (2 * PAGE, 16)):
        monkeypatch.setattr(jobs, "PAGE", page)
        at = dt.datetime(2020, 11, week, 10, 0, tzinfo=config.calendar.tz)
        runner = JobRunner(sessions, config, FixedClock(config.calendar.tz, at), tmp_path)
        assert runner.run("weekly_board", at).enqueued == 2 * PAGE
        with Session(db) as s:
            period = at.date().isoformat()
            keys = s.scalars(
                select(OutboxMessage.idempotency_key).where(
                    OutboxMessage.idempotency_key.like(f"weekly_board:{period}:p%")
                )
            ).all()
            assert len(keys) == 2 * PAGE


def test_a_broadcast_to_every_streamer_in_pages_reaches_each_once(
    db: Engine, config: FestivalConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The warm-up notice, 3 streamers a page over 7 (one not approved): each approved one
    once, in their own language."""
    sessions = sessionmaker(db, expire_on_commit=False)
    with sessions() as s, s.begin():
        made = [data.streamer(s, f"主播{i:02d}", "360302", user=f"u{i:02d}") for i in range(7)]
        data.streamer(s, "待推荐的号", "360302", status="pending_unit", user="wait")
        english_reader = s.get(Person, made[3].person_id)
        assert english_reader is not None
        english_reader.locale = "en"
    monkeypatch.setattr(jobs, "PAGE", 3)
    at = dt.datetime(2020, 10, 25, 9, 0, tzinfo=config.calendar.tz)
    clock = FixedClock(config.calendar.tz, at)
    assert JobRunner(sessions, config, clock, tmp_path).run("warmup", at).enqueued == 7
    sender = Recorder()
    deliver(sessions, clock, sender)
    assert sorted(m.chat_id for m in sender.sent) == [f"u{i:02d}" for i in range(7)]
    [english] = [m.reply.text for m in sender.sent if m.chat_id == "u03"]
    assert said(english, "remind.warmup", locale="en")
    assert not said(english, "remind.warmup")
