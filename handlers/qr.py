"""The QR posters in chat and in the calendar: `/unit qr` sends a unit's posters to its contact
(or the committee), the daily `wechat_qr` job renews temporary WeChat codes before they expire
and sends the new posters to the units' contacts, and `write_all` serves
`python -m bot posters OUTDIR`. Drawing and the codes themselves: handlers/posters.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.clock import Clock
from bot.core.context import Ctx
from bot.core.i18n import translate
from bot.core.messages import Reply
from handlers.jobs import JobCtx
from handlers.posters import WECHAT_QR, Poster, draw, unit_posters, wechat_code
from models import Unit, recipients
from models.posters import expiring
from models.units import active_units, unit_full_name

FOLDER = "posters"  # under the bot's data directory


def _when(config: FestivalConfig, at: dt.datetime) -> str:
    return at.astimezone(config.calendar.tz).strftime("%Y-%m-%d %H:%M")


def caption(config: FestivalConfig, locale: str, unit_name: str, poster: Poster) -> str:
    if poster.channel == "telegram":
        return translate(locale, "poster.caption_telegram", unit=unit_name, link=poster.link)
    if poster.expires_at is None:
        return translate(locale, "poster.caption_wechat_permanent", unit=unit_name)
    return translate(
        locale,
        "poster.caption_wechat",
        unit=unit_name,
        date=_when(config, poster.expires_at),
        days=config.wechat.qr_renew_days,
    )


def unit_qr(ctx: Ctx, targets: list[Unit]) -> list[Reply]:
    """/unit qr [CODE]: each unit's posters as pictures, with the link in the caption."""
    if ctx.files_dir is None:
        return [ctx.reply("poster.no_files")]
    replies: list[Reply] = []
    for unit in targets:
        posters, problems = unit_posters(
            ctx.session, ctx.config, ctx.clock, ctx.services, ctx.files_dir / FOLDER, unit,
            ctx.person_id,
        )  # fmt: skip
        name = unit_full_name(ctx.session, unit)
        for poster in posters:
            text = caption(ctx.config, ctx.locale, name, poster)
            replies.append(Reply(text, image_path=str(poster.path)))
        if problems:
            replies.append(ctx.reply("poster.wechat_failed", unit=name))
    return replies or [ctx.reply("poster.none")]


def prepare_wechat_qr(services: dict[str, Any]) -> None:
    """Before the job's transaction: WeChat's shared access token made fresh if it must be
    (its refresh writes in a transaction of its own; SQLite has one writer)."""
    maker = services.get(WECHAT_QR)
    if maker is not None:
        maker.prepare()


def renew_wechat_qr(jc: JobCtx) -> None:
    """Temporary WeChat codes expiring within wechat.qr_renew_days are made anew; each unit's
    contacts get the new poster (the old one works until its own expiry)."""
    maker = jc.services.get(WECHAT_QR)
    limits = jc.config.wechat
    if maker is None or limits.qr_permanent:
        return
    now = jc.clock.now()
    folder = jc.image_dir.parent / FOLDER  # image_dir is <data>/boards
    contacts: dict[int, list[int]] = {}
    for person_id, unit_id in recipients.unit_contacts(jc.session):
        contacts.setdefault(unit_id, []).append(person_id)
    for code in expiring(jc.session, now + dt.timedelta(days=limits.qr_renew_days)):
        unit = jc.session.get(Unit, code.unit_id)
        token = unit.rec_token if unit is not None and unit.active else None
        if token is None or code.scene != f"rec_{token}":
            continue  # a link replaced by /unit newlink: its code is not renewed
        assert unit is not None
        fresh = wechat_code(jc.session, jc.config, now, maker, unit, token, folder, renew=True)
        name = unit_full_name(jc.session, unit)
        assert fresh.image_path is not None
        path = draw(
            jc.config, name, "wechat", Image.open(fresh.image_path), fresh.expires_at, None,
            folder, unit.code,
        )  # fmt: skip
        poster = Poster(unit.code, "wechat", path, Path(fresh.image_path), fresh.url,
                        fresh.expires_at)  # fmt: skip
        for person_id in jc.preload(contacts.get(unit.id, [])):
            text = (
                translate(jc.locale_of(person_id), "poster.renewed", unit=name)
                + "\n"
                + caption(jc.config, jc.locale_of(person_id), name, poster)
            )
            jc.send_person(person_id, f":u{unit.id}", Reply(text, image_path=str(path)))


def write_all(
    session: Session,
    config: FestivalConfig,
    clock: Clock,
    services: dict[str, Any],
    folder: Path,
) -> tuple[list[Poster], list[tuple[str, str]]]:
    """Every active unit's posters into `folder` (the CLI); (unit code, problem) besides."""
    posters: list[Poster] = []
    problems: list[tuple[str, str]] = []
    for unit in active_units(session):
        made, failed = unit_posters(session, config, clock, services, folder, unit)
        posters += made
        problems += [(unit.code, p) for p in failed]
    return posters, problems
