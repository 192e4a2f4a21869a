"""The 龙虎榜 in chat: /top shows the latest published board (any chat, groups too), /rank
shows a streamer their own standing on the current totals, /recompute (admins) rebuilds the
totals from the reports and says what differed.

Boards show account names and units, never a phone number.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.context import Ctx
from bot.core.i18n import fmt_int, fmt_yuan, translate
from bot.core.messages import Reply
from bot.core.outbox import Outbox
from handlers import board_picture
from handlers.board_picture import change_text, scope_title
from models import ReviewStatus, ranking, repo
from models import board as boards
from models.recipients import admins
from models.scoring import METRICS, Ranking, ScoringRules, gap_to, next_tier, tier_of, tiers
from models.streamer_names import account_names, unit_names
from models.totals import recompute_all
from models.units import units_of_kind

log = logging.getLogger(__name__)

UNIVERSITY_WORDS = ("高校", "大学", "university", "universities")


def board_text(
    session: Session,
    config: FestivalConfig,
    locale: str,
    board: boards.Board,
    limit: int | None = None,
) -> str:
    """The published board's top N (or `limit`) as text lines."""
    top = boards.entries(session, board.id, limit or config.leaderboard.top_n)
    ids = [e.streamer_id for e in top]
    names, units = account_names(session, ids), unit_names(session, ids)
    day = board.published_at.astimezone(config.calendar.tz).date()
    lines = [
        translate(
            locale,
            "board.title",
            festival=config.festival.name_in(locale),
            scope=scope_title(session, locale, board.scope),
            date=day.isoformat(),
        )
    ]
    for e in top:
        lines.append(
            translate(
                locale,
                "board.line",
                rank=e.rank,
                account=names.get(e.streamer_id, "?"),
                unit=units.get(e.streamer_id, ""),
                gmv=fmt_yuan(e.gmv_fen),
                days=e.live_days,
                score=f"{e.score:.1f}",
                change=change_text(locale, e.previous_rank, e.rank),
            )
        )
    if not top:
        lines.append(translate(locale, "board.empty"))
    else:
        lines.append(translate(locale, "board.footer", n=fmt_int(board.entries)))
    return "\n".join(lines)


def board_reply(
    session: Session,
    config: FestivalConfig,
    locale: str,
    board: boards.Board,
    picture_path: str | None = None,
) -> Reply:
    """With its picture (the board's own, or `picture_path`): the top few as text (the
    picture shows the top N); without: all."""
    image = picture_path or board.image_path
    image = image if image and Path(image).is_file() else None
    limit = config.leaderboard.caption_lines if image else None
    if image and not limit:
        return Reply(board_text(session, config, locale, board, 0).split("\n")[0], image_path=image)
    return Reply(board_text(session, config, locale, board, limit), image_path=image)


def _scope_of(ctx: Ctx, arg: str) -> str | None:
    arg = arg.strip()
    if not arg:
        return "all"
    if arg.lower() in UNIVERSITY_WORDS:
        return "university"
    for city in units_of_kind(ctx.session, "city"):
        if city.name == arg or city.name.removesuffix("市") == arg.removesuffix("市"):
            return f"city:{city.code}"
    return None


def top(ctx: Ctx) -> list[Reply]:
    """/top [城市|高校]: the latest published 龙虎榜 of that scope."""
    arg = ctx.incoming.args[:40]
    scope = _scope_of(ctx, arg)
    if scope is None:
        return [ctx.reply("board.unknown_scope", name=arg)]
    board = boards.latest(ctx.session, scope)
    if board is None:
        lb = ctx.config.leaderboard
        return [
            ctx.reply(
                "board.none_yet",
                weekday=ctx.t(f"board.weekday_{lb.weekday}"),
                hour=lb.hour,
                start=ctx.config.calendar.live_start,
            )
        ]
    lb, default = ctx.config.leaderboard, ctx.config.locale.default
    variant = lb.private_picture if ctx.incoming.chat_kind == "private" else lb.group_picture
    if ctx.files_dir is None or not board.entries:
        return [board_reply(ctx.session, ctx.config, ctx.locale, board)]
    # Pictures are drawn on the first /top that asks (~0.1 s: a city's, the universities',
    # a portrait or English one), not all in the weekly job's transaction, then kept.
    pictures = ctx.files_dir / "boards"  # where the weekly job draws the overall one
    if variant == lb.group_picture and ctx.locale == default:
        if not (board.image_path and Path(board.image_path).is_file()):
            board.image_path = picture(ctx.session, ctx.config, pictures, board, ctx.outbox)
        return [board_reply(ctx.session, ctx.config, ctx.locale, board)]
    path = board_picture.path_of(ctx.config, pictures, board, variant, ctx.locale)
    drawn = str(path) if path.is_file() else None
    if drawn is None:
        drawn = picture(ctx.session, ctx.config, pictures, board, ctx.outbox, variant, ctx.locale)
    return [board_reply(ctx.session, ctx.config, ctx.locale, board, drawn)]


