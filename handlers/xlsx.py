"""The exports' workbooks: sheets of plain values with a title, a header line, a bold frozen
header row, column widths, merged cells and hyperlinks, written by XlsxWriter in its
constant-memory mode (rows streamed to the file as they are written). A sheet's rows may be
any iterable (an export streams them from the database: a live month of a big festival is
millions of reports, which must never be in memory at once); past Excel's last row a sheet
continues on a sheet of its own with the same title line and header ("每日数据 (2)").

Why not rust_xlsxwriter (tried through its binding rvgsrust-xlsxwriter 0.3.5, which keeps
XlsxWriter's calls and takes a row at once): the reports' export took 2.2 s of CPU instead of
5.4 s, but its save assembles each sheet's XML in memory, about 1.2 KB a report row (+75 MB
at the save of 60,000 rows, +230 MB for 180,000, in a process that had worked with data
before, as a bot worker has): a festival's 3,000,000 reports would need gigabytes, which
issue 18 rules out. XlsxWriter's constant-memory mode writes the XML to a temporary file.

Why not openpyxl's writer: it builds each cell as an object and serialises it through an XML
tree, about 3 s per 10,000 rows of 14 cells on this machine (write-only mode included), so a
live month's reports (60,000 rows) took half a minute. openpyxl still reads the files (imports,
tests).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    import xlsxwriter

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_URL_LIMIT = 2079  # Excel's longest hyperlink; a longer one is written as text
_MAX_ROWS = 1_048_576  # Excel's rows per sheet: XlsxWriter drops a cell below the last one
_WIDTH_SAMPLE = 500  # rows looked at for the column widths: enough to see what a column holds
_DAY_ZERO = dt.date(1899, 12, 30).toordinal()  # Excel's serial 0 (1900 date system)


@dataclass(frozen=True)
class Link:
    """A cell showing `text` that opens `target` (a URL or a file:// address)."""

    text: str
    target: str


@dataclass
class Sheet:
    title: str
    # rows before the header (the form's title, its 填报单位 line): merged across `span` columns
    top: list[list[Any]] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    # any iterable, read once (a generator streams a big export from the database)
    rows: Iterable[Sequence[Any]] = field(default_factory=list)
    merged: list[tuple[int, int, int, int]] = field(
        default_factory=list
    )  # r1, c1, r2, c2 (1-based)


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def text_width(text: str) -> int:
    """How wide a text is in Excel's character units: a Chinese character is two."""
    if text.isascii():  # numbers, phone numbers, links: one each, without a look-up a character
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def safe_title(title: str, taken: set[str]) -> str:
    """A sheet name Excel accepts (31 characters, none of []:*?/\\), unique in the book."""
    base = re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:31] or "Sheet"
    name, n = base, 1
    while name.lower() in taken:
        n += 1
        name = f"{base[: 31 - len(str(n)) - 1]}~{n}"
    taken.add(name.lower())
    return name


def _widths(header: Sequence[str], rows: Sequence[Sequence[Any]], ncols: int) -> list[int]:
    widths = [text_width(h) for h in header] + [0] * (ncols - len(header))
    for row in rows:
        for i, value in enumerate(row):
            if value is None or i >= ncols:
                continue
            shown = value.text if isinstance(value, Link) else str(value)
            widths[i] = max(widths[i], text_width(shown))
    return [min(max(w + 2, 6), 60) for w in widths]


def _url(target: str) -> str:
    """XlsxWriter writes a local file's link Excel's way (external:, with backslashes)."""
    if target.startswith("file://"):
        return "external:" + unquote(urlsplit(target).path)
    return target


def local_path(target: str | None) -> Path | None:
    """The file a local link of ours names (read back from a sheet: Excel's form of it has
    backslashes, and perhaps a file: scheme); None for a web link or nothing."""
    if not target:
        return None
    parts = urlsplit(target.replace("\\", "/"))
    if parts.scheme not in ("file", ""):
        return None
    path = unquote(parts.path)
    return Path(path if path.startswith("/") else "/" + path)


def _text(value: str) -> str:
    return value if value.isprintable() else _ILLEGAL.sub("", value)


