"""/export: the notice's sheets (附件2 streamers, 附件1 enterprises and their products, laid out
as handlers/sheets.py says) and the daily reports. The committee exports every unit or one; a
unit contact their own unit, a city's contact its counties too, with phone numbers masked
unless `excel.contacts_see_phones`. What goes into the workbook is handlers/export_book.py.

This module also owns the exports' folder, where every spreadsheet the bot hands out is
written (/export, /donations, /reconcile, /feedback, an import's result): files are written
0600 into a 0700 folder, and the scheduler's `exports_cleanup` removes them when old."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import os
import secrets
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from bot.core.context import BACKGROUND, Ctx
from bot.core.messages import Reply
from bot.core.outbox import Outbox
from bot.core.parsers import normalize
from handlers import xlsx
from handlers.export_book import Book
from handlers.jobs import JobCtx
from handlers.phones import sees_phones
from models import exports
from models.units import Unit, unit_by_code

log = logging.getLogger(__name__)

# Without a data directory (tests of the core alone) a private temporary folder is used.
FALLBACK_DIR = Path(tempfile.gettempdir()) / f"festival-exports-{os.getuid()}"
KINDS = ("streamers", "enterprises", "reports")


def export(ctx: Ctx) -> list[Reply]:
    """/export streamers|enterprises|reports [UNIT_CODE]"""
    args = normalize(ctx.incoming.args).split()
    if not args or args[0].lower() not in KINDS or len(args) > 2:
        return [ctx.reply("export.usage")]
    kind = args[0].lower()
    unit: Unit | None = None
    unit_ids: list[int] | None = None
    if len(args) == 2:
        unit = unit_by_code(ctx.session, args[1].upper()[:20])
        if unit is None or not ctx.scope.covers(unit.id):  # another unit's: simply not found
            return [ctx.reply("export.no_unit", code=args[1][:20])]
        unit_ids = exports.unit_with_children(ctx.session, unit.id)
        if not ctx.scope.committee:
            unit_ids = [u for u in unit_ids if ctx.scope.covers(u)]
    elif not ctx.scope.committee:
        unit_ids = sorted(ctx.scope.unit_ids)
        if len(ctx.scope.own_units) == 1:
            unit = ctx.session.get(Unit, ctx.scope.own_units[0])
    phones = sees_phones(ctx)  # the one rule of who reads phone numbers in full
    later = ctx.services.get(BACKGROUND)
    if (
        kind == "reports"
        and later is not None
        and exports.report_count(ctx.session, unit_ids) > ctx.config.excel.background_rows
    ):
        # written on a thread of its own after this step commits: the step (and on SQLite
        # everybody's, one thread) does not wait minutes for it; the file comes by the outbox
        job = functools.partial(_in_background, ctx, kind, unit.id if unit else None, unit_ids)
        ctx.after_commit.append(lambda: later(job))
        return [ctx.reply("export.started", kind=ctx.t(f"export.kind.{kind}"))]
    return [_written(ctx, kind, unit, unit_ids, phones)]


def _in_background(ctx: Ctx, kind: str, unit_id: int | None, unit_ids: list[int] | None) -> None:
    """The export of a step that answered "started", in a session of its own; the file (or
    the reason there is none) goes to the person by the outbox."""
    sessions = sessionmaker(ctx.session.get_bind(), expire_on_commit=False)
    with sessions() as session, session.begin():
        bg = dataclasses.replace(
            ctx, session=session, outbox=Outbox(session, ctx.clock), after_commit=[], cache={}
        )
        unit = session.get(Unit, unit_id) if unit_id is not None else None
        reply = _written(bg, kind, unit, unit_ids, sees_phones(bg))
        key = f"export:{ctx.person_id}:{kind}:{secrets.token_hex(6)}"
        bg.outbox.to_person(ctx.person_id, key, reply)


def _written(
    ctx: Ctx, kind: str, unit: Unit | None, unit_ids: list[int] | None, phones: bool
) -> Reply:
    """The export written: the reply carrying the file, or saying why there is none."""
    book = Book(ctx, phones, unit)
    counted: list[int] | None = None
    if kind == "reports":
        counted = book.reports(unit_ids)  # rows streamed while the file is written
        n = 0
    elif kind == "streamers":
        n = book.streamers(unit_ids)
    else:
        n = book.enterprises(unit_ids)
    try:
        path = write_book(ctx, kind, book.sheets)
    except OSError:  # no safe folder, a full disk: say so, the step stores nothing else
        log.exception("export %s could not be written", kind)
        return ctx.reply("export.failed")
    if counted is not None:
        n = counted[0]
    # the reports have no phone column: no warning about one
    done = "export.done_reports" if kind == "reports" else "export.done"
    if kind != "reports" and not phones:
        done = "export.done_masked"
    return Reply(ctx.t(done, kind=ctx.t(f"export.kind.{kind}"), n=n), document_path=str(path))


# ----- the exports' folder -------------------------------------------------------------------
def export_dir(ctx: Ctx) -> Path:
    """The exports' folder: the bot's data directory, only the bot's user may enter it (the
    files hold phone numbers); refused if it is someone else's or a symlink (a shared /tmp)."""
    return private_dir(ctx.files_dir / "exports" if ctx.files_dir is not None else FALLBACK_DIR)


def private_dir(folder: Path) -> Path:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.lstat()
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.getuid():
        raise PermissionError(f"{folder} is not the bot's own folder")
    if info.st_mode & 0o077:
        folder.chmod(0o700)
    return folder


def write_book(ctx: Ctx, kind: str, book: Sequence[xlsx.Sheet]) -> Path:
    """The workbook in the exports' folder under an unguessable name (it holds phone numbers),
    created 0600 before a byte is written (chmod after saving would leave a window)."""
    stamp = ctx.clock.local_now().strftime("%Y%m%d-%H%M")
    path = export_dir(ctx) / f"{kind}-{stamp}-{secrets.token_hex(6)}.xlsx"
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as fh:
        xlsx.write(fh, book)
    return path


def remove_old(folder: Path, now: dt.datetime, keep: dt.timedelta) -> int:
    """Exports written more than `keep` before `now` are removed (the scheduler's job);
    returns how many."""
    if not folder.is_dir():
        return 0
    removed = 0
    for old in folder.glob("*.xlsx"):
        written = dt.datetime.fromtimestamp(old.stat().st_mtime, dt.UTC)
        if now - written > keep:
            old.unlink(missing_ok=True)
            removed += 1
    return removed


def exports_cleanup(jc: JobCtx) -> None:
    """The scheduler's housekeeping job: removes exported sheets (and import result sheets)
    older than excel.keep_exports_hours from the data directory's exports/: they hold personal
    data. Sends nothing. File ages are wall-clock (the files' own times), whatever the
    festival's (rehearsal) clock says."""
    keep = dt.timedelta(hours=jc.config.excel.keep_exports_hours)
    removed = remove_old(jc.image_dir.parent / "exports", dt.datetime.now(dt.UTC), keep)
    if removed:
        log.info("exports_cleanup: %d old export files removed", removed)
