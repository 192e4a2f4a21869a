"""The notice's forms as sheets, both ways: 附件2 达人报名登记表 (streamers) and
附件1 企业报名登记表 (enterprises, one row per product). Each column is the form's field
that it holds (a Field declares its heading and kind: handlers/fields.py), so the export
shows it and the import parses it with the chat's own parser; the notice's columns come
first in its order, ours (直播平台, 产品类别, status, 导出时间...) after them.

The layout as the notice prints it: the form's title, the line
填报单位（盖章）：… 联系人及手机号：…, then the header row."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.context import Ctx
from bot.core.forms import Field
from bot.core.i18n import translate
from handlers import enterprise, streamer

KINDS = ("streamers", "enterprises")
LOCALES = ("zh_CN", "en")


@dataclass(frozen=True)
class Column:
    key: str  # the field's name, or one of ours (no, unit, status...)
    heading: str  # catalog key of the heading
    field: Field | None = None  # the form's field it holds: shown by export, parsed by import
    notice: bool = True  # one of the notice's own columns (else after them)
    product: bool = False  # 附件1: a product's column (else the enterprise's)

    @property
    def cell_key(self) -> str:
        """Unique in its sheet (an enterprise and its product both have a name)."""
        return f"product:{self.key}" if self.product else self.key


def _field(fields: Sequence[Field], name: str) -> Field:
    return next(f for f in fields if f.name == name)


def _of(field: Field, product: bool = False) -> Column:
    return Column(field.name, field.heading or field.label, field, not field.extra_column, product)


def _ours(*keys: str) -> list[Column]:
    return [Column(k, f"export.col.{k}", notice=False) for k in keys]


def _ordered(columns: list[Column]) -> tuple[Column, ...]:
    return (*(c for c in columns if c.notice), *(c for c in columns if not c.notice))


STREAMER_COLUMNS = _ordered(
    [
        Column("no", "export.col.no"),
        Column("account_name", "export.col.account", _field(streamer.FIELDS, "account_name")),
        *(_of(f) for f in streamer.STORED),
        Column("platform", "export.col.platform", _field(streamer.FIELDS, "platform"), False),
        *_ours("unit", "recommendation", "status", "reason", "id", "exported_at"),
    ]
)
ENTERPRISE_COLUMNS = _ordered(
    [
        Column("no", "export.col.no"),
        *(_of(f) for f in enterprise.STORED),
        *(_of(f, product=True) for f in enterprise.PRODUCT_STORED),
        *_ours("unit", "status", "reason", "id", "exported_at"),
    ]
)
COLUMNS = {"streamers": STREAMER_COLUMNS, "enterprises": ENTERPRISE_COLUMNS}
# what tells the kinds apart in a header row (both have 序号 and 联系人-like columns)
KEY_COLUMN = {"streamers": "account_name", "enterprises": "name"}


def notice_columns(kind: str) -> tuple[Column, ...]:
    return tuple(c for c in COLUMNS[kind] if c.notice)


# The layout is the notice's, in the notice's language, whoever exports: the sheet is the
# notice's 附件 (the unit stamps it and sends it on, a city merges its counties' sheets, the
# import reads it back), so its title, its header line, every heading and the names of the
# 汇总 / 已撤回 sheets are the festival's default locale's (zh_CN), not the reader's. The
# values of the festival's own vocabulary (platforms, categories, statuses, 是/否) follow the
# reader's locale, as everywhere in the bot; the import takes them in either language.
def layout(ctx: Ctx, key: str, **params: object) -> str:
    """A text of the notice's layout, in the notice's language."""
    return translate(ctx.config.locale.default, key, **params)


def headings(ctx: Ctx, kind: str) -> list[str]:
    return [layout(ctx, c.heading) for c in COLUMNS[kind]]


def top_rows(ctx: Ctx, kind: str, unit: str, contact: str) -> list[list[object]]:
    """The title and the header line: 填报单位（盖章）in the first cell, 联系人及手机号 from the
    middle of the notice's columns on, as the notice prints them."""
    middle = len(notice_columns(kind)) // 2
    line: list[object] = [layout(ctx, "sheet.unit_line", unit=unit)] + [None] * (middle - 1)
    line.append(layout(ctx, "sheet.contact_line", contact=contact))
    title = layout(ctx, f"sheet.title.{kind}", year=ctx.config.festival.year)
    return [[title], line]


def merged_top(kind: str) -> list[tuple[int, int, int, int]]:
    """The title across the notice's columns; the two halves of the header line."""
    n = len(notice_columns(kind))
    middle = n // 2
    return [(1, 1, 1, n), (2, 1, 2, middle), (2, middle + 1, 2, n)]


# ----- reading a header back ------------------------------------------------------------------
def plain(text: object) -> str:
    """A heading as compared: full-width folded, no spaces or line breaks, lower case."""
    folded = unicodedata.normalize("NFKC", str(text or ""))
    return re.sub(r"\s+", "", folded).lower()


def bare(text: object) -> str:
    """A heading without what is in brackets: 行业(类目) and 行业 are the same column."""
    return re.sub(r"\(.*?\)", "", plain(text))


def heading_index(ctx: Ctx, kind: str) -> dict[str, Column]:
    """Every way a column of this kind may be headed (both languages, with or without what
    is in brackets) -> the column (worked out once per process and language)."""
    cached: dict[str, Column] | None = ctx.cache.get(f"headings:{kind}:{ctx.locale}")
    if cached is not None:
        return cached
    found: dict[str, Column] = {}
    for column in COLUMNS[kind]:
        texts = [ctx.t(column.heading), *(translate(loc, column.heading) for loc in LOCALES)]
        if column.field is not None:
            texts += [translate(loc, column.field.label) for loc in LOCALES]
        for text in texts:
            for key in (plain(text), bare(text)):
                if key:
                    found.setdefault(key, column)
    ctx.cache[f"headings:{kind}:{ctx.locale}"] = found
    return found
