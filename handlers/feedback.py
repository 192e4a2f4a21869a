"""Feedback (反馈期): from the first feedback reminder until calendar.feedback_deadline, a
streamer answers three short questions and a unit contact sends the unit's 活动总结 (text, and
pictures or files on channels that take files); `/feedback` opens the right one, and for the
committee lists what came in (`/feedback export`: a spreadsheet).

```mermaid
flowchart LR
  f[/feedback] --> who{who?}
  who -- committee --> list[counts, average, latest] -- export --> xlsx
  who -- unit contact --> unit[summary text, files] --> saved
  who -- streamer --> st[went well, improve, join again 1-5] --> saved([saved, editable])
```
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from bot.core.context import Ctx
from bot.core.forms import Answers, Field, Form, Option
from bot.core.i18n import fmt_local
from bot.core.messages import Reply
from handlers import export as export_files
from handlers import fields as f
from handlers import xlsx
from models import feedback as store
from models import repo

log = logging.getLogger(__name__)
LATEST = 10  # entries the committee's /feedback shows in chat
MAX_FILES = 10


def opens(ctx: Ctx) -> dt.date:
    """The first feedback reminder's day (schedule.feedback_reminder), else the day after the
    live period."""
    cal, sched = ctx.config.calendar, ctx.config.schedule
    if sched is not None and sched.feedback_reminder.days_before:
        return cal.feedback_deadline - dt.timedelta(days=max(sched.feedback_reminder.days_before))
    return cal.live_end + dt.timedelta(days=1)


def _window(ctx: Ctx) -> Reply | None:
    today, cal = ctx.clock.today(), ctx.config.calendar
    if today < opens(ctx):
        return ctx.reply("feedback.not_yet", opens=opens(ctx), deadline=cal.feedback_deadline)
    if today > cal.feedback_deadline:
        return ctx.reply("feedback.closed", deadline=cal.feedback_deadline)
    return None


def _join_options(ctx: Ctx, _a: Answers) -> list[Option]:
    return [Option(str(n), ctx.t(f"opt.join_again.{n}")) for n in range(1, 6)]


STREAMER_FIELDS = (
    Field("went_well", "ask.fb_went_well", "label.fb_went_well", parse=f.text(500)),
    Field("improve", "ask.fb_improve", "label.fb_improve", parse=f.text(500)),
    Field("join_again", "ask.fb_join_again", "label.fb_join_again", options=_join_options),
)


def _files_prompt(ctx: Ctx, _a: Answers) -> dict[str, object]:
    # an Official Account receives no files: pictures there, files on Telegram
    channel = ctx.incoming.channel
    return {"how": ctx.t("fb.files_wechat" if channel == "wechat" else "fb.files_any")}


FILE_ITEM = Form(
    "fb_file",
    "label.fb_file",
    (
        Field(
            "file",
            "ask.fb_file",
            "label.fb_file",
            accepts_photo=True,
            accepts_file=True,
            prompt_params=_files_prompt,
            show=lambda v, c: c.t("fb.file_received"),
        ),
    ),
    on_confirm=lambda ctx, a: [],
    item_label="label.fb_file",
)

UNIT_FIELDS = (
    Field("summary", "ask.fb_summary", "label.fb_summary", parse=f.text(2000)),
    Field(
        "files",
        "ask.fb_file",
        "label.fb_files",
        group=FILE_ITEM,
        optional=True,
        max_items=lambda ctx: MAX_FILES,
        prompt_params=_files_prompt,
    ),
)


def _unit_of(ctx: Ctx) -> int | None:
    own = ctx.scope.own_units
    return own[0] if own else None


def _save_streamer(ctx: Ctx, a: Answers) -> list[Reply]:
    return _save(
        ctx,
        store.STREAMER,
        unit_id=None,
        went_well=a["went_well"],
        improve=a["improve"],
        join_again=int(a["join_again"]),
    )


def _save_unit(ctx: Ctx, a: Answers) -> list[Reply]:
    files = [item["file"] for item in a.get("files") or [] if item.get("file")]
    return _save(ctx, store.UNIT, unit_id=_unit_of(ctx), summary=a["summary"], files=files)


def _save(ctx: Ctx, kind: str, **values: Any) -> list[Reply]:
    refused = _window(ctx)  # the deadline passed while the form was open
    if refused is not None:
        return [refused]
    now = ctx.clock.now()
    row, before = store.save(ctx.session, ctx.person_id, kind, now, **values)
    repo.audit(
        ctx.session,
        now,
        ctx.person_id,
        "feedback_edit" if before else "feedback",
        "feedback",
        row.id,
        before=before,
        after=values,
    )
    return [ctx.reply("feedback.thanks", deadline=ctx.config.calendar.feedback_deadline)]


STREAMER_FORM = Form(
    "feedback_streamer", "feedback.streamer_title", STREAMER_FIELDS, _save_streamer
)
UNIT_FORM = Form("feedback_unit", "feedback.unit_title", UNIT_FIELDS, _save_unit)


def feedback(ctx: Ctx) -> list[Reply]:
    """/feedback: the committee's list (/feedback export: the spreadsheet); a unit contact's
    活动总结; a streamer's three questions."""
    if ctx.scope.committee:
        if ctx.incoming.args.strip().lower() == "export":
            return _export(ctx)
        return [_listing(ctx)]
    refused = _window(ctx)
    if refused is not None:
        return [refused]
    if ctx.scope.own_units:
        return _start(ctx, UNIT_FORM, store.UNIT)
    if repo.streamer_of_person(ctx.session, ctx.person_id) is not None:
        return _start(ctx, STREAMER_FORM, store.STREAMER)
    return [ctx.reply("feedback.not_for_you")]


