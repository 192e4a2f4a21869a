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
from sqlalchemy import select

from bot.core.context import Ctx
from bot.core.i18n import fmt_local
from bot.core.messages import Reply
from bot.core.parsers import normalize
from models import DailyReport, Enterprise, LiveAccount, Product, Streamer, Unit, repo

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
        unit = repo.unit_by_code(ctx.session, args[1].upper()[:20])
        if unit is None:
            return [ctx.reply("export.no_unit", code=args[1][:20])]
        children = ctx.session.scalars(select(Unit.id).where(Unit.parent_id == unit.id)).all()
        unit_ids = [unit.id, *children]
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
    return {u.id: repo.unit_full_name(ctx.session, u) for u in ctx.session.scalars(select(Unit))}


def _yuan(fen: int | None) -> float | str:
    # Spreadsheet cells hold numbers: yuan with two decimals (the stored value is exact fen).
    return "" if fen is None else round(fen / 100, 2)


def _streamers(ctx: Ctx, unit_ids: list[int] | None) -> tuple[list[str], list[list[Any]]]:
    header = [ctx.t(f"export.col.{c}") for c in STREAMER_COLUMNS]
    stmt = select(Streamer).order_by(Streamer.unit_id, Streamer.id)
    if unit_ids is not None:
        stmt = stmt.where(Streamer.unit_id.in_(unit_ids))
    units = _names(ctx)
    rows = []
    for n, s in enumerate(ctx.session.scalars(stmt), start=1):
        accounts = repo.accounts_of(ctx.session, s.id)
        rows.append(
            [
                n,
                "、".join(a.account_name for a in accounts),
                "、".join(ctx.config.platform_label(a.platform) for a in accounts),
                s.phone,
                s.followers,
                s.likes_received,
                s.tips_income,
                s.monthly_live_days,
                float(s.monthly_live_hours),
                s.cumulative_viewers,
                s.peak_concurrent,
                s.cumulative_orders,
                _yuan(s.cumulative_sales_fen),
                _yuan(s.avg_order_value_fen),
                _yuan(s.dou_plus_spend_fen),
                "" if s.conversion_rate is None else f"{s.conversion_rate}%",
                "、".join(map(str, s.categories)),
                units.get(s.unit_id, ""),
                ctx.t(f"review.rec.{s.recommendation}"),
                ctx.t(f"status.{s.status}"),
                s.reject_reason or "",
                s.id,
            ]
        )
    return header, rows


STREAMER_COLUMNS = (
    "no account platform phone followers likes tips live_days live_hours viewers peak orders "
    "sales avg_order dou_plus conversion categories unit recommendation status reason id"
).split()
ENTERPRISE_COLUMNS = (
    "no enterprise industry main_products contact mobile has_shop shop_type shop_link product "
    "priority monthly_orders monthly_turnover stock attachment unit status reason id"
).split()
REPORT_COLUMNS = (
    "date account platform unit gmv duration_minutes viewers likes orders evidence rejected "
    "reason revision streamer_id"
).split()


def _enterprises(ctx: Ctx, unit_ids: list[int] | None) -> tuple[list[str], list[list[Any]]]:
    """One row per product, the enterprise's columns repeated, as the form has it."""
    header = [ctx.t(f"export.col.{c}") for c in ENTERPRISE_COLUMNS]
    stmt = (
        select(Enterprise, Product)
        .join(Product, Product.enterprise_id == Enterprise.id)
        .order_by(Enterprise.unit_id, Enterprise.id, Product.id)
    )
    if unit_ids is not None:
        stmt = stmt.where(Enterprise.unit_id.in_(unit_ids))
    tags = {t.key: t.label for t in ctx.config.products.priority_tags}
    units = _names(ctx)
    yes, no = ctx.t("export.yes"), ctx.t("export.no")
    rows = []
    for n, (e, p) in enumerate(ctx.session.execute(stmt).tuples(), start=1):
        rows.append(
            [
                n,
                e.name,
                e.industry,
                e.main_products,
                e.contact_name,
                e.phone,
                yes if e.has_shop else no,
                e.shop_type or "",
                e.shop_link or "",
                p.name,
                tags.get(p.priority_tag or "", ""),
                p.monthly_orders,
                _yuan(p.monthly_turnover_fen),
                p.stock,
                yes if p.attachment_file_id else no,
                units.get(e.unit_id, ""),
                ctx.t(f"status.{p.status}"),
                p.reject_reason or "",
                p.id,
            ]
        )
    return header, rows


def _reports(ctx: Ctx, unit_ids: list[int] | None) -> tuple[list[str], list[list[Any]]]:
    header = [ctx.t(f"export.col.{c}") for c in REPORT_COLUMNS]
    stmt = (
        select(DailyReport, LiveAccount, Streamer.unit_id)
        .join(LiveAccount, LiveAccount.id == DailyReport.account_id)
        .join(Streamer, Streamer.id == DailyReport.streamer_id)
        .order_by(DailyReport.report_date, Streamer.unit_id, DailyReport.streamer_id)
    )
    if unit_ids is not None:
        stmt = stmt.where(Streamer.unit_id.in_(unit_ids))
    units = _names(ctx)
    yes, no = ctx.t("export.yes"), ctx.t("export.no")
    rows = [
        [
            r.report_date,
            a.account_name,
            ctx.config.platform_label(a.platform),
            units.get(unit_id, ""),
            _yuan(r.gmv_fen),
            r.duration_minutes,
            r.viewers,
            r.likes,
            r.orders,
            yes if r.evidence_file_id else no,
            yes if r.rejected else no,
            r.reject_reason or "",
            r.revision,
            r.streamer_id,
        ]
        for r, a, unit_id in ctx.session.execute(stmt).tuples()
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