def picture(
    session: Session,
    config: FestivalConfig,
    image_dir: Path,
    board: boards.Board,
    outbox: Outbox,
    variant: str | None = None,
    locale: str | None = None,
) -> str | None:
    """The board's picture (the group one in the default language unless told), or None when
    it cannot be written (a full or read-only disk): the board then goes out as text, and
    the committee is told (once a day)."""
    try:
        return str(board_picture.draw(session, config, image_dir, board, variant, locale))
    except OSError as exc:
        log.error("龙虎榜 picture of board %s not written to %s: %r", board.id, image_dir, exc)
        day = outbox.clock.now().astimezone(config.calendar.tz).date()
        note = translate(config.locale.default, "board.picture_failed", folder=str(image_dir))
        outbox.to_people(
            [(a, f"board-picture-failed:{day}:{a}", Reply(note)) for a in admins(session)]
        )
        return None


def rank(ctx: Ctx) -> list[Reply]:
    """/rank: the streamer's own rank now, score by metric, and the gap to the next tier."""
    streamer = repo.streamer_of_person(ctx.session, ctx.person_id)
    if streamer is None:
        return [ctx.reply("report.not_registered")]
    if streamer.status != ReviewStatus.APPROVED:
        return [ctx.reply("rank.not_approved", status=ctx.t(f"status.{streamer.status}"))]
    rules = ScoringRules.of(ctx.config)
    ranked = ranking.current(ctx.session, rules)
    place = ranked.rank_of(streamer.id)
    if place is None or place > ranked.ranked:  # no counted report yet
        return [ctx.reply("rank.no_reports")]
    s = ranked.at(place)
    lines = [ctx.t("rank.title", rank=s.rank, n=ranked.ranked, score=f"{s.score:.1f}")]
    values = {
        "gmv": ctx.t("rank.value_gmv", gmv=fmt_yuan(s.totals.gmv_fen)),
        "live_days": ctx.t("rank.value_days", days=s.totals.live_days),
        "avg_daily_hours": ctx.t("rank.value_hours", hours=f"{s.totals.avg_daily_hours:.1f}"),
        "viewers": ctx.t("rank.value_count", n=fmt_int(s.totals.viewers)),
        "likes": ctx.t("rank.value_count", n=fmt_int(s.totals.likes)),
    }
    weights = dict(rules.weights)
    percent = s.percentiles
    for metric in METRICS:
        lines.append(
            ctx.t(
                "rank.metric",
                metric=ctx.t(f"rank.metric_{metric}"),
                value=values[metric],
                percentile=f"{percent[metric] * 100:.0f}",
                points=f"{weights[metric] * percent[metric] * 100:.1f}",
                weight=f"{weights[metric] * 100:.0f}",
            )
        )
    lines.append(_tier_line(ctx, ranked, s.rank, s.score))
    return [Reply("\n".join(lines))]


def _tier_line(ctx: Ctx, ranked: Ranking, rank_now: int, score: float) -> str:
    awards = ctx.config.awards.streamer
    labels = {a.key: a.label_in(ctx.locale) for a in awards}
    all_tiers = tiers([(a.key, a.count) for a in awards])
    here, above = tier_of(rank_now, all_tiers), next_tier(rank_now, all_tiers)
    if above is None:
        return ctx.t("rank.tier_top", tier=labels[here.key]) if here else ""
    key = "rank.tier_gap" if here else "rank.tier_gap_outside"
    return ctx.t(
        key,
        tier=labels[here.key] if here else "",
        next=labels[above.key],
        last=above.last_rank,
        gap=f"{gap_to(above.last_rank, score, ranked.scores):.1f}",
    )


def recompute(ctx: Ctx) -> list[Reply]:
    """/recompute (admins): rebuild the totals from all reports and list what differed."""
    if not ctx.is_admin:
        return [ctx.reply("err.not_allowed")]
    differences = recompute_all(ctx.session, ctx.config, fix=True)
    if not differences:
        return [ctx.reply("recompute.same")]
    lines = [ctx.t("recompute.differences", n=len(differences))]
    for d in differences[:30]:
        lines.append(
            ctx.t(
                "recompute.line",
                id=d.streamer_id,
                field=d.field,
                stored=d.stored,
                computed=d.computed,
            )
        )
    return [Reply("\n".join(lines))]
