"""/reconcile (committee): figures that should agree, the differences above the threshold
(audit.reconcile_percent and audit.reconcile_yuan) listed biggest first: per enterprise, the
sales streamers reported for its products against its reported turnover; per streamer, the
reported GMV against the platform backend's, as typed in the top-N audit (/audit).
`/reconcile xlsx`: every row (listed or not) as a workbook, through the exports' machinery.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from bot.core.context import Ctx
from bot.core.i18n import fmt_int, fmt_yuan
from bot.core.messages import Reply
from bot.core.parsers import normalize
from handlers import export, xlsx
from handlers.audit import threshold
from models import reconciliation
from models.reconciliation import Row

log = logging.getLogger(__name__)

SHOWN = 30  # lines per section in the chat; the workbook has every row
XLSX_WORDS = ("xlsx", "excel", "表格")


def _signed_yuan(fen: int) -> str:
    return ("+" if fen > 0 else "") + fmt_yuan(fen)


def _percent(ctx: Ctx, value: Decimal | None) -> str:
    if value is None:
        return ctx.t("reconcile.no_percent")
    return f"{'+' if value > 0 else ''}{value}%"


def _threshold_text(ctx: Ctx) -> str:
    a = ctx.config.audit
    if a.reconcile_percent is not None and a.reconcile_yuan is not None:
        yuan = fmt_int(a.reconcile_yuan)
        return ctx.t("reconcile.threshold_both", percent=a.reconcile_percent, yuan=yuan)
    if a.reconcile_percent is not None:
        return ctx.t("reconcile.threshold_percent", percent=a.reconcile_percent)
    return ctx.t("reconcile.threshold_yuan", yuan=fmt_int(a.reconcile_yuan or 0))


def reconcile(ctx: Ctx) -> list[Reply]:
    """/reconcile [xlsx]: the differences above the threshold, or the workbook of all rows."""
    arg = normalize(ctx.incoming.args).lower()
    if arg and arg not in XLSX_WORDS:
        return [ctx.reply("reconcile.usage")]
    cal, limit = ctx.config.calendar, threshold(ctx)
    ents = reconciliation.enterprises(ctx.session, cal.live_start, cal.live_end, limit)
    streamers = reconciliation.streamers(ctx.session, cal.live_start, cal.live_end, limit)
    if arg:
        return _workbook(ctx, ents.rows, streamers)
    lines = [ctx.t("reconcile.title"), _threshold_text(ctx), ""]
    listed = [r for r in ents.rows if r.listed]
    lines.append(ctx.t("reconcile.section_enterprises", n=len(listed), checked=len(ents.rows)))
    for place, r in enumerate(listed[:SHOWN], 1):
        lines.append(
            ctx.t(
                "reconcile.enterprise_line",
                place=place,
                name=r.name,
                id=r.subject_id,
                claimed=fmt_yuan(r.claimed_fen),
                status=ctx.t(f"turnover.status.{r.status}"),
                reference=fmt_yuan(r.reference_fen),
                diff=_signed_yuan(r.diff_fen),
                percent=_percent(ctx, r.percent),
            )
        )
    if not listed:
        lines.append(ctx.t("reconcile.none"))
    if ents.without_turnover:
        lines.append(ctx.t("reconcile.without_turnover", n=ents.without_turnover))
    first, lines = lines, []  # two messages: each section fits a chat message better
    listed = [r for r in streamers if r.listed]
    lines.append(ctx.t("reconcile.section_streamers", n=len(listed), checked=len(streamers)))
    for place, r in enumerate(listed[:SHOWN], 1):
        lines.append(
            ctx.t(
                "reconcile.streamer_line",
                place=place,
                account=r.name,
                id=r.subject_id,
                reports=r.reports,
                claimed=fmt_yuan(r.claimed_fen),
                reference=fmt_yuan(r.reference_fen),
                diff=_signed_yuan(r.diff_fen),
                percent=_percent(ctx, r.percent),
            )
        )
    if not listed:
        lines.append(ctx.t("reconcile.none"))
    if max(sum(1 for r in ents.rows if r.listed), len(listed)) > SHOWN:
        lines.append(ctx.t("reconcile.more_in_xlsx", n=SHOWN))
    lines.append(ctx.t("reconcile.hint"))
    return [Reply("\n".join(first)), Reply("\n".join(lines))]


def _workbook(ctx: Ctx, ents: list[Row], streamers: list[Row]) -> list[Reply]:
    yes, no = ctx.t("export.yes"), ctx.t("reconcile.col_no")

    def pct(r: Row) -> Any:
        return float(r.percent) if r.percent is not None else ""

    ent_sheet = xlsx.Sheet(
        ctx.t("reconcile.sheet_enterprises"),
        top=[[ctx.t("reconcile.title")], [_threshold_text(ctx)]],
        header=[
            ctx.t("reconcile.col_id"),
            ctx.t("reconcile.col_enterprise"),
            ctx.t("reconcile.col_claimed_sales"),
            ctx.t("reconcile.col_turnover"),
            ctx.t("reconcile.col_status"),
            ctx.t("reconcile.col_diff"),
            ctx.t("reconcile.col_percent"),
            ctx.t("reconcile.col_listed"),
        ],
        rows=[
            [
                r.subject_id,
                r.name,
                r.claimed_fen / 100,
                r.reference_fen / 100,
                ctx.t(f"turnover.status.{r.status}"),
                r.diff_fen / 100,
                pct(r),
                yes if r.listed else no,
            ]
            for r in ents
        ],
    )
    streamer_sheet = xlsx.Sheet(
        ctx.t("reconcile.sheet_streamers"),
        top=[[ctx.t("reconcile.title")], [_threshold_text(ctx)]],
        header=[
            ctx.t("reconcile.col_id"),
            ctx.t("reconcile.col_account"),
            ctx.t("reconcile.col_reports"),
            ctx.t("reconcile.col_reported_gmv"),
            ctx.t("reconcile.col_backend_gmv"),
            ctx.t("reconcile.col_diff"),
            ctx.t("reconcile.col_percent"),
            ctx.t("reconcile.col_listed"),
        ],
        rows=[
            [
                r.subject_id,
                r.name,
                r.reports,
                r.claimed_fen / 100,
                r.reference_fen / 100,
                r.diff_fen / 100,
                pct(r),
                yes if r.listed else no,
            ]
            for r in streamers
        ],
    )
    try:
        path = export.write_book(ctx, "reconcile", [ent_sheet, streamer_sheet])
    except OSError:  # no safe folder, a full disk: said, nothing else changes
        log.exception("reconcile workbook could not be written")
        return [ctx.reply("export.failed")]
    done = ctx.t(
        "reconcile.xlsx_done",
        enterprises=len(ents),
        streamers=len(streamers),
        listed=sum(1 for r in [*ents, *streamers] if r.listed),
    )
    return [Reply(done, document_path=str(path))]
