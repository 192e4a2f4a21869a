"""Issuing the certificates from the festival's records: who gets which certificate (approved
streamers: participation; winners of the frozen award list: award; enterprises with payments
received: the donation acknowledgement), each with a number that stays with it when they are
issued again (models/awards.py `issued`), rendered by handlers/certificates.py.

`/certificates` (committee) issues them all and sends the ZIP; `/certificate` gives a person
their own (a streamer, an enterprise contact, a unit contact for the unit's award); `python -m
bot certificates OUTDIR` writes them all. One code path for the three.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.context import Ctx
from bot.core.i18n import fmt_list, translate
from bot.core.messages import Reply
from handlers import certificates as render
from models import (
    Enterprise,
    ReviewStatus,
    Streamer,
    Unit,
    award_lists,
    certificate_runs,
    ledger,
    repo,
)
from models import awards as award_rows
from models.exports import streamers as all_streamers
from models.units import unit_full_name

log = logging.getLogger(__name__)

CertKind = Literal["award", "participation", "donation"]


@dataclass(frozen=True)
class Planned:
    """A certificate to render, and who holds it (for a person's own /certificate)."""

    row_id: int
    subject_kind: str  # streamer | unit | enterprise
    subject_id: int
    document: render.Certificate


@dataclass(frozen=True)
class Holders:
    """Whose certificates: None for everybody's (the committee's set)."""

    streamers: frozenset[int] = frozenset()
    units: frozenset[int] = frozenset()
    enterprises: frozenset[int] = frozenset()


def plan(
    session: Session, config: FestivalConfig, now: dt.datetime, only: Holders | None = None
) -> list[Planned]:
    """Every certificate the records give today (or only these holders'), numbered (new
    numbers are stored)."""

    def wanted(kind: str, subject_id: int) -> bool:
        if only is None:
            return True
        chosen = {"streamer": only.streamers, "unit": only.units, "enterprise": only.enterprises}
        return subject_id in chosen[kind]

    today = now.astimezone(config.calendar.tz).date()
    issuer = render.issuer_from_config(config, today)
    planned: list[Planned] = []

    def numbered(
        kind: CertKind, subject_kind: str, subject_id: int, version: int
    ) -> tuple[int, str]:
        def number_of(serial: int) -> str:
            return render.certificate_number(config, kind, serial)

        row = award_rows.issued(session, kind, subject_kind, subject_id, version, number_of, now)
        return row.id, row.number

    units: dict[int, str] = {}

    def unit_name(unit_id: int) -> str:
        if unit_id not in units:
            unit = session.get(Unit, unit_id)
            units[unit_id] = unit_full_name(session, unit) if unit else ""
        return units[unit_id]

    names: dict[int, str] = {}
    approved = (
        all_streamers(session, None)
        if only is None
        else [s for sid in only.streamers if (s := session.get(Streamer, sid)) is not None]
    )
    for s in approved:
        if s.status != ReviewStatus.APPROVED:
            continue
        names[s.id] = holder_of_streamer(session, config, s)
        row_id, number = numbered("participation", "streamer", s.id, 0)
        document = render.ParticipationCertificate(
            number, issuer, names[s.id], unit_name(s.unit_id)
        )
        planned.append(Planned(row_id, "streamer", s.id, document))
    current = award_lists.current_list(session)
    if current is not None:
        for entry in award_lists.winners(session, current.id):
            kind = {"organisation": "unit"}.get(entry.kind, entry.kind)
            if not wanted(kind, entry.subject_id):
                continue
            winner = winner_name(session, config, entry.kind, entry.subject_id, names)
            if winner is None:
                continue
            award = award_label(config, entry.kind, entry.tier)
            title = config.certificates.ambassador_title if entry.ambassador else None
            row_id, number = numbered("award", kind, entry.subject_id, current.version)
            prize = render.AwardCertificate(number, issuer, winner, award, kind, title)  # type: ignore[arg-type]
            planned.append(Planned(row_id, kind, entry.subject_id, prize))
    received = ledger.received_by_enterprise(
        session, None if only is None else list(only.enterprises)
    )
    for enterprise_id, fen in sorted(received.items()):
        enterprise = session.get(Enterprise, enterprise_id)
        if enterprise is None or fen <= 0:
            continue
        direction = ledger.direction_of(session, enterprise_id)
        directed = min(direction.amount_fen, fen) if direction is not None else 0
        numbers = ledger.certificates_by_enterprise(session, [enterprise_id]).get(enterprise_id)
        row_id, number = numbered("donation", "enterprise", enterprise_id, 0)
        project = direction.project if direction is not None and directed else None
        thanks = render.DonationAcknowledgement(
            number,
            issuer,
            enterprise.name,
            fen,
            directed,
            project,
            fmt_list(numbers, config.locale.default) if numbers else None,
        )
        planned.append(Planned(row_id, "enterprise", enterprise_id, thanks))
    return planned


def holder_of_streamer(session: Session, config: FestivalConfig, s: Streamer) -> str:
    """A streamer is known to the festival by their accounts (附件2 has no personal name),
    listed as the certificates' language lists names."""
    accounts = repo.accounts_of(session, s.id)
    return fmt_list((a.account_name for a in accounts), config.locale.default)


def winner_name(
    session: Session, config: FestivalConfig, kind: str, subject_id: int, names: dict[int, str]
) -> str | None:
    if kind == "streamer":
        if subject_id not in names:
            s = session.get(Streamer, subject_id)
            if s is None:
                return None
            names[subject_id] = holder_of_streamer(session, config, s)
        return names[subject_id]
    if kind == "organisation":
        unit = session.get(Unit, subject_id)
        return unit_full_name(session, unit) if unit else None
    enterprise = session.get(Enterprise, subject_id)
    return enterprise.name if enterprise else None


def award_label(config: FestivalConfig, kind: str, tier: str) -> str:
    """优秀主播奖·特等奖, 优秀组织奖, 爱心企业贡献奖: the award's name, its tier as config labels
    it in the certificates' language (the festival's default locale: one document for all)."""
    locale = config.locale.default
    if kind == "streamer":
        labels = {a.key: a.label_in(locale) for a in config.awards.streamer}
        return translate(locale, "cert.name_streamer", tier=labels.get(tier, tier))
    if kind == "organisation":
        return translate(locale, "cert.name_organisation")
    labels = {a.key: a.label_in(locale) for a in config.awards.enterprise}
    return translate(locale, "cert.name_enterprise", tier=labels.get(tier, tier))


def write_all(
    session: Session, config: FestivalConfig, outdir: Path, now: dt.datetime, processes: int = 1
) -> tuple[list[render.RenderedCertificate], list[render.Failure], Path | None]:
    """Every certificate rendered into outdir (the paths stored with their numbers) and one
    ZIP of them; failures (a name the font cannot draw) are listed, the rest are written."""
    planned = plan(session, config, now)
    return write_planned(session, config, planned, outdir, now, processes)


def write_planned(
    session: Session,
    config: FestivalConfig,
    planned: list[Planned],
    outdir: Path,
    now: dt.datetime,
    processes: int = 1,
    archive: bool = True,
) -> tuple[list[render.RenderedCertificate], list[render.Failure], Path | None]:
    if not planned:
        return [], [], None
    batch = render.render_many(
        [p.document for p in planned], outdir, render.png_options(config), processes=processes
    )
    by_number = {r.number: r for r in batch.rendered}
    for p in planned:
        done = by_number.get(p.document.number)
        row = session.get(award_rows.Certificate, p.row_id)
        if done is not None and row is not None:
            row.pdf_path, row.png_path = str(done.pdf), str(done.png)
    if not archive or not batch.rendered:
        return batch.rendered, batch.failed, None
    stamp = now.astimezone(config.calendar.tz).strftime("%Y%m%d-%H%M%S")
    zipped = render.zip_certificates(batch.rendered, outdir / f"certificates-{stamp}.zip")
    return batch.rendered, batch.failed, zipped


# ----- chat ---------------------------------------------------------------------------------
def certificates(ctx: Ctx) -> list[Reply]:
    """/certificates (committee): every certificate issued now, as one ZIP; a set larger
    than certificates.chat_limit is drawn in the background (handlers/certificate_batches.py:
    minutes of rendering must not hold a chat step), and while it is, /certificates tells how
    far it is."""
    from handlers import certificate_batches as batches  # it draws with plan() from here

    if ctx.files_dir is None:
        return [ctx.reply("cert.no_folder")]
    running = certificate_runs.open_run(ctx.session)
    if running is not None:
        return batches.status(ctx, running)
    now = ctx.clock.now()
    planned = plan(ctx.session, ctx.config, now)
    if not planned:
        return [ctx.reply("cert.nothing")]
    if len(planned) > ctx.config.certificates.chat_limit:
        return batches.start(ctx, planned)
    try:
        rendered, failed, archive = _render(ctx, planned, now)
    except OSError:
        log.exception("certificates could not be written")
        return [ctx.reply("cert.failed")]
    lines = [ctx.t("cert.issued", n=len(rendered))]
    lines += [ctx.t("cert.not_drawn", number=f.number, holder=f.holder) for f in failed]
    return [Reply("\n".join(lines), document_path=str(archive) if archive else None)]


def my_certificates(ctx: Ctx) -> list[Reply]:
    """/certificate: the person's own certificates (a streamer's, an enterprise's, a unit
    contact's unit's award), each as a picture and as a PDF."""
    if ctx.files_dir is None:
        return [ctx.reply("cert.no_folder")]
    streamer = repo.streamer_of_person(ctx.session, ctx.person_id)
    enterprise = repo.enterprise_of_person(ctx.session, ctx.person_id)
    holders = Holders(
        streamers=frozenset({streamer.id} if streamer else ()),
        units=frozenset(ctx.scope.own_units),
        enterprises=frozenset({enterprise.id} if enterprise else ()),
    )
    now = ctx.clock.now()
    planned = plan(ctx.session, ctx.config, now, holders)
    if not planned:
        return [ctx.reply("cert.none_yours")]
    try:
        rendered, failed, _ = _render(ctx, planned, now, archive=False)
    except OSError:
        log.exception("certificates could not be written")
        return [ctx.reply("cert.failed")]
    replies: list[Reply] = []
    for doc in rendered:
        replies.append(Reply(ctx.t("cert.yours", number=doc.number), image_path=str(doc.png)))
        replies.append(Reply(ctx.t("cert.pdf", number=doc.number), document_path=str(doc.pdf)))
    replies += [ctx.reply("cert.not_drawn", number=f.number, holder=f.holder) for f in failed]
    return replies


def _render(
    ctx: Ctx, planned: list[Planned], now: dt.datetime, archive: bool = True
) -> tuple[list[render.RenderedCertificate], list[render.Failure], Path | None]:
    assert ctx.files_dir is not None
    outdir = ctx.files_dir / ctx.config.certificates.folder
    return write_planned(ctx.session, ctx.config, planned, outdir, now, archive=archive)
