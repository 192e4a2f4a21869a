"""/certificates above certificates.chat_limit: drawn in the background, not in the chat step.

The step plans them as /certificates always did (numbered: models/awards.py `issued`) and
stores a run with one item per certificate (models/certificate_runs.py); the scheduler's
looks for background work (scheduler.py, handlers/calendar.py BACKGROUND) call `work`, which
draws the next batches for up to certificates.work_seconds. Each batch is drawn outside any
transaction (a SQLite writer would hold every chat step meanwhile) and then committed in one
short transaction with its items marked drawn, the files' paths and the progress told to the
requester; a process killed in the middle of a batch leaves it undrawn and the next look draws
it again (the files are replaced), while what a committed batch drew is never drawn again.
When no item is left, one ZIP of them all and a message to the requester with the count and
where the files are, told once (its outbox key).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from bot.config import FestivalConfig
from bot.core.clock import Clock
from bot.core.context import Ctx
from bot.core.i18n import fmt_local, translate
from bot.core.messages import Reply
from bot.core.outbox import Outbox
from handlers import certificate_issue as issue
from handlers import certificates as render
from handlers.certificate_drawing import printable
from models import Certificate, Person, repo
from models import certificate_runs as runs
from models.awards import certificate_subjects, certificates_by_id

log = logging.getLogger(__name__)


# ----- the chat step ------------------------------------------------------------------------
def start(ctx: Ctx, planned: list[issue.Planned]) -> list[Reply]:
    """Store the run (its certificates in the planned order) and say it has begun."""
    assert ctx.files_dir is not None
    c = ctx.config.certificates
    outdir = ctx.files_dir / c.folder
    runs.start(
        ctx.session, ctx.person_id, ctx.clock.now(), str(outdir), [p.row_id for p in planned]
    )
    return [
        ctx.reply(
            "cert.run_started",
            n=len(planned),
            max=c.chat_limit,
            batch=c.batch_size,
            every=c.progress_percent,
        )
    ]


def status(ctx: Ctx, run: runs.CertificateRun) -> list[Reply]:
    """/certificates while a run is being drawn: how far it is (one run at a time)."""
    done = run.drawn + run.not_drawn
    return [
        ctx.reply(
            "cert.run_status",
            done=done,
            total=run.total,
            percent=_percent(done, run.total),
            who=repo.person_name(ctx.session, run.requested_by),
            at=fmt_local(run.requested_at, ctx.clock.tz),
        )
    ]


def _percent(done: int, total: int) -> int:
    return 100 * done // total if total else 100


# ----- the background -----------------------------------------------------------------------
def work(sessions: sessionmaker[Session], config: FestivalConfig, clock: Clock) -> int:
    """Draw the open run's next batches for up to certificates.work_seconds (at least one
    batch), finishing it when nothing is left; how many batches were drawn."""
    deadline = time.monotonic() + config.certificates.work_seconds
    batches = 0
    while True:
        with sessions() as session:
            run = runs.open_run(session)
            if run is None:
                return batches
            run_id = run.id
            ids = runs.next_batch(session, run_id, config.certificates.batch_size)
        if not ids:  # the last batch drawn: finished at once, not at the next look
            _finish(sessions, config, clock, run_id)
            continue
        if batches and time.monotonic() >= deadline:
            return batches
        _draw(sessions, config, clock, run_id, ids)
        batches += 1


def _draw(
    sessions: sessionmaker[Session],
    config: FestivalConfig,
    clock: Clock,
    run_id: int,
    ids: list[int],
) -> None:
    with sessions() as session:
        run = session.get(runs.CertificateRun, run_id)
        assert run is not None
        requested_at, outdir = run.requested_at, Path(run.outdir)
        planned = [p for p in issue.plan(session, config, requested_at, _holders(session, ids))]
        session.rollback()  # planning only reads here: every number was stored by the step
    wanted = set(ids)
    planned = [p for p in planned if p.row_id in wanted]
    try:
        batch = render.render_many(
            [p.document for p in planned], outdir, render.png_options(config)
        )
    except OSError as exc:
        log.exception("certificate run %s: the files could not be written", run_id)
        _give_up(sessions, config, clock, run_id, f"{type(exc).__name__}: {exc}")
        return
    by_number = {r.number: r for r in batch.rendered}
    drawn = [p for p in planned if p.document.number in by_number]
    failed = [p.row_id for p in planned if p.document.number not in by_number]
    gone = sorted(wanted - {p.row_id for p in planned})
    now = clock.now()
    with sessions() as session, session.begin():
        done_ids = [p.row_id for p in drawn]
        n_drawn = runs.mark(session, run_id, done_ids, runs.DRAWN, now)
        n_not = runs.mark(session, run_id, failed, runs.NOT_DRAWN, now)
        n_not += runs.mark(session, run_id, gone, runs.GONE, now)
        for p in drawn:
            row = session.get(Certificate, p.row_id)
            if row is not None:
                files = by_number[p.document.number]
                row.pdf_path, row.png_path = str(files.pdf), str(files.png)
        run = session.get(runs.CertificateRun, run_id, with_for_update=True)
        assert run is not None
        run.drawn += n_drawn
        run.not_drawn += n_not
        _progress(session, config, clock, run)


def _holders(session: Session, ids: list[int]) -> issue.Holders:
    chosen: dict[str, set[int]] = {"streamer": set(), "unit": set(), "enterprise": set()}
    for kind, subject_id in certificate_subjects(session, ids):
        chosen.setdefault(kind, set()).add(subject_id)
    return issue.Holders(
        streamers=frozenset(chosen["streamer"]),
        units=frozenset(chosen["unit"]),
        enterprises=frozenset(chosen["enterprise"]),
    )


def _progress(
    session: Session, config: FestivalConfig, clock: Clock, run: runs.CertificateRun
) -> None:
    """Tell the requester at each certificates.progress_percent step reached (not at 100:
    the end has its own message), once per step."""
    step = config.certificates.progress_percent
    done = run.drawn + run.not_drawn
    reached = _percent(done, run.total) // step * step
    if reached <= run.told_percent or reached >= 100:
        return
    run.told_percent = reached
    text = translate(
        _locale(session, config, run.requested_by),
        "cert.run_progress",
        done=done,
        total=run.total,
        percent=_percent(done, run.total),
    )
    Outbox(session, clock).to_person(
        run.requested_by, f"certificates:run{run.id}:{reached}", Reply(text)
    )


def _finish(
    sessions: sessionmaker[Session], config: FestivalConfig, clock: Clock, run_id: int
) -> None:
    """One ZIP of what the run drew (rebuilt whole after a crash: written beside and renamed
    into place), then the run closed and its requester told, once."""
    with sessions() as session:
        run = session.get(runs.CertificateRun, run_id)
        assert run is not None
        stamp = run.requested_at.astimezone(config.calendar.tz).strftime("%Y%m%d-%H%M%S")
        path = Path(run.outdir) / f"certificates-{stamp}-run{run.id}.zip"
        docs = _rendered(session, config, runs.items_with(session, run_id, runs.DRAWN))
        missing = _rendered(session, config, runs.items_with(session, run_id, runs.NOT_DRAWN))
    archive = None
    if docs:
        try:
            archive = render.zip_certificates(docs, path)
        except OSError as exc:
            log.exception("certificate run %s: the ZIP could not be written", run_id)
            _give_up(sessions, config, clock, run_id, f"{type(exc).__name__}: {exc}")
            return
    now = clock.now()
    with sessions() as session, session.begin():
        if not runs.close(session, run_id, now, str(archive) if archive else None):
            return  # another look finished it first
        run = session.get(runs.CertificateRun, run_id)
        assert run is not None
        locale = _locale(session, config, run.requested_by)
        lines = [_done_text(config, locale, run, archive)]
        lines += [
            translate(locale, "cert.not_drawn", number=d.number, holder=d.holder) for d in missing
        ]
        gone = run.not_drawn - len(missing)
        if gone:
            lines.append(translate(locale, "cert.run_gone", n=gone))
        attach = archive is not None and _small(config, archive)
        reply = Reply("\n".join(lines), document_path=str(archive) if attach else None)
        Outbox(session, clock).to_person(run.requested_by, f"certificates:run{run.id}:done", reply)


def _done_text(
    config: FestivalConfig, locale: str, run: runs.CertificateRun, archive: Path | None
) -> str:
    if archive is None:
        return translate(locale, "cert.run_none_drawn", total=run.total)
    if _small(config, archive):
        return translate(locale, "cert.run_done", n=run.drawn, path=str(archive))
    mb = f"{archive.stat().st_size / 1_000_000:.0f}"
    return translate(locale, "cert.run_done_large", n=run.drawn, mb=mb, path=str(archive))


def _small(config: FestivalConfig, archive: Path) -> bool:
    return archive.stat().st_size <= config.certificates.attach_zip_max_mb * 1_000_000


def _rendered(
    session: Session, config: FestivalConfig, ids: list[int]
) -> list[render.RenderedCertificate]:
    """The drawn certificates as the ZIP lists them, their holders read from the records
    (nothing of a name is kept with the run)."""
    names: dict[int, str] = {}
    found: dict[int, render.RenderedCertificate] = {}
    for first in range(0, len(ids), 1_000):
        chunk = ids[first : first + 1_000]
        for row in certificates_by_id(session, chunk):
            kind = {"unit": "organisation"}.get(row.subject_kind, row.subject_kind)
            holder = issue.winner_name(session, config, kind, row.subject_id, names) or ""
            found[row.id] = render.RenderedCertificate(
                row.number,
                row.kind,  # type: ignore[arg-type]
                printable(holder),
                Path(row.pdf_path or ""),
                Path(row.png_path or ""),
            )
    return [found[i] for i in ids if i in found]


def _give_up(
    sessions: sessionmaker[Session], config: FestivalConfig, clock: Clock, run_id: int, error: str
) -> None:
    """The disk refused the files: the run is closed (a new /certificates starts another)
    and its requester told, with how far it came."""
    with sessions() as session, session.begin():
        run = session.get(runs.CertificateRun, run_id)
        if run is None or run.status != runs.WAITING:
            return
        run.status, run.finished_at, run.last_error = runs.FAILED, clock.now(), error[:2000]
        text = translate(
            _locale(session, config, run.requested_by),
            "cert.run_failed",
            done=run.drawn + run.not_drawn,
            total=run.total,
        )
        Outbox(session, clock).to_person(
            run.requested_by, f"certificates:run{run.id}:failed", Reply(text)
        )


def _locale(session: Session, config: FestivalConfig, person_id: int) -> str:
    person = session.get(Person, person_id)
    return (person.locale if person else None) or config.locale.default
