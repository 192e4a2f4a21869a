"""/review: what waits in the reviewer's scope, one item at a time, with approve (for a unit
contact: recommend; for a held daily report, which comes first: clear) / reject-with-reason /
skip buttons. /approve and /reject do the same by typed command (KIND ID [REASON]) for those
who prefer typing.

```mermaid
flowchart LR
  review[/review] --> card{next item in scope}
  card -- none --> done[nothing waited / n reviewed]
  card -- 通过/推荐 --> decide[conditional update on the status seen] --> card
  card -- 驳回 --> reason[ask the reason] --> decide
  card -- 跳过 --> card
  card -- 结束 --> stop[end]
```
"""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.i18n import fmt_typed
from bot.core.messages import Reply
from bot.core.parsers import ParseError, parse_text
from handlers import review_items as items
from handlers.reasons import REASON_MAX, typed_reason

FLOW = "review"


def review(ctx: Ctx) -> list[Reply]:
    """/review: starts the queue at its first item."""
    ctx.state.flow = FLOW
    ctx.state.data = {"skipped": [], "decided": 0}
    return _next(ctx, [])


def review_flow(ctx: Ctx) -> list[Reply]:
    """A button of the current card, or the typed reason of a rejection."""
    data = ctx.state.data
    item = items.load_ref(ctx, data.get("item"))
    if item is None:  # decided and gone from scope, or the scope changed
        return _next(ctx, [])
    if ctx.extra.get("reprompt"):
        return _reason_prompt(ctx) if data.get("await_reason") else [_card(ctx, item)]
    action = ctx.action
    if data.get("await_reason"):
        if action == "rv:back":
            data.pop("await_reason")
            return [_card(ctx, item)]
        reason = typed_reason(ctx)
        if isinstance(reason, Reply):  # no reason yet: said why, asked again
            return [reason, *_reason_prompt(ctx)]
        data.pop("await_reason")
        return _decided(ctx, item, False, reason)
    if action == "rv:ok":
        return _decided(ctx, item, True, "")
    if action == "rv:no":
        data["await_reason"] = True
        return _reason_prompt(ctx)
    if action == "rv:skip":
        data["skipped"].append(item.ref)
        return _next(ctx, [])
    if action == "rv:end":
        ctx.state.clear()
        return [ctx.reply("review.ended")]
    return [ctx.reply("review.use_buttons"), _card(ctx, item)]


def _decided(ctx: Ctx, item: items.Item, approve: bool, reason: str) -> list[Reply]:
    """The decision on the card shown, counted when it was the one stored; then the next."""
    done, stored = items.decide(ctx, item, approve, reason, ctx.state.data.get("seen"))
    if stored:
        ctx.state.data["decided"] = ctx.state.data.get("decided", 0) + 1
    return _next(ctx, [done])


def _next(ctx: Ctx, before: list[Reply]) -> list[Reply]:
    skipped = set(ctx.state.data.get("skipped", []))
    for ref in items.queue(ctx):
        if ref in skipped:
            continue
        item = items.load_ref(ctx, ref)
        if item is None:
            continue
        ctx.state.data.update(item=ref, seen=items.seen(item))
        extra = items.attachment(item)
        return [*before, *([extra] if extra else []), _card(ctx, item)]
    decided = ctx.state.data.get("decided", 0)
    ctx.state.clear()
    # nothing waited, or this round went through everything (and how much of it)
    if skipped and decided:
        done = ctx.reply("review.queue_finished_skipped", n=decided, skipped=len(skipped))
        return [*before, done]
    if skipped:
        return [*before, ctx.reply("review.queue_skipped", n=len(skipped))]
    if decided:
        return [*before, ctx.reply("review.queue_finished", n=decided)]
    return [*before, ctx.reply("review.queue_empty")]


def _card(ctx: Ctx, item: items.Item) -> Reply:
    approve = "btn.recommend" if not ctx.scope.committee else "btn.approve"
    if item.kind == "r":
        approve = "btn.clear_report"
    return Reply(
        items.card(ctx, item),
        (
            (ctx.button(approve, "rv:ok"), ctx.button("btn.reject", "rv:no")),
            (ctx.button("btn.skip_item", "rv:skip"), ctx.button("btn.end_review", "rv:end")),
        ),
        numbered=True,
    )


def _reason_prompt(ctx: Ctx) -> list[Reply]:
    return [
        Reply(
            ctx.t("review.ask_reason", max=REASON_MAX),
            ((ctx.button("btn.back", "rv:back"),),),
        )
    ]


# ----- typed shortcuts ----------------------------------------------------------------------
def approve(ctx: Ctx) -> list[Reply]:
    """/approve streamer|product ID"""
    return [_typed(ctx, approve=True)]


def reject(ctx: Ctx) -> list[Reply]:
    """/reject streamer|product ID REASON"""
    return [_typed(ctx, approve=False)]


def _typed(ctx: Ctx, approve: bool) -> Reply:
    parts = ctx.incoming.args.split(maxsplit=2)
    kinds = {name: short for short, name in items.KINDS.items()}
    if len(parts) < 2 or parts[0].lower() not in kinds or not parts[1].isdigit():
        return ctx.reply("review.usage")
    # an id longer than 18 digits is none of ours (and would not fit a database integer)
    item = items.load(ctx, kinds[parts[0].lower()], int(parts[1])) if len(parts[1]) <= 18 else None
    if item is None:
        return ctx.reply("review.not_found", kind=parts[0].lower(), id=fmt_typed(parts[1]))
    reason = ""
    if not approve:
        try:
            reason = parse_text(parts[2] if len(parts) > 2 else "", max_len=REASON_MAX, min_len=2)
        except ParseError:
            return ctx.reply("review.reason_needed", max=REASON_MAX)
    return items.decide(ctx, item, approve, reason, seen=None)[0]
