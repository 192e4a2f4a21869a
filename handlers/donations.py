"""The donation ledger as it is read in the chat: an enterprise's statement (due, directed,
received, outstanding; also in /me and after each change), `/donations` (committee: every
enterprise, sortable, paged or as a spreadsheet; an enterprise contact: its own statement) and
the streamer's informational revenue share (`/share`). `python -m bot donations` prints
`ledger_lines`, the same code. What changes the ledger: `/direct` (handlers/direct.py),
`/payment` and `/donation_cert` (handlers/payments.py), `/turnover` (handlers/turnover.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.config import FestivalConfig
from bot.core.context import Ctx
from bot.core.i18n import fmt_list, fmt_local, fmt_yuan, translate
from bot.core.messages import Reply
from bot.core.parsers import normalize
from handlers import export, money, xlsx
from models import StreamerTotal, ledger, repo
from models.donation_rules import DonationRules, streamer_share_fen
from models.ledger import LedgerRow

log = logging.getLogger(__name__)

SORTS: dict[str, Callable[[LedgerRow], Any]] = {
    "name": lambda r: (r.name, r.enterprise_id),
    "due": lambda r: (-r.due_fen, r.enterprise_id),
    "received": lambda r: (-r.received_fen, r.enterprise_id),
    "outstanding": lambda r: (-r.outstanding_fen, r.enterprise_id),
}


def rows_of(session: Any, config: FestivalConfig, ids: list[int] | None = None) -> list[LedgerRow]:
    cal = config.calendar
    return ledger.ledger(session, DonationRules.of(config), cal.live_start, cal.live_end, ids)


def row_of(ctx: Ctx, enterprise_id: int) -> LedgerRow | None:
    found = rows_of(ctx.session, ctx.config, [enterprise_id])
    return found[0] if found else None


# ----- statements ------------------------------------------------------------------------------
def statement_text(locale: str | None, row: LedgerRow) -> str:
    """An enterprise's statement: turnover, due, directed, received, outstanding."""

    def t(key: str, **params: object) -> str:
        return translate(locale, key, **params)

    lines = [t("donations.statement_title", name=row.name, id=row.enterprise_id)]
    if row.turnover_status is None:
        lines.append(t("donations.no_turnover"))
    else:
        lines.append(
            t(
                "donations.turnover_line",
                amount=fmt_yuan(row.turnover_fen or 0),
                status=t(f"turnover.status.{row.turnover_status}"),
            )
        )
    if row.confirmed:
        s = row.statement
        lines.append(t("donations.due_line", due=fmt_yuan(s.due_fen)))
        if row.directed_max_fen > 0:
            project = row.project or t("donations.no_project")
            lines.append(
                t(
                    "donations.directed_line",
                    directed=fmt_yuan(s.directed_fen),
                    max=fmt_yuan(row.directed_max_fen),
                    project=project,
                )
            )
        lines.append(t("donations.received_line", received=fmt_yuan(s.received_fen)))
        lines.append(t("donations.outstanding_line", outstanding=fmt_yuan(s.outstanding_fen)))
        if s.overpaid_fen:
            lines.append(t("donations.overpaid_line", overpaid=fmt_yuan(s.overpaid_fen)))
    elif row.received_fen:
        lines.append(t("donations.received_line", received=fmt_yuan(row.received_fen)))
    if row.certificates:
        numbers = fmt_list(row.certificates, locale)
        lines.append(t("donations.certificates_line", numbers=numbers))
    return "\n".join(lines)


def ledger_line(locale: str | None, row: LedgerRow) -> str:
    status = (
        translate(locale, f"turnover.status.{row.turnover_status}")
        if row.turnover_status
        else translate(locale, "donations.no_turnover_short")
    )
    return translate(
        locale,
        "donations.ledger_line",
        id=row.enterprise_id,
        name=row.name,
        status=status,
        due=fmt_yuan(row.due_fen),
        directed=fmt_yuan(row.directed_fen),
        received=fmt_yuan(row.received_fen),
        outstanding=fmt_yuan(row.outstanding_fen),
    )


def ledger_lines(
    session: Any, config: FestivalConfig, locale: str | None, sort: str = "name"
) -> list[str]:
    """The whole ledger as text lines: a title with the totals, one line per enterprise
    (the chat's /donations pages and `python -m bot donations`)."""
    rows = sorted(rows_of(session, config), key=SORTS[sort])
    lines = [_totals_line(locale, rows)]
    lines += [ledger_line(locale, r) for r in rows]
    return lines


def _totals_line(locale: str | None, rows: list[LedgerRow]) -> str:
    return translate(
        locale,
        "donations.ledger_title",
        n=len(rows),
        due=fmt_yuan(sum(r.due_fen for r in rows)),
        received=fmt_yuan(sum(r.received_fen for r in rows)),
        outstanding=fmt_yuan(sum(r.outstanding_fen for r in rows)),
    )


