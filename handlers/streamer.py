"""Streamer registration (附件2 达人报名登记表): the form, and storing it for review.

```mermaid
flowchart TD
  start([主播报名]) --> privacy{privacy accepted?}
  privacy -- no --> notice[privacy notice] --> privacy
  privacy -- yes --> unit[unit: city → county / 市本级, university, provincial<br/>skipped with a recommendation link]
  unit --> acct[platform, account, second account?] --> phone[phone]
  phone --> followers{followers ≥ min?}
  followers -- no --> refuse[polite refusal, draft kept] --> followers
  followers -- yes --> stats[likes, 音浪, days, hours, viewers, peak, orders, sales,<br/>order value?, dou+?, conversion?] --> cats[categories] --> decl[declarations]
  decl --> summary[summary: edit any field] --> confirm([确认: 待审核 / 待推荐])
```

Longer than 300 lines on purpose: `FIELDS` is 附件2 itself, one line per column of the notice's
form (about 150 lines of data), and storing it (new, edited, back to review) reads best beside
the form it stores.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from bot.core.context import Ctx
from bot.core.forms import Answers, Field, FieldError, Form, Option
from bot.core.messages import Reply
from bot.core.parsers import COUNT_UNITS, ParseError
from handlers import fields as f
from handlers import money, notify, schemas, unit_picker
from models import LiveAccount, Streamer, eligibility, repo
from models import review_rules as rules
from models.units import UnitInfo, unit_reviewers

# Fields whose change sends an approved registration back to review.
KEY_FIELDS = ("unit", "platform", "account_name", "second_platform", "second_account")


def _platform_options(ctx: Ctx, _a: Answers) -> list[Option]:
    return [f.labelled_option(ctx, p.key, p) for p in ctx.config.platforms]


def _second_platform_options(ctx: Ctx, a: Answers) -> list[Option]:
    others = (p for p in ctx.config.platforms if p.key != a.get("platform"))
    return [f.labelled_option(ctx, p.key, p) for p in others]


def _account_free(platform_key: str) -> f.Check:
    def check(name: str, ctx: Ctx, a: Answers) -> None:
        owner = repo.account_owner(ctx.session, a[platform_key], name)
        if owner is not None and owner != repo.streamer_id_of_person(ctx.session, ctx.person_id):
            platform = ctx.config.platform_label(a[platform_key], ctx.locale)
            raise ParseError("err.account_taken", platform=platform)

    return check


def _enough_followers(value: int, ctx: Ctx, _a: Answers) -> None:
    minimum = ctx.config.eligibility.min_followers
    if eligibility.refusal(value, None, min_followers=minimum):
        raise ParseError("err.followers_below_min", min=f"{minimum:,}", given=f"{value:,}")


def _peak_within_total(value: int, _ctx: Ctx, a: Answers) -> None:
    if value > a.get("cumulative_viewers", value):
        raise ParseError("err.peak_above_total")


def _declaration_options(ctx: Ctx, _a: Answers) -> list[Option]:
    return [Option("yes", ctx.t("opt.declare_yes")), Option("no", ctx.t("opt.declare_no"))]


def _declaration(raw: str, _ctx: Ctx, _a: Answers) -> str:
    raise ParseError("err.use_buttons")


def _all_declared(value: Any, _ctx: Ctx, _a: Answers) -> None:
    """不完全符合 is refused when it is chosen, with the reason (not at 确认提交)."""
    if value != "yes":
        raise ParseError("err.declaration_refused")


def _declaration_prompt(ctx: Ctx, _a: Answers) -> dict[str, object]:
    items = [ctx.t(f"declare.{d}") for d in ctx.config.eligibility.declarations]
    # the revenue share the festival promises (information, from revenue.*)
    share = money.streamer_rule(ctx.locale, ctx.config)
    return {"items": "\n".join(f"· {i}" for i in items), "share": share}


def _category_options(ctx: Ctx, _a: Answers) -> list[Option]:
    return [f.labelled_option(ctx, c.label, c) for c in ctx.config.products.categories]


def _min_followers(ctx: Ctx, _a: Answers) -> dict[str, object]:
    return {"min": f"{ctx.config.eligibility.min_followers:,}"}


def _max_cumulative(ctx: Ctx) -> int:
    return ctx.config.plausibility.max_cumulative


def _on_platform(name: str) -> Callable[[Answers, Ctx], bool]:
    """A question some platforms ask (config `platforms[].asks`): asked when one of the
    streamer's platforms names it, so a 京东直播-only streamer is not asked 音浪 or dou+."""

    def asked(a: Answers, ctx: Ctx) -> bool:
        if name not in ctx.config.platform_questions():
            return True
        chosen = {a.get("platform"), a.get("second_platform")}
        return any(name in p.asks for p in ctx.config.platforms if p.key in chosen)

    return asked


