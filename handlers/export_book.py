"""The workbook of one /export (handlers/export.py): the sheets built from the stored rows.
附件2 and 附件1 laid out as the notice's forms (handlers/sheets.py), one sheet per unit with a
汇总 first when there are several and the withdrawn on a sheet of their own; the daily reports
on one sheet whose rows are streamed from the database as the file is written. A sheet's
columns are the form's stored fields, so a new field of a form is a new column without a line
here."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from bot.core.context import Ctx
from bot.core.forms import Field
from bot.core.i18n import fmt_local, mask_phone
from handlers import report, sheets, xlsx
from handlers.fields import Kind, cell_of
from handlers.sheets import Column
from models import Enterprise, Product, exports
from models import review_rules as rules
from models.units import Unit, UnitInfo, unit_contacts, unit_directory


# A sheet's columns are the form's stored fields, in the form's order, headed by their
# field's heading (or label), so a new field of a form is a new column without a line here.
def headings(
    ctx: Ctx, before: Sequence[str], fields: Sequence[Field], after: Sequence[str]
) -> list[str]:
    keys = [
        *(f"export.col.{c}" for c in before),
        *(field.heading or field.label for field in fields),
        *(f"export.col.{c}" for c in after),
    ]
    return [ctx.t(key) for key in keys]


def cells(ctx: Ctx, fields: Sequence[Field], row: object) -> list[Any]:
    return [cell_of(field, getattr(row, field.name), ctx) for field in fields]


class Book:
    """The sheets of one export, built from the stored rows."""

    def __init__(self, ctx: Ctx, phones: bool, unit: Unit | None) -> None:
        self.ctx = ctx
        self.phones = phones  # False: phone numbers masked
        self.unit = unit  # the unit asked for (its 汇总's header line), None: all
        self.units = {u.id: u for u in unit_directory(ctx.session)}
        self.contacts: dict[int, tuple[str | None, str | None]] | None = None
        self.sheets: list[xlsx.Sheet] = []
        self.at = fmt_local(ctx.clock.now(), ctx.clock.tz)

    # ----- 附件2 ----------------------------------------------------------------------------
    def streamers(self, unit_ids: list[int] | None) -> int:
        rows = exports.streamers(self.ctx.session, unit_ids)
        accounts = exports.accounts_by_streamer(self.ctx.session, unit_ids)
        return self._laid_out(
            "streamers",
            [(s.unit_id, s.status == rules.WITHDRAWN, (s, accounts.get(s.id, []))) for s in rows],
        )

    def _streamer_cell(self, column: Column, item: Any) -> Any:
        s, accounts = item
        ctx = self.ctx
        if column.key == "account_name":
            return "、".join(name for _p, name in accounts)
        if column.key == "platform":
            return "、".join(ctx.config.platform_label(p, ctx.locale) for p, _n in accounts)
        if column.key == "phone" and not self.phones:
            return mask_phone(s.phone)
        if column.field is not None:
            return cell_of(column.field, getattr(s, column.key), ctx)
        return {
            "unit": self._unit_name(s.unit_id),
            "recommendation": ctx.t(f"review.rec.{s.recommendation}"),
            "status": ctx.t(f"status.{s.status}"),
            "reason": s.reject_reason or "",
            "id": s.id,
            "exported_at": self.at,
        }[column.key]

    # ----- 附件1 ----------------------------------------------------------------------------
    def enterprises(self, unit_ids: list[int] | None) -> int:
        pairs = exports.enterprise_products(self.ctx.session, unit_ids)
        return self._laid_out(
            "enterprises", [(e.unit_id, p.status == rules.WITHDRAWN, (e, p)) for e, p in pairs]
        )

    def _enterprise_cell(self, column: Column, item: tuple[Enterprise, Product]) -> Any:
        e, p = item
        ctx = self.ctx
        row: Any = p if column.product else e
        if column.key == "phone" and not self.phones:
            return mask_phone(e.phone)
        if column.field is not None and column.field.accepts_photo:
            return _picture(getattr(row, column.key), ctx)
        if column.field is not None:
            return cell_of(column.field, getattr(row, column.key), ctx)
        return {
            "unit": self._unit_name(e.unit_id),
            "status": ctx.t(f"status.{p.status}"),
            "reason": p.reject_reason or "",
            "id": p.id,
            "exported_at": self.at,
        }[column.key]

    # ----- the sheets -----------------------------------------------------------------------
    def _laid_out(self, kind: str, items: list[tuple[int, bool, Any]]) -> int:
        """One sheet per unit (a 汇总 first when there are several), the withdrawn apart;
        returns how many rows are numbered."""
        columns = sheets.COLUMNS[kind]
        cell = self._streamer_cell if kind == "streamers" else self._enterprise_cell
        header = sheets.headings(self.ctx, kind)
        by_unit: dict[int, list[list[Any]]] = {}
        everyone: list[list[Any]] = []
        withdrawn: list[list[Any]] = []
        numbers: dict[int, int] = {}  # 附件1: an enterprise's products share its number
        for unit_id, gone, item in items:
            row = [cell(c, item) if c.key != "no" else None for c in columns]
            if gone:
                withdrawn.append(row)
                continue
            key = item[0].id  # the streamer, or the enterprise of the product
            by_unit.setdefault(unit_id, []).append(row)
            everyone.append(row)
            numbers.setdefault(key, len(numbers) + 1)
            row[0] = numbers[key]
        ordered = sorted(by_unit, key=lambda u: self.units[u].code if u in self.units else "")
        if len(ordered) != 1:  # a city with its counties, or every unit: the 汇总 first
            info = self._info(self.unit.id) if self.unit else None
            title = sheets.layout(self.ctx, "sheet.summary")
            self._sheet(
                kind, f"{title} {info.full_name}" if info else title, info, header, everyone
            )
        for unit_id in ordered:
            per_unit = by_unit[unit_id]
            if len(ordered) != 1:  # numbered within the unit's own sheet too
                per_unit = _renumbered(per_unit)
            info = self._info(unit_id)
            self._sheet(kind, info.full_name if info else str(unit_id), info, header, per_unit)
        if withdrawn:
            self._sheet(kind, sheets.layout(self.ctx, "sheet.withdrawn"), None, header, withdrawn)
        return len(everyone)

    def _sheet(
        self,
        kind: str,
        title: str,
        unit: UnitInfo | None,
        header: list[str],
        rows: list[list[Any]],
    ) -> None:
        name = unit.full_name if unit else (title if self.unit is None else "")
        contact = self._contact(unit.id) if unit else ""
        top = sheets.top_rows(self.ctx, kind, name, contact)
        merged = sheets.merged_top(kind)
        self.sheets.append(xlsx.Sheet(title, top, header, list(rows), merged))

    def _contact(self, unit_id: int) -> str:
        if self.contacts is None:  # every unit's at once: an export of every unit has 100 sheets
            self.contacts = unit_contacts(self.ctx.session)
        name, phone = self.contacts.get(unit_id, (None, None))
        if not (name or phone):
            return ""
        if phone and not self.phones:
            phone = mask_phone(phone)
        return " ".join(p for p in (name or "", phone or "") if p)

    def _info(self, unit_id: int) -> UnitInfo | None:
        return self.units.get(unit_id)

    def _unit_name(self, unit_id: int) -> str:
        info = self.units.get(unit_id)
        return info.full_name if info else ""

    # ----- the daily reports ----------------------------------------------------------------
    def reports(self, unit_ids: list[int] | None) -> list[int]:
        """The reports' sheet, its rows streamed from the database as the file is written (a
        big festival's live month is millions of rows); returns a box holding how many rows
        were written once the workbook is. Not one of the notice's forms: its headings are in
        the reader's language."""
        ctx = self.ctx
        header = headings(
            ctx,
            ("date", "account", "platform", "unit"),
            report.STORED,
            ("rejected", "reason", "revision", "streamer_id", "held", "rules"),
        )
        top = [[ctx.t("export.generated", at=self.at)]]
        count = [0]
        rows = self._report_rows(unit_ids, count)
        self.sheets.append(xlsx.Sheet(ctx.t("export.kind.reports"), top, header, rows))
        return count

    def _report_rows(self, unit_ids: list[int] | None, count: list[int]) -> Iterator[list[Any]]:
        ctx = self.ctx
        yes, no = ctx.t("export.yes"), ctx.t("export.no")
        labels = {p.key: p.label_in(ctx.locale) for p in ctx.config.platforms}
        units: dict[int, str] = {}  # unit id -> its full name
        rule_names: dict[str, str] = {}  # an anomaly rule -> its name in the reader's language
        fields = report.STORED
        n = len(fields)
        # looked up once, not per cell; a kind whose cell is its stored value is not called
        # (None and "" are both an empty cell)
        made = [(4 + i, _cell_maker(f, ctx)) for i, f in enumerate(fields) if not _as_stored(f)]
        for r in exports.report_rows(ctx.session, unit_ids, [f.name for f in fields]):
            day, account, platform, unit_id = r[:4]
            rejected, reason, revision, streamer_id, held, flags = r[4 + n :]
            unit = units.get(unit_id)
            if unit is None:
                unit = units[unit_id] = self._unit_name(unit_id)
            names = ""
            if flags:  # the rules' JSON as stored: most reports have none ("[]")
                fired = json.loads(flags) or ()
                for flag in fired:
                    rule = str(flag.get("rule"))
                    if rule not in rule_names:
                        rule_names[rule] = ctx.t(f"trust.name.{rule}")
                names = "、".join(rule_names[str(f.get("rule"))] for f in fired)
            count[0] += 1
            row = [day, account, labels.get(platform, platform), unit, *r[4 : 4 + n]]
            for i, cell in made:
                row[i] = cell(row[i], ctx)
            row += (
                yes if rejected else no,
                reason,
                revision,
                streamer_id,
                yes if held and not rejected else no,
                names,
            )
            yield row


def _as_stored(field: Field) -> bool:
    """A field whose cell is its stored value as it is (a count, a duration in minutes)."""
    return isinstance(field.parse, Kind) and type(field.parse).cell is Kind.cell


def _cell_maker(field: Field, ctx: Ctx) -> Callable[[Any, Ctx], Any]:
    """cell_of for one field, its kind looked up once."""
    if isinstance(field.parse, Kind):
        return field.parse.cell
    return lambda value, ctx: cell_of(field, value, ctx)


def _renumbered(rows: list[list[Any]]) -> list[list[Any]]:
    numbers: dict[Any, int] = {}
    out = []
    for row in rows:
        numbers.setdefault(row[0], len(numbers) + 1)
        out.append([numbers[row[0]], *row[1:]])
    return out


def _picture(ref: str | None, ctx: Ctx) -> Any:
    """A product's picture: a link to the stored file (openable where the bot's files are,
    and read back by the import); a picture only a platform holds is 是."""
    if not ref:
        return ""
    path = Path(ref)
    if path.is_file():
        return xlsx.Link(path.name, path.resolve().as_uri())
    return ctx.t("export.yes")
