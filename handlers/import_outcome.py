"""What an import did, or would do (a dry run), or why it did nothing: the errors (sheet,
row, column, value, reason) and the counts, the claim codes, the returned sheet's last column.
handlers/import_chat.py and bot/import_cli.py turn it into the report people read."""

from __future__ import annotations

from dataclasses import dataclass, field

from models import SheetImport


@dataclass(frozen=True)
class RowError:
    sheet: str
    row: int
    column: str  # the heading as the sheet has it (or ours)
    value: str
    key: str  # catalog key of the reason
    params: dict[str, object] = field(default_factory=dict)


@dataclass
class Outcome:
    """What an import did, or would do (a dry run), or why it did nothing."""

    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    erased: int = 0  # rows of people whose data was erased: not imported again
    rows: int = 0
    kinds: set[str] = field(default_factory=set)
    unit_ids: set[int] = field(default_factory=set)
    contact_changed: list[tuple[str, str, str]] = field(default_factory=list)  # unit, name, phone
    # per (sheet, row): what the returned sheet's last column says (a claim code, 已更新...)
    results: dict[tuple[str, int], str] = field(default_factory=dict)
    codes: list[tuple[str, str]] = field(default_factory=list)  # (account or enterprise, code)
    pictures_missing: list[str] = field(default_factory=list)  # products without their picture
    previous: SheetImport | None = None  # nothing changed: the earlier import of this file

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.contact_changed)
