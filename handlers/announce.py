"""Announcements (通知): the committee writes to all streamers, approved streamers,
enterprises, unit contacts, one unit's people or the subscribed group chats; a unit contact
to their own unit's people only. One outbox row per person (key announce:ID:pPERSON): the
dispatcher paces them per channel and delivers each once, across restarts; on WeChat outside
the 48-hour window the subscribe message, else the person's linked channel, else counted
undeliverable (bot/channels/wechat/sender.py, bot/core/delivery.py). `/announce status`
counts what each announcement's rows became.

```mermaid
flowchart LR
  a[/announce] --> aud{committee?}
  aud -- yes --> who[audience] -- one unit --> unit[unit code]
  aud -- contact --> unit
  who --> text
  unit --> text[text] --> pic[picture or skip] --> preview[preview, recipient count]
  preview -- confirm --> outbox
```
"""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.i18n import fmt_local, translate
from bot.core.messages import Button, Reply
from bot.core.outbox import Outbox
from bot.core.parsers import normalize
from handlers.jobs import group_chats
from models import Unit, recipients, repo
from models.announcements import AUDIENCES, Announcement, audience_people, delivery, recent
from models.units import unit_by_code, unit_full_name

FLOW = "announce"
STATUS_WORDS = ("status", "状态")
STATUS_LIMIT = 10


def announce(ctx: Ctx) -> list[Reply]:
    """/announce: starts the form (audience, text, picture, preview); /announce status [ID]."""
    words = normalize(ctx.incoming.args).split()
    if words and words[0].lower() in STATUS_WORDS:
        return status(ctx, words[1] if len(words) > 1 else "")
    ctx.state.flow = FLOW
    st: dict[str, object] = {"step": "audience"}
    ctx.state.data[FLOW] = st
    if not ctx.scope.committee:  # a unit contact: their own unit's people
        st["audience"] = "unit"
        own = [u for u in (ctx.session.get(Unit, i) for i in ctx.scope.own_units) if u]
        st["step"] = "unit"
        if len(own) == 1:
            st["unit"], st["step"] = own[0].code, "text"
    return [_ask(ctx)]


def announce_flow(ctx: Ctx) -> list[Reply]:
    """One answer of the form: stored in the state; the next question, or the announcement
    enqueued on confirm."""
    st = ctx.state.data.get(FLOW) or {}
    step, action, inc = st.get("step"), ctx.action, ctx.incoming
    if ctx.extra.get("reprompt") or step is None:
        return [_ask(ctx)] if step else []
    if action == "an:cancel":
        ctx.state.clear()
        return [ctx.reply("announce.cancelled")]
    if step == "audience" and action and action.startswith("an:aud:"):
        audience = action[7:]
        if audience in AUDIENCES and ctx.scope.committee:
            st["audience"], st["step"] = audience, "unit" if audience == "unit" else "text"
            return [_ask(ctx)]
    elif step == "unit":
        typed = action[8:] if action and action.startswith("an:unit:") else (inc.text or "")
        unit = unit_by_code(ctx.session, normalize(typed).upper()[:20]) if typed else None
        if unit is None or not unit.active or not ctx.scope.covers(unit.id):
            return [ctx.reply("announce.bad_unit"), _ask(ctx)]
        st["unit"], st["step"] = unit.code, "text"
        return [_ask(ctx)]
    elif step == "text" and inc.text and not action:
        text = inc.text.strip()
        if text:
            st["text"], st["step"] = text, "picture"
            return [_ask(ctx)]
    elif step == "picture" and (inc.photo or action == "an:skip"):
        st["image"], st["step"] = inc.photo if not action else None, "preview"
        return [_ask(ctx)]
    elif step == "preview" and action == "an:ok":
        return _send(ctx, st)
    return [ctx.reply("announce.use_buttons"), _ask(ctx)]


def _ask(ctx: Ctx) -> Reply:
    st = ctx.state.data[FLOW]
    step = st["step"]
    cancel = ctx.button("btn.cancel", "an:cancel")
    if step == "audience":
        rows = [
            (ctx.button(f"announce.audience.{a}", f"an:aud:{a}"),) for a in AUDIENCES
        ]  # fmt: skip
        return Reply(ctx.t("announce.ask_audience"), (*rows, (cancel,)), numbered=True)
    if step == "unit":
        own = [u for u in (ctx.session.get(Unit, i) for i in ctx.scope.own_units) if u]
        if ctx.scope.committee or not own:
            return Reply(ctx.t("announce.ask_unit_code"), ((cancel,),))
        rows = [(Button(u.name, ctx.stamp(f"an:unit:{u.code}")),) for u in own]
        return Reply(ctx.t("announce.ask_unit"), (*rows, (cancel,)), numbered=True)
    if step == "text":
        return Reply(ctx.t("announce.ask_text"), ((cancel,),))
    if step == "picture":
        skip = ctx.button("btn.skip", "an:skip")
        return Reply(ctx.t("announce.ask_picture"), ((skip, cancel),), numbered=True)
    people, chats = _audience(ctx, st)
    head = ctx.t(
        "announce.preview",
        audience=_audience_label(ctx, st),
        people=len(people),
        chats=len(chats),
    )
    shown = _message(ctx.locale, ctx, st)
    buttons = ((ctx.button("announce.send", "an:ok"), cancel),)
    return Reply(f"{head}\n\n{shown}", buttons, numbered=True, image_path=st.get("image"))


