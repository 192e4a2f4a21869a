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

The chat's side (a .xlsx sent as a document, the stamped scan) is handlers/import_chat.py, the
command line bot/import_cli.py."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select

from bot.core.context import Ctx
from bot.core.forms import Answers, Field, FieldError
from bot.core.parsers import ParseError, parse_cn_mobile
from handlers import claim, enterprise, sheets, streamer, xlsx
from handlers import fields as f
from handlers.schemas import row_values
from handlers.sheet_reader import DataSheet, ReadBook, Row
from models import Enterprise, LiveAccount, Person, Product, SheetImport, Streamer, repo
from models import review_rules as rules
from models.units import Unit, UnitInfo, unit_directory


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
        plans.append(importer.validate())
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


_SPLIT = re.compile(r"[、,，;；/\n]+")


class Importer:
    """One sheet: validate() checks every row and returns the step that stores them."""

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

    def validate(self) -> Callable[[], None]:
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
        if missing:
            return lambda: None
        if self.sheet.kind == "streamers":
            return StreamerRows(self).validate()
        return EnterpriseRows(self).validate()

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
            by_text[sheets.plain(o.label)] = o.value
            by_text[sheets.plain(o.value)] = o.value
        parts = [p for p in _SPLIT.split(raw) if p.strip()] if fld.multi else [raw]
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
        params = {"display_name": name[:100], "created_at": self.now}
        return int(self.ctx.session.connection().execute(_PLACEHOLDER, params).scalar_one())

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


# built once: an import stores a thousand rows
_PLACEHOLDER = insert(Person).returning(Person.id)


def _jsonable(data: Any) -> Any:
    if data is None:
        return None
    return {k: (str(v) if isinstance(v, Decimal | dt.date) else v) for k, v in dict(data).items()}


# ----- 附件2 ---------------------------------------------------------------------------------
_STREAMER_SKIPPED = {"platform", "account_name", "second_platform", "second_account"}


