"""The festival's calendar: which job runs when, from config.yaml (`schedule:` with the dates of
`calendar.*` and the weekday of `leaderboard.*`, local times in calendar.timezone), as
APScheduler triggers. scheduler.py runs them; tests walk them with `fire_times` and a fixed
clock. What each job sends is handlers/reminders.py, handlers/digests.py, handlers/board_jobs.py
and the modules named below (handlers/jobs.py: what they share).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from sqlalchemy.orm import Session, sessionmaker

from bot.config import FestivalConfig
from bot.core.clock import Clock
from handlers import certificate_batches
from handlers.board_jobs import final_board, final_board_at, weekly_board
from handlers.digests import digest, live_digest, unit_digest
from handlers.export import exports_cleanup
from handlers.jobs import JobFn
from handlers.qr import prepare_wechat_qr, renew_wechat_qr
from handlers.reminders import (
    evening_nudge,
    feedback_reminder,
    last_report,
    launch_eve,
    launch_soon,
    registration_reminder,
    stale_drafts,
    warmup,
)


@dataclass(frozen=True)
class JobSpec:
    """A job as scheduled: its name (job_runs' key), its fire times, what it runs, and how
    late a missed fire time may still run."""

    name: str
    trigger: BaseTrigger
    run: JobFn
    grace: dt.timedelta
    # called with the process's services before the run's transaction (work that must not
    # wait on it: the WeChat access token's refresh)
    prepare: Callable[[dict[str, Any]], None] | None = None


def job_specs(config: FestivalConfig) -> list[JobSpec]:
    """Every job with its trigger, from config.yaml (local times, calendar.timezone)."""
    sched = config.schedule
    if sched is None:
        return []
    cal, tz = config.calendar, config.calendar.tz

    def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), tz)

    def once(day: dt.date, hour: int, minute: int = 0) -> DateTrigger:
        return DateTrigger(run_date=at(day, hour, minute), timezone=tz)

    def daily(first: dt.date, last: dt.date, hour: int, minute: int, **kw: object) -> CronTrigger:
        return CronTrigger(
            hour=hour,
            minute=minute,
            start_date=at(first, 0),
            end_date=at(last, 23, 59),
            timezone=tz,
            **kw,
        )

    def grace(minutes: int) -> dt.timedelta:
        return dt.timedelta(minutes=minutes)

    r = sched.registration_reminders
    specs = [
        JobSpec(
            f"registration_t{d}",
            once(cal.registration_deadline - dt.timedelta(days=d), r.hour, r.minute),
            registration_reminder,
            grace(r.grace_minutes),
        )
        for d in sorted(r.days_before, reverse=True)
    ]
    g, w, lb = sched.digest, sched.warmup, config.leaderboard
    eve, soon = sched.launch.day_before, cal.launch.replace(tzinfo=tz)
    soon -= dt.timedelta(hours=sched.launch.hours_before)
    specs += [
        JobSpec(
            "digest",
            daily(g.first_day, cal.review_until, g.hour, g.minute),
            digest,
            grace(g.grace_minutes),
        ),
        JobSpec(
            "warmup",
            once(cal.warmup_start, w.hour, w.minute),
            warmup,
            grace(w.grace_minutes),
        ),
        JobSpec(
            "launch_eve",
            once(cal.launch.date() - dt.timedelta(days=1), eve.hour, eve.minute),
            launch_eve,
            grace(eve.grace_minutes),
        ),
        JobSpec(
            "launch_soon",
            DateTrigger(run_date=soon, timezone=tz),
            launch_soon,
            grace(sched.launch.grace_minutes),
        ),
        JobSpec(
            "evening_nudge",
            daily(
                cal.live_start,
                cal.live_end,
                sched.evening_nudge.hour,
                sched.evening_nudge.minute,
            ),
            evening_nudge,
            grace(sched.evening_nudge.grace_minutes),
        ),
        JobSpec(
            "weekly_board",
            daily(cal.live_start, cal.live_end, lb.hour, 0, day_of_week=lb.weekday - 1),
            weekly_board,
            grace(sched.board_grace_minutes),
        ),
        JobSpec(
            "last_report",
            once(cal.live_end, sched.last_report.hour, sched.last_report.minute),
            last_report,
            grace(sched.last_report.grace_minutes),
        ),
        JobSpec(
            "final_board",
            # after the backfill window of the last live day closes (issue 14, item 6)
            DateTrigger(run_date=final_board_at(config), timezone=tz),
            final_board,
            grace(sched.final_board.grace_minutes),
        ),
    ]
    f = sched.feedback_reminder
    specs += [
        JobSpec(
            f"feedback_t{d}",
            once(cal.feedback_deadline - dt.timedelta(days=d), f.hour, f.minute),
            feedback_reminder,
            grace(f.grace_minutes),
        )
        for d in sorted(f.days_before, reverse=True)
    ]
    if (q := sched.wechat_qr) is not None:
        specs.append(
            JobSpec(
                "wechat_qr",
                daily(q.first_day, cal.live_end, q.hour, q.minute),
                renew_wechat_qr,
                grace(q.grace_minutes),
                prepare_wechat_qr,
            )
        )
    if (d := sched.live_digest) is not None:
        backfill_end = cal.live_end + dt.timedelta(days=config.reports.backfill_days)
        specs.append(
            JobSpec(
                "live_digest",
                daily(cal.live_start, backfill_end, d.hour, d.minute),
                live_digest,
                grace(d.grace_minutes),
            )
        )
    if (u := sched.unit_digest) is not None:
        # the week after the last live day too: its figures are complete then
        specs.append(
            JobSpec(
                "unit_digest",
                daily(
                    cal.live_start + dt.timedelta(days=1),
                    cal.live_end + dt.timedelta(days=7),
                    u.hour,
                    u.minute,
                    day_of_week=lb.weekday - 1,
                ),
                unit_digest,
                grace(u.grace_minutes),
            )
        )
    if (st := sched.stale_drafts) is not None:
        specs.append(
            JobSpec(
                "stale_drafts",
                daily(g.first_day, cal.registration_deadline, st.hour, st.minute),
                stale_drafts,
                grace(st.grace_minutes),
            )
        )
    return [*specs, *_retention(config), _cleanup(config)]


# Work that waits in the database rather than for a time: at every look for due jobs (the
# scheduler's tick) each is called with (sessions, config, clock) and does what is waiting,
# within its own time budget (a committee member's /certificates above the chat limit).
BACKGROUND: tuple[Callable[[sessionmaker[Session], FestivalConfig, Clock], object], ...] = (
    certificate_batches.work,
)

# Housekeeping jobs that repeat all year: `jobs list` shows only their next run.
REPEATING = frozenset({"exports_cleanup", "erasure"})


def _retention(config: FestivalConfig) -> list[JobSpec]:
    """Personal data erased from privacy.erase_after on, daily (whoever wrote since is
    erased the next night; a day missed beyond its grace is made up the day after)."""
    from handlers.forget import retention

    p, tz = config.privacy, config.calendar.tz
    if p is None:
        return []
    start = dt.datetime.combine(p.erase_after, dt.time(0, 0), tz)
    trigger = CronTrigger(hour=p.hour, minute=p.minute, start_date=start, timezone=tz)
    grace = dt.timedelta(minutes=p.grace_minutes)
    return [JobSpec("erasure", trigger, retention, grace)]


def _cleanup(config: FestivalConfig) -> JobSpec:
    """Old exports removed every excel.cleanup_every_minutes, at minute 30 of the hour (when
    no festival job runs: each run's grace is short, so it never lands in another's)."""
    every = config.excel.cleanup_every_minutes
    tz = config.calendar.tz
    if every < 60:
        trigger = CronTrigger(minute=f"*/{every}", timezone=tz)
    else:
        trigger = CronTrigger(hour=f"*/{max(1, every // 60)}", minute=30, timezone=tz)
    return JobSpec("exports_cleanup", trigger, exports_cleanup, dt.timedelta(minutes=10))


def fire_times(trigger: BaseTrigger, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """The trigger's fire times in [start, end], computed (APScheduler 3 has no clock to set)."""
    times: list[dt.datetime] = []
    previous = None
    now = start
    while True:
        t = trigger.get_next_fire_time(previous, now)
        if t is None or t > end or (times and t <= times[-1]):
            return times
        if t >= start:
            times.append(t)
        previous, now = t, t + dt.timedelta(microseconds=1)
