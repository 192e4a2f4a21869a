"""Reading a filled-in notice workbook: which sheets hold 附件2 or 附件1 (recognised by their
header row, in either language, brackets and line breaks aside), the header line's 填报单位 and
联系人及手机号, and every data row's cells with their hyperlinks. Nothing is validated here
(handlers/imports.py does, with the chat's parsers).

openpyxl reads values, hyperlinks and number formats; it cannot read pictures placed inside
cells (Excel's "place in cell", stored as rich values), and pictures floating over the sheet
are not tied to a row we could trust: both are reported, and the product asks for its picture
in chat."""

from __future__ import annotations

import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.core.context import Ctx
from bot.core.i18n import translate
from handlers import sheets
from handlers.sheets import Column

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

HEADER_SEARCH_ROWS = 10  # the header row is among the first rows (title, 填报单位 line)


class Unreadable(Exception):
    """Not a workbook openpyxl can open (the catalog key says why)."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class Cell:
    value: Any
    link: str | None = None  # a hyperlink's target
    percent: bool = False  # shown as a percentage (0.035 is 3.5%)


@dataclass
class Row:
    number: int  # the row's number in the sheet (as Excel shows it)
    cells: dict[str, Cell]  # by column (Column.cell_key)

    def value(self, key: str) -> Any:
        cell = self.cells.get(key)
        return None if cell is None else cell.value

    def blank(self, key: str) -> bool:
        value = self.value(key)
        return value is None or str(value).strip() == ""


@dataclass
class DataSheet:
    title: str
    kind: str  # streamers | enterprises
    header_row: int
    columns: dict[int, Column]  # sheet column index (1-based) -> our column
    unit_text: str  # 填报单位（盖章）：… as filled in ("" when blank)
    contact_text: str  # 联系人及手机号：…
    contact_row: int
    rows: list[Row] = field(default_factory=list)
    values: list[list[Any]] = field(default_factory=list)  # every row as read (the result sheet)
    unmatched: list[str] = field(default_factory=list)  # headings we do not know (ignored)
    missing: list[Column] = field(default_factory=list)  # the notice's columns not found


@dataclass
class ReadBook:
    sheets: list[DataSheet]
    pictures_in_cells: bool  # pictures we cannot read (in cells, or floating)
    skipped: list[str]  # sheets left aside (汇总, 已撤回, no header)


def read(ctx: Ctx, path: Path) -> ReadBook:
    # imported when a sheet comes, not by every worker at start: openpyxl is ~6 MB of a
    # worker's memory (benchmarks/memory.py) that conversations never use
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise Unreadable("import.unreadable") from exc
    indexes = {kind: sheets.heading_index(ctx, kind) for kind in sheets.KINDS}
    found: list[DataSheet] = []
    skipped: list[str] = []
    summaries: list[DataSheet] = []
    floating = False
    for ws in book.worksheets:
        floating = floating or bool(getattr(ws, "_images", None))
        data = _data_sheet(ctx, ws, indexes)
        if data is None:
            skipped.append(ws.title)
        elif _titled(ws.title, "sheet.withdrawn"):
            skipped.append(ws.title)  # withdrawn registrations are not submitted again
        elif _titled(ws.title, "sheet.summary"):
            summaries.append(data)
        else:
            found.append(data)
    if found:  # a 汇总 repeats its units' sheets
        skipped += [s.title for s in summaries]
    else:
        found = summaries
    return ReadBook(found, floating or _rich_values(path), skipped)


def _titled(title: str, key: str) -> bool:
    return any(
        sheets.plain(title).startswith(sheets.plain(translate(loc, key))) for loc in sheets.LOCALES
    )


def _rich_values(path: Path) -> bool:
    """Pictures placed in cells are rich values (xl/richData/), which openpyxl drops."""
    try:
        with zipfile.ZipFile(path) as z:
            return any(
                n.startswith("xl/richData/") or n.startswith("xl/media/") for n in z.namelist()
            )
    except zipfile.BadZipFile:
        return False


def _data_sheet(ctx: Ctx, ws: Worksheet, indexes: dict[str, dict[str, Column]]) -> DataSheet | None:
    top = list(ws.iter_rows(min_row=1, max_row=HEADER_SEARCH_ROWS))
    for i, row in enumerate(top, start=1):
        for kind, index in indexes.items():
            columns = _match(row, index)
            keys = {c.cell_key for c in columns.values()}
            wanted = sheets.notice_columns(kind)
            if sheets.KEY_COLUMN[kind] not in keys or len(keys) < len(wanted) // 2:
                continue
            unit, contact, contact_row = _header_line(top[: i - 1])
            sheet = DataSheet(ws.title, kind, i, columns, unit, contact, contact_row)
            sheet.missing = [c for c in wanted if c.cell_key not in keys and c.key != "no"]
            sheet.unmatched = [
                str(c.value) for c in row if c.value not in (None, "") and c.column not in columns
            ]
            sheet.rows, sheet.values = _rows(ws, i, columns)
            return sheet
    return None


def _match(row: Any, index: dict[str, Column]) -> dict[int, Column]:
    columns: dict[int, Column] = {}
    taken: set[str] = set()
    for cell in row:
        if cell.value in (None, ""):
            continue
        column = index.get(sheets.plain(cell.value)) or index.get(sheets.bare(cell.value))
        if column is not None and column.cell_key not in taken:
            columns[cell.column] = column
            taken.add(column.cell_key)
    return columns


def _rows(
    ws: Worksheet, header: int, columns: dict[int, Column]
) -> tuple[list[Row], list[list[Any]]]:
    rows = []
    values: list[list[Any]] = []
    for row in ws.iter_rows():
        values.append([c.value for c in row])
        if row[0].row <= header:  # type: ignore[operator]
            continue
        cells = {}
        for cell in row:
            column = columns.get(cell.column)  # type: ignore[arg-type]
            if column is None:
                continue
            link = cell.hyperlink.target if cell.hyperlink is not None else None
            percent = "%" in str(cell.number_format or "")
            cells[column.cell_key] = Cell(cell.value, link, percent)
        if any(c.value not in (None, "") and str(c.value).strip() for c in cells.values()):
            rows.append(Row(row[0].row, cells))  # type: ignore[arg-type]
    return rows, values


# ----- 填报单位（盖章）：…  联系人及手机号：… -----------------------------------------------------
def _prefixes(key: str, param: str, bare: tuple[str, ...]) -> list[str]:
    texts = [_fold(translate(loc, key, **{param: ""})) for loc in sheets.LOCALES]
    return sorted({t.strip() for t in (*texts, *bare) if t.strip()}, key=len, reverse=True)


def _fold(text: object) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", str(text or ""))).strip()


def _header_line(rows: list[Any]) -> tuple[str, str, int]:
    """The unit and the contact as the header line gives them (each "" when not filled)."""
    units = _prefixes("sheet.unit_line", "unit", ("填报单位(盖章):", "填报单位:", "填报单位"))
    contacts = _prefixes("sheet.contact_line", "contact", ("联系人及手机号:", "联系人及手机号"))
    unit = contact = ""
    contact_row = 0
    for number, row in enumerate(rows, start=1):
        text = " ".join(_fold(c.value) for c in row if c.value not in (None, ""))
        at_unit = _find(text, units)
        at_contact = _find(text, contacts)
        if at_unit is not None:
            start, end = at_unit
            stop = at_contact[0] if at_contact is not None and at_contact[0] > start else len(text)
            unit = text[end:stop].strip(" :")
        if at_contact is not None:
            contact = text[at_contact[1] :].strip(" :")
            contact_row = number
    return unit, contact, contact_row


def _find(text: str, prefixes: list[str]) -> tuple[int, int] | None:
    for prefix in prefixes:
        at = text.find(prefix)
        if at >= 0:
            return at, at + len(prefix)
    return None