class StreamerRows:
    def __init__(self, imp: Importer) -> None:
        self.imp = imp
        self.fields = tuple(
            fld
            for fld in streamer.FIELDS
            if fld.name in {c.key for c in sheets.STREAMER_COLUMNS}
            and fld.name not in _STREAMER_SKIPPED
        )
        self.platform = streamer.FIELDS[[x.name for x in streamer.FIELDS].index("platform")]

    def validate(self) -> Callable[[], None]:
        imp, ctx = self.imp, self.imp.ctx
        seen: dict[tuple[str, str], int] = {}
        planned: list[tuple[Row, dict[str, Any], dict[str, str], Streamer | None]] = []
        for row in imp.sheet.rows:
            accounts = self.accounts(row)
            if accounts is None:
                continue
            existing, row_ctx, ok = None, ctx, True
            for platform, name in accounts.items():
                key = (platform, name.lower())
                if key in seen:
                    imp.error(row, "account_name", "import.err.duplicate_in_sheet", other=seen[key])
                    ok = False
                seen.setdefault(key, row.number)
                owner = repo.account_owner(ctx.session, platform, name)
                if owner is not None:
                    found = ctx.session.get_one(Streamer, owner)
                    if found.unit_id != imp.unit.id:
                        imp.error(row, "account_name", "import.err.stored_elsewhere")
                        ok = False
                    elif existing is None:
                        existing = found
            if existing is not None:  # the chat's checks see the registration as its own
                row_ctx = dataclasses.replace(ctx, person_id=existing.person_id)
            answers: Answers = {}
            for n, (platform, name) in enumerate(accounts.items()):
                prefix = "" if n == 0 else "second_"
                answers[f"{prefix}platform"] = platform
                answers["account_name" if n == 0 else "second_account"] = name
            if len(accounts) == 1:
                answers["second_platform"] = None
            if not ok or not imp.parse_row(row, self.fields, answers, row_ctx):
                continue
            data = {
                **answers,
                "preset_unit": imp.unit.code,
                "preset_org": True,
                "declarations": "yes",
            }
            try:
                checked = streamer._to_model(row_ctx, data).model_dump()
            except FieldError as exc:
                imp.error(row, exc.field, exc.key, **exc.params)
                continue
            planned.append((row, checked, accounts, existing))

        def apply() -> None:
            for row, checked, accounts, existing in planned:
                self.store(row, checked, accounts, existing)

        return apply

    def accounts(self, row: Row) -> dict[str, str] | None:
        """The row's accounts (platform: name): 达人账号名 (two as "a、b"), on 直播平台 when the
        sheet has it (the notice's 附件2 has not: the first platform, 抖音)."""
        imp, ctx = self.imp, self.imp.ctx
        if row.blank("account_name"):
            imp.error(row, "account_name", "import.err.required")
            return None
        names = [n.strip() for n in _SPLIT.split(raw_text(row.value("account_name"))) if n.strip()]
        if row.blank("platform"):
            platforms = [ctx.config.platforms[0].key]
        else:
            try:
                platforms = [
                    imp.choice(self.platform, p, {}, ctx)
                    for p in _SPLIT.split(raw_text(row.value("platform")))
                    if p.strip()
                ]
            except ParseError as exc:
                imp.error(row, "platform", exc.key, **exc.params)
                return None
        if (
            len(names) > 2
            or (len(platforms) != len(names) and len(platforms) != 1)
            or len(names) == 0
        ):
            imp.error(row, "account_name", "import.err.accounts")
            return None
        if len(platforms) == 1 and len(names) == 2:
            imp.error(row, "platform", "import.err.accounts")
            return None
        found: dict[str, str] = {}
        for platform, name in zip(platforms, names, strict=True):
            try:
                found[platform] = f.text(40)(name, ctx, {})
            except ParseError as exc:
                imp.error(row, "account_name", exc.key, **exc.params)
                return None
        if len(found) != len(names):
            imp.error(row, "platform", "import.err.accounts")
            return None
        return found

    def store(
        self, row: Row, checked: dict[str, Any], accounts: dict[str, str], existing: Streamer | None
    ) -> None:
        imp, ctx = self.imp, self.imp.ctx
        values = row_values(checked, Streamer)
        where = (imp.sheet.title, row.number)
        if existing is None:
            first = next(iter(accounts.values()))
            record = {
                **values,
                "person_id": imp.placeholder(first),
                "unit_id": imp.unit.id,
                "recommendation": "org",
                "status": rules.initial_status(True, False).value,
                "reject_reason": None,
                "submitted_at": imp.now,
                "reviewed_at": None,
                "reviewed_by": None,
                "created_at": imp.now,
                "updated_at": imp.now,
            }
            streamer_id = repo.insert_streamer(ctx.session, record, accounts)
            code = claim.issue(ctx, "streamer", streamer_id, imp.unit.id, imp.actor)
            imp.audit("import", "streamer", streamer_id, None, {**values, "accounts": accounts})
            imp.out.created += 1
            imp.out.codes.append((first, code))
            imp.out.results[where] = ctx.t("import.result.created", code=code)
            return
        # a stored registration keeps how it came (自荐 endorsed by the unit stays 自荐)
        values = {k: v for k, v in values.items() if k not in ("recommendation", "declarations")}
        before = {k: getattr(existing, k) for k in values}
        stored = {a.platform: a.account_name for a in repo.accounts_of(ctx.session, existing.id)}
        open_code = claim.open_code(ctx, "streamer", existing.id)
        if before == values and all(stored.get(p) == n for p, n in accounts.items()):
            imp.out.unchanged += 1
            imp.out.results[where] = ctx.t("import.result.unchanged") + _code_note(ctx, open_code)
            return
        for key, value in values.items():
            setattr(existing, key, value)
        for account in repo.accounts_of(ctx.session, existing.id):
            if account.platform in accounts:
                account.account_name = accounts[account.platform]
        for platform, name in accounts.items():
            if platform not in stored:
                ctx.session.add(
                    LiveAccount(streamer_id=existing.id, platform=platform, account_name=name)
                )
        existing.updated_at = imp.now
        imp.audit("import_edit", "streamer", existing.id, before, values)
        imp.out.updated += 1
        imp.out.results[where] = ctx.t("import.result.updated") + _code_note(ctx, open_code)


