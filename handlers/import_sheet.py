"""One sheet being imported (handlers/imports.py `run`): its unit, who imports and the
outcome; a row's cells read as the chat would have received them typed and parsed with the
form's own fields (1.2万, full-width digits, phones...), each bad cell an error of the
outcome; and what storing a row needs (the placeholder person, the audit entry). The rows of
each kind: handlers/import_streamers.py (附件2), handlers/import_enterprises.py (附件1)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from bot.core.context import Ctx
from bot.core.forms import Answers, Field
from bot.core.parsers import ParseError
from handlers import enterprise, sheets
from handlers import fields as f
from handlers.import_outcome import Outcome, RowError
from handlers.sheet_reader import DataSheet, Row
from models import repo
from models.units import Unit


# ----- a cell as an answer --------------------------------------------------------------------
def raw_text(value: Any, percent: bool = False) -> str:
    """A cell's value as the chat would have received it typed."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if percent:
            value = Decimal(str(value)) * 100
            return f"{value.normalize():f}%"
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


SPLIT = re.compile(r"[、,，;；/\n]+")


class Importer:
    """One sheet: columns_present() checks its header, the rows of its kind (StreamerRows,
    EnterpriseRows) check every row with answer() and return the step that stores them."""

    def __init__(
        self,
        ctx: Ctx,
        sheet: DataSheet,
        unit: Unit,
        actor: int | None,
        out: Outcome,
        import_id: int | None,
    ) -> None:
        self.ctx, self.sheet, self.unit, self.actor, self.out = ctx, sheet, unit, actor, out
        self.import_id = import_id
        self.headings = {c.cell_key: ctx.t(c.heading) for c in sheets.COLUMNS[sheet.kind]}
        self.now = ctx.clock.now()

    def error(self, row: Row, key: str, reason: str, **params: object) -> None:
        value = row.value(key)
        shown = "" if value is None else raw_text(value)
        heading = self.headings.get(key, key)
        self.out.errors.append(
            RowError(self.sheet.title, row.number, heading, shown[:60], reason, params)
        )

    def skip_erased(self, row: Row) -> None:
        """A row of someone whose data was erased (/forget, the retention date): not imported
        again, whatever the sheet says; the answer and the returned sheet say so."""
        self.out.erased += 1
        self.out.results[(self.sheet.title, row.number)] = self.ctx.t("import.result.erased")

    def columns_present(self) -> bool:
        """Counts the sheet's rows; False (each missing column an error) when a column the
        form needs is not in the sheet: its rows are then not read."""
        self.out.rows += len(self.sheet.rows)
        missing = [
            c for c in self.sheet.missing if c.field is not None and not c.field.may_be_missing()
        ]
        for column in missing:
            self.out.errors.append(
                RowError(
                    self.sheet.title,
                    self.sheet.header_row,
                    self.ctx.t(column.heading),
                    "",
                    "import.err.column_missing",
                )
            )
        return not missing

    # parsing one answer with the form's field ------------------------------------------------
    def answer(
        self, row: Row, fld: Field, answers: Answers, ctx: Ctx | None = None, prefix: str = ""
    ) -> Any:
        """The field's answer from the row's cell, as the chat would take it typed; raises
        ParseError with the chat's reason."""
        ctx = ctx or self.ctx
        cell = row.cells.get(prefix + fld.name)
        value = None if cell is None else cell.value
        if value is None or str(value).strip() == "":
            if fld.may_be_missing() or fld.skippable(ctx):
                return None
            options = fld.options(ctx, answers) if fld.options else []
            if any(o.value == enterprise.NO_TAG for o in options):  # 产品类别 left empty: none
                return enterprise.NO_TAG
            raise ParseError("import.err.required")
        raw = raw_text(value, cell.percent if cell else False)
        if fld.options is not None and not isinstance(fld.parse, f.YesNo):
            return self.choice(fld, raw, answers, ctx)
        assert fld.parse is not None, fld.name
        return fld.parse(raw, ctx, answers)

    def choice(self, fld: Field, raw: str, answers: Answers, ctx: Ctx) -> Any:
        options = fld.options(ctx, answers) if fld.options else []
        by_text = {}
        for o in options:
            # the label in the importer's language, its name in the other one (a Chinese
            # sheet imported by someone who reads English), and the stored value
            for name in (o.label, *o.also, o.value):
                by_text[sheets.plain(name)] = o.value
        parts = [p for p in SPLIT.split(raw) if p.strip()] if fld.multi else [raw]
        chosen = []
        for part in parts:
            value = by_text.get(sheets.plain(part))
            if value is None:
                labels = "、".join(o.label for o in options)
                raise ParseError("import.err.unknown_choice", value=part[:20], choices=labels)
            if value not in chosen:
                chosen.append(value)
        return chosen if fld.multi else chosen[0]

    def parse_row(
        self,
        row: Row,
        fields: tuple[Field, ...],
        answers: Answers,
        ctx: Ctx | None = None,
        prefix: str = "",
    ) -> bool:
        """Every field of the row into `answers`; each bad one is an error. True if all fit.
        `prefix`: "product:" for 附件1's product columns."""
        ok = True
        for fld in fields:
            if not self.applies(fld, answers) or fld.accepts_photo:  # pictures: see picture()
                continue
            try:
                answers[fld.name] = self.answer(row, fld, answers, ctx, prefix)
            except ParseError as exc:
                self.error(row, prefix + fld.name, exc.key, **exc.params)
                ok = False
        return ok

    def applies(self, fld: Field, answers: Answers) -> bool:
        return fld.when is None or fld.when(answers, self.ctx)

    def placeholder(self, name: str) -> int:
        """The person an imported registration belongs to until someone claims it."""
        return repo.placeholder_person(self.ctx.session, name, self.now)

    def audit(self, action: str, entity: str, entity_id: int, before: Any, after: Any) -> None:
        note = f"import {self.import_id}" if self.import_id else "import"
        repo.audit(
            self.ctx.session,
            self.now,
            self.actor,
            action,
            entity,
            entity_id,
            before=_jsonable(before),
            after=_jsonable(after),
            note=f"{note}: {self.sheet.title} ({self.unit.code})",
        )


def _jsonable(data: Any) -> Any:
    if data is None:
        return None
    return {k: (str(v) if isinstance(v, Decimal | dt.date) else v) for k, v in dict(data).items()}


def code_note(ctx: Ctx, code: str | None) -> str:
    """A result's note of the claim code still open for a stored registration."""
    return "" if code is None else " " + ctx.t("import.result.claim", code=code)