def _show_platform(value: Any, ctx: Ctx) -> str:
    return ctx.config.platform_label(str(value), ctx.locale)


FIELDS = (
    *unit_picker.unit_fields(),
    Field(
        "platform", "ask.platform", "label.platform", options=_platform_options, show=_show_platform
    ),
    Field(
        "account_name",
        "ask.account_name",
        "label.account_name",
        parse=f.text(40).then(_account_free("platform")),
    ),
    Field(
        "second_platform",
        "ask.second_platform",
        "label.second_platform",
        options=_second_platform_options,
        optional=True,
        show=_show_platform,
        when=lambda a, c: len(c.config.platforms) > 1,
    ),
    Field(
        "second_account",
        "ask.second_account",
        "label.second_account",
        parse=f.text(40).then(_account_free("second_platform")),
        when=lambda a, _c: bool(a.get("second_platform")),
    ),
    Field("phone", "ask.phone", "label.phone", parse=f.phone, accepts_contact=True),
    Field(
        "followers",
        "ask.followers",
        "label.followers",
        parse=f.count(limit=lambda c: c.config.plausibility.max_followers).then(_enough_followers),
        show=f.show_int,
        prompt_params=_min_followers,
        confirm_above=lambda c: c.config.plausibility.confirm_followers_above,
    ),
    Field(
        "likes_received",
        "ask.likes_received",
        "label.likes_received",
        parse=f.count(limit=_max_cumulative),
        show=f.show_int,
    ),
    Field(
        "tips_income",
        "ask.tips_income",
        "label.tips_income",
        parse=f.count(units=(*COUNT_UNITS, "音浪")),
        show=f.show_int,
        heading="export.col.tips",
        when=_on_platform("tips_income"),
    ),
    Field(
        "monthly_live_days",
        "ask.monthly_live_days",
        "label.monthly_live_days",
        parse=f.days(31),
        heading="export.col.live_days",
    ),
    Field(
        "monthly_live_hours",
        "ask.monthly_live_hours",
        "label.monthly_live_hours",
        parse=f.hours(31 * 24),
        show=f.show_hours,
        heading="export.col.live_hours",
    ),
    Field(
        "cumulative_viewers",
        "ask.cumulative_viewers",
        "label.cumulative_viewers",
        parse=f.count(limit=_max_cumulative),
        show=f.show_int,
        heading="export.col.viewers",
    ),
    Field(
        "peak_concurrent",
        "ask.peak_concurrent",
        "label.peak_concurrent",
        parse=f.count(limit=_max_cumulative).then(_peak_within_total),
        show=f.show_int,
        heading="export.col.peak",
    ),
    Field(
        "cumulative_orders",
        "ask.cumulative_orders",
        "label.cumulative_orders",
        parse=f.count(limit=_max_cumulative),
        show=f.show_int,
        heading="export.col.orders",
    ),
    Field(
        "cumulative_sales_fen",
        "ask.cumulative_sales",
        "label.cumulative_sales",
        parse=f.money(),
        show=f.show_yuan,
        heading="export.col.sales",
    ),
    Field(
        "avg_order_value_fen",
        "ask.avg_order_value",
        "label.avg_order_value",
        parse=f.money(),
        show=f.show_yuan,
        optional=True,
        heading="export.col.avg_order",
    ),
    Field(
        "dou_plus_spend_fen",
        "ask.dou_plus",
        "label.dou_plus",
        parse=f.money(),
        show=f.show_yuan,
        optional=True,
        when=_on_platform("dou_plus_spend_fen"),
    ),
    Field(
        "conversion_rate",
        "ask.conversion_rate",
        "label.conversion_rate",
        parse=f.percent,
        show=f.show_percent,
        optional=True,
    ),
    Field(
        "categories",
        "ask.categories",
        "label.categories",
        options=_category_options,
        multi=True,
        heading="export.col.categories",
    ),
    Field(
        "declarations",
        "ask.declarations",
        "label.declarations",
        options=_declaration_options,
        parse=_declaration,
        prompt_params=_declaration_prompt,
        check=_all_declared,
    ),
)


