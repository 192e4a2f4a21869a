"""附件1 rows: an enterprise's rows (one per product, its own columns repeated or merged)
checked as the enterprise form would check them, then stored: a new enterprise with its
products (a claim code), or the stored one and its products updated, or left as they are.
A product's picture is taken only from a link to our own uploads (what an export links)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.core.context import Ctx
from bot.core.forms import Answers, FieldError
from handlers import claim, enterprise, sheets, xlsx
from handlers.import_sheet import Importer, code_note, raw_text
from handlers.schemas import row_values
from handlers.sheet_reader import Row
from models import Enterprise, Product, erased_marks, erasure, repo
from models import review_rules as rules

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
            if name and self.erased(name, existing):
                imp.skip_erased(first)
                continue
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
        return repo.enterprise_named(self.imp.ctx.session, name)

    def erased(self, name: str, existing: Enterprise | None) -> bool:
        """An enterprise whose data was erased: its name kept (an award, a donation) under an
        erased person, or its name gone and fingerprinted."""
        session = self.imp.ctx.session
        if existing is not None:
            return erasure.is_erased(session, existing.person_id)
        return bool(erased_marks.marked(session, erased_marks.ENTERPRISE, [(name,)]))

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
                text += code_note(ctx, code)
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
