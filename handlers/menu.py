"""/start menu, /help, /lang, /cancel, the privacy notice and free text outside any flow.

```mermaid
flowchart LR
  start[/start] --> link{argument}
  link -- join_CODE --> join[redeem the invitation] --> menu
  link -- claim_CODE --> claim[privacy, then the imported registration is theirs] --> menu
  link -- rec_TOKEN / unit_CODE --> reg
  link -- none --> menu[menu: 主播报名, 企业报名, 每日战报, 我的登记, 我的战报, 帮助, 语言]
  menu -- 主播报名 / 企业报名 --> privacy{privacy accepted?}
  privacy -- no --> notice[privacy notice] -- 同意 --> reg[the registration form]
  notice -- 不同意 --> menu
  privacy -- yes --> reg
  menu -- 每日战报 --> report[the report form, approved streamers only]
```
"""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.messages import Button, Reply
from bot.core.parsers import normalize
from handlers import (
    claim,
    enterprise,
    import_chat,
    invite,
    money,
    registration_window,
    report,
    streamer,
    turnover,
)
from models import repo
from models.units import unit_by_code, unit_by_rec_token

MENU = (
    ("menu.streamer", "cmd:register"),
    ("menu.enterprise", "cmd:enterprise"),
    ("menu.report", "cmd:report"),
    ("menu.products", "cmd:products"),
    ("menu.me", "cmd:me"),
    ("menu.reports", "cmd:reports"),
    ("menu.help", "cmd:help"),
    ("menu.lang", "cmd:lang"),
)


def menu(ctx: Ctx) -> Reply:
    buttons = [ctx.button(label, action) for label, action in MENU]
    if turnover.window_open(ctx) and repo.enterprise_of_person(ctx.session, ctx.person_id):
        # after the live period: the enterprise reports its festival turnover
        buttons.insert(len(buttons) - 2, ctx.button("menu.turnover", "cmd:turnover"))
    rows = tuple(tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2))
    festival = ctx.config.festival
    text = ctx.t("menu.title", festival=festival.name_in(ctx.locale), year=festival.year)
    left = registration_window.menu_line(ctx)
    if left:
        text = f"{left}\n{text}"
    # named like a question: the retry of a late menu does not show the notice queued behind
    # it (answers.py), so a choice typed on its second copy is that choice again
    return Reply(text, rows, numbered=True, question="menu")


def start(ctx: Ctx) -> list[Reply]:
    """/start [unit_CODE]: greets and shows the menu; a unit's link starts its recommendation."""
    arg = ctx.incoming.args.strip()[:80]
    if arg.startswith("join_"):  # an invitation's deep link
        return [invite.redeem(ctx, arg[5:]), menu(ctx)]
    if arg.startswith("claim_"):  # an imported registration's claim code: privacy first
        ctx.state.data["claim_code"] = arg[6:]
        return _needs_privacy(ctx, "claim") or claim_registration(ctx)
    if arg.startswith(("unit_", "rec_")):
        if arg.startswith("rec_"):  # the unit's own recommendation link: 组织推荐
            unit = unit_by_rec_token(ctx.session, arg[4:])
        else:  # a unit's public link: the unit is chosen, the unit still endorses
            unit = unit_by_code(ctx.session, arg[5:])
        if unit is None or not unit.active:
            return [ctx.reply("start.bad_link"), menu(ctx)]
        ctx.state.data["preset"] = {"preset_unit": unit.code, "preset_org": arg[:4] == "rec_"}
        return register_streamer(ctx)
    return [menu(ctx)]


def help_(ctx: Ctx) -> list[Reply]:
    """/help: what the bot does; inside a form the question is asked again afterwards."""
    text = ctx.t("help.text", festival=ctx.config.festival.name_in(ctx.locale))
    text += "\n\n" + money.help_text(ctx)
    contacts = ctx.config.committee.contacts
    if contacts and ctx.incoming.chat_kind == "private":  # office numbers: not in groups
        text += "\n\n" + ctx.t("help.contacts")
        text += "".join(
            "\n"
            + ctx.t(
                "help.contact_line",
                department=c.department_in(ctx.locale),
                name=c.name,
                phone=c.phone,
            )
            for c in contacts
        )
    if ctx.incoming.chat_kind == "private" and ctx.scope.is_reviewer:
        text += "\n\n" + ctx.t("help.committee" if ctx.scope.committee else "help.contact")
        if ctx.scope.committee:
            text += "\n" + ctx.t("money.help_committee")
    return [Reply(text)]


def cancel(ctx: Ctx) -> list[Reply]:
    """/cancel: the core has already left the flow (a form's answers kept as a draft)."""
    if ctx.extra.get("left_flow"):
        return [ctx.reply("form.cancelled"), menu(ctx)]
    return [ctx.reply("cancel.nothing"), menu(ctx)]


def fallback(ctx: Ctx) -> list[Reply]:
    if ctx.incoming.document or ctx.incoming.unsupported == "file":  # a sheet to import
        return import_chat.document(ctx)
    if ctx.incoming.unsupported or ctx.incoming.photo:
        return [ctx.reply("err.need_text"), menu(ctx)]
    return [ctx.reply("fallback.text"), menu(ctx)]


