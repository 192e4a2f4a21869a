"""Parsers for values typed by people on a phone in Chinese chat.

Every parser takes raw text and returns a value or raises ``ParseError`` whose ``key`` is a
message-catalog key (``err.*``) and whose ``params`` fill the message placeholders.

Longer than 300 lines on purpose: the parsers share one normalisation (full-width digits,
万/千, Chinese numerals, separators), and each is a few lines on top of it.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from functools import lru_cache
from urllib.parse import urlsplit

import phonenumbers


class ParseError(ValueError):
    """Invalid user input; ``key`` is a message-catalog key, ``params`` its placeholders."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params: dict[str, object] = dict(params)


_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\ufeff")
_DROPPED = frozenset({"Cc", "Cf"})
_MAX_VALUE_LEN = 50  # longest input accepted by the number/date/duration parsers

_CN_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3,
    "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
# Multipliers from largest to smallest; 亿 and 万 may multiply a compound head ("3千万").
_UNITS = (("亿", 10**8), ("万", 10**4), ("千", 1000), ("百", 100), ("十", 10))
# The units a number may be typed with, by what the question asks for. A unit of another kind
# means the answer is to another question (3小时 as a count of likes, 100块 as hours, 3.5% as a
# sum of money): it is refused with the reason, never read as the bare number.
COUNT_UNITS = ("人次", "人", "次", "个", "单", "位", "件", "条", "笔")
MONEY_UNITS = ("人民币", "块钱", "yuan", "rmb", "元", "块")
DAY_UNITS = ("天", "日")
HOUR_UNITS = ("小时", "钟头", "hours", "hour", "hrs", "hr", "h")
PERCENT_UNITS = ("%",)
_ALL_UNITS = tuple(
    sorted({*COUNT_UNITS, *MONEY_UNITS, *DAY_UNITS, *HOUR_UNITS, *PERCENT_UNITS, "分钟", "分"},
           key=len, reverse=True)
)  # fmt: skip
# The same units by their last character, longest first: a number is compared only with the
# units it could end with (every typed number is checked for a unit).
_UNITS_ENDING: dict[str, tuple[str, ...]] = {
    last: tuple(u for u in _ALL_UNITS if u[-1] == last) for last in {u[-1] for u in _ALL_UNITS}
}
_PREFIX_RE = re.compile(r"(?:约)?\s*([-−负])?\s*(¥)?\s*([-−负])?\s*")
_BODY_RE = re.compile(r"[0-9., 零〇一二两三四五六七八九十百千万亿]+")
_ARABIC_RE = re.compile(r"[0-9]{1,3}(?:[, ][0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?")
_LONE_SPACE_RE = re.compile(r"\s+(?![0-9])|(?<![0-9])\s+")  # spaces not between two digits

_NUM = r"[0-9.零〇一二两三四五六七八九十百千万]+"
_DURATION_RE = re.compile(
    rf"(?:(?:(?P<h>{_NUM})个?)?(?P<half>半)?个?(?P<hu>小时|钟头|hours?|hrs?|h))?"
    rf"(?:(?P<m>{_NUM})(?P<mu>分钟|分|minutes?|mins?|m)?)?"
)
_HMM_RE = re.compile(r"([0-9]{1,2}):([0-5][0-9])")

_RELATIVE_DAYS = {
    "今天": 0,
    "今日": 0,
    "today": 0,
    "昨天": 1,
    "昨日": 1,
    "yesterday": 1,
    "前天": 2,
    "明天": -1,  # understood, then refused as a future day (not "没看懂")
    "明日": -1,
    "tomorrow": -1,
    "后天": -2,
}
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_WEEKDAY_RE = re.compile(r"(?:上)?(?:周|星期|礼拜)([一二三四五六日天七])")
_DAY_OF_MONTH_RE = re.compile(r"([0-9]{1,2})[号日]")
_CN_NUMBER_RUN = re.compile(r"[零〇一二两三四五六七八九十]+")
_FULL_DATE_RES = (
    re.compile(r"([0-9]{4})([-/.])([0-9]{1,2})\2([0-9]{1,2})"),
    re.compile(r"([0-9]{4})(年)([0-9]{1,2})月([0-9]{1,2})[日号]?"),
)
_SHORT_DATE_RES = (
    re.compile(r"([0-9]{1,2})([-/.])([0-9]{1,2})"),
    re.compile(r"([0-9]{1,2})(月)([0-9]{1,2})[日号]?"),
)
_MAX_FUTURE_GUESS = timedelta(days=183)  # a month/day more than ~6 months ahead means last year

