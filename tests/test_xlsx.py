"""handlers/xlsx.py: rows streamed from any iterable, a sheet past Excel's last row continued
on another with the same title line and header."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from handlers import xlsx


def test_rows_from_a_generator_read_once(tmp_path: Path) -> None:
    consumed = []

    def rows() -> Iterator[list[object]]:
        for n in range(1, 1001):
            consumed.append(n)
            yield [n, f"主播{n}", dt.date(2020, 11, 2), None, 1.5]

    path = tmp_path / "g.xlsx"
    header = ["序号", "账号", "日期", "空", "数"]
    xlsx.write(path, [xlsx.Sheet("每日数据", [["导出"]], header, rows())])
    assert consumed == list(range(1, 1001))
    ws = load_workbook(path).active
    assert ws is not None
    data = [tuple(r) for r in ws.iter_rows(values_only=True)]
    assert data[1] == ("序号", "账号", "日期", "空", "数")
    assert data[2] == (1, "主播1", dt.datetime(2020, 11, 2), None, 1.5)
    assert data[-1][:2] == (1000, "主播1000")
    assert ws.cell(3, 3).number_format == "yyyy-mm-dd"


def test_a_sheet_past_the_last_row_goes_on_on_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx, "_MAX_ROWS", 5)  # title, header and 3 rows a sheet
    path = tmp_path / "long.xlsx"
    rows = ([n, f"r{n}"] for n in range(1, 8))
    xlsx.write(path, [xlsx.Sheet("每日数据", [["导出"]], ["序号", "账号"], rows)])
    wb = load_workbook(path)
    assert wb.sheetnames == ["每日数据", "每日数据 (2)", "每日数据 (3)"]
    got = [[tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets]
    assert [sheet[:2] for sheet in got] == [[("导出", None), ("序号", "账号")]] * 3
    assert [row[0] for sheet in got for row in sheet[2:]] == list(range(1, 8))
    assert all(ws.freeze_panes == "A3" for ws in wb.worksheets)


def test_cells_are_written_as_what_they_are(tmp_path: Path) -> None:
    """Text that looks like a formula, a link or a number stays text; characters XML cannot
    hold are dropped; text past Excel's limit is cut; a link opens its file; a datetime is
    its text (an import's sheet is written back as it was read). The rows are written
    through XlsxWriter's undecorated methods: what they write is checked here."""
    stored = tmp_path / "a picture.jpg"
    stored.write_bytes(b"x")
    row = [
        "=1+1",
        "http://example.com/",
        "13800138000",
        "a\x01b",
        "长" * 40_000,
        xlsx.Link(stored.name, stored.resolve().as_uri()),
        dt.datetime(2020, 11, 2, 10, 30),
        True,
        7,
    ]
    path = tmp_path / "cells.xlsx"
    xlsx.write(path, [xlsx.Sheet("表", [], ["x"] * len(row), [row, ["ok"]])])
    ws = load_workbook(path).active
    assert ws is not None
    got = [c.value for c in ws[2]]
    assert got[:4] == ["=1+1", "http://example.com/", "13800138000", "ab"]
    assert [c.data_type for c in ws[2]][:4] == ["s"] * 4
    assert got[4] == "长" * 32_767
    assert got[5] == stored.name
    link = ws.cell(2, 6).hyperlink
    assert link is not None and xlsx.local_path(link.target) == stored.resolve()
    assert got[6:] == ["2020-11-02 10:30:00", True, 7]
    assert ws.cell(3, 1).value == "ok"


def test_an_unwritable_workbook_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        xlsx.write(tmp_path / "gone" / "book.xlsx", [xlsx.Sheet("表", [], ["x"], [["y"]])])
