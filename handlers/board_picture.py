"""What the 龙虎榜 picture says, in a reader's language: title, festival and live period (from
config), the board's date and week, the rows, and the footer (data source, the scoring rule
built from the configured weights). handlers/board_image.py lays it out and draws it.

Which picture goes where (config leaderboard.group_picture / private_picture): groups get the
landscape one, a private /top the portrait one (for phones), each in the reader's language.
The group picture in the festival's default language is the one kept with the board
(Board.image_path, drawn by the weekly job); the others are drawn on first ask and kept as
files beside it (a published board never changes)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy.orm import Session

from bot.config import FestivalConfig
from bot.core.i18n import fmt_int, fmt_yuan, translate
from handlers import board_image
from models import board as boards
from models.scoring import METRICS, ScoringRules
from models.streamer_names import account_names, unit_names
from models.units import unit_by_code

COLUMNS = board_image.KEYS  # the headers, in the order the picture shows them


def trend(previous: int | None, rank: int) -> str:
    if previous is None:
        return "new"
    return "up" if previous > rank else "down" if previous < rank else "same"


def change_text(locale: str, previous: int | None, rank: int) -> str:
    kind = trend(previous, rank)
    n = abs((previous or rank) - rank)
    return (
        translate(locale, f"board.{kind}", n=n)
        if kind in ("up", "down")
        else (translate(locale, f"board.{kind}"))
    )


def scope_title(session: Session, locale: str, scope: str) -> str:
    if scope == "university":
        return translate(locale, "board.scope_university")
    if scope.startswith("city:"):
        city = unit_by_code(session, scope[5:])
        return translate(locale, "board.scope_city", city=city.name if city else scope[5:])
    return translate(locale, "board.scope_all")


def week_of(live_start: dt.date, day: dt.date) -> int:
    """The live-period week a board published on `day` closes (it counts the days before
    it): published on the first Monday after a Friday start, week 1."""
    return max(1, (day - dt.timedelta(days=1) - live_start).days // 7 + 1)


def festival_name(config: FestivalConfig, locale: str) -> str:
    return config.festival.name_en if locale == "en" else config.festival.name


def rule_line(config: FestivalConfig, locale: str) -> str:
    """The scoring rule in one line, from the configured weights."""
    weights = dict(ScoringRules.of(config).weights)
    parts = [
        translate(
            locale,
            "board.pic_rule_part",
            metric=translate(locale, f"rank.metric_{m}"),
            weight=f"{weights[m] * 100:.0f}",
        )
        for m in METRICS
        if weights.get(m)
    ]
    return translate(
        locale, "board.pic_rule", parts=translate(locale, "board.pic_rule_join").join(parts)
    )


def content(
    session: Session, config: FestivalConfig, locale: str, board: boards.Board, rows: int
) -> board_image.BoardPicture:
    """The board's top `rows` and everything around them, as the picture shows them."""
    top = boards.entries(session, board.id, rows)
    ids = [e.streamer_id for e in top]
    names, units = account_names(session, ids), unit_names(session, ids)
    cal = config.calendar
    day = board.published_at.astimezone(cal.tz).date()
    if board.period.startswith(boards.FINAL):
        date = translate(locale, "board.pic_date_final", date=day.isoformat())
    else:
        date = translate(
            locale, "board.pic_date", date=day.isoformat(), week=week_of(cal.live_start, day)
        )
    return board_image.BoardPicture(
        title=translate(locale, "board.pic_title", scope=scope_title(session, locale, board.scope)),
        festival=translate(
            locale,
            "board.pic_festival",
            festival=festival_name(config, locale),
            start=cal.live_start.isoformat(),
            end=cal.live_end.isoformat(),
        ),
        date=date,
        headers=tuple(translate(locale, f"board.col_{c}") for c in COLUMNS),
        rows=[
            board_image.BoardRow(
                e.rank,
                names.get(e.streamer_id, "?"),
                units.get(e.streamer_id, ""),
                fmt_yuan(e.gmv_fen),
                str(e.live_days),
                f"{e.score:.1f}",
                change_text(locale, e.previous_rank, e.rank),
                trend(e.previous_rank, e.rank),
            )
            for e in top
        ],
        footer=(
            translate(locale, "board.pic_source"),
            rule_line(config, locale),
            translate(locale, "board.pic_count", n=fmt_int(board.entries), shown=len(top)),
        ),
    )


def path_of(
    config: FestivalConfig, image_dir: Path, board: boards.Board, variant: str, locale: str
) -> Path:
    """Where a board's picture is kept: the group one in the default language under the
    board's own name, the others beside it."""
    name = f"board-{board.scope.replace(':', '-')}-{board.period}"
    if variant != config.leaderboard.group_picture or locale != config.locale.default:
        name += f"-{variant}-{locale}"
    return image_dir / f"{name}.png"


def draw(
    session: Session,
    config: FestivalConfig,
    image_dir: Path,
    board: boards.Board,
    variant: str | None = None,
    locale: str | None = None,
) -> Path:
    """Draw a board's picture (the group one in the default language unless told) and write
    it under image_dir."""
    variant = variant or config.leaderboard.group_picture
    locale = locale or config.locale.default
    lb = config.leaderboard
    rows = lb.portrait_rows if variant == "portrait" else lb.top_n
    picture = content(session, config, locale, board, rows)
    path = path_of(config, image_dir, board, variant, locale)
    return board_image.render(picture, board_image.VARIANTS[variant], path)