# The answers validated once more at confirm: types and bounds from the fields' kinds.
Registration = schemas.model_of("StreamerRegistration", FIELDS, schemas.StreamerDerived)
# The answers stored as they are in the registration's row (its own columns of the same
# name): the snapshot a registration is edited from, and the spreadsheet's columns.
STORED = schemas.stored_fields(FIELDS, Streamer, schemas.StreamerDerived)
SNAPSHOT_COLUMNS = tuple(field.name for field in STORED)


def _to_model(ctx: Ctx, a: Answers) -> schemas.StreamerDerived:
    minimum = ctx.config.eligibility.min_followers
    if eligibility.refusal(None, a.get("declarations") == "yes", min_followers=minimum):
        raise FieldError("declarations", "err.declaration_required")
    data = dict(a)
    data["unit"] = unit_picker.chosen_unit(a)
    # 组织推荐 only through the unit's own link (rec_TOKEN); a public unit link (unit_CODE)
    # fixes the unit but stays a self-recommendation the unit has to endorse.
    data["recommendation"] = "org" if a.get("preset_org") else "self"
    data["declarations"] = list(ctx.config.eligibility.declarations)
    if data.get("avg_order_value_fen") is None and a["cumulative_orders"]:
        data["avg_order_value_fen"] = a["cumulative_sales_fen"] // a["cumulative_orders"]
    try:
        return Registration.model_validate(data)
    except ValidationError as exc:
        name = str(exc.errors()[0]["loc"][0])
        raise FieldError(name if name in a else "platform", "err.invalid_value") from exc


def snapshot(
    ctx: Ctx, streamer: Streamer, accounts: list[LiveAccount] | None = None
) -> dict[str, Any]:
    """The stored registration as form answers (for /me edit and the audit log); `accounts`
    when the caller has them already (the submit step: one query fewer)."""
    if accounts is None:
        accounts = repo.accounts_of(ctx.session, streamer.id)
    values = {c: getattr(streamer, c) for c in (*SNAPSHOT_COLUMNS, "recommendation", "unit_id")}
    return _answers(ctx, values, [(a.platform, a.account_name) for a in accounts])


def _answers(ctx: Ctx, values: dict[str, Any], accounts: list[tuple[str, str]]) -> dict[str, Any]:
    """A registration's stored values (SNAPSHOT_COLUMNS, recommendation, unit_id) and its
    accounts (platform, name; in id order) as form answers."""
    data: dict[str, Any] = {field.name: f.answer_of(field, values[field.name]) for field in STORED}
    data.update(
        unit_picker.unit_answers(ctx, values["unit_id"], preset=values["recommendation"] == "org")
    )
    data["declarations"] = "yes"
    if accounts:
        data["platform"], data["account_name"] = accounts[0]
    if len(accounts) > 1:
        data["second_platform"], data["second_account"] = accounts[1]
    else:
        data["second_platform"] = None
    return data


