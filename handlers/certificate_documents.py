"""The certificates' values, as callers build them (from the award lists and the donation
ledger): the three kinds (award, participation, donation acknowledgement), who issues them,
their numbers and dates. handlers/certificate_pages.py lays them out, handlers/certificates.py
writes the files."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.config import FestivalConfig
from bot.core.i18n import translate

AwardKind = Literal["streamer", "unit", "enterprise"]
Category = Literal["award", "participation", "donation"]
DateStyle = Literal["numeric", "chinese"]
LOCALE = "zh_CN"


@dataclass(frozen=True)
class Issuer:
    """Who issues, when, under which seal: the same on every certificate of a run."""

    festival: str  # 点亮原产地·江西青年直播节
    year: int
    bodies: tuple[str, ...]  # 共青团江西省委, 点亮原产地组委会: one line each
    signatory: str | None
    date: dt.date
    date_style: DateStyle = "numeric"
    seal_image: Path | None = None  # None: the rehearsal placeholder mark
    donation_recipient: str = "江西希望工程（江西省青少年发展基金会）"


@dataclass(frozen=True)
class AwardCertificate:
    number: str
    issuer: Issuer
    winner: str  # a streamer's account, a unit's or an enterprise's name
    award: str  # 优秀主播奖·特等奖, 优秀组织奖, 爱心企业贡献奖
    kind: AwardKind
    title: str | None = None  # 江西青年电商扶贫大使

    @property
    def holder(self) -> str:
        return self.winner


@dataclass(frozen=True)
class ParticipationCertificate:
    number: str
    issuer: Issuer
    streamer: str
    unit: str  # the recommending unit

    @property
    def holder(self) -> str:
        return self.streamer


@dataclass(frozen=True)
class DonationAcknowledgement:
    """捐赠确认函: the payments the committee recorded. The official donation certificate is
    the foundation's; its number is printed when recorded."""

    number: str
    issuer: Issuer
    enterprise: str
    received_fen: int
    directed_fen: int = 0
    directed_project: str | None = None
    foundation_number: str | None = None

    def __post_init__(self) -> None:
        if self.received_fen <= 0:
            raise ValueError("a donation acknowledgement needs a received amount above zero")
        if not 0 <= self.directed_fen <= self.received_fen:
            raise ValueError("the directed part must be between 0 and the amount received")
        if self.directed_fen and not (self.directed_project or "").strip():
            raise ValueError("a directed part needs its project")

    @property
    def holder(self) -> str:
        return self.enterprise


Certificate = AwardCertificate | ParticipationCertificate | DonationAcknowledgement


class MissingGlyphs(ValueError):
    """A name has characters the certificate font cannot print (never printed as boxes)."""

    def __init__(self, number: str, characters: str) -> None:
        super().__init__(f"{number}: the font has no glyph for {characters!r}")
        self.characters = characters


def category(cert: Certificate) -> Category:
    if isinstance(cert, AwardCertificate):
        return "award"
    return "participation" if isinstance(cert, ParticipationCertificate) else "donation"


def issuer_from_config(cfg: FestivalConfig, today: dt.date) -> Issuer:
    """config.yaml's certificates: section; its date, or today (Beijing time) when null."""
    c = cfg.certificates
    return Issuer(
        festival=cfg.festival.name,
        year=cfg.festival.year,
        bodies=tuple(c.issuing_body),
        signatory=c.signatory,
        date=c.date or today,
        date_style=c.date_style,
        seal_image=c.seal_image,
        donation_recipient=c.donation_recipient,
    )


def certificate_number(cfg: FestivalConfig, kind: Category, serial: int) -> str:
    """DLYCD2020-RY-00001: number_format with the festival's year and the kind's code."""
    c = cfg.certificates
    code = getattr(c.number_codes, kind)
    return c.number_format.format(year=cfg.festival.year, code=code, serial=serial)


def file_stem(number: str) -> str:
    return re.sub(r"[^A-Za-z0-9_\-]", "_", number) or "certificate"


CHINESE_DIGITS = "〇一二三四五六七八九"


def _chinese(n: int) -> str:
    """1..31 in words as on a dated document: 十, 十二, 二十, 三十一."""
    tens, ones = divmod(n, 10)
    if not tens:
        return CHINESE_DIGITS[ones]
    return (
        (CHINESE_DIGITS[tens] if tens > 1 else "") + "十" + (CHINESE_DIGITS[ones] if ones else "")
    )


def t(key: str, **params: object) -> str:
    """The certificates' wording: Chinese documents, whatever the reader's chat language."""
    return translate(LOCALE, key, **params)


def format_date(date: dt.date, style: DateStyle) -> str:
    """numeric: 2020年12月10日 (GB/T 9704); chinese: 二〇二〇年十二月十日."""
    if style == "chinese":
        year = "".join(CHINESE_DIGITS[int(d)] for d in str(date.year))
        return f"{year}年{_chinese(date.month)}月{_chinese(date.day)}日"
    return translate(LOCALE, "cert.date_numeric", year=date.year, month=date.month, day=date.day)