def _start(ctx: Ctx, form: Form, kind: str) -> list[Reply]:
    """A new form, or the summary of the one already sent (to change it until the deadline)."""
    row = store.feedback_of(ctx.session, ctx.person_id, kind)
    if row is None:
        return ctx.forms.start(ctx, form)
    if kind == store.STREAMER:
        answers: Answers = {
            "went_well": row.went_well,
            "improve": row.improve,
            "join_again": str(row.join_again),
        }
    else:
        answers = {"summary": row.summary, "files": [{"file": x} for x in row.files or []]}
    return ctx.forms.start(ctx, form, answers, editing=row.id)


def _listing(ctx: Ctx) -> Reply:
    rows = store.all_feedback(ctx.session)
    streamers = [fb for fb, _n, _u in rows if fb.kind == store.STREAMER]
    units = [fb for fb, _n, _u in rows if fb.kind == store.UNIT]
    scores = [fb.join_again for fb in streamers if fb.join_again]
    average = f"{sum(scores) / len(scores):.1f}" if scores else "-"
    lines = [
        ctx.t(
            "feedback.list_head",
            streamers=len(streamers),
            units=len(units),
            average=average,
            deadline=ctx.config.calendar.feedback_deadline,
        )
    ]
    for fb, name, unit in rows[:LATEST]:
        at = fmt_local(fb.updated_at, ctx.clock.tz)
        if fb.kind == store.STREAMER:
            lines.append(
                ctx.t(
                    "feedback.list_streamer",
                    name=name,
                    at=at,
                    score=fb.join_again,
                    went_well=_short(fb.went_well),
                    improve=_short(fb.improve),
                )
            )
        else:
            lines.append(
                ctx.t(
                    "feedback.list_unit",
                    unit=unit or "",
                    at=at,
                    files=len(fb.files or []),
                    summary=_short(fb.summary),
                )
            )
    if rows:
        lines.append(ctx.t("feedback.list_export"))
    return Reply("\n".join(lines))


def _short(text: str | None, limit: int = 60) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"


def _export(ctx: Ctx) -> list[Reply]:
    rows = store.all_feedback(ctx.session)
    head = [ctx.t(f"feedback.col.{c}") for c in ("kind", "who", "unit", "at")]
    streamer = xlsx.Sheet(
        ctx.t("feedback.sheet_streamers"),
        header=[*head, *(ctx.t(f"feedback.col.{c}") for c in ("went_well", "improve", "join"))],
        rows=[
            [
                ctx.t("feedback.kind.streamer"),
                name,
                unit or "",
                fmt_local(fb.updated_at, ctx.clock.tz),
                fb.went_well or "",
                fb.improve or "",
                fb.join_again,
            ]
            for fb, name, unit in rows
            if fb.kind == store.STREAMER
        ],
    )
    units = xlsx.Sheet(
        ctx.t("feedback.sheet_units"),
        header=[*head, ctx.t("feedback.col.summary"), ctx.t("feedback.col.files")],
        rows=[
            [
                ctx.t("feedback.kind.unit"),
                name,
                unit or "",
                fmt_local(fb.updated_at, ctx.clock.tz),
                fb.summary or "",
                *[_file_cell(ref) for ref in fb.files or []],
            ]
            for fb, name, unit in rows
            if fb.kind == store.UNIT
        ],
    )
    try:
        path = export_files.write_book(ctx, "feedback", [streamer, units])
    except OSError:
        log.exception("feedback export could not be written")
        return [ctx.reply("export.failed")]
    return [Reply(ctx.t("feedback.exported", n=len(rows)), document_path=str(path))]


def _file_cell(ref: str) -> Any:
    """A file stored by the bot as a link the committee's computer opens (the export is
    read where the data folder is); a platform's picture id as it is."""
    path = Path(ref)
    if path.is_absolute() and path.is_file():
        return xlsx.Link(path.name, path.resolve().as_uri())
    return ref
