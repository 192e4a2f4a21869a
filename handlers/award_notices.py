"""A frozen award list announced: each winner told (one message per award, keyed by kind,
subject and tier, so a new version tells only those whose award is new), those dropped since
the previous version told, and the groups sent the list as text and as a picture (the
committee told, once a day, when the disk refuses the picture). Who hears of an award: the
streamer, the unit's contacts, the enterprise's contact. Names only, never a phone number.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.clock import Clock
from bot.core.i18n import fmt_yuan, translate
from bot.core.messages import Reply
from handlers import award_image
from handlers.award_view import Names, names, tier_label
from handlers.jobs import Sink, group_chats
from models import Person, recipients, repo
from models import award_lists as lists
from models.award_lists import ORGANISATION, Awards, Win
from models.awards import AwardList

log = logging.getLogger(__name__)


def announce(
    session: Session,
    config: FestivalConfig,
    clock: Clock,
    sink: Sink,
    image_dir: Path | None,
    awards: Awards,
    new: AwardList,
    previous: AwardList | None,
) -> None:
    """Winners told (one message per award: keyed by kind, subject and tier, so a new version
    tells only those whose award is new), those dropped since the previous version told, and
    the list (text and picture) sent to the groups."""
    who = names(session, awards)
    _tell_winners(session, config, sink, awards, who)
    if previous is not None:
        _tell_withdrawn(session, config, sink, previous, new, awards)
    picture = _picture(session, config, clock, sink, image_dir, awards, who, new.version)
    locale = config.locale.default
    text = group_text(config, locale, awards, who, new.version)
    for channel, chat_id in group_chats(session, config):
        key = f"awards:v{new.version}:{channel}:{chat_id}"
        sink.to_chat(channel, chat_id, key, Reply(text, image_path=picture))


def locale_of(session: Session, config: FestivalConfig, person_id: int) -> str:
    person = session.get(Person, person_id)
    return (person.locale if person else None) or config.locale.default


def recipients_of(session: Session, kind: str, subject_id: int) -> list[int]:
    """Who hears of an award: the streamer, the unit's contacts, the enterprise's contact."""
    if kind in ("streamer", "enterprise"):
        person = repo.person_of_registration(session, kind, subject_id)
    else:
        return [p for p, unit_id in recipients.unit_contacts(session) if unit_id == subject_id]
    return [person] if person is not None else []


def _tell_winners(
    session: Session,
    config: FestivalConfig,
    sink: Sink,
    awards: Awards,
    who: Names,
) -> None:
    for w in awards.all():
        for person_id in recipients_of(session, w.kind, w.subject_id):
            loc = locale_of(session, config, person_id)
            festival = config.festival.name_in(loc)
            tier = tier_label(config, loc, w.kind, w.tier)
            score = f"{w.score or 0:.1f}"
            if w.kind == "streamer":
                text = translate(
                    loc,
                    "awards.notice_streamer",
                    festival=festival,
                    tier=tier,
                    place=w.place,
                    score=score,
                )
            elif w.kind == "organisation":
                unit = who.units.get(w.subject_id, "")
                text = translate(
                    loc,
                    "awards.notice_unit",
                    unit=unit,
                    festival=festival,
                    place=w.place,
                    score=score,
                )
            else:
                text = translate(
                    loc,
                    "awards.notice_enterprise",
                    name=who.enterprises.get(w.subject_id, ""),
                    festival=festival,
                    tier=tier,
                    received=fmt_yuan(w.breakdown["received_fen"]),
                )
            key = f"award:{w.kind}:{w.subject_id}:{w.tier}:p{person_id}"
            sink.to_person(person_id, key, Reply(text))
            if w.ambassador:
                text = translate(loc, "awards.notice_ambassador", festival=festival)
                sink.to_person(person_id, f"award:ambassador:{w.subject_id}", Reply(text))


def _tell_withdrawn(
    session: Session,
    config: FestivalConfig,
    sink: Sink,
    previous: AwardList,
    new: AwardList,
    awards: Awards,
) -> None:
    now_won = {(w.kind, w.subject_id) for w in awards.all()}
    gone = [e for e in lists.winners(session, previous.id) if (e.kind, e.subject_id) not in now_won]
    if not gone:
        return
    old = lists.as_awards(session, previous)
    who = names(session, old)
    for e in gone:
        for person_id in recipients_of(session, e.kind, e.subject_id):
            loc = locale_of(session, config, person_id)
            text = translate(
                loc,
                "awards.notice_withdrawn",
                version=new.version,
                name=who.of(e.kind, e.subject_id),
                tier=tier_label(config, loc, e.kind, e.tier),
            )
            key = f"award-withdrawn:{e.kind}:{e.subject_id}:v{new.version}:p{person_id}"
            sink.to_person(person_id, key, Reply(text))


def _picture(
    session: Session,
    config: FestivalConfig,
    clock: Clock,
    sink: Sink,
    image_dir: Path | None,
    awards: Awards,
    who: Names,
    version: int,
) -> str | None:
    """The list's picture, or None (no data directory, or a disk that refuses it: the list
    then goes out as text and the committee is told, once a day)."""
    if image_dir is None:
        return None
    try:
        return str(draw(config, awards, who, version, image_dir / f"awards-v{version}.png"))
    except OSError as exc:
        log.error("award list picture v%s not written to %s: %r", version, image_dir, exc)
        day = clock.now().astimezone(config.calendar.tz).date()
        note = translate(config.locale.default, "awards.picture_failed", folder=str(image_dir))
        for admin in recipients.admins(session):
            sink.to_person(admin, f"awards-picture-failed:{day}:{admin}", Reply(note))
        return None


# ----- the groups' text and picture --------------------------------------------------------
def group_text(
    config: FestivalConfig, locale: str, awards: Awards, who: Names, version: int
) -> str:
    sep = translate(locale, "awards.name_sep")
    lines = [
        translate(
            locale, "awards.group_title", festival=config.festival.name_in(locale), version=version
        )
    ]
    by_tier: dict[str, list[Win]] = {}
    for w in awards.streamers:
        by_tier.setdefault(w.tier, []).append(w)
    for tier, wins in by_tier.items():
        shown = sep.join(
            translate(
                locale,
                "awards.group_name_streamer",
                account=who.accounts.get(w.subject_id, "?"),
                unit=who.streamer_units.get(w.subject_id, ""),
            )
            for w in wins
        )
        lines.append(
            translate(
                locale,
                "awards.group_tier",
                tier=tier_label(config, locale, "streamer", tier),
                names=shown,
            )
        )
    ambassadors = [who.accounts.get(w.subject_id, "?") for w in awards.streamers if w.ambassador]
    if ambassadors:
        lines.append(translate(locale, "awards.group_ambassador", names=sep.join(ambassadors)))
    if awards.organisations:
        units = sep.join(who.units.get(w.subject_id, "?") for w in awards.organisations)
        lines.append(
            translate(
                locale,
                "awards.group_tier",
                tier=tier_label(config, locale, ORGANISATION, ""),
                names=units,
            )
        )
    by_ent: dict[str, list[str]] = {}
    for w in awards.enterprises:
        by_ent.setdefault(w.tier, []).append(who.enterprises.get(w.subject_id, "?"))
    for tier, shown_names in by_ent.items():
        lines.append(
            translate(
                locale,
                "awards.group_enterprise_tier",
                tier=tier_label(config, locale, "enterprise", tier),
                names=sep.join(shown_names),
            )
        )
    return "\n".join(lines)


def draw(config: FestivalConfig, awards: Awards, who: Names, version: int, path: Path) -> Path:
    """The list as a picture (the festival's default language: one picture for everybody)."""
    locale = config.locale.default
    sections: list[award_image.Section] = []
    for w in awards.streamers:
        title = translate(
            locale, "awards.section_streamer", tier=tier_label(config, locale, "streamer", w.tier)
        )
        if not sections or sections[-1].title != title:
            sections.append(award_image.Section(title, []))
        account = who.accounts.get(w.subject_id, "?") + ("⭐" if w.ambassador else "")
        sections[-1].rows.append(
            (str(w.place), account, who.streamer_units.get(w.subject_id, ""), f"{w.score or 0:.1f}")
        )
    if awards.organisations:
        title = translate(locale, "awards.section_org", n=config.awards.organisation_count)
        rows = [
            (str(w.place), who.units.get(w.subject_id, "?"), "", f"{w.score or 0:.1f}")
            for w in awards.organisations
        ]
        sections.append(award_image.Section(title, rows))
    for w in awards.enterprises:
        label = tier_label(config, locale, "enterprise", w.tier)
        title = translate(locale, "awards.section_enterprise_tier", tier=label)
        if not sections or sections[-1].title != title:
            sections.append(award_image.Section(title, []))
        received = fmt_yuan(w.breakdown["received_fen"])
        sections[-1].rows.append(
            (str(w.place), who.enterprises.get(w.subject_id, "?"), "", received)
        )
    headers = tuple(
        translate(locale, f"awards.col_{c}") for c in ("place", "name", "unit", "score")
    )
    title = translate(
        locale, "awards.group_title", festival=config.festival.name_in(locale), version=version
    )
    return award_image.render(
        title, (headers[0], headers[1], headers[2], headers[3]), sections, path
    )
