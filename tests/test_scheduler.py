"""The scheduler with a controllable clock: fire times are computed from the jobs' triggers,
the job runs are driven with a FixedClock, the outbox is delivered by the real dispatcher to a
recording sender. No sleeping."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.config import FestivalConfig, parse_config
from bot.core.clock import FixedClock
from bot.core.delivery import OutboxDispatcher
from bot.core.messages import Outgoing
from bot.core.outbox import PermanentFailure
from handlers.calendar import fire_times
from models import JobRun, OutboxMessage, Person
from scheduler import FestivalScheduler, JobRunner
from tests import festival_data as data
from tests.catalog import begins, label, said

CONFIG = Path(__file__).resolve().parent.parent / "config.yaml"


class Recorder:
    """A channel sender that records what it was given; some chats have blocked the bot."""

    def __init__(self, blocked: frozenset[str] = frozenset()) -> None:
        self.sent: list[Outgoing] = []
        self.blocked = blocked

    async def send(self, message: Outgoing) -> None:
        if message.chat_id in self.blocked:
            raise PermanentFailure("Forbidden: bot was blocked by the user", unreachable=True)
        self.sent.append(message)

    def to(self, chat_id: str) -> list[str]:
        return [m.reply.text for m in self.sent if m.chat_id == chat_id]


def deliver(sessions: sessionmaker[Session], clock: FixedClock, sender: Recorder, limit: int = 0):
    """Run the dispatcher until nothing is due (or `limit` rows were attempted)."""
    dispatcher = OutboxDispatcher(sessions, clock, {"console": sender})

    async def drain() -> int:
        done = 0
        while n := await dispatcher.run_once(limit=limit or 50):
            done += n
            if limit and done >= limit:
                break
        return done

    return asyncio.run(drain())


ANYUAN_PROGRESS = {  # the contact's unit: two streamers recommended, at least ten wanted
    "unit": "安源区",
    "streamers": 2,
    "streamers_min": 10,
    "streamers_short": label("remind.short", n=8),
}


def local(config: FestivalConfig, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=config.calendar.tz)  # type: ignore[misc]


@pytest.fixture
def sessions(db: Engine) -> sessionmaker[Session]:
    return sessionmaker(db, expire_on_commit=False)


@pytest.fixture
def runner(sessions: sessionmaker[Session], config: FestivalConfig, tmp_path: Path) -> JobRunner:
    clock = FixedClock(config.calendar.tz, local(config, 2020, 10, 1, 0, 0))
    return JobRunner(sessions, config, clock, tmp_path / "boards")


@pytest.fixture
def festival(sessions: sessionmaker[Session], config: FestivalConfig) -> None:
    """A unit contact of 萍乡市 安源区 (quota: 10 streamers, 3 products), an admin, two approved
    streamers of that unit, one waiting for the unit, a subscribed group and an old one."""
    with sessions() as s, s.begin():
        data.contact(s, "contact", "360302")
        data.admin(s, "boss")
        data.streamer(s, "小明的果园", "360302", user="ming")
        data.streamer(s, "小红的茶园", "360302", user="hong")
        data.streamer(s, "待推荐的号", "360302", status="pending_unit", user="wait")
        data.group(s, "g-board")
        data.group(s, "g-left", active=False)


def schedule(runner: JobRunner, config: FestivalConfig) -> list[tuple[str, str]]:
    start, end = local(config, 2020, 1, 1, 0, 0), local(config, 2020, 12, 31, 23, 59)
    return [
        (name, t.astimezone(config.calendar.tz).strftime("%m-%d %H:%M"))
        for name, t in runner.upcoming(start, end)
        if name != "exports_cleanup"  # housekeeping, all year round (tests/test_export.py)
    ]


def test_the_2020_calendar(runner: JobRunner, config: FestivalConfig) -> None:
    fired = schedule(runner, config)
    by_job: dict[str, list[str]] = {}
    for name, at in fired:
        by_job.setdefault(name, []).append(at)
    assert by_job["registration_t7"] == ["10-12 09:00"]
    assert by_job["registration_t3"] == ["10-16 09:00"]
    assert by_job["registration_t1"] == ["10-18 09:00"]
    assert by_job["digest"] == [f"10-{d:02d} 18:00" for d in range(10, 26)]
    assert by_job["warmup"] == ["10-25 09:00"]
    assert by_job["launch_eve"] == ["10-29 20:00"]
    assert by_job["launch_soon"] == ["10-30 09:00"]
    assert by_job["evening_nudge"][0] == "10-30 21:00"
    assert by_job["evening_nudge"][-1] == "11-27 21:00"
    assert len(by_job["evening_nudge"]) == 29
    assert by_job["weekly_board"] == ["11-02 10:00", "11-09 10:00", "11-16 10:00", "11-23 10:00"]
    assert by_job["last_report"] == ["11-27 20:00"]
    # after the backfill window of the last live day (11-27, backfill 1 day) closes
    assert by_job["final_board"] == ["11-29 10:00"]
    assert by_job["feedback_t3"] == ["12-07 09:00"]
    # the WeChat QR codes' renewal: daily from schedule.wechat_qr.first_day to live_end
    assert by_job["wechat_qr"][0] == "10-01 04:00" and by_job["wechat_qr"][-1] == "11-27 04:00"
    # the live month's digests: the committee every evening until the backfill closes (11-28),
    # the unit contacts on the board's day, the week after the last live day included
    assert by_job["live_digest"][0] == "10-30 22:00" and by_job["live_digest"][-1] == "11-28 22:00"
    assert len(by_job["live_digest"]) == 30
    assert by_job["unit_digest"] == [f"11-{d:02d} 11:00" for d in (2, 9, 16, 23, 30)]
    # drafts left idle: daily from the digest's first day to the registration deadline
    assert by_job["stale_drafts"] == [f"10-{d:02d} 19:00" for d in range(10, 20)]
    assert len(fired) == 3 + 16 + 3 + 29 + 4 + 2 + 1 + 58 + 30 + 5 + 10


def test_walk_through_the_2020_festival(
    runner: JobRunner,
    festival: None,
    sessions: sessionmaker[Session],
    config: FestivalConfig,
) -> None:
    """Every fire time of the year in order: each job reaches the right people, once."""
    clock = runner.clock
    assert isinstance(clock, FixedClock)
    sender = Recorder()
    seen: dict[str, list[str]] = {}
    start, end = local(config, 2020, 1, 1, 0, 0), local(config, 2020, 12, 31, 23, 59)
    for name, at in runner.upcoming(start, end):
        if name == "exports_cleanup":  # housekeeping, all year round (tests/test_export.py)
            continue
        clock.set(at)
        if name == "evening_nudge" and at.astimezone(config.calendar.tz).day == 1:
            with sessions() as s, s.begin():  # 小明 reports on 11-01, 小红 does not
                ming = s.scalars(select(Person).where(Person.display_name == "ming")).one()
                st = next(x for x in s.scalars(select(data.Streamer)) if x.person_id == ming.id)
                data.report(s, config, st, at.date(), gmv_yuan=500)
        outcomes = runner.run_due()
        assert [o.job for o in outcomes] == [name]
        before = len(sender.sent)
        deliver(sessions, clock, sender)
        seen.setdefault(name, []).extend(
            f"{m.chat_id}: {m.reply.text}" for m in sender.sent[before:]
        )
    festival = config.festival.name
    t7 = seen["registration_t7"]
    assert len(t7) == 1 and t7[0].startswith("contact: ")
    assert begins(t7[0].removeprefix("contact: "), "remind.registration", festival=festival, days=7)
    assert said(t7[0], "remind.progress", **ANYUAN_PROGRESS)
    assert said(t7[0], "remind.pending", n="1", names="待推荐的号")
    assert said(seen["registration_t1"][0], "remind.registration", festival=festival, days=1)
    assert {line.split(":")[0] for line in seen["digest"]} == {"boss"}
    assert len(seen["digest"]) == 16
    assert sorted(line.split(":")[0] for line in seen["launch_eve"]) == ["hong", "ming"]
    nudges_1101 = [line for line in seen["evening_nudge"] if "2020-11-01" in line]
    assert [line.split(":")[0] for line in nudges_1101] == ["hong"]
    assert len(seen["evening_nudge"]) == 2 * 29 - 1
    first_board = seen["weekly_board"][:3]
    title = label(
        "board.title", festival=festival, scope=label("board.scope_all"), date="2020-11-02"
    )
    assert first_board[0].startswith(f"g-board: {title}")
    top = {"rank": 1, "account": "小明的果园", "unit": "萍乡市 安源区", "gmv": 500}
    assert said(first_board[0], "board.line", **top)
    assert "13800" not in first_board[0]
    new = label("board.new")
    assert sorted(first_board[1:]) == [
        "hong: " + label("board.private", rank=2, n=2, change=new, score="0.0"),
        "ming: " + label("board.private", rank=1, n=2, change=new, score="100.0"),
    ]
    same = label("board.same")  # the second week: no change
    assert said(seen["weekly_board"][4], "board.private", change=same)
    assert all("g-left" not in line for lines in seen.values() for line in lines)
    # the last reminder names when the final board comes: after the backfill window
    assert said(seen["last_report"][0], "remind.last_report", backfill=1, final_at="11-29 10:00")
    assert seen["final_board"][0].startswith("g-board: 🏆")
    assert said(seen["final_board"][1], "board.private_final", festival=festival)
    assert len(seen["feedback_t3"]) == 3  # the contact and the two streamers
    # the live month's digests: the committee each evening, the unit's contact each week
    assert {line.split(":")[0] for line in seen["live_digest"]} == {"boss"}
    assert len(seen["live_digest"]) == 30
    on_1103 = next(line for line in seen["live_digest"] if "2020-11-03" in line)
    assert said(on_1103, "remind.live_digest", date="2020-11-03", filed=0, new=0, rejected=0)
    assert said(on_1103, "remind.live_silent", n=1, days=3)  # 小红 never reported
    assert "小红的茶园" in on_1103 and "小明的果园" not in on_1103
    weeks = seen["unit_digest"]
    assert [line.split(":")[0] for line in weeks] == ["contact"] * 5
    assert said(weeks[0], "remind.unit_digest", first="2020-10-30", last="2020-11-01")
    assert said(weeks[0], "remind.unit_digest", streamers=2, reporting=1, rate=17)  # 1 of 6
    assert said(weeks[0], "remind.unit_place", place=1, units=1)
    assert seen["stale_drafts"] == []  # nobody left a registration unfinished
    # the group's board came with its picture, drawn under the data directory
    pictures = {m.reply.image_path for m in sender.sent if m.chat_id == "g-board"}
    assert len(pictures) == 5 and all(p and Path(p).exists() for p in pictures)
    assert all(str(runner.image_dir) in str(p) for p in pictures)
    # nothing is sent twice: each outbox row delivered once, one row per (job, period, who)
    assert max(Counter(m.outbox_id for m in sender.sent).values()) == 1
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == len(sender.sent)


def test_restart_in_the_middle_of_a_broadcast(
    runner: JobRunner,
    festival: None,
    sessions: sessionmaker[Session],
    config: FestivalConfig,
    tmp_path: Path,
) -> None:
    clock = runner.clock
    assert isinstance(clock, FixedClock)
    with sessions() as s, s.begin():
        for i in range(20):
            data.streamer(s, f"主播{i:02d}", "360302", user=f"u{i:02d}")
    monday = local(config, 2020, 11, 2, 10, 0)
    clock.set(monday)
    [outcome] = runner.run_due()
    assert (outcome.job, outcome.enqueued) == ("weekly_board", 1 + 22)
    first = Recorder()
    assert deliver(sessions, clock, first, limit=7) == 7  # ...and the process is killed
    # a new process: a new runner (APScheduler jobs rebuilt from config) and dispatcher
    clock.advance(minutes=3)
    again = JobRunner(sessions, config, clock, tmp_path / "boards")
    assert again.run_due() == []  # the job is recorded: not run again
    second = Recorder()
    deliver(sessions, clock, second)
    delivered = [m.chat_id for m in first.sent + second.sent]
    assert len(delivered) == 23 and len(set(delivered)) == 23
    with sessions() as s:
        attempts = s.scalars(select(OutboxMessage.attempts)).all()
        assert set(attempts) == {1}  # none was attempted twice


@pytest.mark.parametrize(("late_minutes", "runs"), [(0, 1), (89, 1), (91, 0), (60 * 12, 0)])
def test_a_missed_job_runs_at_start_only_within_its_grace(
    runner: JobRunner,
    festival: None,
    sessions: sessionmaker[Session],
    config: FestivalConfig,
    late_minutes: int,
    runs: int,
) -> None:
    """The evening nudge has 90 minutes of grace; the process starts late_minutes after 21:00."""
    assert config.schedule is not None and config.schedule.evening_nudge.grace_minutes == 90
    clock = runner.clock
    assert isinstance(clock, FixedClock)
    clock.set(local(config, 2020, 11, 3, 21, 0) + dt.timedelta(minutes=late_minutes))
    outcomes = [o for o in runner.run_due() if o.job == "evening_nudge"]
    assert len(outcomes) == runs
    sender = Recorder()
    deliver(sessions, clock, sender)
    assert len(sender.to("ming")) == runs
    assert runner.run_due() == []  # and never twice


def test_the_same_job_twice_sends_once(
    runner: JobRunner,
    festival: None,
    sessions: sessionmaker[Session],
    config: FestivalConfig,
) -> None:
    at = local(config, 2020, 10, 25, 9, 0)
    runner.clock.set(at)  # type: ignore[attr-defined]
    assert runner.run("warmup", at).ran
    assert not runner.run("warmup", at).ran  # recorded: a second process does nothing
    # run by hand later the same day (jobs run warmup): new run, same keys, nothing new
    assert runner.run("warmup", at + dt.timedelta(hours=3)).ran
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 2
        assert s.scalar(select(func.count()).select_from(JobRun)) == 2
    sender = Recorder()
    deliver(sessions, runner.clock, sender)  # type: ignore[arg-type]
    assert sorted(m.chat_id for m in sender.sent) == ["hong", "ming"]


def test_a_blocked_recipient_does_not_stop_the_rest(
    runner: JobRunner,
    festival: None,
    sessions: sessionmaker[Session],
    config: FestivalConfig,
) -> None:
    at = local(config, 2020, 10, 29, 20, 0)
    runner.clock.set(at)  # type: ignore[attr-defined]
    runner.run_due()
    sender = Recorder(blocked=frozenset({"hong"}))
    deliver(sessions, runner.clock, sender)  # type: ignore[arg-type]
    assert [m.chat_id for m in sender.sent] == ["ming"]
    with sessions() as s:
        failed = s.scalars(select(OutboxMessage).where(OutboxMessage.status == "failed")).one()
        assert failed.chat_id == "hong" and "blocked" in (failed.last_error or "")
        hong = s.scalars(select(Person).where(Person.display_name == "hong")).one()
        assert hong.unreachable_at is not None


def test_dry_run_sends_and_stores_nothing(
    runner: JobRunner, festival: None, sessions: sessionmaker[Session], config: FestivalConfig
) -> None:
    at = local(config, 2020, 11, 2, 10, 0)
    runner.clock.set(at)  # type: ignore[attr-defined]
    plan = runner.dry_run("weekly_board", at)
    with sessions() as s:
        ids = {p.display_name: p.id for p in s.scalars(select(Person))}
    assert [who for who, _k, _r in plan.sent] == [
        "console chat g-board",
        f"person {ids['ming']}",
        f"person {ids['hong']}",
    ]
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert s.scalar(select(func.count()).select_from(JobRun)) == 0


def test_fire_times_of_a_one_off_trigger(runner: JobRunner, config: FestivalConfig) -> None:
    trigger = runner.specs["warmup"].trigger
    at = local(config, 2020, 10, 25, 9, 0)
    assert fire_times(trigger, at - dt.timedelta(hours=1), at) == [at]
    assert fire_times(trigger, at + dt.timedelta(seconds=1), at + dt.timedelta(days=9)) == []


def test_apscheduler_gets_every_job_with_its_grace(
    runner: JobRunner, sessions: sessionmaker[Session], config: FestivalConfig, tmp_path: Path
) -> None:
    """APScheduler follows the wall clock: the 2020 jobs are past for it (only the tick sees
    them, through our clock); the same calendar in 2099 gets a job each."""
    raw = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    moved = yaml.safe_dump(raw).replace("2020-", "2099-").replace("2021-", "2100-")
    future = parse_config(yaml.safe_load(moved))
    later = JobRunner(sessions, future, runner.clock, tmp_path)

    async def start_and_stop(runner: JobRunner) -> dict[str, int | None]:
        scheduler = FestivalScheduler(runner)
        scheduler.start()
        try:
            return {j.id: j.misfire_grace_time for j in scheduler.aps.get_jobs()}
        finally:
            scheduler.shutdown()

    # housekeeping (exports_cleanup; erasure, daily from privacy.erase_after on) repeats:
    # it is never past
    assert set(asyncio.run(start_and_stop(runner))) == {"tick", "exports_cleanup", "erasure"}
    jobs = asyncio.run(start_and_stop(later))
    assert jobs["tick"] is not None
    assert jobs["weekly_board"] == 360 * 60
    assert jobs["evening_nudge"] == 90 * 60
    assert set(jobs) == {*later.specs, "tick"}


def test_operators_list_and_dry_run(
    database_url: str,
    festival: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.jobs_cli import main as jobs

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("BOT_CLOCK", "2020-10-12T08:00")
    assert jobs(["list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0] == "now: 2020-10-12 08:00 (Asia/Shanghai)"
    assert listed[1] == "2020-10-12 Mon 09:00  registration_t7    grace 720 min"
    assert listed[-3] == "2020-12-07 Mon 09:00  feedback_t3        grace 720 min"
    assert listed[-2].startswith("housekeeping: exports_cleanup, next 2020-10-12 08:30")
    assert listed[-1] == "housekeeping: erasure, next 2021-01-10 03:00, then repeating"
    assert jobs(["run", "registration_t7", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert said(out, "remind.registration", days=7) and said(
        out, "remind.progress", **ANYUAN_PROGRESS
    )
    assert out.rstrip().endswith("1 messages would be sent (dry run: nothing stored or sent)")
    assert jobs(["run", "no_such_job"]) == 2
    assert "unknown job" in capsys.readouterr().err


class Wall:
    """Real time the test moves by hand (what the rehearsal clock is sped up from)."""

    def __init__(self) -> None:
        self.t = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += dt.timedelta(seconds=seconds)


def test_a_rehearsal_clock_runs_faster_and_the_scheduler_keeps_up(
    sessions: sessionmaker[Session], config: FestivalConfig, festival: None, tmp_path: Path
) -> None:
    """BOT_CLOCK=2020-10-12T08:59 BOT_CLOCK_SPEED=60: one real minute is an hour of the
    festival; a minute of real time later the T-7 reminder (09:00) has gone out, once."""
    from bot.core.clock import Clock

    wall = Wall()
    clock = Clock(config.calendar.tz, local(config, 2020, 10, 12, 8, 59), speed=60, wall=wall)
    runner = JobRunner(sessions, config, clock, tmp_path / "boards")
    scheduler = FestivalScheduler(runner)
    assert scheduler.tick_interval() == pytest.approx(1.0)  # 60 s of festival time, 1 s real

    def runs() -> list[str]:
        with sessions() as s:
            return [r.job for r in s.scalars(select(JobRun))]

    async def tick() -> None:
        await scheduler.wake()

    asyncio.run(tick())
    assert "registration_t7" not in runs()
    wall.advance(30)  # 09:29 on the rehearsal clock
    assert clock.local_now().strftime("%m-%d %H:%M") == "10-12 09:29"
    asyncio.run(tick())
    asyncio.run(tick())
    assert runs().count("registration_t7") == 1
    sender = Recorder()
    deliver(sessions, FixedClock(config.calendar.tz, clock.now()), sender)
    reminders = [t for t in sender.to("contact") if said(t, "remind.registration")]
    assert len(reminders) == 1 and said(reminders[0], "remind.registration", days=7)


def test_the_rehearsal_speed_is_bounded_and_checked(config: FestivalConfig, tmp_path: Path) -> None:
    from pydantic import ValidationError

    from bot.core.clock import Clock
    from bot.settings import Settings
    from scheduler import MIN_TICK_SECONDS

    for bad in ("0", "-2", "abc"):
        with pytest.raises(ValidationError):
            Settings(bot_clock_speed=bad)
    with pytest.raises(ValueError):
        Clock(config.calendar.tz, speed=0)
    wall = Wall()
    fast = Clock(config.calendar.tz, speed=100_000, wall=wall)
    sessions_ = sessionmaker()  # never used: tick_interval reads only the config and clock
    scheduler = FestivalScheduler(JobRunner(sessions_, config, fast, tmp_path))
    assert scheduler.tick_interval() == MIN_TICK_SECONDS
    before = fast.now()
    wall.advance(1)
    assert fast.now() - before == dt.timedelta(seconds=100_000)
    normal = Clock(config.calendar.tz, wall=wall)
    before = normal.now()
    wall.advance(2.5)
    assert normal.now() - before == dt.timedelta(seconds=2.5)


def test_a_failing_job_is_recorded_and_retried_within_its_grace(
    runner: JobRunner,
    festival: None,
    sessions: sessionmaker[Session],
    config: FestivalConfig,
) -> None:
    """The evening nudge fails once (say, the disk refused a write) after its page of
    streamers was committed (it commits page by page, JobCtx.checkpoint): the failure is
    recorded with its error, the run stays unfinished, and the next look (still in its grace)
    runs it again, which sends nothing twice; beyond its grace it is left alone."""
    clock = runner.clock
    assert isinstance(clock, FixedClock)
    nudge = runner.specs["evening_nudge"]
    tries: list[dt.datetime] = []

    def flaky(jc: Any) -> None:
        tries.append(jc.scheduled_for)
        if len(tries) == 1:
            nudge.run(jc)  # enqueues and commits its page, then fails
            raise OSError(30, "Read-only file system")
        nudge.run(jc)

    runner.specs["evening_nudge"] = dataclasses.replace(nudge, run=flaky)
    nine = local(config, 2020, 11, 3, 21, 0)
    clock.set(nine)
    [failed] = [o for o in runner.run_due() if o.job == "evening_nudge"]
    assert failed.failed and not failed.ran
    with sessions() as s:
        run = s.scalars(select(JobRun).where(JobRun.job == "evening_nudge")).one()
        assert run.finished_at is None and run.failures == 1
        assert "Read-only file system" in (run.last_error or "")
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 2  # the page
    clock.advance(minutes=1)
    [retried] = [o for o in runner.run_due() if o.job == "evening_nudge"]
    assert retried.ran and retried.enqueued == 2  # ming and hong, as a run that never failed
    with sessions() as s:
        run = s.scalars(select(JobRun).where(JobRun.job == "evening_nudge")).one()
        assert run.finished_at is not None and run.failures == 1
    assert runner.run_due() == []  # finished: never again
    assert len(tries) == 2
    sender = Recorder()
    deliver(sessions, clock, sender)
    assert sorted(m.chat_id for m in sender.sent) == ["hong", "ming"]  # once each


def test_a_job_of_one_transaction_that_fails_leaves_nothing(
    runner: JobRunner,
    festival: None,
    sessions: sessionmaker[Session],
    config: FestivalConfig,
) -> None:
    """The admins' digest (no pages) enqueues, then fails: rolled back with what it enqueued."""
    digest = runner.specs["digest"]

    def failing(jc: Any) -> None:
        digest.run(jc)
        assert jc.count == 1  # the admin's digest, enqueued...
        raise OSError(30, "Read-only file system")  # ...and the run fails

    runner.specs["digest"] = dataclasses.replace(digest, run=failing)
    at = local(config, 2020, 10, 15, 18, 0)
    runner.clock.set(at)  # type: ignore[attr-defined]
    assert runner.attempt("digest", at).failed
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        run = s.scalars(select(JobRun).where(JobRun.job == "digest")).one()
        assert run.finished_at is None and run.failures == 1


