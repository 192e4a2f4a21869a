"""QR posters of the units' recommendation links, ready to print: the link as a QR code with the
unit's name and the festival's name around it (`/unit qr`, `python -m bot posters OUTDIR`).

* Telegram: the deep link https://t.me/<bot>?start=rec_TOKEN, drawn by segno.
* WeChat: a parametric QR code of the Official Account (scene rec_TOKEN), made through its API
  by the maker the app hands us (ctx.services["wechat_qr"]: handlers never import a channel),
  the picture WeChat draws kept on our disk. Permanent when config.yaml says the account may
  (wechat.qr_permanent: verified service accounts); otherwise temporary, its expiry printed on
  the poster, renewed by the daily `wechat_qr` job `wechat.qr_renew_days` before it expires,
  the new poster sent to the unit's contacts.

A scan leads to /start rec_TOKEN, the unit's recommendation (handlers/menu.py `start`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import segno
from PIL import Image, ImageDraw
from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.clock import Clock
from bot.core.i18n import translate
from handlers.board_image import font
from models import Unit, repo
from models.posters import WeChatQrCode, qr_of_unit
from models.units import unit_full_name

log = logging.getLogger(__name__)

TELEGRAM_USERNAME = "telegram_username"  # services: the bot's @username (t.me links)
WECHAT_QR = "wechat_qr"  # services: the Official Account's QR code maker

# A4 at 150 dpi: prints sharp, small enough to send as a chat picture
WIDTH, HEIGHT, QR_SIZE = 1240, 1754, 820
PAPER, ACCENT, INK, MUTED = "#fff8ee", "#c0392b", "#2b1b0e", "#7a6a5a"


class QrMaker(Protocol):
    """What the WeChat channel offers (bot/channels/wechat/qrcodes.py)."""

    def prepare(self) -> None: ...
    def create(self, scene: str, expire_seconds: int | None) -> dict[str, Any]: ...
    def image(self, ticket: str) -> bytes: ...


@dataclass(frozen=True)
class Poster:
    unit_code: str
    channel: str  # telegram | wechat
    path: Path  # the poster
    qr_path: Path  # the bare code
    link: str  # what a scan opens: the t.me link, or WeChat's code URL
    expires_at: dt.datetime | None = None  # a temporary WeChat code


def telegram_link(username: str, token: str) -> str:
    return f"https://t.me/{username.lstrip('@')}?start=rec_{token}"


# ----- the codes ----------------------------------------------------------------------------
def qr_image(data: str) -> Image.Image:
    """The QR code of `data` (error correction M, the standard quiet zone), black on white."""
    buf = io.BytesIO()
    segno.make(data, error="m", micro=False).save(buf, kind="png", scale=10, border=4)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


def wechat_code(
    session: Session,
    config: FestivalConfig,
    now: dt.datetime,
    maker: QrMaker,
    unit: Unit,
    token: str,
    folder: Path,
    renew: bool = False,
) -> WeChatQrCode:
    """The unit's current WeChat code for its link secret `token`: the stored one while it is
    for that link, of the kind config asks, and not about to expire (unless `renew`); else a
    new one from WeChat.

    WeChat is asked before this step writes anything: on SQLite a step holds the one write
    lock from its first write, and the shared access token may need refreshing in a
    transaction of its own (models/wechat.py). The scheduler prepares it before its job's
    transaction (handlers/calendar.py)."""
    scene = f"rec_{token}"
    limits = config.wechat
    code = qr_of_unit(session, unit.id)
    soon = now + dt.timedelta(days=limits.qr_renew_days)
    usable = (
        code is not None
        and not renew
        and code.scene == scene
        and code.permanent == limits.qr_permanent
        and (code.permanent or (code.expires_at is not None and code.expires_at > soon))
        and code.image_path is not None
        and Path(code.image_path).is_file()
    )
    if usable:
        assert code is not None
        return code
    maker.prepare()
    made = maker.create(scene, None if limits.qr_permanent else limits.qr_days * 86400)
    picture = Image.open(io.BytesIO(maker.image(made["ticket"]))).convert("RGB")
    digest = hashlib.sha1(made["ticket"].encode()).hexdigest()[:12]
    path = _save(picture, folder / "wechat" / f"{unit.code}-{digest}.png")
    seconds = made.get("expire_seconds")
    expires = now + dt.timedelta(seconds=seconds) if seconds else None
    if code is None:
        code = WeChatQrCode(unit_id=unit.id, created_at=now)
        session.add(code)
    elif code.image_path and code.image_path != str(path):
        Path(code.image_path).unlink(missing_ok=True)
    code.scene, code.ticket, code.url = scene, made["ticket"], made["url"]
    code.permanent, code.expires_at = expires is None, expires
    code.image_path, code.created_at = str(path), now
    session.flush()
    repo.audit(
        session, now, None, "wechat_qr", "unit", unit.id,
        after={"permanent": code.permanent, "expires_at": str(expires) if expires else None},
    )  # fmt: skip
    return code


# ----- the posters --------------------------------------------------------------------------
def unit_posters(
    session: Session,
    config: FestivalConfig,
    clock: Clock,
    services: dict[str, Any],
    folder: Path,
    unit: Unit,
    actor: int | None = None,
) -> tuple[list[Poster], list[str]]:
    """The unit's posters for every channel this process knows how to link to, and what went
    wrong (WeChat's API refusing: the Telegram poster still comes)."""
    now = clock.now()
    # the link secret is stored after WeChat's calls (see wechat_code)
    token = unit.rec_token or secrets.token_hex(8)
    name = unit_full_name(session, unit)
    posters: list[Poster] = []
    problems: list[str] = []
    maker = services.get(WECHAT_QR)
    if maker is not None:
        try:
            with session.no_autoflush:
                code = wechat_code(session, config, now, maker, unit, token, folder)
        except Exception as exc:  # WeChat refused or is down: say so, the rest goes on
            log.warning("WeChat QR code of %s failed: %s", unit.code, exc)
            problems.append(f"{type(exc).__name__}: {exc}"[:200])
        else:
            assert code.image_path is not None
            qr = Image.open(code.image_path)
            path = draw(config, name, "wechat", qr, code.expires_at, None, folder, unit.code)
            posters.append(
                Poster(unit.code, "wechat", path, Path(code.image_path), code.url, code.expires_at)
            )
    if unit.rec_token is None:
        unit.rec_token = token
        repo.audit(session, now, actor, "rec_link", "unit", unit.id)
    username = services.get(TELEGRAM_USERNAME)
    if username:
        link = telegram_link(username, token)
        qr_path = _save(qr_image(link), folder / f"{unit.code}-telegram-qr.png")
        path = draw(config, name, "telegram", Image.open(qr_path), None, link, folder, unit.code)
        posters.insert(0, Poster(unit.code, "telegram", path, qr_path, link))
    return posters, problems


def draw(
    config: FestivalConfig,
    unit_name: str,
    channel: str,
    qr: Image.Image,
    expires_at: dt.datetime | None,
    link: str | None,
    folder: Path,
    unit_code: str,
) -> Path:
    """The printable poster: the festival, 主播报名, the unit, the code, how to scan it, and
    a temporary code's last day. In the festival's default language (it is printed)."""
    locale = config.locale.default

    def t(key: str, **params: object) -> str:
        return translate(locale, key, **params)

    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    pen = ImageDraw.Draw(image)
    pen.rectangle((0, 0, WIDTH, 230), fill=ACCENT)
    _centre(pen, config.festival.name, 70, 60, PAPER)
    _centre(pen, config.festival.name_en, 160, 28, PAPER)
    _centre(pen, t("poster.title"), 290, 84, ACCENT)
    _centre(pen, t("poster.unit", unit=unit_name), 410, 44, INK)
    box = qr.convert("RGB").resize((QR_SIZE, QR_SIZE), Image.Resampling.NEAREST)
    top = 500
    image.paste(box, ((WIDTH - QR_SIZE) // 2, top))
    y = top + QR_SIZE + 50
    _centre(pen, t(f"poster.scan_{channel}"), y, 40, INK)
    y += 70
    _centre(pen, t("poster.recommended"), y, 32, MUTED)
    if link:
        y += 60
        _centre(pen, link, y, 28, MUTED)
    if expires_at is not None:
        y += 60
        day = expires_at.astimezone(config.calendar.tz).strftime("%Y-%m-%d %H:%M")
        _centre(pen, t("poster.expires", date=day), y, 34, ACCENT)
    _centre(pen, config.festival.topic_tag, HEIGHT - 90, 36, ACCENT)
    return _save(image, folder / f"{unit_code}-{channel}.png")


def _centre(pen: ImageDraw.ImageDraw, text: str, y: int, size: int, fill: str) -> None:
    f = font(size)
    while size > 16 and pen.textlength(text, font=f) > WIDTH - 80:
        size -= 2
        f = font(size)
    pen.text(((WIDTH - pen.textlength(text, font=f)) / 2, y), text, font=f, fill=fill)


def _save(image: Image.Image, path: Path) -> Path:
    """Written beside and renamed into place: a reader never sees half a picture."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".draw-", suffix=".png")
    try:
        with os.fdopen(fd, "wb") as fh:
            image.save(fh, "PNG", compress_level=1)  # fast: a poster is drawn on request
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
