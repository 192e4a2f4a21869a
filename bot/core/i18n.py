"""Message catalogs (zh_CN first, en second) and the number formats users read."""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Iterable
from datetime import tzinfo
from decimal import Decimal
from functools import cache
from pathlib import Path

import yaml

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
# libyaml's loader when PyYAML was built with it: the catalogs are read in the first step that
# speaks (about 250 KB in two locales; the pure-Python loader took a tenth of a second)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
DEFAULT_LOCALE = "zh_CN"


def catalog_files(locale: str) -> list[Path]:
    """A locale's catalog is every YAML file in locales/<locale>/, one file per area of the
    bot (core, committee, telegram, board...), so that areas grow without editing one file."""
    return sorted((LOCALES_DIR / locale).glob("*.yaml"))


@cache
def _catalog(locale: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in catalog_files(locale):  # an unknown locale has none: falls back to zh_CN
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER) or {}
        for key, value in data.items():
            if str(key) in merged:
                raise ValueError(f"{path}: key {key} is already defined in another file")
            merged[str(key)] = str(value)
    return merged


def available_locales() -> list[str]:
    return sorted(p.name for p in LOCALES_DIR.iterdir() if p.is_dir() and catalog_files(p.name))


class _Formatter(string.Formatter):
    """str.format, and a count's word in the number it needs: "{n} {n:report|reports}" reads
    "1 report", "2 reports" (English needs it; a Chinese message simply has no such field)."""

    def format_field(self, value: object, format_spec: str) -> str:
        if "|" in format_spec:
            one, _, other = format_spec.partition("|")
            return one if str(value) == "1" else other
        return super().format_field(value, format_spec)


FORMATTER = _Formatter()


def fill(text: str, /, **params: object) -> str:
    """A catalog text with its parameters (raises as str.format does). Only a text with a
    count's word ("|" in a field) takes the Python formatter; the rest, nearly every message,
    str.format itself (a tenth of the cost, and every step formats several)."""
    if "|" in text:
        return FORMATTER.format(text, **params)
    return text.format(**params)


def translate(locale: str | None, key: str, **params: object) -> str:
    """The text for key in locale, falling back to zh_CN, then to the key itself."""
    text = _catalog(locale or DEFAULT_LOCALE).get(key)
    if text is None:
        text = _catalog(DEFAULT_LOCALE).get(key, key)
    if not params:
        return text
    try:
        return fill(text, **params)
    except (KeyError, IndexError, ValueError):
        return text


def fmt_list(items: Iterable[str], locale: str | None) -> str:
    """Names one after the other as the reader writes lists: 甲、乙 / A, B."""
    return translate(locale, "fmt.list_sep").join(items)


def fmt_typed(text: str, limit: int = 24) -> str:
    """Something the person typed (an id, a code), shown back whole, or its start with an
    ellipsis when it is longer than any real one could be: never silently cut."""
    return text if len(text) <= limit else text[:limit] + "…"


def fmt_int(value: int | Decimal) -> str:
    return f"{value:,}"


def fmt_yuan(fen: int) -> str:
    """Integer fen as yuan with separators: 1234560 -> '12,345.60', 1200000 -> '12,000'."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan:,}" if cents == 0 else f"{sign}{yuan:,}.{cents:02d}"


def fmt_minutes(minutes: int, locale: str | None) -> str:
    hours, mins = divmod(minutes, 60)
    if hours and mins:
        return translate(locale, "fmt.hours_minutes", h=hours, m=mins)
    if hours:
        return translate(locale, "fmt.hours", h=hours)
    return translate(locale, "fmt.minutes", m=mins)


def mask_phone(phone: str) -> str:
    """138****8000: enough for a person to recognise their own number, nothing more."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def fmt_local(at: dt.datetime, tz: tzinfo) -> str:
    """A stored UTC time as people read it: local (Asia/Shanghai) 'YYYY-MM-DD HH:MM'."""
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
