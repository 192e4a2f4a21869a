"""/forget: a person erases their own personal data, at any time; and the retention job that
erases everyone's once config privacy.erase_after has passed. What is erased and what the
festival keeps is models/erasure.py; here: the conversation, the files, the notices.

```mermaid
flowchart LR
  forget[/forget] --> confirm{确认删除?}
  confirm -- 删除 --> withdrawn[registrations withdrawn, audited] --> erased[data erased]
  erased --> told[the committee told: no personal data]
  confirm -- 保留 --> kept[unchanged]
```
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

from bot.core.context import Ctx
from bot.core.forms import Field, Form
from bot.core.i18n import translate
from bot.core.messages import Reply
from handlers.erasure_files import remove_files, remove_sheets
from handlers.jobs import DryRun, JobCtx
from models import Person, ReviewStatus, erasure, recipients, repo
from models.erasure_copies import ERASED, forget_copies_after_retention, vacuum

log = logging.getLogger(__name__)

FLOW = "forget"
_WITHDRAWABLE = {
    ReviewStatus.DRAFT.value,
    ReviewStatus.PENDING_UNIT.value,
    ReviewStatus.PENDING_REVIEW.value,
    ReviewStatus.APPROVED.value,
}


# ----- the conversation ------------------------------------------------------------------
def forget(ctx: Ctx) -> list[Reply]:
    """/forget: what is erased and what is kept, then the question (erase / keep)."""
    return [_question(ctx)]


def forget_flow(ctx: Ctx) -> list[Reply]:
    """The answer to the question: erase everything now, or keep it."""
    action = ctx.action or ""
    ctx.state.clear()
    if ctx.extra.get("reprompt"):  # after /help or a stale button: the question again
        return [_question(ctx)]
    if action == "forget:yes":
        return _erase_me(ctx)
    if action == "forget:no":
        return [ctx.reply("forget.kept")]
    # typed text is no answer here: say what is expected, then ask again
    return [ctx.reply("err.use_buttons"), _question(ctx)]


def _question(ctx: Ctx) -> Reply:
    ctx.state.flow = FLOW
    text = ctx.t("forget.confirm")
    if erasure.holds_record(ctx.session, ctx.person_id):
        text += "\n" + ctx.t("forget.confirm_record")
    return Reply(
        text,
        (
            (
                ctx.button("btn.forget_yes", "forget:yes"),
                ctx.button("btn.forget_no", "forget:no"),
            ),
        ),
        numbered=True,
    )


def _erase_me(ctx: Ctx) -> list[Reply]:
    """Withdraws the registrations (audited, as /me does), erases the person's data and its
    copies, removes their files, tells the committee, and VACUUMs once committed."""
    now, person = ctx.clock.now(), ctx.person_id
    record = erasure.holds_record(ctx.session, person)
    withdrawn = _withdraw(ctx, now)
    extra, drafted = draft_values(ctx, erasure.drafts_of(ctx.session, [person]))
    done = erasure.erase(ctx.session, [person], now, extra)
    done.files |= drafted
    removed = remove_files(ctx.files_dir, done, ERASED)
    repo.audit(
        ctx.session,
        now,
        person,
        "erase",
        "person",
        person,
        after={"withdrawn": withdrawn, "files": removed, "kept_record": record},
    )
    for admin in recipients.admins(ctx.session):
        if admin == person:
            continue
        locale = _locale(ctx, admin)
        text = translate(
            locale,
            "forget.committee",
            id=person,
            withdrawn=withdrawn,
            kept=translate(locale, "forget.committee_kept" if record else "forget.committee_none"),
        )
        ctx.outbox.to_person(admin, f"erase:{person}:a{admin}", Reply(text))
    ctx.state.flow, ctx.state.data = None, {}
    engine = ctx.session.get_bind()
    ctx.after_commit.append(lambda: vacuum(engine))  # type: ignore[arg-type]
    return [ctx.reply("forget.done_record" if record else "forget.done")]


def _locale(ctx: Ctx, person_id: int) -> str:
    found = ctx.session.get(Person, person_id)
    return (found.locale if found else None) or ctx.config.locale.default


def _withdraw(ctx: Ctx, now: dt.datetime) -> int:
    """A registration under review (or approved) is withdrawn first, audited as /me does:
    it leaves the review queue and every future board; published boards keep it."""
    count = 0
    s = repo.streamer_of_person(ctx.session, ctx.person_id)
    items: list[tuple[str, Any]] = [("streamer", s)] if s is not None else []
    e = repo.enterprise_of_person(ctx.session, ctx.person_id)
    if e is not None:
        items.append(("enterprise", e))
        items += [("product", p) for p in repo.products_of(ctx.session, e.id)]
    for entity, item in items:
        if item.status in _WITHDRAWABLE:
            repo.audit(
                ctx.session,
                now,
                ctx.person_id,
                "withdraw",
                entity,
                item.id,
                before={"status": item.status},
                after={"status": ReviewStatus.WITHDRAWN.value},
            )
            item.status, item.updated_at = ReviewStatus.WITHDRAWN.value, now
            count += entity != "product"
    return count


# ----- drafts: which answers are the person's own words -------------------------------------
def draft_values(ctx: Ctx | JobCtx, states: list[dict[str, Any]]) -> tuple[set[str], set[str]]:
    """The typed answers (not choices, which are the festival's own words) and the stored
    pictures in these conversation states' forms and drafts."""
    from handlers.routes import ROUTES  # the forms are the routing table's

    values: set[str] = set()
    files: set[str] = set()
    for data in states:
        for name, answers in _answer_sets(data):
            form = ROUTES.forms.get(name)
            if form is not None:
                _typed(form, answers, values, files)
    return values, files


def _answer_sets(data: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, answers in (data.get("drafts") or {}).items():
        if isinstance(answers, dict):
            yield name, answers
    form = data.get("form")
    if isinstance(form, dict) and isinstance(form.get("answers"), dict):
        yield str(data.get("_flow") or ""), form["answers"]


def _typed(form: Form, answers: dict[str, Any], values: set[str], files: set[str]) -> None:
    for fld in form.fields:
        value = answers.get(fld.name)
        if value is None:
            continue
        if fld.group is not None and isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    _typed(fld.group, item, values, files)
        elif fld.accepts_photo and isinstance(value, str):
            files.add(value)
        elif _is_typed(fld) and isinstance(value, str):
            values.add(value)


def _is_typed(fld: Field) -> bool:
    return fld.options is None and fld.parse is not None


# ----- the retention date ------------------------------------------------------------------
def retention(jc: JobCtx) -> None:
    """From privacy.erase_after on (daily): everyone's personal data goes but what the
    festival keeps; the import sheets, exports and the texts of sent messages with it. The
    committee is told how many. Files are removed before the commit: a failed run leaves rows
    that name removed files, erased again by the next try (the reverse would leave files
    that no row names any more)."""
    people = erasure.due_for_retention(jc.session)
    # the office's accounts stay, a registration or feedback of their own does not
    staff = erasure.staff_holding_data(jc.session)
    dry = isinstance(jc.sink, DryRun)
    if not people and not staff:
        return
    now = jc.clock.now()
    extra, drafted = draft_values(jc, erasure.drafts_of(jc.session, [*people, *staff]))
    # every stored message's text goes below: they are not searched one by one
    done = erasure.erase(jc.session, people, now, extra, messages=False, staff=staff)
    done.files |= drafted
    forget_copies_after_retention(jc.session)
    files_dir = None if dry else jc.image_dir.parent
    removed = remove_files(files_dir, done, ERASED) if files_dir is not None else 0
    removed += remove_sheets(files_dir, erasure.all_sheets(jc.session))
    repo.audit(
        jc.session,
        now,
        None,
        "retention_erase",
        "people",
        None,
        after={
            "people": len(people),
            "staff": len(staff),
            "files": removed,
            "kept_names": done.kept_names,
        },
    )
    for admin in recipients.admins(jc.session):
        jc.person(
            admin, "", "forget.retention_done", n=len(people) + len(staff), kept=done.kept_names
        )
    log.info("retention: %d people erased, %d files removed", len(people), removed)
    engine = jc.session.get_bind()
    jc.after_commit.append(lambda: vacuum(engine, full=True))  # type: ignore[arg-type]
