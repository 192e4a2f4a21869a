"""What reviewers decide on: daily reports an anomaly rule holds (first: handlers/
review_reports.py), streamers (资格审核) and products (产品审核). Loading an item always
goes through the reviewer's scope, so an id outside it is simply not found; a decision is a
conditional update on the status the reviewer saw, so of two reviewers deciding at once one
wins and the other is told."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.context import Ctx
from bot.core.i18n import fmt_int, fmt_list, fmt_local, fmt_yuan
from bot.core.messages import Reply
from handlers import notify, registration_window
from handlers import review_reports as held
from handlers.phones import shown_phone
from models import DailyReport, Enterprise, Product, Streamer, Unit, repo, reviews, trust
from models import review_rules as rules
from models.units import unit_full_name

KINDS = {"s": "streamer", "p": "product", "r": "report"}  # short kinds keep button data small


@dataclass
class Item:
    kind: str  # s | p
    row: Streamer | Product | DailyReport
    unit_id: int
    owner: int  # the applicant's person id
    names: tuple[str, ...]  # the account names, a product's name, a held report's day

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.row.id}"

    def title(self, locale: str | None) -> str:
        """Its names as `locale` lists them (甲、乙 / A, B): a notice is read by its owner."""
        return fmt_list(self.names, locale)


def load(ctx: Ctx, kind: str, item_id: int) -> Item | None:
    """The item, or None when it does not exist or lies outside the reviewer's scope."""
    if kind == "s":
        s = ctx.session.get(Streamer, item_id)
        if s is None or not ctx.scope.covers(s.unit_id):
            return None
        names = tuple(a.account_name for a in repo.accounts_of(ctx.session, s.id))
        return Item("s", s, s.unit_id, s.person_id, names)
    if kind == "r":
        # only the committee clears a held report: a unit's contact would vouch for the
        # figures that win their own unit its 优秀组织奖 (they can still reject in /streamer)
        if not ctx.scope.committee:
            return None
        r = ctx.session.get(DailyReport, item_id)
        owner = ctx.session.get(Streamer, r.streamer_id) if r else None
        if r is None or owner is None or not ctx.scope.covers(owner.unit_id):
            return None
        return Item("r", r, owner.unit_id, owner.person_id, (held.title(ctx, r),))
    if kind == "p":
        p = ctx.session.get(Product, item_id)
        ent = ctx.session.get(Enterprise, p.enterprise_id) if p else None
        if p is None or ent is None or not ctx.scope.covers(ent.unit_id):
            return None
        return Item("p", p, ent.unit_id, ent.person_id, (p.name,))
    return None


def load_ref(ctx: Ctx, ref: str | None) -> Item | None:
    kind, _, raw = (ref or "").partition(":")
    return load(ctx, kind, int(raw)) if raw.isdigit() else None


def account_names(ctx: Ctx, streamer_id: int, locale: str | None = None) -> str:
    """'抖音 甲、京东直播 乙' / 'Douyin 甲, JD Live 乙', for the reader (default: ctx's)."""
    locale = locale or ctx.locale
    return fmt_list(
        (
            f"{ctx.config.platform_label(a.platform, locale)} {a.account_name}"
            for a in repo.accounts_of(ctx.session, streamer_id)
        ),
        locale,
    )


def queue(ctx: Ctx) -> list[str]:
    """Refs of what waits for this reviewer: for the committee everything pending (what the
    units have passed on first), for a unit contact what waits for their units."""
    scope = ctx.scope
    statuses = rules.PENDING if scope.committee else (rules.PENDING_UNIT,)
    units = None if scope.committee else scope.unit_ids
    waiting = (
        ("s", reviews.waiting_streamers(ctx.session, statuses, units)),
        ("p", reviews.waiting_products(ctx.session, statuses, units)),
    )
    refs = [
        (status != rules.PENDING_REVIEW, kind, item_id)
        for kind, rows in waiting
        for item_id, status in rows
    ]
    refs.sort(key=lambda r: r[0])  # stable: 待审核 first, each kind in id order
    # held reports before every registration: they keep figures off the boards
    held_ids = trust.held_reports(ctx.session) if scope.committee else []
    reports = [f"r:{rid}" for rid in held_ids]
    return [*reports, *(f"{kind}:{item_id}" for _, kind, item_id in refs)]


def seen(item: Item) -> str:
    """What the reviewer's decision is conditional on: a registration's status, a report's
    revision."""
    if isinstance(item.row, DailyReport):
        return held.seen(item.row)
    return item.row.status


