"""/certificates above the chat limit: a run stored in the database, drawn in batches by the
scheduler's looks for background work, its progress and its end told to the committee member
once; killed with SIGKILL in the middle, the next look draws only what no committed batch drew."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot.config import FestivalConfig
from bot.core.clock import FixedClock
from bot.core.dispatcher import Core
from handlers import certificate_batches, certificates
from handlers.routes import ROUTES
from models import Certificate, CertificateRun, OutboxMessage, Streamer
from models import certificate_runs as runs
from scheduler import JobRunner
from tests.catalog import said
from tests.chat import Chat
from tests.test_certificate_issue import AFTER, records  # noqa: F401  (the fixture)

ROOT = Path(__file__).resolve().parent.parent


def small(config: FestivalConfig, **changes: Any) -> FestivalConfig:
    """Six certificates (tests/test_certificate_issue.py `records`) above a chat limit of 3,
    drawn two at a time, the progress told every 25%."""
    values = {"chat_limit": 3, "batch_size": 2, "progress_percent": 25, **changes}
    return config.model_copy(update={"certificates": config.certificates.model_copy(update=values)})


@pytest.fixture
def small_core(
    db: Engine, config: FestivalConfig, clock: FixedClock, tmp_path: Path
) -> Iterator[Core]:
    core = Core(small(config), db, clock, ROUTES, tmp_path)
    yield core
    core.executor.shutdown()


@pytest.fixture
def sessions(db: Engine) -> sessionmaker[Session]:
    """What certificate_batches.work takes: the scheduler's sessions."""
    return sessionmaker(db, expire_on_commit=False)


@pytest.fixture
def started(small_core: Core, records: dict[str, int]) -> Chat:  # noqa: F811
    """The committee's /certificates above the chat limit: a run waits for its batches."""
    chat = Chat(small_core)
    chat.say("boss", "/certificates")
    return chat


def one_batch_per_look(config: FestivalConfig) -> FestivalConfig:
    return small(config, work_seconds=0.001)


def run_row(db: Engine) -> CertificateRun:
    with Session(db, expire_on_commit=False) as s:
        return s.scalars(select(CertificateRun)).one()


def messages_to(db: Engine, prefix: str) -> list[OutboxMessage]:
    with Session(db) as s:
        return list(
            s.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.idempotency_key.like(f"{prefix}%"))
                .order_by(OutboxMessage.id)
            )
        )


def test_above_the_chat_limit_a_run_starts_and_is_drawn_in_batches(
    small_core: Core,
    records: dict[str, int],  # noqa: F811
    db: Engine,
    clock: FixedClock,
    sessions: sessionmaker[Session],
) -> None:
    chat = Chat(small_core)
    started = chat.say("boss", "/certificates")
    assert said(started, "cert.run_started", n=6, max=3, batch=2, every=25)
    run = run_row(db)
    assert (run.status, run.total, run.drawn) == (runs.WAITING, 6, 0)
    # every certificate is numbered in the step, none drawn yet
    with Session(db) as s:
        assert len(s.scalars(select(Certificate)).all()) == 6
        assert all(c.pdf_path is None for c in s.scalars(select(Certificate)))
    # asked again meanwhile: how far it is, no second run
    assert said(chat.say("boss", "/certificates"), "cert.run_status", done=0, total=6, percent=0)
    assert said(chat.say("赣南小橙", "/certificates"), "err.not_allowed")

    config = one_batch_per_look(small_core.config)
    assert certificate_batches.work(sessions, config, clock) == 1
    assert said(chat.say("boss", "/certificates"), "cert.run_status", done=2, total=6, percent=33)
    assert said(chat.deliver(), "cert.run_progress", done=2, total=6, percent=33)
    assert certificate_batches.work(sessions, config, clock) == 1
    assert said(chat.deliver(), "cert.run_progress", done=4, total=6, percent=66)
    assert certificate_batches.work(sessions, config, clock) == 1  # the last batch and the end
    done = chat.deliver()
    assert not said(done, "cert.run_progress")  # 100%: the end says it
    run = run_row(db)
    assert (run.status, run.drawn, run.not_drawn) == (runs.DONE, 6, 0)
    assert run.archive_path is not None
    assert said(done, "cert.run_done", n=6, path=run.archive_path)
    assert f"[文件: {run.archive_path}]" in done  # attached: far below attach_zip_max_mb
    with zipfile.ZipFile(run.archive_path) as archive:
        assert len([n for n in archive.namelist() if n.endswith(".pdf")]) == 6
        assert any("赣南小橙" in n for n in archive.namelist())  # holders read from records
    with Session(db) as s:
        assert all(
            c.pdf_path and Path(c.pdf_path).is_file() for c in s.scalars(select(Certificate))
        )
    # nothing left: a look does nothing, nothing is told again
    assert certificate_batches.work(sessions, config, clock) == 0
    assert chat.deliver() == ""
    # a new /certificates (still above the limit) starts a new run with the same numbers
    before = {c: n for c, n in _numbers(db).items()}
    assert said(chat.say("boss", "/certificates"), "cert.run_started", n=6)
    assert _numbers(db) == before


def _numbers(db: Engine) -> dict[int, str]:
    with Session(db) as s:
        return {c.id: c.number for c in s.scalars(select(Certificate))}