def test_a_job_failing_beyond_its_grace_is_given_up(
    runner: JobRunner,
    festival: None,
    sessions: sessionmaker[Session],
    config: FestivalConfig,
) -> None:
    clock = runner.clock
    assert isinstance(clock, FixedClock)
    nudge = runner.specs["evening_nudge"]

    def broken(jc: Any) -> None:
        raise RuntimeError("a bug")

    runner.specs["evening_nudge"] = dataclasses.replace(nudge, run=broken)
    clock.set(local(config, 2020, 11, 3, 21, 0))
    for minutes in (0, 30, 60):  # every look within the 90 minutes of grace tries again
        clock.set(local(config, 2020, 11, 3, 21, minutes % 60) + dt.timedelta(hours=minutes // 60))
        assert [o.failed for o in runner.run_due() if o.job == "evening_nudge"] == [True]
    clock.set(local(config, 2020, 11, 3, 22, 31))
    assert [o for o in runner.run_due() if o.job == "evening_nudge"] == []
    with sessions() as s:
        run = s.scalars(select(JobRun).where(JobRun.job == "evening_nudge")).one()
        assert (run.failures, run.finished_at) == (3, None)


def test_workers_started_apart_keep_one_rehearsal_time(
    config: FestivalConfig, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """BOT_CLOCK with BOT_CLOCK_AT: processes started at different moments show one time (a
    lease, a processed_at of one worker read by another); without it each starts its own."""
    from bot.app import build
    from bot.settings import Settings

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'clock.db'}")
    monkeypatch.setenv("BOT_CLOCK", "2020-10-15T20:00")
    monkeypatch.setenv("BOT_CLOCK_SPEED", "60")
    real_start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)  # two real minutes ago
    monkeypatch.setenv("BOT_CLOCK_AT", real_start.isoformat())
    first = build(Settings()).clock
    second = build(Settings()).clock
    shown = first.local_now()
    # two real minutes at 60x: two hours since 20:00
    assert shown.strftime("%m-%d %H") == "10-15 22"
    assert abs(second.now() - first.now()) < dt.timedelta(minutes=2)  # 2 real seconds at 60x
    monkeypatch.delenv("BOT_CLOCK_AT")
    alone = build(Settings()).clock
    assert alone.local_now().strftime("%m-%d %H:%M") in ("10-15 20:00", "10-15 20:01")
    monkeypatch.setenv("BOT_CLOCK_AT", "not a time")
    with pytest.raises(ValueError):
        Settings()
