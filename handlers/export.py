"""/export: the committee's spreadsheets, laid out as the notice's forms (附件2 streamers,
附件1 enterprises and their products) plus the daily reports, for all units or one unit (a
city with its counties). Phone numbers are in them: committee only, private chat only."""

from __future__ import annotations

import logging
import os
import secrets
import stat
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from bot.core.context import Ctx
from bot.core.forms import Field
from bot.core.i18n import fmt_local
from bot.core.messages import Reply
from bot.core.parsers import normalize
from handlers import enterprise, report, streamer
from handlers.fields import cell_of
from models import exports, repo
from models.units import unit_by_code, unit_directory

log = logging.getLogger(__name__)

# Without a data directory (tests of the core alone) a private temporary folder is used.
FALLBACK_DIR = Path(tempfile.gettempdir()) / f"festival-exports-{os.getuid()}"
KEEP_SECONDS = 24 * 3600  # an export is fetched right away; older files are removed
KINDS = ("streamers", "enterprises", "reports")


def export(ctx: Ctx) -> list[Reply]:
    """/export streamers|enterprises|reports [UNIT_CODE]"""
    args = normalize(ctx.incoming.args).split()
    if not args or args[0].lower() not in KINDS or len(args) > 2:
        return [ctx.reply("export.usage")]
    kind = args[0].lower()
    unit_ids: list[int] | None = None
    if len(args) == 2:
        unit = unit_by_code(ctx.session, args[1].upper()[:20])
        if unit is None:
            return [ctx.reply("export.no_unit", code=args[1][:20])]
        unit_ids = exports.unit_with_children(ctx.session, unit.id)
    header, rows = {"streamers": _streamers, "enterprises": _enterprises, "reports": _reports}[
        kind
    ](ctx, unit_ids)
    try:
        path = _write(ctx, kind, header, rows)
    except OSError:  # no safe folder, a full disk: say so, the step stores nothing else
        log.exception("export %s could not be written", kind)
        return [ctx.reply("export.failed")]
    return [
        Reply(
            ctx.t("export.done", kind=ctx.t(f"export.kind.{kind}"), n=len(rows)),
            document_path=str(path),
        )
    ]


def _names(ctx: Ctx) -> dict[int, str]:
    return {u.id: u.full_name for u in unit_directory(ctx.session)}


# A sheet is the notice's columns: a few of its own around the form's stored fields, which
# come in the form's order, headed by their field's heading (or label), so a new field of a
# form is a new column without a line here.
def headings(
    ctx: Ctx, before: Sequence[str], fields: Sequence[Field], after: Sequence[str]
) -> list[str]:
    keys = [
        *(f"export.col.{c}" for c in before),
        *(field.heading or field.label for field in fields),
        *(f"export.col.{c}" for c in after),
    ]
    return [ctx.t(key) for key in keys]


def cells(ctx: Ctx, fields: Sequence[Field], row: object) -> list[Any]:
    return [cell_of(field, getattr(row, field.name), ctx) for field in fields]


def _streamers(ctx: Ctx, unit_ids: list[int] | None) -> tuple[list[str], list[list[Any]]]:
    header = headings(
        ctx,
        ("no", "account", "platform"),
        streamer.STORED,
        ("unit", "recommendation", "status", "reason", "id"),
    )
    units = _names(ctx)
    rows = []
    for n, s in enumerate(exports.streamers(ctx.session, unit_ids), start=1):
        accounts = repo.accounts_of(ctx.session, s.id)
        rows.append(
            [
                n,
                "、".join(a.account_name for a in accounts),
                "、".join(ctx.config.platform_label(a.platform) for a in accounts),
                *cells(ctx, streamer.STORED, s),
                units.get(s.unit_id, ""),
                ctx.t(f"review.rec.{s.recommendation}"),
                ctx.t(f"status.{s.status}"),
                s.reject_reason or "",
                s.id,
            ]
        )
    return header, rows


def _enterprises(ctx: Ctx, unit_ids: list[int] | None) -> tuple[list[str], list[list[Any]]]:
    """One row per product, the enterprise's columns repeated, as the form has it."""
    fields = (*enterprise.STORED, *enterprise.PRODUCT_STORED)
    header = headings(ctx, ("no",), fields, ("unit", "status", "reason", "id"))
    units = _names(ctx)
    rows = [
        [
            n,
            *cells(ctx, enterprise.STORED, e),
            *cells(ctx, enterprise.PRODUCT_STORED, p),
            units.get(e.unit_id, ""),
            ctx.t(f"status.{p.status}"),
            p.reject_reason or "",
            p.id,
        ]
        for n, (e, p) in enumerate(exports.enterprise_products(ctx.session, unit_ids), start=1)
    ]
    return header, rows


def _reports(ctx: Ctx, unit_ids: list[int] | None) -> tuple[list[str], list[list[Any]]]:
    header = headings(
        ctx,
        ("date", "account", "platform", "unit"),
        report.STORED,
        ("rejected", "reason", "revision", "streamer_id"),
    )
    units = _names(ctx)
    yes, no = ctx.t("export.yes"), ctx.t("export.no")
    rows = [
        [
            r.report_date,
            a.account_name,
            ctx.config.platform_label(a.platform),
            units.get(unit_id, ""),
            *cells(ctx, report.STORED, r),
            yes if r.rejected else no,
            r.reject_reason or "",
            r.revision,
            r.streamer_id,
        ]
        for r, a, unit_id in exports.reports(ctx.session, unit_ids)
    ]
    return header, rows


def export_dir(ctx: Ctx) -> Path:
    """The exports' folder: the bot's data directory, only the bot's user may enter it (the
    files hold phone numbers); refused if it is someone else's or a symlink (a shared /tmp)."""
    folder = ctx.files_dir / "exports" if ctx.files_dir is not None else FALLBACK_DIR
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.lstat()
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.getuid():
        raise PermissionError(f"{folder} is not the bot's own folder")
    if info.st_mode & 0o077:
        folder.chmod(0o700)
    return folder


def _write(ctx: Ctx, kind: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    folder = export_dir(ctx)
    for old in folder.glob("*.xlsx"):
        if time.time() - old.stat().st_mtime > KEEP_SECONDS:
            old.unlink(missing_ok=True)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = ctx.t(f"export.kind.{kind}")[:31]
    sheet.append([ctx.t("export.generated", at=fmt_local(ctx.clock.now(), ctx.clock.tz))])
    sheet.append(list(header))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row))
    sheet.freeze_panes = "A3"
    stamp = ctx.clock.local_now().strftime("%Y%m%d-%H%M")
    # an unguessable name: the file holds phone numbers
    path = folder / f"{kind}-{stamp}-{secrets.token_hex(6)}.xlsx"
    # created 0600 before a byte is written (chmod after saving would leave a window)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as fh:
        book.save(fh)
    return path
