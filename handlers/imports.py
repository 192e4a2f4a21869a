"""Importing filled-in notice sheets (附件2 streamers, 附件1 enterprises with their products):
every row is validated with the chat's own parsers and rules (the form's fields: 1.2万,
full-width digits, phones, ≥ eligibility.min_followers, an account registered elsewhere...),
then the whole workbook is stored, or nothing is.

* Any error: nothing is stored; the report lists sheet, row, column, value and reason.
* Idempotent: a row whose account (附件2) or enterprise name (附件1) is stored already under
  the same unit is that registration: unchanged, or updated with the sheet's values. The same
  sheet twice changes nothing.
* Imported streamers are 组织推荐 of the sheet's unit, waiting for the committee's review, held
  by a placeholder person until someone opens their claim code (handlers/claim.py).
* The header line's 联系人及手机号 becomes the unit's contact; everything is audited.

This module is the whole import and each sheet's unit and contact; a sheet's rows read as the
chat's answers are handlers/import_sheet.py, 附件2's rows checked and stored
handlers/import_streamers.py, 附件1's handlers/import_enterprises.py, what it did
handlers/import_outcome.py. The chat's side (a .xlsx sent as a document, the stamped scan) is
handlers/import_chat.py, the command line bot/import_cli.py."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.core.context import Ctx
from bot.core.parsers import ParseError, parse_cn_mobile
from handlers import sheets
from handlers.import_enterprises import EnterpriseRows
from handlers.import_outcome import Outcome, RowError
from handlers.import_sheet import Importer
from handlers.import_streamers import StreamerRows
from handlers.sheet_reader import DataSheet, ReadBook
from models.units import Unit, UnitInfo, unit_directory

__all__ = ["Outcome", "RowError", "resolve_unit", "run"]


def run(
    ctx: Ctx,
    book: ReadBook,
    actor: int | None,
    default_unit: Unit | None,
    import_id: int | None,
    explicit: bool = False,
) -> Outcome:
    """Validates every sheet, then stores all of it (nothing when there is an error). The
    caller commits, or rolls back for a dry run. `default_unit`: the unit of a sheet whose
    header names none; `explicit` (the command line's --unit): a sheet naming another one is
    an error."""
    out = Outcome()
    plans: list[Callable[[], None]] = []
    for sheet in book.sheets:
        unit = _sheet_unit(ctx, sheet, default_unit, explicit, out)
        if unit is None:
            continue
        out.kinds.add(sheet.kind)
        out.unit_ids.add(unit.id)
        importer = Importer(ctx, sheet, unit, actor, out, import_id)
        if importer.columns_present():
            rows = StreamerRows if sheet.kind == "streamers" else EnterpriseRows
            plans.append(rows(importer).validate())
    if out.errors:
        return out
    # the rows' audit entries and claim codes are flushed together at the end: a query
    # between two rows must not flush row by row (that was most of an import's time)
    with ctx.session.no_autoflush:
        for apply in plans:
            apply()
    return out


# ----- the sheet's unit and its contact -------------------------------------------------------
def _sheet_unit(
    ctx: Ctx, sheet: DataSheet, default: Unit | None, explicit: bool, out: Outcome
) -> Unit | None:
    named = resolve_unit(ctx, sheet.unit_text) if sheet.unit_text else None
    line = ctx.t("sheet.unit_line", unit="").strip()
    if sheet.unit_text and named is None and default is None:
        out.errors.append(
            RowError(sheet.title, 0, line, sheet.unit_text, "import.err.no_such_unit")
        )
        return None
    if named is not None and default is not None and named.id != default.id and explicit:
        out.errors.append(
            RowError(
                sheet.title,
                0,
                line,
                sheet.unit_text,
                "import.err.unit_mismatch",
                {"given": default.name},
            )
        )
        return None
    unit = named or default
    if unit is None:
        out.errors.append(RowError(sheet.title, 0, line, "", "import.err.unit_missing"))
        return None
    if not ctx.scope.covers(unit.id):
        out.errors.append(
            RowError(sheet.title, 0, line, sheet.unit_text, "import.err.unit_not_yours")
        )
        return None
    _contact(ctx, sheet, unit, out)
    return unit


def resolve_unit(ctx: Ctx, text: str) -> Unit | None:
    """A unit as a sheet names it: its code, its full name (萍乡市 安源区), or its own name when
    only one unit has it; 共青团…委员会 / …团委 around it are allowed."""
    wanted = sheets.plain(text)
    stripped = re.sub(r"^共青团|(委员会|团委)$", "", wanted)
    by_full: dict[str, UnitInfo] = {}
    by_name: dict[str, list[UnitInfo]] = {}
    for u in unit_directory(ctx.session):
        by_full[sheets.plain(u.full_name)] = u
        by_full[sheets.plain(u.code)] = u
        by_name.setdefault(sheets.plain(u.name), []).append(u)
    for key in (wanted, stripped):
        found = by_full.get(key) or (by_name[key][0] if len(by_name.get(key, [])) == 1 else None)
        if found is not None:
            return ctx.session.get(Unit, found.id)
    return None


_PHONE_IN_TEXT = re.compile(r"(\+?86)?[\s-]*1[\d\s-]{9,14}\d|\S*\*{3,}\S*")


def _contact(ctx: Ctx, sheet: DataSheet, unit: Unit, out: Outcome) -> None:
    """联系人及手机号 → the unit's contact (stored with the import)."""
    text = sheet.contact_text
    if not text:
        return
    heading = ctx.t("sheet.contact_line", contact="").strip()
    match = _PHONE_IN_TEXT.search(text)
    try:
        phone = parse_cn_mobile(match.group(0)) if match else None
    except ParseError as exc:
        out.errors.append(
            RowError(sheet.title, sheet.contact_row, heading, text, exc.key, exc.params)
        )
        return
    name = (text[: match.start()] + text[match.end() :]).strip(" ,，、;；:") if match else text
    if phone is None or not name:
        out.errors.append(
            RowError(sheet.title, sheet.contact_row, heading, text, "import.err.contact_line")
        )
        return
    if (unit.contact_name, unit.contact_phone) != (name[:40], phone):
        out.contact_changed.append((unit.code, name[:40], phone))
