"""The scheduled jobs: what each one sends to whom. Jobs only compute and enqueue to the
outbox, each message keyed (job, period, recipient), so running a job again adds nothing.

When each job runs is handlers/calendar.py; who the recipients are, models/recipients.py.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.clock import Clock
from bot.core.i18n import fmt_list, translate
from bot.core.messages import Reply
from bot.core.outbox import Outbox
from handlers import board as board_view
from models import Person, recipients
from models import board as boards
from models import digest as models_digest
from models.digest import digest_counts
from models.quotas import UnitProgress, unit_progress
from models.scoring import ScoringRules

log = logging.getLogger(__name__)


class Sink(Protocol):
    """Where a job's messages go: the outbox, or a dry run's list."""

    def to_person(self, person_id: int, key: str, reply: Reply) -> None: ...
    def to_chat(self, channel: str, chat_id: str, key: str, reply: Reply) -> None: ...


@dataclass
class DryRun:
    """Collects who would get what (`jobs run NAME --dry-run`): nothing is sent."""

    sent: list[tuple[str, str, Reply]] = field(default_factory=list)

    def to_person(self, person_id: int, key: str, reply: Reply) -> None:
        self.sent.append((f"person {person_id}", key, reply))

    def to_chat(self, channel: str, chat_id: str, key: str, reply: Reply) -> None:
        self.sent.append((f"{channel} chat {chat_id}", key, reply))


@dataclass
class JobCtx:
    session: Session
    config: FestivalConfig
    clock: Clock
    sink: Sink
    job: str
    scheduled_for: dt.datetime  # the fire time this run stands for (aware)
    image_dir: Path
    count: int = 0
    # what the process offers beyond the database (the WeChat QR code maker): Core.services
    services: dict[str, Any] = field(default_factory=dict)
    # Work that may only run once the run is committed, outside any transaction (SQLite's
    # VACUUM after the retention job erased someone); not run by a dry run.
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    # Commits what the run has enqueued so far (the runner's; None: a dry run, which stores
    # nothing). A job with 100,000 recipients commits them in pieces (see checkpoint).
    commit: Callable[[], None] | None = None
    _people: list[Person] = field(default_factory=list)

    @property
    def period(self) -> str:
        return self.scheduled_for.astimezone(self.config.calendar.tz).date().isoformat()

    def preload(self, person_ids: list[int]) -> list[int]:
        """Load the recipients in a few queries instead of one each (a broadcast reaches
        thousands); held here, as the session only keeps weak references."""
        self._people += recipients.people(self.session, person_ids)
        return person_ids

    def checkpoint(self) -> None:
        """Commits the messages enqueued so far, so that a run's memory and its transaction
        stay the size of a piece, not of all its recipients. Safe because every message is
        keyed (job, period, recipient): a run killed after some pieces and run again enqueues
        the rest and nothing twice; the run counts as done only when it finished."""
        if self.commit is not None:
            self.commit()

    def locale_of(self, person_id: int) -> str:
        person = self.session.get(Person, person_id)
        return (person.locale if person else None) or self.config.locale.default

    def person(self, person_id: int, key_suffix: str, text_key: str, **params: object) -> None:
        text = translate(self.locale_of(person_id), text_key, **params)
        self.send_person(person_id, key_suffix, Reply(text))

    def to_person_in(
        self, person_id: int, locale: str | None, text_key: str, **params: object
    ) -> None:
        """`person` for a recipient read with their language (a page of plain rows): the
        festival's name in that language is given as `festival`."""
        locale = locale or self.config.locale.default
        festival = self.config.festival.name_in(locale)
        text = translate(locale, text_key, **{"festival": festival, **params})
        self.send_person(person_id, "", Reply(text))

    def send_person(self, person_id: int, key_suffix: str, reply: Reply) -> None:
        self.sink.to_person(person_id, f"{self.job}:{self.period}:p{person_id}{key_suffix}", reply)
        self.count += 1

    def send_chat(self, channel: str, chat_id: str, reply: Reply) -> None:
        self.sink.to_chat(channel, chat_id, f"{self.job}:{self.period}:{channel}:{chat_id}", reply)
        self.count += 1


JobFn = Callable[[JobCtx], None]

# Recipients read (as plain rows), and their messages enqueued and committed, at a time by
# the jobs that reach every streamer (a festival has 100,000): JobCtx.checkpoint.
PAGE = 2_000


def group_chats(session: Session, config: FestivalConfig) -> list[tuple[str, str]]:
    """The group chats of config.yaml, then the subscribed ones, each once."""
    chats: list[tuple[str, str]] = [(g.channel, g.chat_id) for g in config.group_chats]
    chats += recipients.subscribed_chats(session)
    return list(dict.fromkeys(chats))