def write(target: IO[bytes] | Path, sheets: Iterable[Sheet]) -> None:
    """The workbook, one worksheet per sheet, in order (a sheet longer than Excel allows on
    as many as it takes)."""
    import xlsxwriter  # when a workbook is written, not by every worker at start (memory)
    from xlsxwriter.exceptions import FileCreateError

    sheets = list(sheets) or [Sheet("Sheet")]
    book = xlsxwriter.Workbook(
        target,
        {
            "constant_memory": True,  # rows go to the file as they are written
            "strings_to_numbers": False,  # a phone number or an id stays text
            "strings_to_formulas": False,  # "=1+1" typed by someone is text, not a formula
            "strings_to_urls": False,  # links only where a Link says so
            "in_memory": False,
        },
    )
    styles = _Styles(book)
    taken: set[str] = set()
    for sheet in sheets:
        rows = iter(sheet.rows)
        head = list(itertools.islice(rows, _WIDTH_SAMPLE))
        ncols = max([len(sheet.header), *(len(r) for r in head[:1])], default=1) or 1
        widths = _widths(sheet.header, head, ncols)
        part, last = 1, _MAX_ROWS - 1  # 0-based
        ws, r = _begin(book, styles, sheet, safe_title(sheet.title, taken), widths)
        for row in itertools.chain(head, rows):
            if r > last:  # Excel's last row: the sheet goes on on another
                part += 1
                title = safe_title(f"{sheet.title[:25]} ({part})", taken)
                ws, r = _begin(book, styles, sheet, title, widths)
            _write_row(ws, styles, r, row)
            r += 1
    try:
        book.close()
    except FileCreateError as error:  # a gone folder, a full disk
        raise OSError(str(error)) from error


class _Styles:
    """The workbook's formats, made once."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.bold = book.add_format({"bold": True})
        self.header = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        self.link = book.add_format({"font_color": "#0563C1", "underline": 1})
        self.date = book.add_format({"num_format": "yyyy-mm-dd"})


def _begin(
    book: xlsxwriter.Workbook, styles: _Styles, sheet: Sheet, name: str, widths: list[int]
) -> tuple[Any, int]:
    """A worksheet with the sheet's widths, title lines and frozen header; returns it and
    the 0-based row of its first data row."""
    ws = book.add_worksheet(name)
    for i, width in enumerate(widths):
        ws.set_column(i, i, width)
    header_row = len(sheet.top)  # 0-based row of the header
    if sheet.header:  # the header row stays in view while scrolling
        ws.freeze_panes(header_row + 1, 0)
    # constant_memory writes rows in order: merges are declared first, with their value
    merged = {(r1 - 1, c1 - 1): (r2 - 1, c2 - 1) for r1, c1, r2, c2 in sheet.merged}
    for r, top in enumerate(sheet.top):
        style = styles.title if r == 0 else styles.bold
        for c, value in enumerate(top):
            if (r, c) in merged:
                r2, c2 = merged[(r, c)]
                ws.merge_range(r, c, r2, c2, _text(str(value or "")), style)
            elif value not in (None, ""):
                ws.write(r, c, value, style)
    if not sheet.header:
        return ws, header_row
    ws.set_row(header_row, 36)
    for c, value in enumerate(sheet.header):
        ws.write_string(header_row, c, _text(value), styles.header)
    return ws, header_row + 1


def _write_row(ws: Any, styles: _Styles, r: int, row: Sequence[Any]) -> None:
    # XlsxWriter's write_* are its _write_* behind a decorator that reads "A1" addresses;
    # with numeric addresses the undecorated ones do the same, a sixth faster over a live
    # month's reports (the decorated ones if a version ever lacks them)
    write_string = getattr(ws, "_write_string", ws.write_string)
    write_number = getattr(ws, "_write_number", ws.write_number)
    for c, value in enumerate(row):
        kind = type(value)
        if kind is str:  # the common cases first: an export writes millions of cells
            if value:
                write_string(r, c, value if value.isprintable() else _text(value), None)
        elif kind is int or kind is float:
            write_number(r, c, value, None)
        elif value is None:
            continue
        elif kind is dt.date:  # Excel's serial day with a date format
            write_number(r, c, value.toordinal() - _DAY_ZERO, styles.date)
        elif kind is bool:
            ws.write_boolean(r, c, value)
        elif isinstance(value, Link):
            if len(value.target) <= _URL_LIMIT:
                ws.write_url(r, c, _url(value.target), styles.link, _text(value.text))
            else:
                write_string(r, c, _text(value.text), None)
        elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            write_number(r, c, value.toordinal() - _DAY_ZERO, styles.date)
        elif isinstance(value, int | float):
            write_number(r, c, value, None)
        else:
            write_string(r, c, _text(str(value)), None)
