"""Enterprise registration (附件1 企业报名登记表) with one or more products (产品审核 each).

```mermaid
flowchart TD
  start([企业报名]) --> privacy{privacy accepted?} -- yes --> unit[填报单位: city → county, university, provincial]
  unit --> info[name, industry, main products, contact, mobile] --> shop{has a shop?}
  shop -- yes --> shopinfo[shop type/platform, shop link] --> product
  shop -- no --> product[product: name, priority tag, monthly orders,<br/>monthly turnover, stock, attachment?]
  product --> more{another product?} -- add --> product
  more -- done --> rules{the donation rule: 同意?} -- yes --> summary[summary: edit, add or delete products]
  summary --> confirm([确认: products 待审核])
```

Longer than 300 lines on purpose: one form (附件1's fields with its products group, its diagram)
with its confirmation: a form is data and reads best whole.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from bot.core.context import Ctx
from bot.core.forms import Answers, Field, FieldError, Form, Option
from bot.core.messages import Reply
from handlers import fields as f
from handlers import money, notify, schemas, unit_picker
from models import Enterprise, Product, ReviewStatus, repo
from models import review_rules as rules
from models.units import unit_by_code, unit_full_name, unit_reviewers


def _industry_options(ctx: Ctx, _a: Answers) -> list[Option]:
    return [f.labelled_option(ctx, c.label, c) for c in ctx.config.products.categories]


def _tag_options(ctx: Ctx, _a: Answers) -> list[Option]:
    tags = [f.labelled_option(ctx, t.key, t) for t in ctx.config.products.priority_tags]
    return [*tags, Option("none", ctx.t("opt.no_tag"))]


def _show_yes_no(value: Any, ctx: Ctx) -> str:
    return ctx.t("opt.yes") if value == "yes" else ctx.t("opt.no")


def _has_shop(a: Answers, _ctx: Ctx) -> bool:
    return a.get("has_shop") == "yes"


AGREE = "agree"  # the answer of the money rules' question that lets the form be submitted


def _agree_options(ctx: Ctx, _a: Answers) -> list[Option]:
    return [Option(AGREE, ctx.t("opt.money_agree")), Option("no", ctx.t("opt.money_disagree"))]


def _rule_prompt(ctx: Ctx, _a: Answers) -> dict[str, object]:
    return {"rule": money.donation_rule(ctx.locale, ctx.config)}


PRODUCT = Form(
    "product",
    "enterprise.product_title",
    (
        Field(
            "name",
            "ask.product_name",
            "label.product_name",
            parse=f.text(60),
            heading="export.col.product",
        ),
        Field(
            "priority_tag",
            "ask.priority_tag",
            "label.priority_tag",
            options=_tag_options,
            heading="export.col.priority",
            extra_column=True,  # not a column of the notice's 附件1
        ),
        Field(
            "monthly_orders",
            "ask.monthly_orders",
            "label.monthly_orders",
            parse=f.count(),
            show=f.show_int,
            heading="export.col.monthly_orders",
        ),
        Field(
            "monthly_turnover_fen",
            "ask.monthly_turnover",
            "label.monthly_turnover",
            parse=f.money(),
            show=f.show_yuan,
            heading="export.col.monthly_turnover",
        ),
        Field(
            "stock",
            "ask.stock",
            "label.stock",
            parse=f.count(),
            show=f.show_int,
            heading="export.col.stock",
        ),
        Field(
            "attachment_file_id",
            "ask.attachment",
            "label.attachment",
            accepts_photo=True,
            optional=True,
            show=lambda v, c: c.t("form.photo_received"),
            heading="export.col.attachment",
        ),
    ),
    on_confirm=lambda _ctx, _a: [],
    item_label="label.product",
)

FIELDS = (
    *unit_picker.unit_fields(),
    Field(
        "name",
        "ask.enterprise_name",
        "label.enterprise_name",
        parse=f.text(60),
        heading="export.col.enterprise",
    ),
    Field(
        "industry",
        "ask.industry",
        "label.industry",
        options=_industry_options,
        heading="export.col.industry",
    ),
    Field("main_products", "ask.main_products", "label.main_products", parse=f.text(200)),
    Field(
        "contact_name",
        "ask.contact_name",
        "label.contact_name",
        parse=f.text(20),
        heading="export.col.contact",
    ),
    Field("phone", "ask.enterprise_phone", "label.mobile", parse=f.phone, accepts_contact=True),
    Field(
        "has_shop",
        "ask.has_shop",
        "label.has_shop",
        options=f.yes_no_options,
        parse=f.yes_no_parse,
        show=_show_yes_no,
        heading="export.col.has_shop",
    ),
    Field(
        "shop_type",
        "ask.shop_type",
        "label.shop_type",
        parse=f.text(60),
        when=_has_shop,
        heading="export.col.shop_type",
    ),
    Field("shop_link", "ask.shop_link", "label.shop_link", parse=f.url, when=_has_shop),
    Field(
        "products",
        "ask.products",
        "label.products",
        group=PRODUCT,
        max_items=lambda c: c.config.products.max_per_enterprise,
    ),
    # the donation rule (5% of festival turnover, the directed part), agreed before submitting
    Field(
        "money_rules",
        "ask.money_rules",
        "label.money_rules",
        options=_agree_options,
        prompt_params=_rule_prompt,
    ),
)


# The answers validated once more at confirm, and those stored as they are (the snapshot
# an enterprise is edited from, the spreadsheet's columns): all from the fields.
Registration = schemas.model_of("EnterpriseRegistration", FIELDS, schemas.EnterpriseDerived)
STORED = schemas.stored_fields(FIELDS, Enterprise, schemas.EnterpriseDerived)
PRODUCT_STORED = schemas.stored_fields(PRODUCT.fields, Product)
NO_TAG = "none"  # the answer for a product without a priority tag (stored as NULL)


def _to_model(a: Answers) -> schemas.EnterpriseDerived:
    data = {**a, "unit": unit_picker.chosen_unit(a)}
    try:
        return Registration.model_validate(data)
    except ValidationError as exc:
        name = str(exc.errors()[0]["loc"][0])
        raise FieldError(name if name in a else "name", "err.invalid_value") from exc


def snapshot(ctx: Ctx, ent: Enterprise) -> dict[str, Any]:
    """The stored enterprise as form answers (for /me edit and the audit log)."""
    data: dict[str, Any] = {}
    for field in STORED:  # in form order: whether a field applies depends on earlier ones
        if FORM.applies(field, data, ctx):
            data[field.name] = f.answer_of(field, getattr(ent, field.name))
    data.update(unit_picker.unit_answers(ctx, ent.unit_id, preset=False))
    data["products"] = [
        {
            "id": p.id,
            **{field.name: f.answer_of(field, getattr(p, field.name)) for field in PRODUCT_STORED},
            "priority_tag": p.priority_tag or NO_TAG,
        }
        for p in repo.products_of(ctx.session, ent.id)
        if p.status != ReviewStatus.WITHDRAWN or _withdrawn_with(ent, p)
    ]
    if ent.money_rules_agreed_at is not None:
        data["money_rules"] = AGREE
    return data


def _withdrawn_with(ent: Enterprise, p: Product) -> bool:
    """A product withdrawn together with its whole enterprise (/me 撤回企业报名, one
    moment for both): editing the enterprise brings it back; a product removed in an
    earlier edit stays removed."""
    return ent.status == ReviewStatus.WITHDRAWN and p.updated_at == ent.updated_at


def on_confirm(ctx: Ctx, a: Answers) -> list[Reply]:
    """Stores the enterprise and its products; each product goes to review."""
    if a.get("money_rules") != AGREE:
        raise FieldError("money_rules", "money.must_agree")
    reg = _to_model(a)
    now = ctx.clock.now()
    unit = unit_by_code(ctx.session, reg.unit)
    if unit is None:
        raise FieldError("unit_group", "err.invalid_value")
    ent = repo.enterprise_of_person(ctx.session, ctx.person_id)
    before = snapshot(ctx, ent) if ent else None
    checked = reg.model_dump()
    values = schemas.row_values(checked, Enterprise)
    if not values["has_shop"]:
        values["shop_type"] = values["shop_link"] = None
    # An enterprise fills in its own form: the unit endorses it if the unit has a contact.
    reviewers = unit_reviewers(ctx.session, unit.id, unit.parent_id)
    status = rules.initial_status(False, reviewers.has_contact)
    # a new 填报单位 is a key change: every product goes through its review again
    unit_changed = ent is not None and ent.unit_id != unit.id
    if ent is None:
        ent = Enterprise(
            person_id=ctx.person_id, unit_id=unit.id, created_at=now, updated_at=now, **values
        )
        ctx.session.add(ent)
    else:
        for key, value in values.items():
            setattr(ent, key, value)
        ent.unit_id = unit.id
    ent.submitted_at, ent.updated_at = now, now
    if ent.money_rules_agreed_at is None:  # (audited with the registration's snapshot)
        ent.money_rules_agreed_at = now
    ctx.session.flush()
    _store_products(ctx, ent, a.get("products", []), checked["products"], status, unit_changed)
    ent.status = rules.enterprise_status(p.status for p in repo.products_of(ctx.session, ent.id))
    version = repo.audit_now(
        ctx.session,
        now,
        ctx.person_id,
        "edit" if before else "register",
        "enterprise",
        ent.id,
        before=before,
        after=snapshot(ctx, ent),
    )
    name = checked["name"]
    notify.submitted(ctx, "enterprise", ent.id, name, unit.id, status, version, reviewers.people)
    return [
        ctx.reply(
            "enterprise.submitted",
            name=name,
            count=len(checked["products"]),
            unit=unit_full_name(ctx.session, unit),
            status=ctx.t(f"status.{status}"),
        )
    ]


def _store_products(
    ctx: Ctx,
    ent: Enterprise,
    raw: list[Answers],
    checked: list[dict[str, Any]],
    status: str,
    unit_changed: bool,
) -> None:
    """Keeps product ids stable across edits; a changed product goes back to review."""
    now = ctx.clock.now()
    existing = {p.id: p for p in repo.products_of(ctx.session, ent.id)}
    kept: set[int] = set()
    for item, entry in zip(raw, checked, strict=True):
        values = schemas.row_values(entry, Product)
        if values["priority_tag"] == NO_TAG:
            values["priority_tag"] = None
        product = existing.get(item.get("id", -1))
        if product is None:
            ctx.session.add(
                Product(
                    enterprise_id=ent.id, status=status, created_at=now, updated_at=now, **values
                )
            )
            continue
        kept.add(product.id)
        changed = any(getattr(product, k) != v for k, v in values.items())
        for key, value in values.items():
            setattr(product, key, value)
        if unit_changed or changed or product.status in (rules.REJECTED, rules.WITHDRAWN):
            product.status, product.reject_reason, product.updated_at = status, None, now
    for product_id, product in existing.items():
        if product_id not in kept and product.status != ReviewStatus.WITHDRAWN:
            product.status, product.updated_at = ReviewStatus.WITHDRAWN.value, now
    ctx.session.flush()


FORM = Form("enterprise", "enterprise.summary_title", FIELDS, on_confirm)
