"""The files an erasure removes or redacts (handlers/forget.py): stored pictures that lost
their last reference, exports, the import workbooks that held the people's rows (redacted) and
their stamped scans. Only files inside the bot's data directory are touched."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path

from models.erasure import Erased
from models.imports import SheetImport

log = logging.getLogger(__name__)


def remove_files(files_dir: Path | None, done: Erased, erased: str) -> int:
    """The stored files that lost their last reference, every export (a unit's sheet holds
    everyone's rows; they are made again on demand), and the import sheets that held the
    people's rows: the workbook redacted (their rows emptied), the stamped scan removed (a
    picture cannot be redacted). Only files inside the data directory are touched."""
    if files_dir is None:
        return 0
    removed = sum(_unlink(files_dir, ref) for ref in done.files)
    removed += remove_exports(files_dir)
    pattern = done.needles.regex()
    for sheet in done.sheets:
        removed += _redact_sheet(files_dir, sheet, pattern, erased)
    return removed


def remove_exports(files_dir: Path) -> int:
    folder = files_dir / "exports"
    if not folder.is_dir():
        return 0
    return sum(_unlink(files_dir, str(p)) for p in folder.iterdir() if p.is_file())


def remove_sheets(files_dir: Path | None, sheets: Iterable[SheetImport]) -> int:
    """The retention job: every kept workbook and scan goes (the import records stay)."""
    removed = 0
    for sheet in sheets:
        for ref in (sheet.file_path, sheet.scan_path):
            if ref and files_dir is not None:
                removed += _unlink(files_dir, ref)
        sheet.file_path, sheet.scan_path = None, None
    return removed


def _unlink(files_dir: Path, ref: str) -> int:
    path = Path(ref)
    try:
        inside = path.resolve().is_relative_to(files_dir.resolve())
    except (OSError, ValueError):
        return 0
    if not inside or not path.is_file():
        return 0  # a platform's file id, or not ours
    path.unlink(missing_ok=True)
    return 1


def _redact_sheet(
    files_dir: Path, sheet: SheetImport, pattern: re.Pattern[str] | None, erased: str
) -> int:
    """Empties the rows of the workbook that hold an erased value; removes the scan. A
    workbook that cannot be rewritten is removed."""
    removed = 0
    if sheet.scan_path:
        removed += _unlink(files_dir, sheet.scan_path)
        sheet.scan_path = None
    if not sheet.file_path or pattern is None or not Path(sheet.file_path).is_file():
        return removed
    from openpyxl import load_workbook

    path = Path(sheet.file_path)
    try:
        book = load_workbook(path)
        for ws in book.worksheets:
            for row in ws.iter_rows():
                if any(isinstance(c.value, str) and pattern.search(c.value) for c in row) or any(
                    isinstance(c.value, int) and pattern.fullmatch(str(c.value)) for c in row
                ):
                    for cell in row:
                        if cell.value is not None and not isinstance(cell.value, (int, float)):
                            cell.value = erased
                        elif cell.value is not None:
                            cell.value = None
        book.save(path)
    except Exception as exc:  # a workbook we cannot rewrite must not keep the rows
        log.warning("import sheet %s not redacted (%r); removed", sheet.id, exc)
        removed += _unlink(files_dir, sheet.file_path)
        sheet.file_path = None
    return removed