def test_the_scheduler_looks_for_the_work_and_a_large_zip_is_named_not_attached(
    db: Engine,
    config: FestivalConfig,
    clock: FixedClock,
    records: dict[str, int],  # noqa: F811
    tmp_path: Path,
) -> None:
    big = small(config, attach_zip_max_mb=0)
    core = Core(big, db, clock, ROUTES, tmp_path)
    try:
        chat = Chat(core)
        chat.say("boss", "/certificates")
        runner = JobRunner(core.sessions, big, clock, tmp_path / "boards")
        runner.background()  # work_seconds 30: every batch in one look
        run = run_row(db)
        assert run.status == runs.DONE and run.archive_path is not None
        done = chat.deliver()
        mb = f"{Path(run.archive_path).stat().st_size / 1_000_000:.0f}"
        assert said(done, "cert.run_done_large", n=6, mb=mb, path=run.archive_path)
        assert "[文件:" not in done
    finally:
        core.executor.shutdown()


def test_a_certificate_no_longer_issued_when_its_batch_comes_is_not_drawn(
    small_core: Core,
    records: dict[str, int],  # noqa: F811
    started: Chat,
    db: Engine,
    clock: FixedClock,
    sessions: sessionmaker[Session],
) -> None:
    chat = started
    with Session(db) as s, s.begin():  # the second streamer withdraws meanwhile
        other = s.scalars(select(Streamer).where(Streamer.id != records["star"])).first()
        assert other is not None
        other.status = "withdrawn"
    certificate_batches.work(sessions, small_core.config, clock)
    run = run_row(db)
    assert (run.status, run.drawn, run.not_drawn) == (runs.DONE, 5, 1)
    done = chat.deliver()
    assert said(done, "cert.run_done", n=5) and said(done, "cert.run_gone", n=1)


def test_a_disk_that_refuses_the_files_ends_the_run_and_says_so(
    small_core: Core,
    started: Chat,
    db: Engine,
    clock: FixedClock,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chat = started
    config = one_batch_per_look(small_core.config)
    certificate_batches.work(sessions, config, clock)

    def full(*_a: object, **_k: object) -> object:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(certificates, "render_many", full)
    certificate_batches.work(sessions, config, clock)
    run = run_row(db)
    assert run.status == runs.FAILED and "No space left" in (run.last_error or "")
    assert said(chat.deliver(), "cert.run_failed", done=2, total=6)
    # closed: /certificates starts afresh
    monkeypatch.undo()
    assert said(chat.say("boss", "/certificates"), "cert.run_started", n=6)


KILLED_IN_THE_SECOND_BATCH = textwrap.dedent(
    """
    import datetime as dt, os, signal, sys
    from sqlalchemy.orm import sessionmaker
    from bot.config import load_config
    from bot.core.clock import FixedClock
    from handlers import certificate_batches, certificates
    from models.db import make_engine

    url, root, after = sys.argv[1], sys.argv[2], dt.datetime.fromisoformat(sys.argv[3])
    config = load_config(os.path.join(root, "config.yaml"))
    changed = {"chat_limit": 3, "batch_size": 2, "progress_percent": 25}
    config = config.model_copy(
        update={"certificates": config.certificates.model_copy(update=changed)}
    )
    draw, calls = certificates.render_many, []

    def render_then_die(certs, *args, **kwargs):
        calls.append(1)
        batch = draw(certs, *args, **kwargs)  # the files are written...
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGKILL)  # ...and the process dies before its commit
        return batch

    certificates.render_many = render_then_die
    engine = make_engine(url)
    certificate_batches.work(
        sessionmaker(engine, expire_on_commit=False), config, FixedClock(config.calendar.tz, after)
    )
    """
)


def test_killed_in_the_middle_it_resumes_without_drawing_anything_twice(
    small_core: Core,
    started: Chat,
    db: Engine,
    clock: FixedClock,
    sessions: sessionmaker[Session],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    numbers = _numbers(db)
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            KILLED_IN_THE_SECOND_BATCH,
            database_url,
            str(ROOT),
            AFTER.isoformat(),
        ],
        cwd=ROOT,
        capture_output=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]
    run = run_row(db)
    # the first batch was committed with its progress; the second died before its commit
    assert (run.status, run.drawn, run.not_drawn, run.told_percent) == (runs.WAITING, 2, 0, 25)
    with Session(db) as s:
        first = set(runs.items_with(s, run.id, runs.DRAWN))
    assert len(first) == 2

    drawn: Counter[str] = Counter()
    draw = certificates.render_many

    def counting(certs: Any, *args: Any, **kwargs: Any) -> Any:
        drawn.update(c.number for c in certs)
        return draw(certs, *args, **kwargs)

    monkeypatch.setattr(certificates, "render_many", counting)
    certificate_batches.work(sessions, small_core.config, clock)  # the next look, "restarted"
    # what the committed batch drew is not drawn again; the rest once each
    assert set(drawn) == {numbers[c] for c in numbers if c not in first}
    assert set(drawn.values()) == {1}
    run = run_row(db)
    assert (run.status, run.drawn, run.not_drawn) == (runs.DONE, 6, 0)
    assert _numbers(db) == numbers  # no certificate numbered twice
    # told once each: the 25% step (before the kill), 50% and the end
    keys = [m.idempotency_key for m in messages_to(db, f"certificates:run{run.id}:")]
    assert keys == [f"certificates:run{run.id}:{p}" for p in (25, 50)] + [
        f"certificates:run{run.id}:done"
    ]
    payload = messages_to(db, f"certificates:run{run.id}:done")[0].payload
    assert said(payload["text"], "cert.run_done", n=6)
    assert payload["document_path"] == run.archive_path