# ----- cards --------------------------------------------------------------------------------
def card(ctx: Ctx, item: Item) -> str:
    unit = ctx.session.get(Unit, item.unit_id)
    unit_name = unit_full_name(ctx.session, unit) if unit else ""
    if isinstance(item.row, DailyReport):
        accounts = account_names(ctx, item.row.streamer_id)
        return held.card(ctx, item.row, unit_name, accounts)
    status = ctx.t(f"status.{item.row.status}")
    if isinstance(item.row, Streamer):
        s = item.row
        lines = [
            ctx.t("review.card_streamer", id=s.id, status=status),
            ctx.t("review.card_accounts", accounts=account_names(ctx, s.id)),
            ctx.t("review.card_unit", unit=unit_name, how=ctx.t(f"review.rec.{s.recommendation}")),
            ctx.t(
                "review.card_streamer_figures",
                followers=fmt_int(s.followers),
                likes=fmt_int(s.likes_received),
                days=s.monthly_live_days,
                hours=s.monthly_live_hours,
                sales=fmt_yuan(s.cumulative_sales_fen),
                orders=fmt_int(s.cumulative_orders),
            ),
            ctx.t("review.card_categories", categories=_categories(ctx, s.categories) or "-"),
            # the committee may need to call; a unit contact as the exports show it to them
            ctx.t("review.card_phone", phone=shown_phone(ctx, s.phone)),
        ]
        if s.submitted_at:
            lines.append(ctx.t("review.card_submitted", at=fmt_local(s.submitted_at, ctx.clock.tz)))
    else:
        p = item.row
        ent = ctx.session.get(Enterprise, p.enterprise_id)
        tag = ctx.config.tag_label(p.priority_tag, ctx.locale) if p.priority_tag else "-"
        lines = [
            ctx.t("review.card_product", id=p.id, status=status),
            ctx.t("review.card_product_name", name=p.name, enterprise=ent.name if ent else ""),
            ctx.t("review.card_unit_plain", unit=unit_name),
            ctx.t(
                "review.card_product_figures",
                tag=tag,
                orders=fmt_int(p.monthly_orders),
                turnover=fmt_yuan(p.monthly_turnover_fen),
                stock=fmt_int(p.stock),
            ),
        ]
        if ent is not None:
            lines.append(
                ctx.t(
                    "review.card_industry",
                    industry=ctx.config.category_label(ent.industry, ctx.locale),
                    main=ent.main_products,
                )
            )
    if item.row.status == rules.REJECTED and item.row.reject_reason:
        lines.append(ctx.t("me.reason", reason=item.row.reject_reason))
    if registration_window.is_late(item.row.created_at, ctx):  # added after the deadline
        lines.append(ctx.t("review.card_late", deadline=ctx.config.calendar.registration_deadline))
    return "\n".join(lines)


def _categories(ctx: Ctx, stored: list[str] | None) -> str:
    labels = (ctx.config.category_label(str(c), ctx.locale) for c in stored or ())
    return fmt_list(labels, ctx.locale)


def attachment(item: Item) -> Reply | None:
    if isinstance(item.row, DailyReport):
        return held.attachment(item.row)
    if isinstance(item.row, Product) and item.row.attachment_file_id:
        return Reply("", image_path=item.row.attachment_file_id)
    return None


# ----- decisions ----------------------------------------------------------------------------
def decide(
    ctx: Ctx, item: Item, approve: bool, reason: str, seen: str | None
) -> tuple[Reply, bool]:
    """Apply a reviewer's decision; `seen` is the status (a report: the revision) the
    reviewer was shown. The answer, and whether this decision was the one stored (not one
    made meanwhile by someone else, not an item no longer waiting)."""
    if isinstance(item.row, DailyReport):
        return held.decide(ctx, item.row, approve, reason, seen)
    before = item.row.status
    if seen is not None and before != seen:
        return _changed(ctx, item), False
    new = rules.decision(before, approve, by_committee=ctx.scope.committee)
    if new is None:
        return ctx.reply("review.not_pending", status=ctx.t(f"status.{before}")), False
    model = Streamer if item.kind == "s" else Product
    now = ctx.clock.now()
    won = reviews.record_decision(
        ctx.session,
        model,
        item.row.id,
        seen=before,
        new=new,
        reject_reason=None if approve else reason,
        reviewer=ctx.person_id,
        now=now,
    )
    ctx.session.refresh(item.row)
    if not won:
        return _changed(ctx, item), False
    action = (
        "reject" if not approve else ("recommend" if new == rules.PENDING_REVIEW else "approve")
    )
    version = repo.audit_now(
        ctx.session,
        now,
        ctx.person_id,
        action,
        KINDS[item.kind],
        item.row.id,
        before={"status": before},
        after={"status": new},
        note=reason or None,
    )
    _after_decision(ctx, item, before, new, reason, version)
    title = item.title(ctx.locale)
    return ctx.reply(f"review.done_{action}", title=title, status=ctx.t(f"status.{new}")), True


def _changed(ctx: Ctx, item: Item) -> Reply:
    assert not isinstance(item.row, DailyReport)  # a report's decision: review_reports
    ctx.session.refresh(item.row)
    who = repo.person_name(ctx.session, item.row.reviewed_by)
    status = ctx.t(f"status.{item.row.status}")
    return ctx.reply("review.changed", title=item.title(ctx.locale), status=status, who=who)


def _after_decision(ctx: Ctx, item: Item, before: str, new: str, reason: str, version: int) -> None:
    # keyed by the decision's audit entry: each decision told once, a later one always
    stamp = f"{KINDS[item.kind]}:{item.row.id}:{new}:v{version}"
    if isinstance(item.row, Product):
        ent = ctx.session.get(Enterprise, item.row.enterprise_id)
        if ent is not None:
            ent.status = rules.enterprise_status(
                p.status for p in repo.products_of(ctx.session, ent.id)
            )
    # the owner reads the names listed as their own language lists them
    title = item.title(notify.locale_of(ctx, item.owner))
    if new == rules.PENDING_REVIEW:  # the unit recommended it: on to the committee
        notify.to_person(ctx, item.owner, f"decision:{stamp}", "notice.recommended", title=title)
        notify.submitted(ctx, KINDS[item.kind], item.row.id, item.names, item.unit_id, new, version)
    elif new == rules.APPROVED:
        notify.to_person(ctx, item.owner, f"decision:{stamp}", "notice.approved", title=title)
    else:
        notify.to_person(
            ctx, item.owner, f"decision:{stamp}", "notice.rejected", title=title, reason=reason
        )
    if new in rules.COUNTED and before not in rules.COUNTED:
        notify.quota_exceeded(ctx, item.unit_id)
