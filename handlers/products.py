"""选品: an approved streamer browses the catalogue of approved products and picks the ones they
will sell; the enterprise is told who picked its product. An enterprise contact's /products
shows how many streamers picked each of its products and what they reported selling.

```mermaid
flowchart LR
  p[/products] --> home[my picks n/max] --> browse{全部 / 按类目 / 按标签 / 搜索}
  browse --> page[a page of products: ➕ pick / ✅ drop, 上一页 下一页]
  page -- pick --> notice[the enterprise is told] --> page
  home -- ✅ --> drop[dropped] --> home
  home -- 完成 --> done([picks kept; the daily report splits GMV across them])
```

Longer than 300 lines on purpose: one state machine, the flow above (home, list, categories,
tags, search, and the pr: buttons that move between them or pick and drop), whose views and
picks share its state; an enterprise contact's /products (its products' pick counts and
sales) is the same command's other answer, the last 20 lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.core.context import Ctx
from bot.core.i18n import fmt_list, fmt_yuan
from bot.core.messages import Button, Reply
from handlers import notify
from models import ProductPick, ReviewStatus, Streamer, picks, repo
from models.enterprises import Enterprise, Product
from models.sales import reported_sales_by_product

FLOW = "products"
PAGE = 8
SEARCH_MAX = 30  # characters of a search: a name fragment, not a paragraph


def products(ctx: Ctx) -> list[Reply]:
    """/products: a streamer's picks and the catalogue; an enterprise's pick counts."""
    streamer = repo.streamer_of_person(ctx.session, ctx.person_id)
    if streamer is None:
        enterprise = repo.enterprise_of_person(ctx.session, ctx.person_id)
        if enterprise is not None:
            return [_enterprise_view(ctx, enterprise)]
        return [ctx.reply("products.not_streamer")]
    if streamer.status != ReviewStatus.APPROVED:
        return [ctx.reply("products.not_approved", status=ctx.t(f"status.{streamer.status}"))]
    _state(ctx).update(view="home", page=0, filter={})
    return [_home(ctx, streamer)]


def products_flow(ctx: Ctx) -> list[Reply]:
    """Buttons (or typed numbers, labels, a search) inside /products."""
    st = _state(ctx)
    streamer = repo.streamer_of_person(ctx.session, ctx.person_id)
    if streamer is None or streamer.status != ReviewStatus.APPROVED:
        ctx.state.clear()
        return products(ctx)
    if ctx.extra.get("reprompt"):
        return [_view(ctx, streamer)]
    action = ctx.action or ""
    if not action.startswith("pr:"):
        text = (ctx.incoming.text or "").strip()
        if st.get("view") == "search" and text:
            if len(text) > SEARCH_MAX:
                return [ctx.reply("products.search_too_long", max=SEARCH_MAX), _view(ctx, streamer)]
            st.update(view="list", page=0, filter={"name": text})
            return [_view(ctx, streamer)]
        return [ctx.reply("err.use_buttons"), _view(ctx, streamer)]
    verb, _, arg = action[3:].partition(":")
    notes: list[Reply] = []
    if verb == "done":
        ctx.state.clear()
        return [ctx.reply("products.done", n=picks.count_picks(ctx.session, streamer.id))]
    if verb == "home":
        st.update(view="home", page=0)
    elif verb == "all":
        st.update(view="list", page=0, filter={})
    elif verb == "cats":
        st.update(view="categories")
    elif verb == "cat" and arg.isdigit() and int(arg) < len(ctx.config.products.categories):
        industry = ctx.config.products.categories[int(arg)].label  # stored by its Chinese label
        st.update(view="list", page=0, filter={"industry": industry})
    elif verb == "tags":
        st.update(view="tags")
    elif verb == "tag" and arg in {t.key for t in ctx.config.products.priority_tags}:
        st.update(view="list", page=0, filter={"tag": arg})
    elif verb == "search":
        st.update(view="search")
    elif verb in ("next", "prev"):
        st["page"] = max(0, int(st.get("page", 0)) + (1 if verb == "next" else -1))
    elif verb in ("add", "drop") and arg.isdigit():
        notes.append(
            _add(ctx, streamer, int(arg)) if verb == "add" else _drop(ctx, streamer, int(arg))
        )
    return [*notes, _view(ctx, streamer)]


# ----- views ------------------------------------------------------------------------------
def _state(ctx: Ctx) -> dict[str, Any]:
    ctx.state.flow = FLOW
    st: dict[str, Any] = ctx.state.data.setdefault("products", {})
    return st


def _view(ctx: Ctx, streamer: Streamer) -> Reply:
    view = _state(ctx).get("view", "home")
    if view == "list":
        return _page(ctx, streamer)
    if view == "categories":
        rows = [
            (ctx.button("products.category", f"pr:cat:{i}", name=c.label_in(ctx.locale)),)
            for i, c in enumerate(ctx.config.products.categories)
        ]
        return _with_nav(ctx, ctx.t("products.choose_category"), rows)
    if view == "tags":
        rows = [
            (ctx.button("products.category", f"pr:tag:{t.key}", name=t.label_in(ctx.locale)),)
            for t in ctx.config.products.priority_tags
        ]
        return _with_nav(ctx, ctx.t("products.choose_tag"), rows)
    if view == "search":
        return _with_nav(ctx, ctx.t("products.ask_search", max=SEARCH_MAX), [])
    return _home(ctx, streamer)


def _home(ctx: Ctx, streamer: Streamer) -> Reply:
    mine = picks.picks_of(ctx.session, streamer.id)
    limit = ctx.config.products.max_picks_per_streamer
    lines = [ctx.t("products.home", n=len(mine), max=limit)]
    if not mine:
        lines.append(ctx.t("products.none_yet"))
    rows: list[tuple[Button, ...]] = []
    for i, row in enumerate(mine, 1):
        lines.append(ctx.t("products.mine_line", i=i, name=row.name, enterprise=row.enterprise))
        rows.append(
            (ctx.button("products.picked_button", f"pr:drop:{row.product_id}", name=row.name),)
        )
    if mine:
        lines.append(ctx.t("products.drop_hint"))
    rows.append(
        (
            ctx.button("btn.products_all", "pr:all"),
            ctx.button("btn.products_categories", "pr:cats"),
        )
    )
    rows.append(
        (ctx.button("btn.products_tags", "pr:tags"), ctx.button("btn.products_search", "pr:search"))
    )
    rows.append((ctx.button("btn.done", "pr:done"),))
    return Reply("\n".join(lines), tuple(rows), numbered=True)


def _page(ctx: Ctx, streamer: Streamer) -> Reply:
    st = _state(ctx)
    filt: dict[str, str] = st.get("filter") or {}
    page = int(st.get("page", 0))
    found, total = picks.catalogue(
        ctx.session,
        industry=filt.get("industry"),
        tag=filt.get("tag"),
        name=filt.get("name"),
        offset=page * PAGE,
        limit=PAGE,
    )
    pages = max(1, -(-total // PAGE))
    if page >= pages:  # the catalogue shrank (a product withdrawn) under this page
        st["page"] = page = pages - 1
        found, total = picks.catalogue(
            ctx.session,
            industry=filt.get("industry"),
            tag=filt.get("tag"),
            name=filt.get("name"),
            offset=page * PAGE,
            limit=PAGE,
        )
    tags = {t.key: t.label_in(ctx.locale) for t in ctx.config.products.priority_tags}
    mine = set(picks.picked_ids(ctx.session, streamer.id))
    title = ctx.t(
        "products.list_title",
        filter=_filter_text(ctx, filt),
        total=total,
        page=page + 1,
        pages=pages,
    )
    lines = [title]
    rows: list[tuple[Button, ...]] = []
    for i, row in enumerate(found, 1):
        tag = (
            ctx.t("products.tag", label=tags[row.priority_tag]) if row.priority_tag in tags else ""
        )
        lines.append(
            ctx.t(
                "products.line",
                i=i,
                tag=tag,
                name=row.name,
                enterprise=row.enterprise,
                industry=ctx.config.category_label(row.industry, ctx.locale),
                turnover=fmt_yuan(row.monthly_turnover_fen),
            )
        )
        if row.product_id in mine:
            rows.append(
                (ctx.button("products.picked_button", f"pr:drop:{row.product_id}", name=row.name),)
            )
        else:
            rows.append(
                (ctx.button("products.pick_button", f"pr:add:{row.product_id}", name=row.name),)
            )
    if not found:
        lines.append(ctx.t("products.empty"))
    paging: list[Button] = []
    if page > 0:
        paging.append(ctx.button("btn.prev_page", "pr:prev"))
    if page + 1 < pages:
        paging.append(ctx.button("btn.next_page", "pr:next"))
    if paging:
        rows.append(tuple(paging))
    return _with_nav(ctx, "\n".join(lines), rows, search=True)


def _with_nav(
    ctx: Ctx, text: str, rows: Sequence[tuple[Button, ...]], search: bool = False
) -> Reply:
    nav = [ctx.button("btn.products_mine", "pr:home"), ctx.button("btn.done", "pr:done")]
    if search:  # a page of results: another search is one press away
        nav.insert(1, ctx.button("btn.products_search", "pr:search"))
    return Reply(text, (*rows, tuple(nav)), numbered=True)


def _filter_text(ctx: Ctx, filt: dict[str, str]) -> str:
    if filt.get("industry"):
        value = ctx.config.category_label(filt["industry"], ctx.locale)
        return ctx.t("products.filter_industry", value=value)
    if filt.get("tag"):
        return ctx.t("products.filter_tag", value=ctx.config.tag_label(filt["tag"], ctx.locale))
    if filt.get("name"):
        return ctx.t("products.filter_name", value=filt["name"])
    return ""


# ----- picking ----------------------------------------------------------------------------
def _add(ctx: Ctx, streamer: Streamer, product_id: int) -> Reply:
    product = ctx.session.get(Product, product_id)
    if product is None or product.status != ReviewStatus.APPROVED:
        return ctx.reply("products.gone")
    if picks.find_pick(ctx.session, streamer.id, product_id) is not None:
        return ctx.reply("products.already", name=product.name)
    limit = ctx.config.products.max_picks_per_streamer
    if picks.count_picks(ctx.session, streamer.id) >= limit:
        return ctx.reply("products.limit", max=limit)
    now = ctx.clock.now()
    pick = ProductPick(streamer_id=streamer.id, product_id=product_id, picked_at=now)
    ctx.session.add(pick)
    ctx.session.flush()
    repo.audit(ctx.session, now, ctx.person_id, "pick", "product", product_id)
    _tell_enterprise(ctx, streamer, product, "products.picked_notice", f"pick:{pick.id}")
    return ctx.reply(
        "products.picked",
        name=product.name,
        n=picks.count_picks(ctx.session, streamer.id),
        max=limit,
    )


def _drop(ctx: Ctx, streamer: Streamer, product_id: int) -> Reply:
    pick = picks.find_pick(ctx.session, streamer.id, product_id)
    product = ctx.session.get(Product, product_id)
    name = product.name if product is not None else str(product_id)
    if pick is None:
        return ctx.reply("products.not_picked", name=name)
    ctx.session.delete(pick)
    now = ctx.clock.now()
    repo.audit(ctx.session, now, ctx.person_id, "unpick", "product", product_id)
    if product is not None:
        key = f"unpick:{pick.id}"  # one notice per pick dropped (a pick's id is not reused)
        _tell_enterprise(ctx, streamer, product, "products.dropped_notice", key)
    return ctx.reply("products.dropped", name=name)


def _tell_enterprise(ctx: Ctx, streamer: Streamer, product: Product, key: str, ident: str) -> None:
    enterprise = ctx.session.get(Enterprise, product.enterprise_id)
    if enterprise is None:
        return
    locale = notify.locale_of(ctx, enterprise.person_id)  # the notice is in their language
    accounts = fmt_list(
        (
            f"{ctx.config.platform_label(a.platform, locale)} {a.account_name}"
            for a in repo.accounts_of(ctx.session, streamer.id)
        ),
        locale,
    )
    notify.to_person(ctx, enterprise.person_id, ident, key, streamer=accounts, product=product.name)


def _enterprise_view(ctx: Ctx, enterprise: Enterprise) -> Reply:
    counts = picks.pickers_of_enterprise(ctx.session, enterprise.id)
    own = repo.products_of(ctx.session, enterprise.id)
    cal = ctx.config.calendar
    sales = reported_sales_by_product(
        ctx.session, cal.live_start, cal.live_end, [p.id for p in own]
    )
    lines = [ctx.t("products.enterprise_title", name=enterprise.name)]
    for p in own:
        lines.append(
            ctx.t(
                "products.enterprise_line",
                name=p.name,
                status=ctx.t(f"status.{p.status}"),
                n=counts.get(p.id, 0),
                sales=fmt_yuan(sales.get(p.id, 0)),
            )
        )
    return Reply("\n".join(lines))