_MOBILE_TYPES = (
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
)
_URL_RE = re.compile(r"https?://[!-~]+", re.IGNORECASE)
_BARE_URL_RE = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?::[0-9]+)?(?:/[!-~]*)?", re.I)
_HOST_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+")
_URL_TRAILING = ".,;:!?'\"()[]{}<>"

_YES = frozenset({"是", "有", "对", "好", "yes", "y", "true", "是的", "好的", "对的", "ok"})
_NO = frozenset({"否", "没有", "无", "不是", "no", "n", "false", "不", "没", "不要", "不用"})


def normalize(text: str) -> str:
    """NFKC, drop zero-width, control and format characters (Cc, Cf: direction overrides
    such as U+202E that would flip a name on a board, soft hyphens, BOMs), collapse
    whitespace, strip."""
    if len(text) <= _CACHED_LEN:
        return _normalize_short(text)
    return _normalize(text)


# Every step compares what was typed with the labels of the buttons shown, the navigation
# words and the options, each normalized: the same few hundred short strings again and again.
# Remembered (short ones only, a bounded number), they cost a lookup instead of a pass over
# every character.
_CACHED_LEN = 64


@lru_cache(maxsize=4096)
def _normalize_short(text: str) -> str:
    return _normalize(text)


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    kept = (
        ch
        for ch in text
        if ch.isspace() or (ch not in _ZERO_WIDTH and unicodedata.category(ch) not in _DROPPED)
    )
    return " ".join("".join(kept).split())


def parse_text(text: str, *, max_len: int = 100, min_len: int = 1) -> str:
    cleaned = normalize(text)
    if not cleaned:
        raise ParseError("err.bad_text" if text.strip() else "err.empty")
    if len(cleaned) > max_len:
        raise ParseError("err.too_long", max=max_len)
    if len(cleaned) < min_len:
        raise ParseError("err.too_small", min=min_len)
    return cleaned


def _clean(text: str) -> str:
    cleaned = normalize(text)
    if not cleaned:
        raise ParseError("err.empty")
    return cleaned


def _not_a_number() -> ParseError:
    return ParseError("err.not_a_number")


def _leaf(s: str) -> Decimal:
    """A unit-free number: one Chinese digit or an Arabic number (with optional separators)."""
    if s in _CN_DIGITS:
        return Decimal(_CN_DIGITS[s])
    if _ARABIC_RE.fullmatch(s):
        return Decimal(re.sub("[, ]", "", s))
    raise _not_a_number()


def _value(s: str, level: int = 0) -> Decimal:
    """Evaluate ``s`` using only the multipliers ``_UNITS[level:]``."""
    for i in range(level, len(_UNITS)):
        unit, mult = _UNITS[i]
        head, found, tail = s.partition(unit)
        if not found:
            continue
        if unit == "十" and not head:
            head_value = Decimal(1)  # "十五" = 15
        elif not head:
            raise _not_a_number()
        else:
            head_value = _value(head, i + 1) if i < 2 else _leaf(head)
        return head_value * mult + _tail_value(tail, i)
    return _leaf(s)


