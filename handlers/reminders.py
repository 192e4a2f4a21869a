"""The reminders and nudges the scheduler sends: to unit contacts before the registration
deadline, to people who left a registration half done, to every approved streamer at the
festival's milestones (warm-up, launch, last report), each evening to those who have not
reported, and before the feedback deadline. Plumbing (JobCtx, PAGE) is handlers/jobs.py; when
each runs, handlers/calendar.py.
"""

from __future__ import annotations

import datetime as dt

from bot.core.i18n import fmt_list, translate
from bot.core.messages import Reply
from handlers import jobs
from handlers.board_jobs import final_board_at
from handlers.jobs import JobCtx, JobFn
from models import digest as models_digest
from models import recipients
from models.quotas import UnitProgress, unit_progress


def registration_reminder(jc: JobCtx) -> None:
    """To every unit contact: days to the deadline, the unit's quota progress, who is pending."""
    deadline = jc.config.calendar.registration_deadline
    days = (deadline - jc.scheduled_for.astimezone(jc.config.calendar.tz).date()).days
    contacts = recipients.unit_contacts(jc.session)
    jc.preload([p for p, _u in contacts])
    for person_id, unit_id in contacts:
        locale = jc.locale_of(person_id)
        progress = unit_progress(jc.session, jc.config, unit_id)
        text = translate(
            locale,
            "remind.registration",
            festival=jc.config.festival.name_in(locale),
            deadline=deadline.isoformat(),
            days=days,
            progress=_progress_text(locale, progress),
        )
        jc.send_person(person_id, f":u{unit_id}", Reply(text))


def _progress_text(locale: str, p: UnitProgress) -> str:
    def short(n: int) -> str:
        return translate(locale, "remind.short", n=n) if n else translate(locale, "remind.met")

    lines = [
        translate(
            locale,
            "remind.progress",
            unit=p.unit_name,
            streamers=p.streamers.done,
            streamers_min=p.streamers.min,
            streamers_short=short(p.streamers.shortfall),
            products=p.products.done,
            products_min=p.products.min,
            products_short=short(p.products.shortfall),
        )
    ]
    if p.pending:
        names = fmt_list(p.pending[:20], locale) + ("…" if len(p.pending) > 20 else "")
        lines.append(translate(locale, "remind.pending", n=len(p.pending), names=names))
    return "\n".join(lines)


REGISTRATION_FORMS = frozenset({"streamer", "enterprise"})


def stale_drafts(jc: JobCtx) -> None:
    """To people whose registration has not moved for conversation.stale_after_hours: where
    it was left and how to go on. Once per draft left (the key holds when it was left: coming
    back and leaving again is nudged again), and each run looks only at the day of drafts
    that became stale since the run before."""
    idle = dt.timedelta(hours=jc.config.conversation.stale_after_hours)
    newer = jc.scheduled_for - idle
    found = models_digest.idle_drafts(
        jc.session, newer - dt.timedelta(days=1), newer, REGISTRATION_FORMS
    )
    jc.preload(sorted({d.person_id for d in found}))
    for draft in found:
        locale = jc.locale_of(draft.person_id)
        titles = fmt_list((translate(locale, f"form.name.{name}") for name in draft.forms), locale)
        text = translate(
            locale,
            "remind.stale_draft",
            titles=titles,
            deadline=jc.config.calendar.registration_deadline.isoformat(),
        )
        stamp = draft.idle_since.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S")
        jc.sink.to_person(draft.person_id, f"{jc.job}:i{draft.identity_id}:{stamp}", Reply(text))
        jc.count += 1


def _to_streamers(text_key: str) -> JobFn:
    def run(jc: JobCtx) -> None:
        cal = jc.config.calendar
        params = {
            "tag": jc.config.festival.topic_tag,
            "warmup_start": cal.warmup_start.isoformat(),
            "warmup_end": cal.warmup_end.isoformat(),
            "launch": cal.launch.strftime("%m-%d %H:%M"),
            "live_start": cal.live_start.isoformat(),
            "live_end": cal.live_end.isoformat(),
            "backfill": jc.config.reports.backfill_days,
            "final_at": final_board_at(jc.config).strftime("%m-%d %H:%M"),
        }
        for page in recipients.approved_streamer_pages(jc.session, jobs.PAGE):
            for person_id, locale in page:
                jc.to_person_in(person_id, locale, text_key, **params)
            jc.checkpoint()

    run.__doc__ = f"To every approved streamer: {text_key}."
    return run


def evening_nudge(jc: JobCtx) -> None:
    """To approved streamers who have not reported today (none to those who have)."""
    day = jc.scheduled_for.astimezone(jc.config.calendar.tz).date()
    reported = recipients.reported_on(jc.session, day)
    for page in recipients.approved_streamer_pages(jc.session, jobs.PAGE):
        for person_id, locale in page:
            if person_id not in reported:
                jc.to_person_in(person_id, locale, "remind.evening", date=day.isoformat())
        jc.checkpoint()


warmup = _to_streamers("remind.warmup")
launch_eve = _to_streamers("remind.launch_eve")
launch_soon = _to_streamers("remind.launch_soon")
last_report = _to_streamers("remind.last_report")


def feedback_reminder(jc: JobCtx) -> None:
    """To unit contacts and approved streamers: the feedback deadline."""
    deadline = jc.config.calendar.feedback_deadline.isoformat()
    contacts = list(dict.fromkeys(p for p, _u in recipients.unit_contacts(jc.session)))
    for person_id in jc.preload(contacts):
        jc.person(person_id, "", "remind.feedback", deadline=deadline)
    told = set(contacts)
    for page in recipients.approved_streamer_pages(jc.session, jobs.PAGE):
        for person_id, locale in page:
            if person_id not in told:  # a unit contact who streams too: once
                jc.to_person_in(person_id, locale, "remind.feedback", deadline=deadline)
        jc.checkpoint()