def tell_statement(ctx: Ctx, row: LedgerRow, key: str, lead: str, **params: object) -> None:
    """The statement to the enterprise's contact, through the outbox, in their language."""
    from models import Person

    person = ctx.session.get(Person, row.person_id)
    locale = (person.locale if person else None) or ctx.config.locale.default
    text = translate(locale, lead, **params) + "\n" + statement_text(locale, row)
    ctx.outbox.to_person(row.person_id, key, Reply(text))


# ----- /donations ---------------------------------------------------------------------------
def donations(ctx: Ctx) -> list[Reply]:
    """/donations [name|due|received|outstanding] [PAGE] | export: the committee's ledger; an
    enterprise contact's own statement."""
    if not ctx.is_admin:
        ent = repo.enterprise_of_person(ctx.session, ctx.person_id)
        if ent is None:
            return [ctx.reply("donations.not_enterprise")]
        row = row_of(ctx, ent.id)
        assert row is not None
        return [Reply(statement_text(ctx.locale, row))]
    args = normalize(ctx.incoming.args).lower().split()
    if args[:1] == ["export"]:
        return _export(ctx)
    sort = args[0] if args and args[0] in SORTS else "name"
    pages = [a for a in args if a.isdigit() and len(a) < 6]
    if len(args) > 2 or (args and args[0] not in SORTS and not pages):
        return [ctx.reply("donations.usage")]
    rows = sorted(rows_of(ctx.session, ctx.config), key=SORTS[sort])
    if not rows:
        return [ctx.reply("donations.none")]
    size = ctx.config.committee.review_page_size
    total_pages = -(-len(rows) // size)
    page = min(max(int(pages[0]) if pages else 1, 1), total_pages)
    lines = [_totals_line(ctx.locale, rows)]
    lines += [ledger_line(ctx.locale, r) for r in rows[(page - 1) * size : page * size]]
    lines.append(
        ctx.t("donations.page", page=page, pages=total_pages, sort=ctx.t(f"donations.sort.{sort}"))
    )
    nav = []
    if page > 1:
        nav.append(ctx.button("btn.prev_page", f"cmd:donations {sort} {page - 1}"))
    if page < total_pages:
        nav.append(ctx.button("btn.next_page", f"cmd:donations {sort} {page + 1}"))
    return [Reply("\n".join(lines), (tuple(nav),) if nav else (), numbered=True)]


def _export(ctx: Ctx) -> list[Reply]:
    keys = (
        *("id", "name", "status", "turnover", "sales", "due", "directed_max", "directed"),
        *("project", "received", "outstanding", "certificates"),
    )
    header = [ctx.t(f"donations.col.{k}") for k in keys]
    rows = []
    for r in rows_of(ctx.session, ctx.config):
        status = ctx.t(f"turnover.status.{r.turnover_status}") if r.turnover_status else ""
        rows.append(
            [
                r.enterprise_id,
                r.name,
                status,
                "" if r.turnover_fen is None else r.turnover_fen / 100,
                r.reported_sales_fen / 100,
                r.due_fen / 100,
                r.directed_max_fen / 100,
                r.directed_fen / 100,
                r.project or "",
                r.received_fen / 100,
                r.outstanding_fen / 100,
                "、".join(r.certificates),
            ]
        )
    try:
        generated = ctx.t("export.generated", at=fmt_local(ctx.clock.now(), ctx.clock.tz))
        sheet = xlsx.Sheet(ctx.t("donations.sheet"), top=[[generated]], header=header, rows=rows)
        path = export.write_book(ctx, "donations", [sheet])
    except OSError:
        log.exception("the donation ledger could not be written")
        return [ctx.reply("export.failed")]
    return [Reply(ctx.t("donations.exported", n=len(rows)), document_path=str(path))]


# ----- /share (streamer) --------------------------------------------------------------------
def share_text(ctx: Ctx) -> str | None:
    """The streamer's informational 20% of the GMV they reported (counted reports); None if
    the person is no streamer."""
    sid = repo.streamer_id_of_person(ctx.session, ctx.person_id)
    if sid is None:
        return None
    total = ctx.session.get(StreamerTotal, sid)
    gmv = total.gmv_fen if total else 0
    rate = ctx.config.revenue.streamer_commission_rate
    return ctx.t(
        "share.statement",
        gmv=fmt_yuan(gmv),
        rate=money.percent(rate),
        share=fmt_yuan(streamer_share_fen(gmv, rate)),
    )


def share(ctx: Ctx) -> list[Reply]:
    """/share: the streamer's revenue share statement (information only)."""
    text = share_text(ctx)
    if text is None:
        return [ctx.reply("share.not_streamer"), Reply(money.streamer_rule(ctx.locale, ctx.config))]
    return [Reply(text)]
