"""Running the festival's jobs exactly once per (job, fire time). What is due is decided
here from the jobs' triggers (handlers/calendar.py) and our clock (real, or the rehearsal
clock), not by APScheduler, which recomputes a job's next run from "now" whenever the jobs
are built (runs missed while the process was down would be dropped silently) and has no clock
we could move: scheduler.py's APScheduler only wakes the runner up. Each (job, fire time) is
recorded in job_runs in the same transaction as its outbox rows: a run happens at most once,
a run that crashed left nothing and is retried, a missed run within its grace time runs at
start. `jobs run NAME --dry-run` (bot/jobs_cli.py) is `dry_run`.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.config import FestivalConfig
from bot.core.clock import Clock
from bot.core.logs import redact
from bot.core.outbox import Outbox
from handlers.calendar import BACKGROUND, JobSpec, fire_times, job_specs
from handlers.jobs import DryRun, JobCtx
from models import JobRun
from models import job_runs as runs

log = logging.getLogger("scheduler")  # the scheduler's runs, wherever they are run from


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