# ----- the jobs ---------------------------------------------------------------------------
def exports_cleanup(jc: JobCtx) -> None:
    """Removes exported sheets (and import result sheets) older than excel.keep_exports_hours
    from the data directory's exports/: they hold personal data. Sends nothing. File ages are
    wall-clock (the files' own times), whatever the festival's (rehearsal) clock says."""
    from handlers.export import remove_old  # the exports' module owns their folder

    keep = dt.timedelta(hours=jc.config.excel.keep_exports_hours)
    removed = remove_old(jc.image_dir.parent / "exports", dt.datetime.now(dt.UTC), keep)
    if removed:
        log.info("exports_cleanup: %d old export files removed", removed)


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
    from models import award_lists, award_rules  # the award modules: only for this job

    w = jc.config.awards.organisation_weights
    weights = {m: float(getattr(w, m)) for m in award_rules.ORG_METRICS}
    scored = award_rules.organisation_scores(
        award_lists.unit_figures(jc.session, jc.config, {}), weights
    )
    return {s.figures.unit_id: (i + 1, len(scored)) for i, s in enumerate(scored)}


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
        for page in recipients.approved_streamer_pages(jc.session, PAGE):
            for person_id, locale in page:
                jc.to_person_in(person_id, locale, text_key, **params)
            jc.checkpoint()

    run.__doc__ = f"To every approved streamer: {text_key}."
    return run


def evening_nudge(jc: JobCtx) -> None:
    """To approved streamers who have not reported today (none to those who have)."""
    day = jc.scheduled_for.astimezone(jc.config.calendar.tz).date()
    reported = recipients.reported_on(jc.session, day)
    for page in recipients.approved_streamer_pages(jc.session, PAGE):
        for person_id, locale in page:
            if person_id not in reported:
                jc.to_person_in(person_id, locale, "remind.evening", date=day.isoformat())
        jc.checkpoint()


def publish_boards(jc: JobCtx, period: str) -> boards.Board:
    """Publish every scope's board for the period (once) and draw the main one (the city and
    university pictures are drawn when first asked for: /top 城市)."""
    return publish_all(jc.session, jc.config, jc.clock, jc.image_dir, period)


def publish_all(
    session: Session, config: FestivalConfig, clock: Clock, image_dir: Path, period: str
) -> boards.Board:
    """publish_boards outside a job (a republished final board, handlers/awards.py)."""
    rules, now = ScoringRules.of(config), clock.now()
    main = boards.publish(session, "all", period, rules, now)
    scopes = ["university", *(scope for scope, _name in boards.city_scopes(session))]
    for scope in scopes:
        boards.publish(session, scope, period, rules, now)
    if main.image_path is None or not Path(main.image_path).exists():
        # without a picture (the disk refused it) the board goes out as text
        outbox = Outbox(session, clock)
        main.image_path = board_view.picture(session, config, image_dir, main, outbox)
    return main


def final_board_at(config: FestivalConfig) -> dt.datetime:
    """When the final board is published: after the last day's reports can no longer come
    (reports of calendar.live_end are taken until reports.backfill_days later, all day),
    on the next day at schedule.final_board's time."""
    cal, sched = config.calendar, config.schedule
    day = cal.live_end + dt.timedelta(days=config.reports.backfill_days + 1)
    hour, minute = (sched.final_board.hour, sched.final_board.minute) if sched else (0, 0)
    return dt.datetime.combine(day, dt.time(hour, minute), cal.tz)


def _board_job(period: Callable[[JobCtx], str], private_key: str) -> JobFn:
    def run(jc: JobCtx) -> None:
        main = publish_boards(jc, period(jc))
        board_id, entries = main.id, main.entries
        group_locale = jc.config.locale.default
        for channel, chat_id in group_chats(jc.session, jc.config):
            jc.send_chat(
                channel, chat_id, board_view.board_reply(jc.session, jc.config, group_locale, main)
            )
        jc.checkpoint()  # the boards, the picture and the groups' messages
        # each streamer's message: a page of plain rows at a time (no ORM object per person),
        # committed page by page, so the run holds one page whatever the festival's size
        after = 0
        while page := recipients.ranked_page(jc.session, board_id, after, PAGE):
            for row in page:
                locale = row.locale or jc.config.locale.default
                text = translate(
                    locale,
                    private_key,
                    rank=row.rank,
                    n=entries,
                    change=board_view.change_text(locale, row.previous_rank, row.rank),
                    score=f"{row.score:.1f}",
                    festival=jc.config.festival.name_in(locale),
                )
                jc.send_person(row.person_id, "", Reply(text))
            after = page[-1].rank
            jc.checkpoint()

    run.__doc__ = "Publish the 龙虎榜: picture and text to the groups, each streamer their rank."
    return run


warmup = _to_streamers("remind.warmup")
launch_eve = _to_streamers("remind.launch_eve")
launch_soon = _to_streamers("remind.launch_soon")
last_report = _to_streamers("remind.last_report")

weekly_board = _board_job(lambda jc: jc.period, "board.private")
final_board = _board_job(lambda jc: "final", "board.private_final")


def feedback_reminder(jc: JobCtx) -> None:
    """To unit contacts and approved streamers: the feedback deadline."""
    deadline = jc.config.calendar.feedback_deadline.isoformat()
    contacts = list(dict.fromkeys(p for p, _u in recipients.unit_contacts(jc.session)))
    for person_id in jc.preload(contacts):
        jc.person(person_id, "", "remind.feedback", deadline=deadline)
    told = set(contacts)
    for page in recipients.approved_streamer_pages(jc.session, PAGE):
        for person_id, locale in page:
            if person_id not in told:  # a unit contact who streams too: once
                jc.to_person_in(person_id, locale, "remind.feedback", deadline=deadline)
        jc.checkpoint()
