"""The festival's scheduler: an APScheduler 3 AsyncIOScheduler that wakes the job runner
(handlers/job_runner.py) at the fire times of handlers/calendar.py's jobs (from config.yaml,
Asia/Shanghai) and every tick. APScheduler only wakes us up: what is due, and that each run
happens once, is the runner's (its triggers and our clock, real or the rehearsal clock; each
(job, fire time) recorded in job_runs).

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
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from handlers.job_runner import JobRunner

log = logging.getLogger("scheduler")

MIN_TICK_SECONDS = 0.25  # a rehearsal at high speed still only looks 4 times a second


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