def _tail_value(tail: str, i: int) -> Decimal:
    """Value of what follows multiplier ``_UNITS[i]``, e.g. "2千" in "1万2千"."""
    mult = _UNITS[i][1]
    if not tail:
        return Decimal(0)
    if tail[0] in "零〇":  # "一千零五" = 1005: the rest is below the next unit
        rest = tail.lstrip("零〇")
        value = _value(rest, i + 1) if rest else None
        if value is None or value >= mult // 10:
            raise _not_a_number()
        return value
    if len(tail) == 1 and (tail in _CN_DIGITS or (tail.isascii() and tail.isdigit())):
        return _leaf(tail) * (mult // 10)  # colloquial "1万2" = 12000, "两百五" = 250
    if tail.isascii() and tail.isdigit() and len(tail) == len(str(mult)) - 1:
        return Decimal(tail)  # "1万2500"
    if not any(unit in tail for unit, _ in _UNITS[i + 1 :]):
        raise _not_a_number()  # ambiguous, e.g. "1万25"
    value = _value(tail, i + 1)
    if value >= mult:
        raise _not_a_number()
    return value


def _number(s: str, units: tuple[str, ...], currency: bool = False) -> Decimal:
    """Parse an already normalized string; ``units`` are the suffixes this question allows
    (any other known unit is refused, err.unit_mismatch), ``currency`` whether ¥ may lead."""
    if len(s) > _MAX_VALUE_LEN:
        raise _not_a_number()
    s = s.lower()
    prefix = _PREFIX_RE.match(s)
    assert prefix is not None  # the pattern matches the empty string
    if prefix.group(1) and prefix.group(3):
        raise _not_a_number()
    if prefix.group(2) and not currency:
        raise ParseError("err.unit_mismatch", unit="¥")
    negative = bool(prefix.group(1) or prefix.group(3))
    s = s[prefix.end() :]
    for unit in _UNITS_ENDING.get(s[-1:], ()):
        if s.endswith(unit) and s[: -len(unit)].strip():
            if unit not in units:
                raise ParseError("err.unit_mismatch", unit=unit)
            s = s[: -len(unit)].rstrip()
            break
    s = _LONE_SPACE_RE.sub("", s.replace("w", "万").replace("k", "千"))
    if not _BODY_RE.fullmatch(s):
        raise _not_a_number()
    with localcontext() as ctx:
        ctx.prec = 100  # exact for any accepted input length
        value = _value(s)
        if value == value.to_integral_value():
            value = value.quantize(Decimal(1))
    return -value if negative else value


def parse_number(text: str, units: tuple[str, ...] = _ALL_UNITS, currency: bool = True) -> Decimal:
    """A number with any of the units (the kinds of answer pass their own)."""
    return _number(_clean(text), units, currency)


def parse_count(
    text: str, *, min_value: int = 0, max_value: int = 10**12, units: tuple[str, ...] = COUNT_UNITS
) -> int:
    value = parse_number(text, units, currency=False)
    if value < 0:
        raise ParseError("err.negative")
    if value != value.to_integral_value():
        raise ParseError("err.not_integer")
    if value < min_value:
        raise ParseError("err.too_small", min=min_value)
    if value > max_value:
        raise ParseError("err.too_large", max=max_value)
    return int(value)


def parse_money_fen(text: str, *, max_yuan: int = 10**10) -> int:
    value = parse_number(text, MONEY_UNITS, currency=True)
    if value < 0:
        raise ParseError("err.negative")
    if value > max_yuan:
        raise ParseError("err.too_large", max=max_yuan)
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_percent(text: str) -> Decimal:
    s = _clean(text)
    if s.startswith("百分之"):
        s = s[3:]
    try:
        value = _number(s, PERCENT_UNITS)
    except ParseError as err:
        if err.key == "err.unit_mismatch":
            raise
        raise ParseError("err.bad_percent") from None
    if not 0 <= value <= 100:
        raise ParseError("err.bad_percent")
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _duration(s: str) -> Decimal:
    """Duration in (fractional) minutes; raises ParseError on anything unrecognised."""
    if len(s) > _MAX_VALUE_LEN:
        raise ParseError("err.bad_duration")
    if m := _HMM_RE.fullmatch(s):
        return Decimal(int(m.group(1)) * 60 + int(m.group(2)))
    m = _DURATION_RE.fullmatch(s)
    if m and (m["hu"] or m["mu"]):
        if m["hu"] and not (m["h"] or m["half"]):
            raise ParseError("err.bad_duration")
        hours = (_number(m["h"], ()) if m["h"] else Decimal(0)) + (
            Decimal("0.5") if m["half"] else 0
        )
        minutes = _number(m["m"], ()) if m["m"] else Decimal(0)
        return hours * 60 + minutes
    return _number(s, HOUR_UNITS) * 60  # a plain number means hours


def parse_duration_minutes(text: str, *, max_hours: int = 24) -> int:
    s = re.sub(r"\s+", "", _clean(text).lower())
    try:
        minutes = _duration(s)
    except ParseError as err:
        if err.key == "err.unit_mismatch":
            raise
        raise ParseError("err.bad_duration") from None
    if minutes < 0:
        raise ParseError("err.bad_duration")
    if minutes > max_hours * 60:
        raise ParseError("err.duration_too_long", max_hours=max_hours)
    return int(minutes.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_cn_mobile(text: str) -> str:
    s = re.sub(r"[\s\-.()]", "", _clean(text))
    if s.startswith("0086"):
        s = "+86" + s[4:]
    elif s.startswith("86") and len(s) == 13:
        s = "+86" + s[2:]
    if not re.fullmatch(r"\+?[0-9]{5,20}", s):
        raise ParseError("err.bad_phone")
    try:
        number = phonenumbers.parse(s, "CN")
    except phonenumbers.NumberParseException:
        raise ParseError("err.bad_phone") from None
    national = str(number.national_number)
    if (
        number.country_code != 86
        or len(national) != 11
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in _MOBILE_TYPES
    ):
        raise ParseError("err.bad_phone")
    return national


def _arabic_dates(s: str) -> str:
    """十一月二日 -> 11月2日: Chinese numerals in a date as digits (not the weekday's 一..日)."""
    if _WEEKDAY_RE.fullmatch(s):
        return s

    def arabic(run: str) -> str:
        if len(run) > 1 and "十" not in run:  # 二〇二〇: digit by digit
            return "".join(str(_CN_DIGITS[ch]) for ch in run)
        return str(int(_value(run)))

    return _CN_NUMBER_RUN.sub(lambda m: arabic(m.group(0)), s)


def _match_date(s: str, today: date) -> date:
    if s in _RELATIVE_DAYS:
        return today - timedelta(days=_RELATIVE_DAYS[s])
    if m := _WEEKDAY_RE.fullmatch(s):  # 周一: the latest Monday, today included
        back = (today.weekday() - _WEEKDAYS[m.group(1)]) % 7
        return today - timedelta(days=back + (7 if s.startswith("上") else 0))
    try:
        s = _arabic_dates(s)
    except ParseError:
        raise ParseError("err.bad_date") from None
    try:
        if m := _DAY_OF_MONTH_RE.fullmatch(s):  # 2号: this month's, or last month's if ahead
            day = int(m.group(1))
            if day <= today.day:
                return today.replace(day=day)
            last = today.replace(day=1) - timedelta(days=1)
            return date(last.year, last.month, day)
        for pattern in _FULL_DATE_RES:
            if m := pattern.fullmatch(s):
                return date(int(m.group(1)), int(m.group(3)), int(m.group(4)))
        for pattern in _SHORT_DATE_RES:
            if m := pattern.fullmatch(s):
                month, day = int(m.group(1)), int(m.group(3))
                guess = date(today.year, month, day)
                if guess - today > _MAX_FUTURE_GUESS:
                    guess = date(today.year - 1, month, day)
                return guess
    except ValueError:  # impossible date such as 2月30日
        pass
    raise ParseError("err.bad_date")


def parse_date(
    text: str, *, today: date, max_back_days: int | None = None, allow_future: bool = False
) -> date:
    s = re.sub(r"\s+", "", _clean(text).lower())
    if len(s) > _MAX_VALUE_LEN:
        raise ParseError("err.bad_date")
    result = _match_date(s, today)
    if result > today and not allow_future:
        raise ParseError("err.future_date")
    if max_back_days is not None and (today - result).days > max_back_days:
        raise ParseError("err.date_too_old", days=max_back_days)
    return result


def parse_url(text: str, *, max_len: int = 500) -> str:
    s = _clean(text)
    if m := _URL_RE.search(s):
        url = m.group(0).rstrip(_URL_TRAILING)
    elif _BARE_URL_RE.fullmatch(s):
        url = "https://" + s
    else:
        raise ParseError("err.bad_url")
    if len(url) > max_len:
        raise ParseError("err.too_long", max=max_len)
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        raise ParseError("err.bad_url") from None
    if parts.scheme not in ("http", "https") or not _HOST_RE.fullmatch(parts.hostname or ""):
        raise ParseError("err.bad_url")
    return url


def parse_yes_no(text: str) -> bool | None:
    s = normalize(text).lower().rstrip(".!~。～")
    if s in _YES:
        return True
    if s in _NO:
        return False
    return None
