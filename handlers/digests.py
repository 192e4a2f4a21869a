"""The digests the scheduler sends: to committee admins, the day's registrations and what
waits for review, and each evening of the live month the day's reports; to each unit contact,
weekly, the unit's reporting rate and its place in the 优秀组织奖 standings. Plumbing is
handlers/jobs.py; the figures, models/digest.py.
"""

from __future__ import annotations

import datetime as dt

from bot.core.i18n import fmt_list, translate
from bot.core.messages import Reply
from handlers.jobs import JobCtx
from models import digest as models_digest
from models import recipients
from models.digest import digest_counts


def digest(jc: JobCtx) -> None:
    """To committee admins: the last day's registrations and what waits for review."""
    since = jc.scheduled_for - dt.timedelta(days=1)
    counts = digest_counts(jc.session, since)
    for person_id in jc.preload(recipients.admins(jc.session)):
        jc.person(person_id, "", "remind.digest", date=jc.period, **counts)


def live_digest(jc: JobCtx) -> None:
    """To committee admins, each evening of the live month: the day's reports, who has gone
    quiet, what was rejected, what still waits for review."""
    spec = jc.config.schedule.live_digest if jc.config.schedule else None
    if spec is None:  # not in the config: no digest (its numbers come from there)
        return
    silent_days, names = spec.silent_days, spec.names
    day = jc.scheduled_for.astimezone(jc.config.calendar.tz).date()
    figures = models_digest.live_digest(
        jc.session, day, jc.scheduled_for - dt.timedelta(days=1), silent_days, names
    )
    for person_id in jc.preload(recipients.admins(jc.session)):
        locale = jc.locale_of(person_id)
        lines = [
            translate(
                locale,
                "remind.live_digest",
                date=day.isoformat(),
                filed=figures.filed,
                new=figures.new,
                rejected=figures.rejected,
                pending_streamers=figures.pending_streamers,
                pending_products=figures.pending_products,
                held=figures.held,
            )
        ]
        if figures.silent:
            lines.append(
                translate(locale, "remind.live_silent", n=figures.silent, days=silent_days)
            )
            if figures.silent_names:
                more = figures.silent - len(figures.silent_names)
                names_text = fmt_list(figures.silent_names, locale)
                if more > 0:
                    names_text += translate(locale, "remind.and_more", n=more)
                lines.append(names_text)
        jc.send_person(person_id, "", Reply("\n".join(lines)))


def unit_digest(jc: JobCtx) -> None:
    """To each unit contact, weekly in the live month: how many of the unit's streamers
    reported in the past week, their report rate, and the unit's place so far in the
    优秀组织奖 standings (the award's rule; its winners count is not known yet)."""
    cal = jc.config.calendar
    today = jc.scheduled_for.astimezone(cal.tz).date()
    last = min(today - dt.timedelta(days=1), cal.live_end)
    first = max(last - dt.timedelta(days=6), cal.live_start)
    if last < first:
        return  # nothing of the live month lies behind yet
    days = (last - first).days + 1
    weeks = models_digest.unit_weeks(jc.session, first, last)
    places = _unit_places(jc)
    contacts = recipients.unit_contacts(jc.session)
    jc.preload([p for p, _u in contacts])
    for person_id, unit_id in contacts:
        week = weeks.get(unit_id, models_digest.UnitWeek(0, 0, 0))
        possible = week.streamers * days
        rate = f"{100 * week.report_days / possible:.0f}" if possible else "0"
        place, units = places.get(unit_id, (None, len(places)))
        text = translate(
            jc.locale_of(person_id),
            "remind.unit_digest",
            first=first.isoformat(),
            last=last.isoformat(),
            streamers=week.streamers,
            reporting=week.reporting,
            rate=rate,
        )
        if place is not None:
            text += "\n" + translate(
                jc.locale_of(person_id), "remind.unit_place", place=place, units=units
            )
        jc.send_person(person_id, f":u{unit_id}", Reply(text))


def _unit_places(jc: JobCtx) -> dict[int, tuple[int, int]]:
    """Each taking-part unit's place (1-based) among them by the organisation award's rule."""
    from models import award_figures, award_rules  # the award modules: only for this job

    w = jc.config.awards.organisation_weights
    weights = {m: float(getattr(w, m)) for m in award_rules.ORG_METRICS}
    scored = award_rules.organisation_scores(
        award_figures.unit_figures(jc.session, jc.config, {}), weights
    )
    return {s.figures.unit_id: (i + 1, len(scored)) for i, s in enumerate(scored)}
