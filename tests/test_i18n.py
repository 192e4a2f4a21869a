"""The message catalogs: both languages complete, every key the code uses exists, and the
number formats people read."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from bot.config import FestivalConfig
from bot.core.i18n import (
    _catalog,
    available_locales,
    catalog_files,
    fill,
    fmt_int,
    fmt_list,
    fmt_minutes,
    fmt_yuan,
    mask_phone,
    translate,
)
from models import ReviewStatus

ROOT = Path(__file__).resolve().parent.parent
# The first segments of the catalog's own keys: a literal like "err.x" is a key to check.
PREFIXES = sorted({key.split(".")[0] for key in _catalog("zh_CN")})
# A whole string literal that is a catalog key: "err.too_long", 'opt.unit_group.city'.
KEY_LITERAL = re.compile(
    r"""(?<![\w.])["']((?:"""
    + "|".join(PREFIXES)
    + r""")\.[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)["']"""
)


def load(locale: str) -> dict[str, str]:
    return dict(_catalog(locale))


ZH = load("zh_CN")
EN = load("en")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def code_files() -> list[Path]:
    files = sorted((ROOT / "bot").rglob("*.py")) + sorted((ROOT / "handlers").rglob("*.py"))
    assert len(files) > 10
    return files


def keys_used_in_code() -> dict[str, str]:
    """Every string literal that looks like a catalog key, with the first place it is used."""
    used: dict[str, str] = {}
    for path in code_files():
        text = path.read_text(encoding="utf-8")
        for match in KEY_LITERAL.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            used.setdefault(match[1], f"{path.relative_to(ROOT)}:{line}")
    return used


def parse_error_keys() -> set[str]:
    tree = ast.parse((ROOT / "bot/core/parsers.py").read_text(encoding="utf-8"))
    keys: set[str] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "ParseError"
        ):
            # a literal, or a choice of literals ("err.bad_text" if ... else "err.empty")
            found = {
                n.value
                for n in ast.walk(node.args[0])
                if isinstance(n, ast.Constant) and isinstance(n.value, str)
            }
            assert found, f"ParseError without a literal key at line {node.lineno}"
            keys |= found
    return keys


# ----- the catalogs -----------------------------------------------------------------------
def test_locales_shipped() -> None:
    assert available_locales() == ["en", "zh_CN"]


def test_catalogs_have_the_same_keys() -> None:
    assert sorted(set(ZH) - set(EN)) == []
    assert sorted(set(EN) - set(ZH)) == []
    assert len(ZH) == len(EN)


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_no_duplicate_keys_in_a_catalog(locale: str) -> None:
    """YAML keeps the last of two equal keys silently; a duplicate is an editing accident.
    (A key defined in two files of a locale already fails loading.)"""
    keys = []
    for path in catalog_files(locale):
        keys += re.findall(r"^([A-Za-z0-9_.]+):", path.read_text(encoding="utf-8"), flags=re.M)
    assert len(keys) == len(load(locale))
    assert sorted({k for k in keys if keys.count(k) > 1}) == []


def test_both_locales_have_the_same_files() -> None:
    assert [p.name for p in catalog_files("en")] == [p.name for p in catalog_files("zh_CN")]


def test_catalogs_have_the_same_placeholders_per_key() -> None:
    differ = {
        key: (sorted(placeholders(ZH[key])), sorted(placeholders(EN[key])))
        for key in ZH
        if placeholders(ZH[key]) != placeholders(EN.get(key, ""))
    }
    assert differ == {}


def test_no_empty_messages() -> None:
    assert [k for k, v in ZH.items() if not v.strip()] == []
    assert [k for k, v in EN.items() if not v.strip()] == []


def test_every_message_formats_with_its_placeholders() -> None:
    for catalog in (ZH, EN):
        for key, text in catalog.items():
            params = {name: "X" for name in placeholders(text)}
            assert "{" not in fill(text, **params), key


# ----- keys used in the code --------------------------------------------------------------
def test_every_key_literal_in_the_code_exists() -> None:
    used = keys_used_in_code()
    assert len(used) > 200  # the scan found the keys (a broken regex would find none)
    assert {k: where for k, where in used.items() if k not in ZH} == {}
    assert {k: where for k, where in used.items() if k not in EN} == {}


def test_the_scan_sees_field_prompts_and_labels() -> None:
    used = keys_used_in_code()
    for key in ("ask.followers", "label.followers", "err.message_too_long", "menu.title"):
        assert key in used


