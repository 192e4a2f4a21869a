"""The exports' workbooks: sheets of plain values with a title, a header line, a bold frozen
header row, column widths, merged cells and hyperlinks, written in constant-memory mode (each
row goes to a temporary file as soon as the next one is begun). A sheet's rows may be any
iterable (an export streams them from the database: a live month of a big festival is
millions of reports, which must never be in memory at once); past Excel's last row a sheet
continues on a sheet of its own with the same title line and header ("每日数据 (2)").

The writer is rust_xlsxwriter (the compiled sibling of XlsxWriter, by XlsxWriter's author)
through its Python binding rvgsrust-xlsxwriter, which keeps XlsxWriter's calls (formats,
merge_range, write_url, freeze_panes, constant memory) and takes a whole row in one call.
Why: XlsxWriter spends about 10 µs of Python a cell; the profile of the reports' export
(60,000 rows x 14 cells) had 90% of its time inside XlsxWriter, and the same rows and layout
take about a sixth of that here (figures: README, "Excel both ways"). The binding is young:
its version is pinned, and what this module asks of it is covered by tests/test_xlsx.py and
the layout tests of tests/test_export.py (read back with openpyxl).

Why not openpyxl's writer: it builds each cell as an object and serialises it through an XML
tree, about 3 s per 10,000 rows of 14 cells on this machine (write-only mode included).
openpyxl still reads the files (imports, tests).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlsplit

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_URL_LIMIT = 2079  # Excel's longest hyperlink; a longer one is written as text
_MAX_ROWS = 1_048_576  # Excel's rows per sheet: the writer refuses a cell below the last one
_STRING_LIMIT = 32_767  # Excel's longest text in a cell: a longer one is cut there
_WIDTH_SAMPLE = 500  # rows looked at for the column widths: enough to see what a column holds
_DAY_ZERO = dt.date(1899, 12, 30).toordinal()  # Excel's serial 0 (1900 date system)
# the cell types the writer takes as they are (a datetime is written as its text, as before)
_PLAIN = frozenset({str, int, float, bool, type(None), dt.date})
_IS_TEXT = str.__instancecheck__


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
    """The writer takes a local file's file:// address as it is (and writes it as Excel's
    relative form, which local_path reads back)."""
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
    if len(value) > _STRING_LIMIT:
        value = value[:_STRING_LIMIT]
    return value if value.isprintable() else _ILLEGAL.sub("", value)


def write(target: IO[bytes] | Path, sheets: Iterable[Sheet]) -> None:
    """The workbook, one worksheet per sheet, in order (a sheet longer than Excel allows on
    as many as it takes). A path is written as the rows come (the file should exist already,
    0600: it is truncated, its mode kept); a file object gets the finished bytes at once (for
    small workbooks: they are held in memory)."""
    import rvgsrust_xlsxwriter  # when a workbook is written, not by every worker at start

    sheets = list(sheets) or [Sheet("Sheet")]
    book = rvgsrust_xlsxwriter.Workbook()
    if isinstance(target, Path):  # the rows' temporary files beside the export, not in /tmp
        book.set_tempdir(str(target.parent))
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
        if isinstance(target, Path):
            book.close(str(target))
        else:
            target.write(book.save_to_buffer())
    except OSError:
        raise
    except Exception as error:  # the writer's own error for a full disk, a gone folder
        raise OSError(f"the workbook could not be written: {error}") from error


class _Styles:
    """The workbook's formats, made once."""

    def __init__(self, book: Any) -> None:
        self.title = book.add_format().set_bold().set_font_size(14)
        self.bold = book.add_format().set_bold()
        self.header = book.add_format().set_bold().set_text_wrap().set_vertical_align("top")
        self.link = book.add_format().set_font_color("#0563C1").set_underline()
        self.date = book.add_format().set_num_format("yyyy-mm-dd")


def _begin(
    book: Any, styles: _Styles, sheet: Sheet, name: str, widths: list[int]
) -> tuple[Any, int]:
    """A worksheet with the sheet's widths, title lines and frozen header; returns it and
    the 0-based row of its first data row."""
    # constant memory: each row goes to a temporary file once the next one is begun
    ws = book.add_worksheet(name, constant_memory=True)
    for i, width in enumerate(widths):
        ws.set_column_width(i, width)
    header_row = len(sheet.top)  # 0-based row of the header
    if sheet.header:  # the header row stays in view while scrolling
        ws.freeze_panes(header_row + 1, 0)
    # rows are written in order: merges are declared with their row, with their value
    merged = {(r1 - 1, c1 - 1): (r2 - 1, c2 - 1) for r1, c1, r2, c2 in sheet.merged}
    for r, top in enumerate(sheet.top):
        style = styles.title if r == 0 else styles.bold
        for c, value in enumerate(top):
            if (r, c) in merged:
                r2, c2 = merged[(r, c)]
                ws.merge_range(r, c, r2, c2, _text(str(value or "")), style)
            elif value not in (None, ""):
                ws.write(r, c, _cell(value), style)
    if not sheet.header:
        return ws, header_row
    ws.set_row_height(header_row, 36)
    ws.write_row(header_row, 0, [_text(value) for value in sheet.header], styles.header)
    return ws, header_row + 1


def _write_row(ws: Any, styles: _Styles, r: int, row: Sequence[Any]) -> None:
    """A row in one call (the writer's per-cell work is compiled): text, numbers, truth
    values and dates as they are (a date with the writer's yyyy-mm-dd format); what needs a
    link or cleaning is written cell by cell."""
    if _PLAIN.issuperset(map(type, row)):  # the common case, checked without a Python loop
        texts = list(filter(_IS_TEXT, row))
        joined = "".join(texts)
        if _ILLEGAL.search(joined) is None and (
            len(joined) <= _STRING_LIMIT or max(map(len, texts)) <= _STRING_LIMIT
        ):
            ws.write_row(r, 0, row)
            return
    plain: list[Any] = list(row)
    later: list[tuple[int, Any]] = []
    for c, value in enumerate(plain):
        kind = type(value)
        if kind is str:
            plain[c] = _text(value)
        elif kind in _PLAIN:
            continue
        else:
            later.append((c, value))
            plain[c] = None
    ws.write_row(r, 0, plain)
    for c, value in later:
        if isinstance(value, Link):
            if len(value.target) <= _URL_LIMIT:
                ws.write_url(r, c, _url(value.target), styles.link, _text(value.text))
            else:
                ws.write(r, c, _text(value.text))
        elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            ws.write(r, c, value.toordinal() - _DAY_ZERO, styles.date)  # Excel's serial day
        else:
            ws.write(r, c, _cell(value))


def _cell(value: Any) -> Any:
    """A value the writer takes as it is (text, a number, a truth value), else its text."""
    if isinstance(value, bool | int | float):
        return value
    return _text(str(value))