def on_confirm(ctx: Ctx, a: Answers) -> list[Reply]:
    """Stores the registration (待审核, or 待推荐 when the unit should endorse it first).

    This is the busiest step of the form: everyone who registers ends here, and the
    registration, its accounts, the audit entry and the reviewers' notices commit with it. So
    it reads everything first, with prebuilt statements (repo), and writes a new registration
    with plain inserts: each statement built and each ORM flush is a good part of its cost."""
    reg = _to_model(ctx, a)
    checked = reg.model_dump()
    now = ctx.clock.now()
    session = ctx.session
    unit = unit_picker.unit_info(ctx, reg.unit)
    if unit is None:
        raise FieldError("unit_group", "err.invalid_value")
    streamer_id = repo.streamer_id_of_person(session, ctx.person_id)
    wanted = _accounts(checked)
    for platform, name in wanted.items():
        owner = repo.account_owner(session, platform, name)
        if owner is not None and owner != streamer_id:
            field = "account_name" if platform == checked["platform"] else "second_account"
            raise FieldError(
                field, "err.account_taken", platform=ctx.config.platform_label(platform, ctx.locale)
            )
    reviewers = unit_reviewers(session, unit.id, unit.parent_id)

    def start(recommendation: str | None) -> str:
        """Where a registration through this unit starts: a self-recommendation waits for
        the unit's contact to endorse it, when the unit has one."""
        return rules.initial_status(
            recommendation == "org", recommendation == "self" and reviewers.has_contact
        )

    values = schemas.row_values(checked, Streamer)
    before: dict[str, Any] | None = None
    before_status: str | None = None
    if streamer_id is None:
        counted_before = False
        status = start(reg.recommendation)
        row = {
            **values,
            "person_id": ctx.person_id,
            "unit_id": unit.id,
            "status": status,
            "reject_reason": None,
            "submitted_at": now,
            "reviewed_at": None,
            "reviewed_by": None,
            "created_at": now,
            "updated_at": now,
        }
        streamer_id = repo.insert_streamer(session, row, wanted)
        after = _answers(ctx, row, list(wanted.items()))
    else:
        before_status = ctx.session.get_one(Streamer, streamer_id).status
        status, counted_before, before, after = _edit(
            ctx, streamer_id, checked, values, unit, start
        )
    version = repo.audit_now(
        session,
        now,
        ctx.person_id,
        "edit" if before else "register",
        "streamer",
        streamer_id,
        before=_jsonable(before),
        after=_jsonable(after),
    )
    if before is not None and status == before_status and status == rules.APPROVED:
        # an approved registration edited where review is not needed (a phone number, a
        # figure): it stays approved, nobody is asked to review it again
        return [ctx.reply("streamer.updated", status=ctx.t(f"status.{status}"))]
    notify.submitted(
        ctx,
        "streamer",
        streamer_id,
        checked["account_name"],
        unit.id,
        status,
        version,
        reviewers.people,
    )
    if status in rules.COUNTED and not counted_before:
        notify.quota_exceeded(ctx, unit.id, only="streamers", reviewers=reviewers.people)
    return [
        ctx.reply(
            "streamer.submitted",
            account=checked["account_name"],
            unit=unit.full_name,
            status=ctx.t(f"status.{status}"),
        )
    ]


def _edit(
    ctx: Ctx,
    streamer_id: int,
    checked: dict[str, Any],
    values: dict[str, Any],
    unit: UnitInfo,
    start: Callable[[str | None], str],
) -> tuple[str, bool, dict[str, Any], dict[str, Any]]:
    """A stored registration submitted again (from /me): its new status, whether it counted
    towards this unit's quota already (then no over-quota warning again), and the answers
    before and after."""
    now = ctx.clock.now()
    streamer = ctx.session.get_one(Streamer, streamer_id)
    kept = repo.accounts_of(ctx.session, streamer_id)
    before = snapshot(ctx, streamer, kept)
    counted_before = streamer.status in rules.COUNTED and streamer.unit_id == unit.id
    old_key = {k: before.get(k) for k in KEY_FIELDS}
    old_key["unit"] = unit_picker.chosen_unit(before)
    for key, value in values.items():
        setattr(streamer, key, value)
    streamer.unit_id = unit.id
    new_key = {k: checked[k] for k in KEY_FIELDS}
    status = rules.after_edit(
        streamer.status,
        key_fields_changed=old_key != new_key,
        start=start(streamer.recommendation),
    )
    if status != streamer.status:
        streamer.reject_reason = None  # resubmitted: the old reason no longer applies
    streamer.status = status
    streamer.submitted_at = now
    streamer.updated_at = now
    accounts = _store_accounts(ctx, streamer, _accounts(checked), kept)
    ctx.session.flush()
    return status, counted_before, before, snapshot(ctx, streamer, accounts)


def _accounts(checked: dict[str, Any]) -> dict[str, str]:
    """The registration's accounts, platform: account name."""
    wanted = {checked["platform"]: checked["account_name"]}
    if checked["second_platform"] and checked["second_account"]:
        wanted[checked["second_platform"]] = checked["second_account"]
    return wanted


def _store_accounts(
    ctx: Ctx, streamer: Streamer, wanted: dict[str, str], kept: list[LiveAccount]
) -> list[LiveAccount]:
    """An edited registration's accounts (`wanted`, consumed), stored; returns them all, the
    `kept` ones (already stored, in id order) first."""
    for account in kept:
        if account.platform not in wanted:
            continue  # an account with reports is never deleted; it simply stays
        account.account_name = wanted.pop(account.platform)
    added = [
        LiveAccount(streamer_id=streamer.id, platform=platform, account_name=name)
        for platform, name in wanted.items()
    ]
    ctx.session.add_all(added)
    return [*kept, *added]


def _jsonable(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in data.items()}


FORM = Form("streamer", "streamer.summary_title", FIELDS, on_confirm)
