"""/awards (committee): the provisional award list from the final board, each winner with
their breakdown; `/awards final` freezes it (a new version of award_lists, audited), tells the
winners through the outbox and sends the list to the groups as text and picture.
/ambassador marks 江西青年电商扶贫大使 among the streamer winners; /publicity enters a unit's
publicity score. `python -m bot awards` (bot/awards_cli.py) runs the same functions.

`republish_final` is what an audit that rejects a report after the final board calls: the final
board is published again as a new version and a frozen list is recomputed from it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.clock import Clock
from bot.core.context import Ctx
from bot.core.i18n import fmt_yuan, translate
from bot.core.messages import Reply
from handlers import award_view
from handlers import board as board_view
from handlers.board_jobs import final_board_at, publish_all
from handlers.jobs import Sink, group_chats
from models import Person, recipients, repo, streamer_names
from models import award_decisions as decisions
from models import award_lists as lists
from models import board as boards
from models.awards import AwardList
from models.ranking import current
from models.scoring import ScoringRules
from models.units import unit_by_code, unit_full_name

log = logging.getLogger(__name__)

FINAL_WORDS = ("final", "定稿")
OFF_WORDS = ("off", "取消", "撤销")


# ----- freezing, shared with python -m bot awards -----------------------------------------
@dataclass
class Frozen:
    """What `/awards final` did: refused (no final board, open items), found the list in
    force unchanged, or froze a new version."""

    awards: lists.Awards | None = None
    open_items: list[lists.OpenItem] = field(default_factory=list)
    new: AwardList | None = None
    previous: AwardList | None = None
    unchanged: AwardList | None = None


def freeze(
    session: Session,
    config: FestivalConfig,
    clock: Clock,
    sink: Sink,
    image_dir: Path | None,
    actor: int | None,
) -> Frozen:
    """Compute, freeze and announce (winners told, groups sent the list). Idempotent: the same
    list again stores and sends nothing; a changed list tells only whose award changed."""
    awards = lists.compute(session, config)
    if awards is None:
        return Frozen()
    items = lists.open_items(session, config)
    if items:
        return Frozen(awards, items)
    done = decisions.freeze(session, awards, clock.now(), actor)
    if done is None:
        return Frozen(awards, unchanged=lists.current_list(session))
    new, previous = done
    announce(session, config, clock, sink, image_dir, awards, new, previous)
    return Frozen(awards, new=new, previous=previous)


def announce(
    session: Session,
    config: FestivalConfig,
    clock: Clock,
    sink: Sink,
    image_dir: Path | None,
    awards: lists.Awards,
    new: AwardList,
    previous: AwardList | None,
) -> None:
    """Winners told (one message per award: keyed by kind, subject and tier, so a new version
    tells only those whose award is new), those dropped since the previous version told, and
    the list (text and picture) sent to the groups."""
    who = award_view.names(session, awards)
    _tell_winners(session, config, sink, awards, who)
    if previous is not None:
        _tell_withdrawn(session, config, sink, previous, new, awards)
    picture = _picture(session, config, clock, sink, image_dir, awards, who, new.version)
    locale = config.locale.default
    text = award_view.group_text(config, locale, awards, who, new.version)
    for channel, chat_id in group_chats(session, config):
        key = f"awards:v{new.version}:{channel}:{chat_id}"
        sink.to_chat(channel, chat_id, key, Reply(text, image_path=picture))


def _locale(session: Session, config: FestivalConfig, person_id: int) -> str:
    person = session.get(Person, person_id)
    return (person.locale if person else None) or config.locale.default


def _recipients(session: Session, kind: str, subject_id: int) -> list[int]:
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
    awards: lists.Awards,
    who: award_view.Names,
) -> None:
    for w in awards.all():
        for person_id in _recipients(session, w.kind, w.subject_id):
            loc = _locale(session, config, person_id)
            festival = config.festival.name_in(loc)
            tier = award_view.tier_label(config, loc, w.kind, w.tier)
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
    awards: lists.Awards,
) -> None:
    now_won = {(w.kind, w.subject_id) for w in awards.all()}
    gone = [e for e in lists.winners(session, previous.id) if (e.kind, e.subject_id) not in now_won]
    if not gone:
        return
    old = lists.as_awards(session, previous)
    who = award_view.names(session, old)
    for e in gone:
        for person_id in _recipients(session, e.kind, e.subject_id):
            loc = _locale(session, config, person_id)
            text = translate(
                loc,
                "awards.notice_withdrawn",
                version=new.version,
                name=who.of(e.kind, e.subject_id),
                tier=award_view.tier_label(config, loc, e.kind, e.tier),
            )
            key = f"award-withdrawn:{e.kind}:{e.subject_id}:v{new.version}:p{person_id}"
            sink.to_person(person_id, key, Reply(text))


def _picture(
    session: Session,
    config: FestivalConfig,
    clock: Clock,
    sink: Sink,
    image_dir: Path | None,
    awards: lists.Awards,
    who: award_view.Names,
    version: int,
) -> str | None:
    """The list's picture, or None (no data directory, or a disk that refuses it: the list
    then goes out as text and the committee is told, once a day)."""
    if image_dir is None:
        return None
    try:
        return str(
            award_view.draw(config, awards, who, version, image_dir / f"awards-v{version}.png")
        )
    except OSError as exc:
        log.error("award list picture v%s not written to %s: %r", version, image_dir, exc)
        day = clock.now().astimezone(config.calendar.tz).date()
        note = translate(config.locale.default, "awards.picture_failed", folder=str(image_dir))
        for admin in recipients.admins(session):
            sink.to_person(admin, f"awards-picture-failed:{day}:{admin}", Reply(note))
        return None


# ----- a report rejected after the final board ---------------------------------------------
def republish_final(
    session: Session,
    config: FestivalConfig,
    clock: Clock,
    sink: Sink,
    image_dir: Path,
    actor: int | None = None,
) -> tuple[boards.Board, Frozen | None]:
    """Publish the final board again as a new version (period final-2, final-3...: every
    scope, from the current totals), send it to the groups, and, when a list was frozen,
    recompute and freeze it from the new board (only changed awards are told). Called in the
    transaction that changed the reports (the trust issue's audit).

    Only when the board changes: a change that leaves every entry as it is (a report that
    counted for nothing, one rejected twice over) publishes nothing and tells the groups
    nothing; the latest version is returned (compare its id to tell). A frozen list is still
    recomputed from it (freezing again stores and tells nothing when nothing changed)."""
    latest = boards.final_board(session)
    if latest is not None and boards.holds(
        session, latest.id, current(session, ScoringRules.of(config))
    ):
        if lists.current_list(session) is None:
            return latest, None
        return latest, freeze(session, config, clock, sink, image_dir.parent / "awards", actor)
    version = len(boards.final_boards(session)) + 1
    period = boards.final_period(version)
    main = publish_all(session, config, clock, image_dir, period)
    locale = config.locale.default
    for channel, chat_id in group_chats(session, config):
        reply = board_view.board_reply(session, config, locale, main)
        sink.to_chat(channel, chat_id, f"final_board:{period}:{channel}:{chat_id}", reply)
    if lists.current_list(session) is None:
        return main, None
    return main, freeze(session, config, clock, sink, image_dir.parent / "awards", actor)


# ----- the chat commands -------------------------------------------------------------------
def _image_dir(ctx: Ctx) -> Path | None:
    return ctx.files_dir / "awards" if ctx.files_dir is not None else None


def awards(ctx: Ctx) -> list[Reply]:
    """/awards: the provisional list with breakdowns; /awards final: freeze and announce."""
    arg = ctx.incoming.args.strip().lower()
    if arg and arg not in FINAL_WORDS:
        return [ctx.reply("awards.usage")]
    if not arg:
        computed = lists.compute(ctx.session, ctx.config)
        if computed is None:
            return [_no_board(ctx)]
        in_force = lists.current_list(ctx.session)
        text = award_view.committee_text(
            ctx.session, ctx.config, ctx.locale, computed, in_force=in_force
        )
        return [Reply(text)]
    done = freeze(ctx.session, ctx.config, ctx.clock, ctx.outbox, _image_dir(ctx), ctx.person_id)
    return freeze_replies(ctx.session, ctx.config, ctx.locale, done)


def _no_board(ctx: Ctx) -> Reply:
    at = final_board_at(ctx.config).strftime("%Y-%m-%d %H:%M")
    return ctx.reply("awards.no_final_board", at=at)


def freeze_replies(
    session: Session, config: FestivalConfig, locale: str, done: Frozen
) -> list[Reply]:
    """What the committee is told after /awards final (and what the CLI prints)."""
    if done.awards is None:
        at = final_board_at(config).strftime("%Y-%m-%d %H:%M")
        return [Reply(translate(locale, "awards.no_final_board", at=at))]
    if done.open_items:
        lines = [translate(locale, "awards.open_items")]
        lines += ["· " + translate(locale, i.key, **i.params) for i in done.open_items]
        return [Reply("\n".join(lines))]
    if done.unchanged is not None:
        return [Reply(translate(locale, "awards.unchanged", version=done.unchanged.version))]
    assert done.new is not None
    a = done.awards
    summary = translate(
        locale,
        "awards.frozen",
        version=done.new.version,
        streamers=len(a.streamers),
        units=len(a.organisations),
        enterprises=len(a.enterprises),
    )
    text = award_view.committee_text(session, config, locale, a, frozen=done.new)
    return [Reply(summary), Reply(text)]


def _id_arg(raw: str) -> int | None:
    raw = raw.strip().lstrip("#")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 12 else None


def ambassador(ctx: Ctx) -> list[Reply]:
    """/ambassador ID [off]: mark (or unmark) a streamer winner 江西青年电商扶贫大使 (audited;
    on the list in force too; the streamer is told once)."""
    words = ctx.incoming.args.split()
    streamer_id = _id_arg(words[0]) if words else None
    off = len(words) == 2 and words[1].lower() in OFF_WORDS
    if streamer_id is None or len(words) > 2 or (len(words) == 2 and not off):
        return [ctx.reply("awards.ambassador_usage")]
    computed = lists.compute(ctx.session, ctx.config)
    if computed is None:
        return [_no_board(ctx)]
    if not off and streamer_id not in {w.subject_id for w in computed.streamers}:
        return [ctx.reply("awards.ambassador_not_winner", id=streamer_id)]
    account = streamer_names.account_names(ctx.session, [streamer_id]).get(streamer_id, "?")
    changed = decisions.mark_ambassador(
        ctx.session, streamer_id, not off, ctx.person_id, ctx.clock.now()
    )
    if off:
        return [
            ctx.reply(
                "awards.ambassador_unmarked" if changed else "awards.ambassador_not_marked",
                account=account,
            )
        ]
    if not changed:
        return [ctx.reply("awards.ambassador_already", account=account)]
    if lists.current_list(ctx.session) is not None:  # announced already: tell them now
        for person_id in _recipients(ctx.session, "streamer", streamer_id):
            loc = _locale(ctx.session, ctx.config, person_id)
            text = translate(
                loc, "awards.notice_ambassador", festival=ctx.config.festival.name_in(loc)
            )
            ctx.outbox.to_person(person_id, f"award:ambassador:{streamer_id}", Reply(text))
    return [ctx.reply("awards.ambassador_marked", account=account)]


def publicity(ctx: Ctx) -> list[Reply]:
    """/publicity CODE SCORE: a unit's publicity score 0-100 (audited)."""
    words = ctx.incoming.args.split()
    if len(words) != 2:
        return [ctx.reply("awards.publicity_usage")]
    code, raw = words[0][:20], words[1][:20]
    unit = unit_by_code(ctx.session, code)
    if unit is None:
        return [ctx.reply("awards.publicity_unknown_unit", code=code)]
    if not (raw.isascii() and raw.isdigit() and int(raw) <= 100):
        return [ctx.reply("awards.publicity_range", value=raw)]
    score = int(raw)
    name = unit_full_name(ctx.session, unit)
    current = decisions.publicity_of(ctx.session, unit.id)
    if current == score:
        return [ctx.reply("awards.publicity_same", unit=name, score=score)]
    before = decisions.set_publicity(ctx.session, unit.id, score, ctx.person_id, ctx.clock.now())
    shown = str(before) if before is not None else ctx.t("awards.publicity_none_before")
    return [ctx.reply("awards.publicity_set", unit=name, score=score, before=shown)]
