"""/awards (committee): the provisional award list from the final board, each winner with
their breakdown (handlers/award_view.py); `/awards final` freezes it (a new version of
award_lists, audited), tells the winners through the outbox and sends the list to the groups
as text and picture (handlers/award_notices.py).
/ambassador marks 江西青年电商扶贫大使 among the streamer winners; /publicity enters a unit's
publicity score. `python -m bot awards` (bot/awards_cli.py) runs the same functions.

`republish_final` is what an audit that rejects a report after the final board calls: the final
board is published again as a new version and a frozen list is recomputed from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.clock import Clock
from bot.core.context import Ctx
from bot.core.i18n import translate
from bot.core.messages import Reply
from handlers import award_notices, award_view
from handlers import board as board_view
from handlers.board_jobs import final_board_at, publish_all
from handlers.jobs import Sink, group_chats
from models import award_decisions as decisions
from models import award_lists as lists
from models import board as boards
from models import streamer_names
from models.awards import AwardList
from models.ranking import current
from models.scoring import ScoringRules
from models.units import unit_by_code, unit_full_name

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
    award_notices.announce(session, config, clock, sink, image_dir, awards, new, previous)
    return Frozen(awards, new=new, previous=previous)


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
        for person_id in award_notices.recipients_of(ctx.session, "streamer", streamer_id):
            loc = award_notices.locale_of(ctx.session, ctx.config, person_id)
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