def _code_note(ctx: Ctx, code: str | None) -> str:
    return "" if code is None else " " + ctx.t("import.result.claim", code=code)


# ----- 附件1 ---------------------------------------------------------------------------------
PRODUCT = "product:"  # the product columns' keys in a row (Column.cell_key)


class EnterpriseRows:
    def __init__(self, imp: Importer) -> None:
        self.imp = imp
        sheet_keys = {c.key for c in sheets.ENTERPRISE_COLUMNS if not c.product}
        self.fields = tuple(fld for fld in enterprise.FIELDS if fld.name in sheet_keys)
        self.product_fields = enterprise.PRODUCT.fields

    def groups(self) -> list[list[Row]]:
        """Rows by enterprise (one row per product, the enterprise's columns repeated): by
        企业名称; a row without one continues the one above (a merged cell)."""
        found: dict[str, list[Row]] = {}
        last: list[Row] | None = None
        for row in self.imp.sheet.rows:
            if row.blank("name") and last is not None:  # the enterprise's name, not the product's
                last.append(row)
                continue
            key = sheets.plain(row.value("name")) or f"#{row.number}"
            last = found.setdefault(key, [])
            last.append(row)
        return list(found.values())

    def validate(self) -> Callable[[], None]:
        imp, ctx = self.imp, self.imp.ctx
        planned: list[tuple[list[Row], dict[str, Any], Enterprise | None]] = []
        max_products = ctx.config.products.max_per_enterprise
        for rows in self.groups():
            first = rows[0]
            answers: Answers = {}
            ok = imp.parse_row(first, self.fields, answers)
            name = answers.get("name")
            existing = self.stored(name) if name else None
            if existing is not None and existing.unit_id != imp.unit.id:
                imp.error(first, "name", "import.err.stored_elsewhere")
                ok = False
            products: list[Answers] = []
            names: dict[str, int] = {}
            for row in rows:
                item: Answers = {}
                if not imp.parse_row(row, self.product_fields, item, prefix=PRODUCT):
                    ok = False
                    continue
                if item.get("priority_tag") is None:
                    item["priority_tag"] = enterprise.NO_TAG
                item["attachment_file_id"] = self.picture(row)
                key = sheets.plain(item.get("name"))
                if key in names:
                    imp.error(
                        row, PRODUCT + "name", "import.err.duplicate_in_sheet", other=names[key]
                    )
                    ok = False
                names.setdefault(key, row.number)
                item["_row"] = row.number
                products.append(item)
            if len(rows) > max_products:
                imp.error(first, "name", "import.err.too_many_products", max=max_products)
                ok = False
            if not ok:
                continue
            # The sheet carries no agreement to the money rules: the form's answer is only
            # filled in to validate the rest; money_rules_agreed_at stays empty, so the
            # enterprise is asked at its first message (handlers/money.py gate).
            data = {
                **answers,
                "products": products,
                "preset_unit": imp.unit.code,
                "money_rules": enterprise.AGREE,
            }
            try:
                checked = enterprise._to_model(data).model_dump()
            except FieldError as exc:
                imp.error(first, exc.field, exc.key, **exc.params)
                continue
            checked["_products"] = products
            planned.append((rows, checked, existing))

        def apply() -> None:
            for rows, checked, existing in planned:
                self.store(rows, checked, existing)

        return apply

    def stored(self, name: str) -> Enterprise | None:
        return self.imp.ctx.session.scalars(
            select(Enterprise).where(func.lower(Enterprise.name) == name.lower()).limit(1)
        ).first()

    def picture(self, row: Row) -> str | None:
        """The product's picture when its cell links to a file in our storage (an export's
        link); otherwise it is asked for in chat (noted for the report)."""
        cell = row.cells.get(PRODUCT + "attachment_file_id")
        if cell is None or (cell.value in (None, "") and not cell.link):
            return None
        stored = _stored_upload(self.imp.ctx, cell.link)
        if stored is None:
            self.imp.out.pictures_missing.append(raw_text(row.value(PRODUCT + "name") or ""))
        return stored

    def store(self, rows: list[Row], checked: dict[str, Any], existing: Enterprise | None) -> None:
        imp, ctx = self.imp, self.imp.ctx
        values = row_values(checked, Enterprise)
        if not values["has_shop"]:
            values["shop_type"] = values["shop_link"] = None
        status = rules.initial_status(True, False).value
        created = existing is None
        if existing is None:
            existing = Enterprise(
                person_id=imp.placeholder(values["name"]),
                unit_id=imp.unit.id,
                status=status,
                submitted_at=imp.now,
                created_at=imp.now,
                updated_at=imp.now,
                **values,
            )
            ctx.session.add(existing)
            ctx.session.flush()
            before = None
        else:
            before = {k: getattr(existing, k) for k in values}
            if before != values:
                for key, value in values.items():
                    setattr(existing, key, value)
                existing.updated_at = imp.now
        products = {sheets.plain(p.name): p for p in repo.products_of(ctx.session, existing.id)}
        changed = before != values
        results: dict[int, str] = {}
        for item, entry in zip(checked["_products"], checked["products"], strict=True):
            product_values = row_values(entry, Product)
            if product_values["priority_tag"] == enterprise.NO_TAG:
                product_values["priority_tag"] = None
            product = products.get(sheets.plain(product_values["name"]))
            if product is None:
                ctx.session.add(
                    Product(
                        enterprise_id=existing.id,
                        status=status,
                        created_at=imp.now,
                        updated_at=imp.now,
                        **product_values,
                    )
                )
                changed = True
                results[item["_row"]] = "created"
                continue
            if product_values.get("attachment_file_id") is None:
                product_values.pop("attachment_file_id")  # a picture sent in chat stays
            if any(getattr(product, k) != v for k, v in product_values.items()):
                for key, value in product_values.items():
                    setattr(product, key, value)
                if product.status in (rules.REJECTED, rules.WITHDRAWN):
                    product.status, product.reject_reason = status, None
                product.updated_at = imp.now
                changed = True
                results[item["_row"]] = "updated"
            else:
                results[item["_row"]] = "unchanged"
        ctx.session.flush()
        existing.status = rules.enterprise_status(
            p.status for p in repo.products_of(ctx.session, existing.id)
        ).value
        code = (
            claim.issue(ctx, "enterprise", existing.id, imp.unit.id, imp.actor)
            if created
            else claim.open_code(ctx, "enterprise", existing.id)
        )
        if created:
            imp.out.created += 1
            imp.out.codes.append((values["name"], code or ""))
            imp.audit("import", "enterprise", existing.id, None, values)
        elif changed:
            imp.out.updated += 1
            imp.audit("import_edit", "enterprise", existing.id, before, values)
        else:
            imp.out.unchanged += 1
        for number, what in results.items():
            text = ctx.t(f"import.result.{'created' if created else what}", code=code or "")
            if not created and code:
                text += _code_note(ctx, code)
            imp.out.results[(imp.sheet.title, number)] = text


def _stored_upload(ctx: Ctx, link: str | None) -> str | None:
    """A hyperlink to a picture in our uploads folder (what an export links): its path."""
    if not link or ctx.files_dir is None:
        return None
    path = xlsx.local_path(link)
    if path is None:
        return None
    uploads = (ctx.files_dir / "uploads").resolve()
    try:
        resolved = path.resolve()
    except OSError:
        return None
    if not resolved.is_file() or uploads not in resolved.parents:
        return None
    return str(path)
