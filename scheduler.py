"""The festival's scheduler: an APScheduler 3 AsyncIOScheduler with the jobs of
handlers/calendar.py at their times (from config.yaml, Asia/Shanghai).

APScheduler 3 recomputes a job's next run from "now" whenever the jobs are built, so runs
missed while the process was down would be dropped silently, and it has no clock we could
move. So APScheduler only wakes us up; what is due is decided here from the jobs' triggers
and our clock (real, or the rehearsal clock), and each (job, fire time) is recorded in
job_runs in the same transaction as its outbox rows: a run happens at most once, a run that
crashed left nothing and is retried, a missed run within its grace time runs at start.

`python scheduler.py` runs it alone (beside one or more bot workers): it only enqueues, the
bot processes, which own the channels' senders, deliver the outbox. With the embedded default
(`BOT_SCHEDULER=embedded`) `python -m bot` runs it in the bot's own process.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sys
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session, sessionmaker

from bot.config import FestivalConfig
from bot.core.clock import Clock
from bot.core.logs import redact
from bot.core.outbox import Outbox
from handlers.calendar import BACKGROUND, JobSpec, fire_times, job_specs
from handlers.jobs import DryRun, JobCtx
from models import JobRun
from models import job_runs as runs

log = logging.getLogger("scheduler")

MIN_TICK_SECONDS = 0.25  # a rehearsal at high speed still only looks 4 times a second


@dataclass(frozen=True)
class Outcome:
    job: str
    scheduled_for: dt.datetime
    ran: bool  # False: already recorded (by us earlier, or another process)
    enqueued: int = 0
    failed: bool = False  # the run raised: rolled back, recorded, retried within its grace


class JobRunner:
    """Runs jobs for their fire times, exactly once per (job, fire time)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        config: FestivalConfig,
        clock: Clock,
        image_dir: Path,
        services: dict[str, Any] | None = None,
    ) -> None:
        self.sessions = sessions
        self.services = services if services is not None else {}
        self.config = config
        self.clock = clock
        self.image_dir = image_dir
        self.specs = {s.name: s for s in job_specs(config)}

    def due(self, now: dt.datetime) -> list[tuple[JobSpec, dt.datetime]]:
        """Fire times in the last grace period of every job, oldest first."""
        found = [
            (spec, t)
            for spec in self.specs.values()
            for t in fire_times(spec.trigger, now - spec.grace, now)
        ]
        return sorted(found, key=lambda item: (item[1], item[0].name))

    def upcoming(self, now: dt.datetime, until: dt.datetime) -> list[tuple[str, dt.datetime]]:
        items = [
            (spec.name, t)
            for spec in self.specs.values()
            for t in fire_times(spec.trigger, now, until)
        ]
        return sorted(items, key=lambda item: (item[1], item[0]))

    def recorded(self) -> dict[tuple[str, dt.datetime], JobRun]:
        with self.sessions() as session:
            return {(r.job, r.scheduled_for): r for r in runs.recorded(session)}

    def run_due(self, now: dt.datetime | None = None) -> list[Outcome]:
        """Run every due fire time not yet recorded (at start: the missed ones in grace)."""
        now = now or self.clock.now()
        done = {key for key, run in self.recorded().items() if run.finished_at is not None}
        outcomes = []
        for spec, t in self.due(now):
            if (spec.name, t) not in done:
                outcomes.append(self.attempt(spec.name, t))
        return outcomes

    def attempt(self, name: str, scheduled_for: dt.datetime) -> Outcome:
        """`run`, with a failure logged and recorded instead of raised: one failing job (a
        bug, a disk that refuses writes, a database hiccup) neither stops the jobs due after
        it nor vanishes; the next look retries it while its grace lasts."""
        try:
            return self.run(name, scheduled_for)
        except Exception as exc:
            log.exception("job %s for %s failed; retried within its grace", name, scheduled_for)
            try:
                with self.sessions() as session, session.begin():
                    # no phone number kept (a database's refusal may quote the row)
                    error = redact(f"{type(exc).__name__}: {exc}")
                    runs.record_failure(session, name, scheduled_for, self.clock.now(), error)
            except Exception:
                log.exception("could not record the failure of job %s", name)
            return Outcome(name, scheduled_for, ran=False, failed=True)

    def run(self, name: str, scheduled_for: dt.datetime) -> Outcome:
        """One run: claim (job, fire time), enqueue, mark finished. In one transaction,
        unless the job commits pieces of it (JobCtx.checkpoint: the 龙虎榜's message to every
        streamer): then a run that died left those pieces, and the run, still unfinished, is
        claimed again and enqueues the rest (the messages' keys make that exact)."""
        spec = self.specs[name]
        if spec.prepare is not None:
            spec.prepare(self.services)
        with self.sessions() as session:
            try:
                if not runs.claim(session, name, scheduled_for, self.clock.now()):
                    session.rollback()
                    return Outcome(name, scheduled_for, ran=False)
                outbox = Outbox(session, self.clock, batch=True)

                def commit() -> None:
                    outbox.flush()
                    session.commit()

                jc = self._ctx(session, spec, scheduled_for, outbox)
                jc.commit = commit
                spec.run(jc)
                outbox.flush()
                run = runs.run_of(session, name, scheduled_for)
                run.finished_at, run.enqueued = self.clock.now(), jc.count
                session.commit()
            except BaseException:
                session.rollback()
                raise
            log.info("job %s for %s: %d messages enqueued", name, scheduled_for, jc.count)
        for hook in jc.after_commit:  # committed: what may only run outside a transaction
            try:
                hook()
            except Exception:
                log.exception("job %s: the work after its commit failed", name)
        return Outcome(name, scheduled_for, ran=True, enqueued=jc.count)

    def background(self) -> None:
        """The work waiting in the database (handlers/calendar.py BACKGROUND), each within
        its own time budget; one that fails is logged and looked at again at the next tick."""
        for work in BACKGROUND:
            try:
                work(self.sessions, self.config, self.clock)
            except Exception:
                log.exception("background work %s failed; tried again at the next look", work)

    def dry_run(self, name: str, scheduled_for: dt.datetime) -> DryRun:
        """Who would get what; nothing is stored or sent (the transaction is rolled back)."""
        sink = DryRun()
        with self.sessions() as session:
            try:
                self.specs[name].run(self._ctx(session, self.specs[name], scheduled_for, sink))
            finally:
                session.rollback()
        return sink

    def _ctx(self, session: Session, spec: JobSpec, at: dt.datetime, sink: Any) -> JobCtx:
        return JobCtx(
            session,
            self.config,
            self.clock,
            sink,
            spec.name,
            at,
            self.image_dir,
            services=self.services,
        )