def test_every_parse_error_key_exists() -> None:
    keys = parse_error_keys()
    assert keys == {
        "err.bad_date",
        "err.bad_duration",
        "err.bad_percent",
        "err.bad_phone",
        "err.bad_text",
        "err.bad_url",
        "err.date_too_old",
        "err.duration_too_long",
        "err.empty",
        "err.future_date",
        "err.negative",
        "err.not_a_number",
        "err.not_integer",
        "err.too_large",
        "err.too_small",
        "err.too_long",
        "err.unit_mismatch",
    }
    assert sorted(keys - set(ZH)) == []


def _call_sites() -> list[tuple[str, str, set[str]]]:
    """(where, key, keyword names) of translating calls with a literal key and explicit
    keywords: ctx.t / ctx.reply / ctx.button / ParseError(key, ...), translate(locale, key, ...)."""
    key_arg = {"t": 0, "reply": 0, "button": 0, "ParseError": 0, "translate": 1}
    sites = []
    for path in code_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            index = key_arg.get(name or "")
            if index is None or len(node.args) <= index:
                continue
            arg = node.args[index]
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                continue
            if arg.value not in ZH or any(k.arg is None for k in node.keywords):
                continue
            given = {k.arg for k in node.keywords if k.arg is not None}
            sites.append((f"{path.relative_to(ROOT)}:{node.lineno}", arg.value, given))
    return sites


def test_call_sites_give_exactly_the_placeholders() -> None:
    """A missing parameter would show the raw "{min}" to the user (translate swallows it)."""
    sites = _call_sites()
    assert len(sites) > 100
    wrong = [
        (where, key, sorted(given), sorted(placeholders(ZH[key])))
        for where, key, given in sites
        if given != placeholders(ZH[key])
    ]
    assert wrong == []


def test_dynamic_keys_exist(config: FestivalConfig) -> None:
    dynamic = [
        *(f"status.{s.value}" for s in ReviewStatus),
        *(f"declare.{d}" for d in config.eligibility.declarations),
        *(f"opt.unit_group.{g}" for g in ("city", "university", "provincial")),
        *(f"notice.submitted_{kind}" for kind in ("streamer", "enterprise")),
    ]
    assert len(dynamic) == 6 + 4 + 3 + 2
    assert [k for k in dynamic if k not in ZH] == []
    assert [k for k in dynamic if k not in EN] == []


# ----- translate --------------------------------------------------------------------------
def test_translate() -> None:
    assert (
        translate("zh_CN", "err.too_long", max=100) == "太长了，最多 100 个字，请精简后重新输入。"
    )
    assert translate("en", "err.too_long", max=100) == (
        "Too long: at most 100 characters. Please shorten it and try again."
    )
    assert translate(None, "status.approved") == "已通过"  # no locale: zh_CN
    assert translate("en", "no.such.key") == "no.such.key"
    # a missing parameter leaves the template rather than failing the step
    assert translate("zh_CN", "err.too_long") == "太长了，最多 {max} 个字，请精简后重新输入。"


# ----- formats ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fen", "shown"),
    [
        (0, "0"),
        (5, "0.05"),
        (50, "0.50"),
        (100, "1"),
        (1_234_560, "12,345.60"),
        (1_200_000, "12,000"),
        (1_234_567_801, "12,345,678.01"),
        (-1_050, "-10.50"),
    ],
)
def test_fmt_yuan(fen: int, shown: str) -> None:
    assert fmt_yuan(fen) == shown


def test_fmt_int() -> None:
    assert fmt_int(0) == "0"
    assert fmt_int(12000) == "12,000"
    assert fmt_int(1_234_567) == "1,234,567"


@pytest.mark.parametrize(
    ("minutes", "zh", "en"),
    [
        (0, "0分钟", "0 min"),
        (45, "45分钟", "45 min"),
        (60, "1小时", "1 h"),
        (120, "2小时", "2 h"),
        (150, "2小时30分钟", "2 h 30 min"),
        (1440, "24小时", "24 h"),
    ],
)
def test_fmt_minutes(minutes: int, zh: str, en: str) -> None:
    assert fmt_minutes(minutes, "zh_CN") == zh
    assert fmt_minutes(minutes, None) == zh
    assert fmt_minutes(minutes, "en") == en


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13800138000", "138****8000"),
        ("13912345678", "139****5678"),
        ("12345678", "123****5678"),
        ("1234567", "****"),
        ("", "****"),
    ],
)
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


def test_plurals_and_lists() -> None:
    """English counts take their word's number ("{n:report|reports}"); lists are joined as
    each language writes them."""
    assert fill("{n} {n:report|reports}", n=1) == "1 report"
    assert fill("{n} {n:report|reports}", n=2) == "2 reports"
    assert fill("{n} {n:report|reports}", n="1,200") == "1,200 reports"
    assert fmt_list(["抖音", "京东直播"], "zh_CN") == "抖音、京东直播"
    assert fmt_list(["Douyin", "JD Live"], "en") == "Douyin, JD Live"