def _unit(ctx: Ctx, st: dict[str, object]) -> Unit | None:
    code = st.get("unit")
    return unit_by_code(ctx.session, str(code)) if code else None


def _audience(ctx: Ctx, st: dict[str, object]) -> tuple[list[int], list[tuple[str, str]]]:
    audience = str(st["audience"])
    if audience == "groups":
        return [], group_chats(ctx.session, ctx.config)
    unit = _unit(ctx, st)
    return audience_people(ctx.session, audience, unit.id if unit else None), []


def _audience_label(ctx: Ctx, st: dict[str, object]) -> str:
    label = ctx.t(f"announce.audience.{st['audience']}")
    unit = _unit(ctx, st)
    return f"{label}: {unit_full_name(ctx.session, unit)}" if unit else label


def _message(locale: str, ctx: Ctx, st: dict[str, object]) -> str:
    """What a recipient reads: who it is from, then the text."""
    unit = _unit(ctx, st) if not ctx.scope.committee else None
    sender = (
        translate(locale, "announce.from_unit", unit=unit_full_name(ctx.session, unit))
        if unit
        else translate(
            locale, "announce.from_committee", festival=ctx.config.festival.name_in(locale)
        )
    )
    return f"{sender}\n{st['text']}"


def _send(ctx: Ctx, st: dict[str, object]) -> list[Reply]:
    """The announcement stored and one outbox row per person (and group chat) enqueued, in
    this step's transaction: confirmed twice (a double tap) is refused by the state's version."""
    now = ctx.clock.now()
    people, chats = _audience(ctx, st)
    unit = _unit(ctx, st)
    image = st.get("image")
    ann = Announcement(
        created_by=ctx.person_id,
        audience=str(st["audience"]),
        unit_id=unit.id if unit else None,
        text=str(st["text"]),
        image_path=str(image) if image else None,
        people=len(people),
        chats=len(chats),
        created_at=now,
    )
    ctx.session.add(ann)
    ctx.session.flush()
    outbox = Outbox(ctx.session, ctx.clock, batch=True)
    texts: dict[str, str] = {}
    for person in recipients.people(ctx.session, people):
        locale = person.locale or ctx.config.locale.default
        if locale not in texts:
            texts[locale] = _message(locale, ctx, st)
        reply = Reply(texts[locale], image_path=ann.image_path)
        outbox.to_people([(person.id, f"announce:{ann.id}:p{person.id}", reply)])
    group_text = _message(ctx.config.locale.default, ctx, st)
    for channel, chat_id in chats:
        reply = Reply(group_text, image_path=ann.image_path)
        outbox.to_chat(channel, chat_id, f"announce:{ann.id}:{channel}:{chat_id}", reply)
    outbox.flush()
    after = {"audience": ann.audience, "unit": unit.code if unit else None,
             "people": len(people), "chats": len(chats), "picture": bool(image)}  # fmt: skip
    repo.audit(ctx.session, now, ctx.person_id, "announce", "announcement", ann.id, after=after)
    ctx.state.clear()
    return [ctx.reply("announce.queued", id=ann.id, people=len(people), chats=len(chats))]


def status(ctx: Ctx, which: str) -> list[Reply]:
    """/announce status [ID]: delivered / pending / undeliverable of the latest announcements
    (a unit contact: those to their units)."""
    scope = None if ctx.scope.committee else sorted(ctx.scope.unit_ids)
    if which.isdigit() and len(which) < 12:
        ann = ctx.session.get(Announcement, int(which))
        found = [ann] if ann and (scope is None or ann.unit_id in scope) else []
        if not found:
            return [ctx.reply("announce.not_found", id=which)]
    else:
        found = recent(ctx.session, STATUS_LIMIT, scope)
    if not found:
        return [ctx.reply("announce.none")]
    lines = [ctx.t("announce.status_title")]
    for ann in found:
        counts = delivery(ctx.session, ann.id)
        excerpt = ann.text.replace("\n", " ")
        lines.append(
            ctx.t(
                "announce.status_line",
                id=ann.id,
                at=fmt_local(ann.created_at, ctx.clock.tz),
                audience=ctx.t(f"announce.audience.{ann.audience}"),
                text=excerpt[:20] + ("…" if len(excerpt) > 20 else ""),
                delivered=counts.delivered,
                pending=counts.pending,
                undeliverable=counts.undeliverable,
            )
        )
    return [Reply("\n".join(lines))]