class FestivalScheduler:
    """APScheduler wakes us at each job's fire time and every `tick_seconds` (which also
    serves the rehearsal clock, whose "now" is not the wall clock APScheduler follows)."""

    def __init__(self, runner: JobRunner) -> None:
        self.runner = runner
        self.aps = AsyncIOScheduler(timezone=runner.config.calendar.tz)
        self._lock = asyncio.Lock()

    async def wake(self) -> None:
        try:
            async with self._lock:  # one run_due at a time in this process
                loop = asyncio.get_running_loop()
                try:
                    await loop.run_in_executor(None, self.runner.run_due)
                except Exception:
                    log.exception("scheduled jobs failed; retried at the next wake-up")
                await loop.run_in_executor(None, self.runner.background)
        except asyncio.CancelledError:
            # the process is stopping (the console's input ended, a worker shuts down): the
            # run under way finishes in its thread and commits what it did; APScheduler would
            # log the cancellation as a failed job's traceback
            log.debug("stopping while looking for due jobs")

    def tick_interval(self) -> float:
        """Real seconds between looks for due jobs: the configured tick in the festival's time,
        so a rehearsal clock running 60 times faster looks 60 times as often (never more
        often than MIN_TICK_SECONDS). A due run is found as long as a tick, in the clock's
        time, is shorter than the job's grace period."""
        config = self.runner.config
        tick = config.schedule.tick_seconds if config.schedule else 60
        real = max(MIN_TICK_SECONDS, tick / self.runner.clock.speed)
        in_clock_time = dt.timedelta(seconds=real * self.runner.clock.speed)
        for spec in self.runner.specs.values():
            if spec.grace < in_clock_time:
                log.warning(
                    "clock speed %g: job %s (grace %s) may be missed between two looks every %s",
                    self.runner.clock.speed,
                    spec.name,
                    spec.grace,
                    in_clock_time,
                )
        return real

    def start(self) -> None:
        wall = dt.datetime.now(dt.UTC)
        for spec in self.runner.specs.values():
            upcoming = spec.trigger.get_next_fire_time(None, wall)
            if upcoming is None or upcoming < wall:
                continue  # past on the wall clock: only the tick (and our clock) can see it
            self.aps.add_job(
                self.wake,
                spec.trigger,
                id=spec.name,
                misfire_grace_time=int(spec.grace.total_seconds()) or 1,
                coalesce=True,
            )
        self.aps.add_job(
            self.wake,
            IntervalTrigger(seconds=self.tick_interval()),
            id="tick",
            next_run_time=dt.datetime.now(dt.UTC),
        )
        self.aps.start()

    def shutdown(self) -> None:
        if self.aps.running:
            self.aps.shutdown(wait=False)


def image_dir_for(database_url: str) -> Path:
    """Pictures go beside the data (./data/boards for the default SQLite file), never into
    the repository."""
    from bot.settings import data_dir_for

    return data_dir_for(database_url) / "boards"


def job_runner(app: Any) -> JobRunner:
    """The app's job runner (the embedded scheduler, the leader's, or the one run alone)."""
    return JobRunner(
        app.core.sessions,
        app.config,
        app.clock,
        image_dir_for(app.settings.database_url),
        app.core.services,
    )


async def with_scheduler(app: Any, channel: Coroutine[Any, Any, None]) -> None:
    """Run a channel with the embedded scheduler beside it (unless BOT_SCHEDULER=off)."""
    scheduler = None
    if app.settings.bot_scheduler == "embedded":
        runner = job_runner(app)
        scheduler = FestivalScheduler(runner)
        scheduler.start()
    try:
        await channel
    finally:
        if scheduler is not None:
            scheduler.shutdown()


async def scheduled(app: Any) -> None:
    """The embedded scheduler as a task: runs until cancelled (the worker stops, or loses the
    lead among several workers), then shuts down."""
    runner = job_runner(app)
    scheduler = FestivalScheduler(runner)
    scheduler.start()
    try:
        await asyncio.Event().wait()
    finally:
        scheduler.shutdown()


async def run_alone(app: Any) -> None:
    runner = job_runner(app)
    scheduler = FestivalScheduler(runner)
    scheduler.start()
    log.info("scheduler running alone with %d jobs; the bot processes deliver", len(runner.specs))
    try:
        await asyncio.Event().wait()
    finally:
        scheduler.shutdown()


def main() -> int:
    from bot.app import build
    from bot.config import ConfigError

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from bot.core import logs

    logs.install()  # no phone number in any log record
    try:
        app = build()
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(run_alone(app))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