def lang(ctx: Ctx) -> list[Reply]:
    """/lang [zh|en]: switches the person's language (buttons when no argument)."""
    arg = ctx.incoming.args.strip().lower()
    choice = {"zh": "zh_CN", "zh_cn": "zh_CN", "中文": "zh_CN", "en": "en", "english": "en"}.get(
        arg
    )
    if choice is None:
        ctx.state.flow = "lang"
        return [
            Reply(
                ctx.t("lang.choose"),
                (
                    (
                        Button("中文", ctx.stamp("lang:zh_CN")),
                        Button("English", ctx.stamp("lang:en")),
                    ),
                ),
                numbered=True,
            )
        ]
    return _set_lang(ctx, choice)


def lang_flow(ctx: Ctx) -> list[Reply]:
    action = ctx.action
    if action and action.startswith("lang:"):
        ctx.state.clear()
        return _set_lang(ctx, action[5:])
    ctx.state.clear()
    return lang(ctx)


def _set_lang(ctx: Ctx, locale: str) -> list[Reply]:
    if locale not in ctx.config.locale.available:
        locale = ctx.config.locale.default
    repo.set_locale(ctx.session, ctx.person_id, locale)
    ctx.locale = locale
    return [ctx.reply("lang.set"), menu(ctx)]


# ----- the privacy notice, accepted once before the first personal data -------------------
def _needs_privacy(ctx: Ctx, then: str) -> list[Reply] | None:
    if ctx.privacy_accepted:
        return None
    ctx.state.flow = "privacy"
    ctx.state.data["privacy_then"] = then
    # who sees the phone number in full: handlers/phones.py (excel.contacts_see_phones)
    phones = "contacts" if ctx.config.excel.contacts_see_phones else "committee"
    # until when personal data is kept (privacy.erase_after; /forget erases it at any time)
    kept = ctx.config.privacy
    retention = (
        ctx.t("privacy.retention", date=kept.erase_after.isoformat())
        if kept is not None
        else ctx.t("privacy.retention_rules")
    )
    return [
        Reply(
            ctx.t("privacy.notice", phones=ctx.t(f"privacy.phones.{phones}"), retention=retention),
            ((ctx.button("btn.accept", "privacy:yes"), ctx.button("btn.decline", "privacy:no")),),
            numbered=True,
            question="privacy",  # asked again, it keeps its first showing (answers.py)
        )
    ]


def privacy_flow(ctx: Ctx) -> list[Reply]:
    """The notice answered: 同意 starts the form it came from, 不同意 goes back to the menu.
    A menu choice typed before the notice was shown (the menu was delivered twice and both
    copies answered) is that choice again: nothing is said."""
    action = ctx.action
    then = ctx.state.data.get("privacy_then", "register")
    if ctx.incoming.early and ctx.incoming.text:
        # typed before the notice was shown: never its answer (a "1" meant for the menu is
        # no 同意)
        ctx.keep_state = True
        typed = normalize(ctx.incoming.text)
        labels = [normalize(ctx.t(label)) for label, _ in MENU]
        if typed in labels or (typed.isdigit() and 1 <= int(typed) <= len(MENU)):
            return []
        return [ctx.reply("form.early_not_taken_any"), *(_needs_privacy(ctx, then) or [])]
    if ctx.extra.get("reprompt"):  # after /help or a stale button: the notice again
        return _needs_privacy(ctx, then) or []
    if action not in ("privacy:yes", "privacy:no"):  # text or a sticker: say what is expected
        return [ctx.reply("err.use_buttons"), *(_needs_privacy(ctx, then) or [])]
    ctx.state.flow = None
    ctx.state.data.pop("privacy_then", None)
    if action == "privacy:no":
        return [ctx.reply("privacy.declined"), menu(ctx)]
    repo.accept_privacy(ctx.session, ctx.person_id, ctx.clock.now())
    ctx.privacy_accepted = True
    return START_FORMS[then](ctx)


# ----- starting the forms -----------------------------------------------------------------
def register_streamer(ctx: Ctx) -> list[Reply]:
    existing = repo.streamer_of_person(ctx.session, ctx.person_id)
    if existing is not None:
        return [
            ctx.reply("streamer.already", status=ctx.t(f"status.{existing.status}")),
            Reply(ctx.t("me.hint"), ((ctx.button("menu.me", "cmd:me"),),), numbered=True),
        ]
    closed = registration_window.refusal(ctx)
    if closed is not None:
        ctx.state.data.pop("preset", None)
        return [closed]
    gate = _needs_privacy(ctx, "register")
    if gate:
        return gate
    preset = ctx.state.data.pop("preset", None)
    return ctx.forms.start(ctx, streamer.FORM, dict(preset) if preset else None)


def register_enterprise(ctx: Ctx) -> list[Reply]:
    existing = repo.enterprise_of_person(ctx.session, ctx.person_id)
    if existing is not None:
        return [
            ctx.reply("enterprise.already", name=existing.name),
            Reply(ctx.t("me.hint"), ((ctx.button("menu.me", "cmd:me"),),), numbered=True),
        ]
    closed = registration_window.refusal(ctx)
    if closed is not None:
        return [closed]
    return _needs_privacy(ctx, "enterprise") or ctx.forms.start(ctx, enterprise.FORM)


def daily_report(ctx: Ctx) -> list[Reply]:
    refusal = report.refusal(ctx)
    if refusal is not None:
        return [refusal]
    return ctx.forms.start(ctx, report.FORM, report.start_answers(ctx))


def claim_registration(ctx: Ctx) -> list[Reply]:
    """/start claim_CODE once the privacy notice is accepted."""
    return [claim.redeem(ctx, ctx.state.data.pop("claim_code", "")), menu(ctx)]


START_FORMS = {
    "register": register_streamer,
    "enterprise": register_enterprise,
    "claim": claim_registration,
}
